"""Training and evaluating the stance model on a Baly et al. (2018) style folder.

A folder holds `dataset/*.json` (one claim each: id, claim, fact, article[], stance[], rationale[])
and optionally `folds.txt` (`Fold_N: id id ...`). An article is flattened page text whose lines are
its paragraphs; `rationale` lists the line numbers that show an agreement or a disagreement.

Cross-validation is grouped by claim: a claim and all its articles are on one side of a split (the
folds of `folds.txt` when present, else claims dealt round-robin into five folds by sorted id). The
idf table is learnt from the training side only.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tabayyun.stance import LABELS, StanceModel, StanceResult, classify_views, document_vector
from tabayyun.stance.features import DOCUMENT_FEATURES, Idf, UnitView, claim_view, featurize, units_of, view_units
from tabayyun.stance.model import LinearModel, fit_linear
from tabayyun.stance.pairs import (
    PAIR_DOCUMENT_FEATURES, PAIR_FEATURES, PAIR_LABELS, embed_candidates, pair_row,
)

DEFAULT_FOLDS = 5
PAIR_L2 = 0.1


@dataclass
class Pair:
    lines: list[str]
    stance: str
    rationale: list[int]
    _views: list[UnitView] | None = None

    @property
    def views(self) -> list[UnitView]:
        if self._views is None:
            self._views = view_units(units_of(self.lines))
        return self._views


@dataclass
class ClaimRecord:
    id: str
    claim: str
    fact: str
    pairs: list[Pair]


def read_claims(folder: str | Path) -> list[ClaimRecord]:
    folder = Path(folder)
    files = sorted((folder / "dataset").glob("*.json")) or sorted(folder.glob("*.json"))
    if not files:
        raise ValueError(f"{folder}: no claim files (expected dataset/*.json)")
    records = []
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        pairs = [Pair(article.split("\n"), label, _line_numbers(rationale))
                 for article, label, rationale in zip(data["article"], data["stance"], data["rationale"])]
        records.append(ClaimRecord(str(data["id"]), data["claim"], str(data.get("fact", "")).lower(), pairs))
    return records


def _line_numbers(value) -> list[int]:
    if isinstance(value, list):
        return [int(v) for v in value]
    text = str(value or "").strip()
    return [int(v) for v in json.loads(text)] if text.startswith("[") else []


def read_folds(folder: str | Path, records: list[ClaimRecord], n: int = DEFAULT_FOLDS) -> dict[str, int]:
    """Claim id -> fold number; claims missing from folds.txt are dealt into the folds round-robin."""
    path = Path(folder) / "folds.txt"
    folds: dict[str, int] = {}
    if path.exists():
        for number, line in enumerate(l for l in path.read_text(encoding="utf-8").splitlines() if ":" in l):
            for claim_id in line.split(":", 1)[1].split():
                folds[claim_id] = number
    count = max(folds.values(), default=n - 1) + 1
    for index, record in enumerate(r for r in sorted(records, key=lambda r: r.id) if r.id not in folds):
        folds[record.id] = index % count
    return folds


def fit_idf(records: list[ClaimRecord]) -> Idf:
    return Idf.fit([set().union(*(v.content for v in p.views)) for r in records for p in r.pairs])


def document_vectors(records: list[ClaimRecord], model: StanceModel, embedder=None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Document vectors as `model` would see them (with its pair part when there is an embedder)."""
    rows, targets = [], []
    for record in records:
        claim = claim_view(record.claim, model.idf)
        for pair in record.pairs:
            rows.append(document_vector(claim, pair.views, model, embedder).vector)
            targets.append(LABELS.index(pair.stance))
    return np.array(rows, dtype=np.float32), np.array(targets, dtype=int)


