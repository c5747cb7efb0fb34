"""Stance of a document towards a claim: agree / disagree / discuss / unrelated, with the rationale.

`stance(claim, document)` scores every sentence of the cleaned article (and its title) against the
claim, embeds the most relevant few when embeddings are on, and lets the shipped model
(`models/stance/`, trained by `tabayyun train stance`) weigh the document's features. The rationale is
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

LABELS = ("agree", "disagree", "discuss", "unrelated")
MODEL_RESOURCE = "models/stance/model.json.gz"
EMBEDDED_CANDIDATES = 5
_RATIONALE_MAX = 3
_SIGNAL_COLUMNS = [SENTENCE_FEATURES.index(n) for n in ("deny", "false", "negation_flip", "opposite")]


@dataclass
class RationaleSentence:
    paragraph: int
    start: int
    end: int
    text: str
    score: float


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
    idf: Idf
    classifier: LinearModel
    uses_similarity: bool
    meta: dict

    def to_dict(self) -> dict:
        return {"idf": {"weights": self.idf.weights, "default": self.idf.default},
                "classifier": self.classifier.to_dict(), "uses_similarity": self.uses_similarity,
                "meta": self.meta}

    @classmethod
    def from_dict(cls, data: dict) -> StanceModel:
        classifier = LinearModel.from_dict(data["classifier"])
        if tuple(classifier.features) != DOCUMENT_FEATURES or tuple(classifier.labels) != LABELS:
            raise ValueError("stance model features do not match this version of tabayyun: retrain it")
        return cls(Idf(data["idf"]["weights"], data["idf"]["default"]), classifier,
                   bool(data["uses_similarity"]), data.get("meta", {}))


@lru_cache(maxsize=4)
def load_stance_model(path: str | None = None) -> StanceModel:
    """The stance model at `path`, or the one shipped in the package (cached)."""
    source = Path(path) if path else resources.files("tabayyun").joinpath(MODEL_RESOURCE)
    return StanceModel.from_dict(load_json(source))


def similarities(claim: Claim, views: list[UnitView], rows: np.ndarray, embedder) -> np.ndarray | None:
    """Cosine of the claim with the EMBEDDED_CANDIDATES most relevant sentences; zero for the others."""
    if embedder is None or not len(views):
        return None
    order = np.argsort(-relevance(rows), kind="stable")[:EMBEDDED_CANDIDATES]
    vectors = embedder.passages([views[i].unit.text[:300] for i in order])
    query = embedder.passages([claim.text])[0]
    sims = np.zeros(len(views), dtype=np.float32)
    sims[order] = vectors @ query
    return sims


def classify_views(claim: Claim, views: list[UnitView], model: StanceModel, embedder=None) -> StanceResult:
    rows, vector = featurize(claim, views)
    if model.uses_similarity:
        sims = similarities(claim, views, rows, embedder)
        if sims is not None:
            rows, vector = featurize(claim, views, sims)
    probs = model.classifier.probabilities(vector)[0]
    label = LABELS[int(np.argmax(probs))]
    contributions = model.classifier.contributions(vector, label)
    evidence = dict(sorted(contributions.items(), key=lambda kv: -kv[1])[:4])
    return StanceResult(label, {lab: round(float(p), 4) for lab, p in zip(LABELS, probs)},
                        rationale_of(views, rows, label), evidence)


def rationale_of(views: list[UnitView], rows: np.ndarray, label: str) -> list[RationaleSentence]:
    """The sentences most about the claim; for a disagreement, those that also deny or contradict it."""
    if label == "unrelated" or not len(views):
        return []
    score = relevance(rows)
    if label == "disagree":
        score = score * (1 + 0.5 * rows[:, _SIGNAL_COLUMNS].max(axis=1))
    best = float(score.max())
    ranked = np.argsort(-score, kind="stable")
    # The best sentence always shows (a decision has a reason); more only when nearly as good.
    chosen = [int(ranked[0])] if best > 0 else []
    chosen += [int(i) for i in ranked[1:_RATIONALE_MAX] if score[i] >= max(0.3, 0.6 * best)]
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
    return classify_views(claim_view(claim, model.idf), view_units(units), model, embedder)


__all__ = ["LABELS", "RationaleSentence", "StanceModel", "StanceResult", "load_stance_model", "stance"]
