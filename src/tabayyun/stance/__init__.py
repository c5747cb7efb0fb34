"""Stance of a document towards a claim: agree / disagree / discuss / unrelated, with the rationale.

`stance(claim, document)` scores every sentence of the cleaned article (and its title) against the
claim; when an embedder is given and the model has its sentence-pair part, the few sentences most
about the claim are embedded and judged against it (`pairs.py`); the shipped model (`models/stance/`,
trained by `tabayyun train stance`) weighs the document's features. The rationale is
the sentences that carried the decision, each with its paragraph (-1 for the title), offsets and score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from tabayyun.model import Document
from tabayyun.stance.features import (
    DOCUMENT_FEATURES, SENTENCE_FEATURES, Claim, Idf, UnitView, claim_view, featurize, relevance, units_of,
    view_units,
)
from tabayyun.stance.model import LinearModel, load_json
from tabayyun.stance.pairs import PAIR_FEATURES, PAIR_LABELS, embed_candidates, pair_document_features

LABELS = ("agree", "disagree", "discuss", "unrelated")
MODEL_RESOURCE = "models/stance/model.json.gz"
_RATIONALE_MAX = 3
_SIGNAL_COLUMNS = [SENTENCE_FEATURES.index(n) for n in ("deny", "false", "negation_flip", "opposite")]


@dataclass
class RationaleSentence:
    paragraph: int
    start: int
    end: int
    text: str
    score: float
    speaker: str | None = None    # who says it, when the sentence holds a quote the article analysis found
    cue_class: str | None = None  # how: assert, deny, confirm, report ...


@dataclass
class StanceResult:
    label: str
    scores: dict[str, float]
    rationale: list[RationaleSentence] = field(default_factory=list)
    evidence: dict[str, float] = field(default_factory=dict)  # the features that pushed the label most

    def to_dict(self) -> dict:
        return {"label": self.label, "scores": self.scores, "evidence": self.evidence,
                "rationale": [vars(r) for r in self.rationale]}


@dataclass
class StanceModel:
    """The document classifier on lexical features; with embeddings, the sentence-pair model and a
    second document classifier that also reads the pair model's verdicts on the best sentences."""

    idf: Idf
    classifier: LinearModel
    pairs: LinearModel | None = None
    classifier_pairs: LinearModel | None = None
    meta: dict = field(default_factory=dict)

    @property
    def uses_embeddings(self) -> bool:
        return self.pairs is not None and self.classifier_pairs is not None

    def to_dict(self) -> dict:
        optional = {name: getattr(self, name).to_dict() for name in ("pairs", "classifier_pairs")
                    if getattr(self, name) is not None}
        return {"idf": {"weights": self.idf.weights, "default": self.idf.default},
                "classifier": self.classifier.to_dict(), **optional, "meta": self.meta}

    @classmethod
    def from_dict(cls, data: dict) -> StanceModel:
        classifier = LinearModel.from_dict(data["classifier"])
        pairs = LinearModel.from_dict(data["pairs"]) if "pairs" in data else None
        with_pairs = LinearModel.from_dict(data["classifier_pairs"]) if "classifier_pairs" in data else None
        if (tuple(classifier.features) != DOCUMENT_FEATURES or tuple(classifier.labels) != LABELS
                or (pairs is not None and tuple(pairs.features) != PAIR_FEATURES)):
            raise ValueError("stance model features do not match this version of tabayyun: retrain it")
        idf = Idf({int(bucket): weight for bucket, weight in data["idf"]["weights"].items()}, data["idf"]["default"])
        return cls(idf, classifier, pairs, with_pairs,
                   data.get("meta", {}))


@lru_cache(maxsize=4)
def load_stance_model(path: str | None = None) -> StanceModel:
    """The stance model at `path`, or the one shipped in the package (cached)."""
    source = Path(path) if path else resources.files("tabayyun").joinpath(MODEL_RESOURCE)
    return StanceModel.from_dict(load_json(source))


@dataclass
class DocumentVector:
    """Everything the classifier saw for one document, kept for the rationale and the evidence."""

    rows: np.ndarray
    vector: np.ndarray
    classifier: LinearModel
    candidates: np.ndarray | None = None
    pair_probabilities: np.ndarray | None = None