def sentence_pairs(records: list[ClaimRecord], idf: Idf, embedder) -> tuple[np.ndarray, np.ndarray]:
    """Training rows of the pair model. A one-sentence document (ANS) is one pair with its label
    (`unrelated` read as other); in a longer one, the candidate sentences inside the rationale lines
    of an agreeing or disagreeing document take its label, and those of an unrelated document are
    other; discussing documents are left out (their sentences may go either way)."""
    rows, targets = [], []
    for record in records:
        claim = claim_view(record.claim, idf)
        for pair in record.pairs:
            if pair.stance == "discuss" or not pair.views:
                continue
            sentence_rows, _ = featurize(claim, pair.views)
            order, claim_vector, vectors = embed_candidates(claim, pair.views, sentence_rows, embedder)
            single = len(pair.lines) == 1
            for index, vector in zip(order, vectors):
                if pair.stance == "unrelated":
                    label = "other"
                elif single or pair.views[index].unit.paragraph in pair.rationale:
                    label = pair.stance
                else:
                    continue
                rows.append(pair_row(claim, pair.views[index], claim_vector, vector))
                targets.append(PAIR_LABELS.index(label))
    return np.array(rows, dtype=np.float32).reshape(-1, len(PAIR_FEATURES)), np.array(targets, dtype=int)


def train_pairs(records: list[ClaimRecord], idf: Idf, embedder) -> LinearModel:
    """The pair model: 9,357 features for 2,652 ANS pairs, so the penalty matters. PAIR_L2 and the signed
    difference in PAIR_FEATURES were chosen by 5-fold cross-validation on train.csv grouped by s1
    (MODEL_CARD.md)."""
    rows, targets = sentence_pairs(records, idf, embedder)
    unscaled = np.array([name.startswith("substitution_") for name in PAIR_FEATURES])
    return fit_linear(rows, targets, list(PAIR_LABELS), list(PAIR_FEATURES), l2=PAIR_L2, epochs=1000,
                      balance=1.0, unscaled=unscaled)


def train_stance(records: list[ClaimRecord], embedder=None, meta: dict | None = None,
                 pair_records: list[ClaimRecord] | None = None) -> StanceModel:
    """The lexical document classifier; with an embedder and sentence pairs (`pair_records`, e.g. the
    ANS corpus), also the pair model and the document classifier that reads it.

    The pair model never learns from `records`: the document classifier is fitted on what the pair
    model says about those documents, and a pair model that had seen their rationale lines would look
    more certain on them than it ever is on new pages."""
    idf = fit_idf(records)
    model = StanceModel(idf, fit_linear(*document_vectors(records, StanceModel(idf, None)), list(LABELS),
                                        list(DOCUMENT_FEATURES)), meta={**(meta or {})})
    if embedder is not None and pair_records:
        model.pairs = train_pairs(pair_records, idf, embedder)
        rows, targets = document_vectors(records, model, embedder)
        model.classifier_pairs = fit_linear(rows, targets, list(LABELS),
                                            list(DOCUMENT_FEATURES + PAIR_DOCUMENT_FEATURES))
    model.meta["pairs"] = sum(len(r.pairs) for r in records)
    return model


def _predict(model: StanceModel, records: list[ClaimRecord], embedder) -> list[tuple[Pair, StanceResult]]:
    out = []
    for record in records:
        claim = claim_view(record.claim, model.idf)
        for pair in record.pairs:
            out.append((pair, classify_views(claim, pair.views, model, embedder)))
    return out


def cv_predictions(records: list[ClaimRecord], folds: dict[str, int], embedder=None,
                   pair_records: list[ClaimRecord] | None = None
                   ) -> tuple[dict[str, list[tuple[Pair, StanceResult]]], float]:
    """Per claim id, each pair with the stance from a model that never saw that claim; and the seconds
    spent predicting."""
    by_claim: dict[str, list[tuple[Pair, StanceResult]]] = {}
    seconds = 0.0
    for fold in sorted(set(folds.values())):
        train = [r for r in records if folds[r.id] != fold]
        test = [r for r in records if folds[r.id] == fold]
        if not train or not test:
            continue
        model = train_stance(train, embedder, pair_records=pair_records)
        start = time.perf_counter()
        for record in test:
            by_claim[record.id] = _predict(model, [record], embedder)
        seconds += time.perf_counter() - start
    return by_claim, seconds


