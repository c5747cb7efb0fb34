"""Training and evaluating the NER tagger on CoNLL-style data (ANERcorp: `token TAG` per line).

Held-out protocol: `split_holdout` keeps the LAST `fraction` (10%) of the sentences, in file order,
for evaluation; training uses the rest. The split is deterministic (no shuffling) and, since ANERcorp
is a sequence of news articles, keeps the held-out articles unseen.

Scores are conlleval-style exact spans: a predicted entity counts only when its type and both of
its boundaries match a gold entity.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from tabayyun.understand.ner import NerModel, bio_spans, dense_weights, load_model, save_model, token_features
from tabayyun.understand.ner_features import (
    TAG_INDEX, TAGS, TYPES, add_document_features, clear_lexical_cache, gazetteers, sentence_context,
)
from tabayyun.understand.wordclusters import shipped_clusters

# CRFsuite's L-BFGS: at most this many iterations, L1 and L2 penalties (chosen on development splits).
ITERATIONS = 300
C1 = 0.02
C2 = 0.05
# ANERcorp has no document boundaries: the document features of a sentence come from the sentences
# within this many places of it (a news article is some 10-30 sentences).
DOC_WINDOW = 10
O_PENALTY = 0.5


def read_conll(path: str | Path) -> list[list[tuple[str, str]]]:
    """Sentences of (token, tag): one `token TAG` per line (any whitespace), blank lines between
    sentences. PERS is read as PER; a line with more than two fields keeps its first field as the
    token and its last as the tag; an unknown tag is read as O."""
    sentences: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if not parts:
                if current:
                    sentences.append(current)
                    current = []
                continue
            token, tag = parts[0], parts[-1] if len(parts) > 1 else "O"
            current.append((token, _clean_tag(tag)))
    if current:
        sentences.append(current)
    return sentences


def _clean_tag(tag: str) -> str:
    prefix, _, kind = tag.upper().partition("-")
    kind = {"PERS": "PER", "PERSON": "PER", "ORGANIZATION": "ORG", "LOCATION": "LOC"}.get(kind, kind)
    if prefix in ("B", "I") and kind in TYPES:
        return f"{prefix}-{kind}"
    return "O"


def split_holdout(sentences: list, fraction: float = 0.1) -> tuple[list, list]:
    """(train, held_out): the last `fraction` of the sentences, in order, are held out."""
    held = int(round(len(sentences) * fraction))
    cut = len(sentences) - held
    return sentences[:cut], sentences[cut:]


def _gold_indices(tags: list[str]) -> list[int]:
    """Tag indices, with an I-X that does not continue an X span read as B-X (as conlleval does)."""
    out, prev = [], "O"
    for tag in tags:
        if tag.startswith("I-") and prev[2:] != tag[2:]:
            tag = "B-" + tag[2:]
        out.append(TAG_INDEX[tag])
        prev = tag
    return out


def train_ner(data_path: str | Path, out_path: str | Path, iterations: int = ITERATIONS, holdout: bool = True,
              c1: float = C1, c2: float = C2, o_penalty: float = O_PENALTY,
              vectors: str | Path | None = None, log=None) -> dict:
    """Train the CRF tagger on `data_path` (all but the held-out last 10% when `holdout`), write the
    gzipped model to `out_path`, and return a summary (with held-out scores when `holdout`).

    `c1` and `c2` are the L1 and L2 penalties of CRFsuite's L-BFGS training; `o_penalty` is stored
    with the model and subtracted from every token's O score at tagging time (a recall/precision
    trade-off). All three were chosen on two development splits of the training data (MODEL_CARD.md).

    With `vectors` (`tabayyun train clusters --vectors`), the network layer is trained over the
    tagger too (torch needed) and written beside it as `network.npz`; without, a network file
    there (trained over another tagger) is removed."""
    started = time.perf_counter()
    sentences = read_conll(data_path)
    train, held = split_holdout(sentences) if holdout else (sentences, [])
    weights = fit_weights(train, iterations, c1, c2, log)
    meta = {"data": str(Path(data_path).name), "trainer": "crfsuite l-bfgs", "train_sentences": len(train),
            "held_out_sentences": len(held), "iterations": iterations, "c1": c1, "c2": c2,
            "o_penalty": o_penalty, "doc_window": DOC_WINDOW}
    if clusters := shipped_clusters().digest:
        meta["clusters"] = clusters
    size = save_model(weights, out_path, meta)
    summary = {"out": str(out_path), "bytes": size, "features": len(weights), "train_sentences": len(train),
               "train_tokens": sum(len(s) for s in train), "held_out_sentences": len(held),
               "iterations": iterations, "seconds": round(time.perf_counter() - started, 1)}
    network = Path(out_path).with_name("network.npz")
    if vectors is not None:
        from tabayyun.train.ner_network import train_network

        summary["network"] = train_network(
            train, out_path, vectors, DOC_WINDOW,
            lambda part: fit_model(part, iterations, c1, c2, o_penalty), log=log)
    elif network.exists():
        network.unlink()
    if holdout:
        model = load_model.__wrapped__(out_path)
        summary["held_out"] = evaluate_ner(data_path, model=model, holdout_only=True)
    return summary


def fit_model(sentences: list[list[tuple[str, str]]], iterations: int = ITERATIONS, c1: float = C1,
              c2: float = C2, o_penalty: float = O_PENALTY) -> NerModel:
    """A tagger learnt from `sentences`, in memory (`fit_weights` with the O-score penalty)."""
    return NerModel(dense_weights(fit_weights(sentences, iterations, c1, c2)), {"o_penalty": o_penalty})


def fit_weights(sentences: list[list[tuple[str, str]]], iterations: int = ITERATIONS, c1: float = C1,
                c2: float = C2, log=None) -> dict[str, dict[int, float]]:
    """A linear-chain CRF learnt from `sentences` with CRFsuite (L-BFGS, elastic-net penalty), as
    feature -> {tag index: weight}: the state weights of every tag-independent feature of a token
    (`token_features`) and the transition table as the features "t1=<previous tag>"."""
    try:
        import pycrfsuite
    except ImportError as exc:
        raise ImportError("training the NER tagger needs python-crfsuite: pip install 'tabayyun[train]'") from exc
    contexts = [sentence_context([t for t, _ in sentence]) for sentence in sentences]
    add_document_features(contexts, DOC_WINDOW)
    trainer = pycrfsuite.Trainer(verbose=False)
    for sentence, ctx in zip(sentences, contexts):
        items = [dict.fromkeys(token_features(ctx.lexes, ctx.pos, i), 1.0) for i in range(len(sentence))]
        trainer.append(items, [TAGS[k] for k in _gold_indices([t for _, t in sentence])])
    trainer.set_params({"c1": c1, "c2": c2, "max_iterations": iterations, "feature.possible_transitions": True})
    if log:
        log(f"training the CRF on {len(sentences):,} sentences ({iterations} L-BFGS iterations at most)")
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "ner.crfsuite")
        trainer.train(path)
        tagger = pycrfsuite.Tagger()
        tagger.open(path)
        info = tagger.info()
        tagger.close()
    weights: dict[str, dict[int, float]] = {}
    for (feature, tag), weight in info.state_features.items():
        weights.setdefault(feature, {})[TAG_INDEX[tag]] = weight
    for (previous, tag), weight in info.transitions.items():
        weights.setdefault("t1=" + previous, {})[TAG_INDEX[tag]] = weight
    return weights


def evaluate_ner(data_path: str | Path, model: NerModel | None = None, holdout_only: bool = False) -> dict:
    """Exact-span precision, recall and F1 (overall and per type) of `model` (default: the shipped
    one) on `data_path`, or on its held-out last 10% when `holdout_only`; with tagging speed."""
    sentences = read_conll(data_path)
    if holdout_only:
        sentences = split_holdout(sentences)[1]
    model = model or load_model()
    # what a tagger loads once (gazetteers, word clusters) is loaded before the clock starts; the
    # per-word caches are cleared, so the speed is that of text the tagger has not seen
    gazetteers()
    shipped_clusters().lookup("")
    clear_lexical_cache()
    model.clear_caches()
    tokens = sum(len(s) for s in sentences)
    started = time.perf_counter()
    predicted = model.tag_document([[t for t, _ in s] for s in sentences], window=DOC_WINDOW)
    elapsed = time.perf_counter() - started
    return {**span_scores(sentences, predicted),
            "tokens_per_s": round(tokens / elapsed, 1) if elapsed else 0.0, "sentences": len(sentences),
            "tokens": tokens}


def span_scores(sentences: list[list[tuple[str, str]]], predicted: list[list[str]]) -> dict:
    """Exact-span precision, recall and F1 of predicted tags against the sentences' gold tags:
    `{"overall": ..., "per_type": {type: ...}}`."""
    gold_spans, pred_spans = set(), set()
    for number, (sentence, tags) in enumerate(zip(sentences, predicted)):
        gold_spans.update((number, *s) for s in bio_spans([t for _, t in sentence]))
        pred_spans.update((number, *s) for s in bio_spans(tags))
    per_type = {}
    for typ in TYPES:
        g = {s for s in gold_spans if s[3] == typ}
        p = {s for s in pred_spans if s[3] == typ}
        per_type[typ] = _prf(len(g & p), len(p), len(g))
    return {"overall": _prf(len(gold_spans & pred_spans), len(pred_spans), len(gold_spans)), "per_type": per_type}


def _prf(correct: int, predicted: int, gold: int) -> dict:
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "correct": correct, "predicted": predicted, "gold": gold}