def document_vector(claim: Claim, views: list[UnitView], model: StanceModel, embedder=None) -> DocumentVector:
    rows, vector = featurize(claim, views)
    if embedder is None or model.pairs is None or not views:
        return DocumentVector(rows, vector, model.classifier)
    order, claim_vector, vectors = embed_candidates(claim, views, rows, embedder)
    sims = np.zeros(len(views), dtype=np.float32)
    sims[order] = vectors @ claim_vector
    rows, vector = featurize(claim, views, sims)
    extra, probs = pair_document_features(claim, views, rows, model.pairs, order, claim_vector, vectors)
    return DocumentVector(rows, np.concatenate([vector, extra]), model.classifier_pairs, order, probs)


def classify_views(claim: Claim, views: list[UnitView], model: StanceModel, embedder=None) -> StanceResult:
    seen = document_vector(claim, views, model, embedder)
    probs = seen.classifier.probabilities(seen.vector)[0]
    label = LABELS[int(np.argmax(probs))]
    contributions = seen.classifier.contributions(seen.vector, label)
    evidence = dict(sorted(contributions.items(), key=lambda kv: -kv[1])[:4])
    return StanceResult(label, {lab: round(float(p), 4) for lab, p in zip(LABELS, probs)},
                        rationale_of(views, seen, label), evidence)


def rationale_of(views: list[UnitView], seen: DocumentVector, label: str) -> list[RationaleSentence]:
    """The sentences most about the claim; for a disagreement, those that also deny or contradict it;
    with the pair model, those it judged to agree (or disagree) with the claim rank higher."""
    if label == "unrelated" or not len(views):
        return []
    rows = seen.rows
    score = relevance(rows)
    if label == "disagree":
        score = score * (1 + 0.5 * rows[:, _SIGNAL_COLUMNS].max(axis=1))
    if seen.pair_probabilities is not None and label in ("agree", "disagree"):
        column = PAIR_LABELS.index(label)
        score[seen.candidates] *= 1 + seen.pair_probabilities[:, column]
    best = float(score.max())
    ranked = np.argsort(-score, kind="stable")
    # The best sentence always shows (a decision has a reason); more only when nearly as good.
    chosen = [int(ranked[0])] if best > 0 else []
    chosen += [int(i) for i in ranked[1:_RATIONALE_MAX] if score[i] >= max(0.3, 0.75 * best)]
    units = [views[i].unit for i in sorted(chosen)]
    return [RationaleSentence(u.paragraph, u.start, u.end, u.text, round(float(score[i]), 3))
            for u, i in zip(units, sorted(chosen))]


def stance(claim: str, document: Document | str, model: StanceModel | None = None,
           embedder=None) -> StanceResult:
    """Stance of one document (a Document or plain text, one paragraph per line) towards a claim."""
    model = model or load_stance_model()
    if isinstance(document, Document):
        units = units_of(document.paragraphs, document.title)
    else:
        units = units_of(document.split("\n"))
    result = classify_views(claim_view(claim, model.idf), view_units(units), model,
                            embedder if embedder is not None and getattr(embedder, "enabled", True) else None)
    if isinstance(document, Document):
        attribute(result.rationale, document)
    return result


def attribute(rationale: list[RationaleSentence], document: Document) -> None:
    """Give each rationale sentence the speaker and cue class of the quote it holds (the first one
    whose reporting verb lies inside the sentence, else the first that overlaps it)."""
    for sentence in rationale:
        overlapping = [q for q in document.quotes if q.paragraph == sentence.paragraph
                       and q.start < sentence.end and q.end > sentence.start]
        inside = [q for q in overlapping if q.cue_start is not None and sentence.start <= q.cue_start < sentence.end]
        quote = (inside or overlapping or [None])[0]
        if quote is not None:
            sentence.speaker = quote.speaker_canonical or quote.speaker
            sentence.cue_class = quote.cue_class


__all__ = ["LABELS", "RationaleSentence", "StanceModel", "StanceResult", "load_stance_model", "stance"]