def cross_validate(records: list[ClaimRecord], folds: dict[str, int], embedder=None,
                   pair_records: list[ClaimRecord] | None = None) -> dict:
    by_claim, seconds = cv_predictions(records, folds, embedder, pair_records)
    return stance_report([p for pairs in by_claim.values() for p in pairs], seconds)


def evaluate_model(model: StanceModel, records: list[ClaimRecord], embedder=None) -> dict:
    start = time.perf_counter()
    predictions = _predict(model, records, embedder)
    return stance_report(predictions, time.perf_counter() - start)


def stance_report(predictions: list[tuple[Pair, StanceResult]], seconds: float) -> dict:
    gold = [LABELS.index(p.stance) for p, _ in predictions]
    guess = [LABELS.index(r.label) for _, r in predictions]
    report = classification_report(gold, guess, LABELS)
    hits = chosen = wanted = 0
    for pair, result in predictions:
        if pair.stance in ("agree", "disagree") and pair.rationale:
            lines = {r.paragraph for r in result.rationale}
            hits += len(lines & set(pair.rationale))
            chosen += len(lines)
            wanted += len(set(pair.rationale))
    report["rationale"] = {"precision": round(hits / chosen, 4) if chosen else 0.0,
                           "recall": round(hits / wanted, 4) if wanted else 0.0}
    report["pairs_per_s"] = round(len(predictions) / seconds, 1) if seconds else 0.0
    report["pairs"] = len(predictions)
    return report


def classification_report(gold: list[int], guess: list[int], labels) -> dict:
    k = len(labels)
    confusion = np.zeros((k, k), dtype=int)
    for g, p in zip(gold, guess):
        confusion[g, p] += 1
    per_class = {}
    for i, label in enumerate(labels):
        tp = confusion[i, i]
        precision = tp / confusion[:, i].sum() if confusion[:, i].sum() else 0.0
        recall = tp / confusion[i].sum() if confusion[i].sum() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {"precision": round(float(precision), 4), "recall": round(float(recall), 4),
                            "f1": round(float(f1), 4)}
    present = [label for i, label in enumerate(labels) if confusion[i].sum()]
    return {
        "accuracy": round(float(np.trace(confusion) / max(1, confusion.sum())), 4),
        "macro_f1": round(float(np.mean([per_class[l]["f1"] for l in present])) if present else 0.0, 4),
        "per_class": per_class,
        "confusion": confusion.tolist(),
        "labels": list(labels),
    }


def _documents(pair: Pair, index: int):
    from tabayyun.model import Document

    return Document(id=f"pair{index}", text="\n".join(pair.lines), format="text",
                    paragraphs=list(pair.lines))


def train_and_save(data: str | Path, out: str | Path | None = None, extra: str | Path | None = None,
                   embedder=None) -> dict:
    """Train on every claim in `data` (plus the ANS pairs of `extra`) and write model and card."""
    from importlib import resources

    from tabayyun.stance import MODEL_RESOURCE
    from tabayyun.stance.model import save_json

    records = read_claims(data)
    started = time.perf_counter()
    pair_records = read_pair_corpus(extra, "train") if extra else []
    model = train_stance(records, embedder, meta={"data": Path(data).name, "extra": Path(extra).name if extra else None},
                         pair_records=pair_records)
    target = Path(out) if out else Path(str(resources.files("tabayyun").joinpath(MODEL_RESOURCE)))
    save_json(model.to_dict(), target)
    return {"model": str(target), "bytes": target.stat().st_size, "claims": len(records),
            "pairs": model.meta["pairs"], "seconds": round(time.perf_counter() - started, 1),
            "uses_embeddings": model.uses_embeddings}


