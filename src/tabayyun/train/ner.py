"""Training and evaluating the NER tagger on CoNLL-style data (ANERcorp: `token TAG` per line).

Held-out protocol: `split_holdout` keeps the LAST `fraction` (10%) of the sentences, in file order,
for evaluation; training uses the rest. The split is deterministic (no shuffling) and, since ANERcorp
is a sequence of news articles, keeps the held-out articles unseen.

Scores are conlleval-style exact spans: a predicted entity counts only when its type and both of
its boundaries match a gold entity.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from tabayyun.understand.ner import (
    NerModel, bio_spans, dense_weights, lexical_transition_rows, load_model, save_model, token_features,
    transition_features, viterbi,
)
from tabayyun.understand.ner_features import (
    TAG_INDEX, TAGS, TYPES, add_document_features, clear_lexical_cache, gazetteers, sentence_context,
)
from tabayyun.understand.wordclusters import shipped_clusters

DEFAULT_EPOCHS = 10
PRUNE_BELOW = 0.01
# ANERcorp has no document boundaries: the document features of a sentence come from the sentences
# within this many places of it (a news article is some 10-30 sentences).
DOC_WINDOW = 10
O_PENALTY = 4.0


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


def train_ner(data_path: str | Path, out_path: str | Path, epochs: int = DEFAULT_EPOCHS, holdout: bool = True,
              seed: int = 13, prune_below: float = PRUNE_BELOW, o_penalty: float = O_PENALTY,
              vectors: str | Path | None = None, log=None) -> dict:
    """Train the averaged perceptron on `data_path` (all but the held-out last 10% when `holdout`),
    write the gzipped model to `out_path`, and return a summary (with held-out scores when `holdout`).

    Weights below `prune_below` are dropped; `o_penalty` is stored with the model and subtracted from
    every token's O score at tagging time (a recall/precision trade-off, chosen on a development
    part of the training data: sentences 79-90% of ANERcorp train.txt).

    With `vectors` (`tabayyun train clusters --vectors`), the network layer is trained over the
    perceptron too (torch needed) and written beside it as `network.npz`; without, a network file
    there (trained over another perceptron) is removed."""
    started = time.perf_counter()
    sentences = read_conll(data_path)
    train, held = split_holdout(sentences) if holdout else (sentences, [])
    pruned = fit_weights(train, epochs, seed, prune_below, log)
    meta = {"data": str(Path(data_path).name), "train_sentences": len(train), "held_out_sentences": len(held),
            "epochs": epochs, "seed": seed, "prune_below": prune_below, "o_penalty": o_penalty,
            "doc_window": DOC_WINDOW}
    if clusters := shipped_clusters().digest:
        meta["clusters"] = clusters
    size = save_model(pruned, out_path, meta)
    summary = {"out": str(out_path), "bytes": size, "features": len(pruned), "train_sentences": len(train),
               "train_tokens": sum(len(s) for s in train), "held_out_sentences": len(held), "epochs": epochs,
               "seconds": round(time.perf_counter() - started, 1)}
    network = Path(out_path).with_name("network.npz")
    if vectors is not None:
        from tabayyun.train.ner_network import train_network

        summary["network"] = train_network(
            train, out_path, vectors, DOC_WINDOW,
            lambda part: fit_model(part, epochs, seed, prune_below, o_penalty), log=log)
    elif network.exists():
        network.unlink()
    if holdout:
        model = load_model.__wrapped__(out_path)
        summary["held_out"] = evaluate_ner(data_path, model=model, holdout_only=True)
    return summary


def fit_model(sentences: list[list[tuple[str, str]]], epochs: int = DEFAULT_EPOCHS, seed: int = 13,
              prune_below: float = PRUNE_BELOW, o_penalty: float = O_PENALTY) -> NerModel:
    """A tagger learnt from `sentences`, in memory (`fit_weights` with the O-score penalty)."""
    return NerModel(dense_weights(fit_weights(sentences, epochs, seed, prune_below)), {"o_penalty": o_penalty})


def fit_weights(sentences: list[list[tuple[str, str]]], epochs: int = DEFAULT_EPOCHS, seed: int = 13,
                prune_below: float = PRUNE_BELOW, log=None) -> dict[str, dict[int, float]]:
    """The averaged weights learnt from `sentences`, those under `prune_below` dropped."""
    pruned = {f: {k: w for k, w in row.items() if abs(w) >= prune_below}
              for f, row in _train(sentences, epochs, seed, log).items()}
    return {f: row for f, row in pruned.items() if row}


def _train(sentences: list[list[tuple[str, str]]], epochs: int, seed: int, log=None) -> dict[str, dict[int, float]]:
    """Structured averaged perceptron: Viterbi-decode each sentence with the current weights and move
    the weights of the gold features up and of the predicted ones down where they differ."""
    n = len(TAGS)
    contexts = [sentence_context([t for t, _ in sentence]) for sentence in sentences]
    add_document_features(contexts, DOC_WINDOW)
    prepared = []
    for sentence, ctx in zip(sentences, contexts):
        feats = [token_features(ctx.lexes, ctx.pos, i) for i in range(len(sentence))]
        prepared.append((ctx.lexes, feats, _gold_indices([t for _, t in sentence])))
    weights: dict[str, list[float]] = {}
    totals: dict[str, list[float]] = {}
    clock = 1

    def update(features, k: int, delta: float) -> None:
        for f in features:
            w = weights.get(f)
            if w is None:
                w = weights[f] = [0.0] * n
                totals[f] = [0.0] * n
            w[k] += delta
            totals[f][k] += clock * delta

    rng = random.Random(seed)
    order = list(range(len(prepared)))
    zero = [0.0] * n
    for epoch in range(epochs):
        rng.shuffle(order)
        errors = count = 0
        trans_names = ["t1=" + t for t in TAGS]
        for index in order:
            lexes, feats, gold = prepared[index]
            emissions, extra = [], []
            for i, fs in enumerate(feats):
                scores = [0.0] * n
                for f in fs:
                    w = weights.get(f)
                    if w is not None:
                        for k in range(n):
                            scores[k] += w[k]
                emissions.append(scores)
                extra.append(lexical_transition_rows(weights, lexes[i + 2]))
            trans = [weights.get(name, zero) for name in trans_names]
            pred = viterbi(emissions, trans, extra)
            count += len(gold)
            if pred != gold:
                for i, (g, p) in enumerate(zip(gold, pred)):
                    if g != p:
                        errors += 1
                        update(feats[i], g, 1.0)
                        update(feats[i], p, -1.0)
                    gp = gold[i - 1] if i else 0
                    pp = pred[i - 1] if i else 0
                    if (gp, g) != (pp, p):
                        update(transition_features(gp, lexes[i + 2]), g, 1.0)
                        update(transition_features(pp, lexes[i + 2]), p, -1.0)
            clock += 1
        if log:
            log(f"epoch {epoch + 1}/{epochs}: token error rate {errors / max(count, 1):.4f}")
    averaged: dict[str, dict[int, float]] = {}
    for f, w in weights.items():
        u = totals[f]
        row = {k: w[k] - u[k] / clock for k in range(n) if w[k] or u[k]}
        row = {k: v for k, v in row.items() if abs(v) > 1e-9}
        if row:
            averaged[f] = row
    return averaged


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