def read_pair_corpus(folder: str | Path, split: str) -> list[ClaimRecord]:
    """ANS-style sentence pairs (`stance/{split}.csv`: s1, s2, stance) as one-sentence documents;
    its `other` label is read as unrelated."""
    import csv

    path = Path(folder) / "stance" / f"{split}.csv"
    records = []
    with open(path, encoding="utf-8", newline="") as fh:
        for index, row in enumerate(csv.DictReader(fh)):
            label = {"other": "unrelated"}.get(row["stance"].strip(), row["stance"].strip())
            if label in LABELS:
                records.append(ClaimRecord(f"{split}-{index}", row["s1"], "", [Pair([row["s2"]], label, [])]))
    return records


def evaluate_folder(data: str | Path, shipped: bool = False, embedder=None, extra: str | Path | None = None
                    ) -> dict:
    """Grouped cross-validation (or the shipped model) on a Baly-format folder (`extra`: the sentence
    pairs the pair model learns from), or train -> dev on an ANS-format folder (`stance/train.csv`,
    `stance/dev.csv`), where a one-sentence document's stance is the pair model's verdict on it."""
    from tabayyun.stance import load_stance_model

    if (Path(data) / "stance" / "dev.csv").exists():
        return _evaluate_pair_corpus(data, shipped, embedder)
    records = read_claims(data)
    if shipped:
        model = load_stance_model()
        report = evaluate_model(model, records, embedder)
        report["protocol"] = f"shipped model on all {len(records)} claims"
        return report
    folds = read_folds(data, records)
    pair_records = read_pair_corpus(extra, "train") if extra else None
    report = cross_validate(records, folds, embedder, pair_records)
    report["protocol"] = (f"{len(set(folds.values()))}-fold cross-validation grouped by claim, {len(records)} claims"
                          + (f", pair model from {Path(extra).name}" if pair_records and embedder else ""))
    return report


def _evaluate_pair_corpus(data: str | Path, shipped: bool, embedder) -> dict:
    """The pair reader when there is one (shipped, or trained here when torch is installed), else
    the linear pair model on e5 vectors, else the lexical document model (embeddings off)."""
    from tabayyun.stance.encoder import load_reader

    dev = read_pair_corpus(data, "dev")
    train = [] if shipped else read_pair_corpus(data, "train")
    where = "shipped model" if shipped else "trained on stance/train.csv"
    reader = model = None
    if embedder is not None:
        reader = load_reader() if shipped else train_reader(train)
    if reader is None:
        model = _pair_corpus_model(train, shipped, embedder)
    start = time.perf_counter()
    if reader is not None:
        predictions = list(zip((r.pairs[0] for r in dev), reader_stances(reader, dev)))
        where += ", pair reader (e5 cross-encoder)"
    elif model.pairs is None or embedder is None:
        predictions = _predict(model, dev, None)
        where += ", lexical document model (no embeddings)"
    else:
        predictions = [(r.pairs[0], pair_stance(model, r, embedder)) for r in dev]
        where += ", linear sentence-pair model (no pair reader: none shipped, or no torch to train one)"
    report = stance_report(predictions, time.perf_counter() - start)
    report["protocol"] = f"{where}, scored on stance/dev.csv ({len(dev)} pairs; other = unrelated)"
    return report


def _pair_corpus_model(train: list[ClaimRecord], shipped: bool, embedder) -> StanceModel:
    from tabayyun.stance import load_stance_model

    if shipped:
        return load_stance_model()
    model = StanceModel(fit_idf(train), None)
    model.pairs = train_pairs(train, model.idf, embedder) if embedder is not None else None
    return model if model.pairs is not None else train_stance(train)


def train_reader(records: list[ClaimRecord], log=None):
    """The pair reader fitted on one-sentence records (ANS pairs); None without torch."""
    from tabayyun.stance.encoder import base_encoder
    from tabayyun.train.crossencoder import fit_reader, torch_available

    if not torch_available():
        return None
    pairs = [(r.claim, "\n".join(r.pairs[0].lines)) for r in records]
    targets = [PAIR_LABELS.index("other" if r.pairs[0].stance == "unrelated" else r.pairs[0].stance) for r in records]
    return fit_reader(base_encoder(), pairs, targets, PAIR_LABELS, log=log or (lambda line: None))


def reader_stances(reader, records: list[ClaimRecord]) -> list[StanceResult]:
    """The pair reader's verdict on one-sentence records (its `other` read as unrelated)."""
    probs = reader.probabilities([(r.claim, "\n".join(r.pairs[0].lines)) for r in records])
    return [_pair_verdict(dict(zip(reader.labels, row))) for row in probs]


def _pair_verdict(by_label: dict[str, float]) -> StanceResult:
    """A sentence-pair verdict (agree / disagree / other) as a document stance: `other` is unrelated."""
    scores = {"agree": float(by_label["agree"]), "disagree": float(by_label["disagree"]), "discuss": 0.0,
              "unrelated": float(by_label["other"])}
    return StanceResult(max(scores, key=scores.get), {k: round(v, 4) for k, v in scores.items()})


def train_pair_reader(data: str | Path, out: str | Path | None = None, log=None) -> dict:
    """Train the pair reader on `stance/train.csv` of an ANS-format folder and write it."""
    from importlib import resources

    from tabayyun.stance.encoder import PAIR_READER_RESOURCE

    started = time.perf_counter()
    records = read_pair_corpus(data, "train")
    reader = train_reader(records, log)
    if reader is None:
        raise RuntimeError("the pair reader is trained with torch: pip install 'tabayyun[train]'")
    reader.meta["data"] = f"{Path(data).name}/stance/train.csv"
    target = Path(out) if out else Path(str(resources.files("tabayyun").joinpath(PAIR_READER_RESOURCE)))
    reader.save(target)
    return {"model": str(target), "bytes": target.stat().st_size, "pairs": len(records),
            "seconds": round(time.perf_counter() - started, 1)}


def pair_stance(model: StanceModel, record: ClaimRecord, embedder) -> StanceResult:
    """The pair model's verdict on a one-sentence document: its best candidate sentence decides."""
    claim = claim_view(record.claim, model.idf)
    views = record.pairs[0].views
    if not views:
        return StanceResult("unrelated", {label: float(label == "unrelated") for label in LABELS})
    rows, _ = featurize(claim, views)
    order, claim_vector, vectors = embed_candidates(claim, views, rows, embedder)
    probs = model.pairs.probabilities(pair_row(claim, views[order[0]], claim_vector, vectors[0]))[0]
    return _pair_verdict(dict(zip(PAIR_LABELS, probs)))


def evaluate_verdicts(data: str | Path, shipped: bool = False, embedder=None, extra: str | Path | None = None
                      ) -> dict:
    """Verdicts from the stances of each claim's articles against the corpus' true/false labels: a
    verdict of `true` counts as true, any other (false, mixed, unverified) as not shown true."""
    from tabayyun.stance import load_stance_model
    from tabayyun.verdict import Assessment, aggregate

    records = [r for r in read_claims(data) if r.fact in ("true", "false")]
    if shipped:
        model = load_stance_model()
        by_claim = {r.id: _predict(model, [r], embedder) for r in records}
    else:
        pair_records = read_pair_corpus(extra, "train") if extra else None
        by_claim, _ = cv_predictions(records, read_folds(data, records), embedder, pair_records)
    gold, guess = [], []
    for record in records:
        assessments = [Assessment(_documents(pair, i), result) for i, (pair, result) in enumerate(by_claim[record.id])]
        verdict = aggregate(assessments)
        gold.append(0 if record.fact == "true" else 1)
        guess.append(0 if verdict.label == "true" else 1)
    report = classification_report(gold, guess, ("true", "false"))
    report["protocol"] = ("shipped model" if shipped else "cross-validation grouped by claim") + \
        f", {len(records)} claims; verdict true vs anything else"
    return report
