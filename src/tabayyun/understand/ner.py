"""Named entities: a linear-chain CRF BIO tagger, gazetteers, title cues, within-article linking.

The tagger is a linear-chain conditional random field (trained by `tabayyun train ner` with CRFsuite,
the `train` extra) decoded here with first-order Viterbi over BIO tags (a beam skips tags far below a
token's best). Its features: the normalized word, its light stem, the clitic-split base and
proclitics, 1-4 character prefixes and suffixes of the base, a consonant/vowel skeleton, the word
shape, the neighbouring words (two each side) and their bases, the word clusters of the word and its
neighbours (learnt from unlabeled news: see understand/wordclusters.py), gazetteer membership of the
base and of multi-word windows (B/I position in an entry), title cues (الرئيس، وزير، المتحدث باسم
...) among the three previous words, and document features (what the same word is elsewhere in the
article: see add_document_features); the previous tag enters through the transition table.

Inference is pure Python: the features of a word at a given offset from the tagged position depend
only on that word, so their summed weights are cached per word and offset; tagging a token then adds
a handful of cached vectors. The shipped model (`models/ner/model.json.gz`) was trained on ANERcorp
by `tabayyun.train.ner.train_ner`; see its MODEL_CARD.md. A network layer trained over the tagger
(`ner_network.py`, written beside the model as `network.npz` by `train ner --vectors`) decodes
instead of the tagger's own Viterbi when `load_model` finds one.

`find_entities(paragraphs)` runs on raw paragraph text and returns `Entity` spans with character
offsets, one `canonical` name per entity in the article and the `role` a title cue gives a person.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import operator
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from tabayyun.arabic import split_sentences, tokenize
from tabayyun.model import Entity
from tabayyun.understand.mentions import (
    Mention, clean_words, equipment, link, plausible, role_of, without_initial_dots,
)
from tabayyun.understand.ner_features import (
    MODEL_RESOURCE, TAGS, Lex, SentenceContext, add_document_features, gazetteers, sentence_context,
)
from tabayyun.understand.ner_network import NerNetwork, network_beside, read_network
from tabayyun.understand.wordclusters import shipped_clusters

# --- the tagger -----------------------------------------------------------------------------------

def _allowed() -> list[tuple[int, ...]]:
    """For each previous tag, the tags allowed next: I-X only after B-X or I-X."""
    table = []
    for prev in TAGS:
        ok = []
        for i, tag in enumerate(TAGS):
            if tag.startswith("I-") and prev[2:] != tag[2:]:
                continue
            ok.append(i)
        table.append(tuple(ok))
    return table


ALLOWED = _allowed()


PREV_OK = [tuple(p for p in range(len(TAGS)) if c in ALLOWED[p]) for c in range(len(TAGS))]
_NEG = float("-inf")
# Tags whose emission score is this far below a token's best are not considered there (see viterbi):
# CRF scores are log-potentials, so a tag 20 below the best is e^-20 as likely before transitions.
BEAM_MARGIN = 20.0


def viterbi(emissions: list[list[float]], trans: list[list[float]], margin: float | None = None) -> list[int]:
    """Best tag sequence under emission scores and a tag-bigram matrix `trans[prev][cur]`; the tag
    before the sentence is O; I-X only after B-X or I-X. With `margin`, only the tags whose emission
    is within `margin` of the position's best are considered there (a beam: far faster, nearly always
    the same path)."""
    n = len(TAGS)
    everything = range(n)
    prev_tags = (0,)
    prev_scores = [0.0]
    backs = []
    for e in emissions:
        if margin is None:
            cands = everything
        else:
            floor = max(e) - margin
            cands = [c for c in everything if e[c] >= floor]
        tags, scores, back = [], [], []
        for c in cands:
            best, arg = _NEG, -1
            allowed = PREV_OK[c]
            for k, p in enumerate(prev_tags):
                if p not in allowed:
                    continue
                s = prev_scores[k] + trans[p][c]
                if s > best:
                    best, arg = s, k
            if arg >= 0:
                tags.append(c)
                scores.append(best + e[c])
                back.append(arg)
        if not tags:  # only I- tags were near the top, none of them possible here: open a span
            return viterbi(emissions, trans, None)
        backs.append((tags, back))
        prev_tags, prev_scores = tags, scores
    k = prev_scores.index(max(prev_scores))
    path = []
    for tags, back in reversed(backs):
        path.append(tags[k])
        k = back[k]
    path.reverse()
    return path


class NerModel:
    """Linear-chain weights: feature -> one weight per tag (a tuple of len(TAGS) floats); the
    features "t1=<previous tag>" hold the transition table."""

    def __init__(self, weights: dict[str, tuple[float, ...]], meta: dict | None = None,
                 network: NerNetwork | None = None) -> None:
        self.weights = weights
        self.network = network
        self.meta = meta or {}
        self.n = len(TAGS)
        self._caches: list[dict[str, list[float]]] = [{}, {}, {}, {}, {}]
        zero = (0.0,) * self.n
        self.trans = [weights.get("t1=" + TAGS[p], zero) for p in range(self.n)]
        self._zero = zero
        self.margin: float | None = BEAM_MARGIN
        # Subtracted from the O score of every token: trades precision for recall (tuned on a
        # development part of the training data; see train_ner).
        self.o_penalty = float(self.meta.get("o_penalty", 0.0))

    def clear_caches(self) -> None:
        for cache in self._caches:
            cache.clear()
        if self.network is not None:
            self.network.clear_caches()

    def _sum(self, feats) -> tuple[float, ...]:
        found = [w for w in map(self.weights.get, feats) if w is not None]
        return tuple(map(sum, zip(*found))) if found else self._zero

    def _vec(self, slot: int, record: Lex):
        cache = self._caches[slot]
        vec = cache.get(record.token)
        if vec is None:
            if len(cache) > 200_000:
                cache.clear()
            feats = (record.f0, record.fm1, record.fp1, record.fm2, record.fp2)[slot]
            vec = cache[record.token] = self._sum(feats)
        return vec

    def tag(self, tokens: list[str]) -> list[str]:
        """Tags of one sentence on its own."""
        if not tokens:
            return []
        return [TAGS[i] for i in self.tag_contexts([sentence_context(tokens)])[0]]

    def tag_document(self, sentences: list[list[str]], window: int | None = None) -> list[list[str]]:
        """Tags of a document's sentences, with the document features (see add_document_features)."""
        contexts = [sentence_context(tokens) for tokens in sentences]
        add_document_features(contexts, window)
        return [[TAGS[i] for i in tags] for tags in self.tag_contexts(contexts)]

    def tag_contexts(self, contexts: list[SentenceContext]) -> list[list[int]]:
        """Tag indices of each sentence (document features already added): the network's decoding
        over the tagger's scores when the model has a network, else the tagger's own."""
        if self.network is None:
            return [self.tag_indices(c.lexes, c.pos) if c.pos else [] for c in contexts]
        scores = [np.asarray(self.emissions(c.lexes, c.pos)[0], np.float32) for c in contexts]
        return self.network.tag(contexts, scores)

    def tag_indices(self, lexes: list[Lex], pos: list[list[str]]) -> list[int]:
        """The tagger's own tags of one sentence (Viterbi over its emissions and transitions)."""
        return viterbi(*self.emissions(lexes, pos), self.margin)

    def emissions(self, lexes: list[Lex], pos: list[list[str]]) -> tuple[list[list[float]], list]:
        """The tagger's score of each tag at each token, and its transition table (viterbi's arguments)."""
        get = self.weights.get
        vec = self._vec
        add = operator.add
        emissions = []
        bias = get("bias", self._zero)
        penalty = self.o_penalty
        for i in range(len(pos)):
            j = i + 2
            here = lexes[j]
            scores = list(map(add, map(add, map(add, vec(0, here), vec(1, lexes[j - 1])),
                                       map(add, vec(2, lexes[j + 1]), vec(3, lexes[j - 2]))),
                              map(add, vec(4, lexes[j + 2]), bias)))
            for f in pos[i]:
                w = get(f)
                if w is not None:
                    scores = list(map(add, scores, w))
            scores[0] -= penalty
            emissions.append(scores)
        return emissions, self.trans


def token_features(lexes: list[Lex], pos: list[list[str]], i: int) -> list[str]:
    """Every tag-independent feature of token i (training uses this; inference the cached sums)."""
    j = i + 2
    return ["bias", *lexes[j].f0, *lexes[j - 1].fm1, *lexes[j + 1].fp1, *lexes[j - 2].fm2, *lexes[j + 2].fp2,
            *pos[i]]


def save_model(weights: dict[str, dict[int, float]], path: str | Path, meta: dict, scale: int = 1000) -> int:
    """Write weights (feature -> {tag index: weight}) as gzipped JSON with integer weights; returns bytes."""
    packed = {}
    for feat, row in weights.items():
        flat = []
        for k, w in sorted(row.items()):
            q = round(w * scale)
            if q:
                flat.extend((k, q))
        if flat:
            packed[feat] = flat
    data = {"format": "tabayyun-ner-crf", "version": 2, "tags": list(TAGS), "scale": scale,
            "meta": meta, "weights": packed}
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb", compresslevel=9) as fh:
        fh.write(raw)
    return path.stat().st_size


def model_digest(raw: bytes) -> str:
    """Identifies a tagger model by its content (not the gzip header's time): a network records
    the one it was trained over."""
    return hashlib.sha256(gzip.decompress(raw)).hexdigest()[:16]


def _read_model(stream: bytes, network: bytes | None = None) -> NerModel:
    data = json.loads(gzip.decompress(stream).decode("utf-8"))
    if data.get("tags") != list(TAGS):
        raise ValueError("NER model tags do not match this version of tabayyun")
    trained_with, shipped = data.get("meta", {}).get("clusters"), shipped_clusters().digest
    if trained_with and trained_with != shipped:
        raise ValueError(f"the NER model was trained with word clusters {trained_with}, the package has "
                         f"{shipped or 'none'}: retrain it (tabayyun train ner)")
    layer = read_network(network) if network is not None else None
    if layer is not None and layer.meta.get("tagger") != model_digest(stream):
        raise ValueError("the NER network beside the model was trained over another tagger model: "
                         "retrain both (tabayyun train ner --vectors FILE)")
    return NerModel(dense_weights(data["weights"], float(data.get("scale", 1))), data.get("meta", {}), layer)


def dense_weights(sparse: dict, scale: float = 1.0) -> dict[str, tuple[float, ...]]:
    """feature -> flat [tag, weight, tag, weight...] (or {tag: weight}) to feature -> weight per tag."""
    n = len(TAGS)
    out = {}
    for feat, flat in sparse.items():
        row = [0.0] * n
        items = flat.items() if isinstance(flat, dict) else zip(flat[0::2], flat[1::2])
        for k, w in items:
            row[int(k)] = w / scale
        out[feat] = tuple(row)
    return out


@lru_cache(maxsize=4)
def load_model(path: str | Path | None = None) -> NerModel:
    """The NER model at `path`, or the one shipped in the package, with the network layer stored
    beside it (`network.npz`) when there is one; cached."""
    if path is None:
        raw = resources.files("tabayyun").joinpath(MODEL_RESOURCE).read_bytes()
    else:
        raw = Path(path).read_bytes()
    return _read_model(raw, network_beside(path))


def tag_tokens(tokens: list[str], model: NerModel | None = None) -> list[str]:
    """BIO tags (B-PER, I-LOC, ..., O) of one sentence's tokens."""
    return (model or load_model()).tag(list(tokens))


def bio_spans(tags: list[str]) -> list[tuple[int, int, str]]:
    """(start, end, type) token spans of BIO tags, conlleval style: an I-X that does not continue an
    X span starts a new one."""
    spans = []
    start, typ = None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, kind = tag.partition("-")
        if kind == "PERS":
            kind = "PER"
        continues = prefix == "I" and kind == typ
        if start is not None and not continues:
            spans.append((start, i, typ))
            start, typ = None, None
        if prefix in ("B", "I") and not continues:
            start, typ = i, kind
    return spans



def find_entities(paragraphs: list[str], model: NerModel | None = None) -> list[Entity]:
    """Entities in an article's paragraphs, with offsets, one canonical name per entity, and roles.

    Each paragraph is split into sentences and tokenized; the tagger reads the whole article (a name
    written in full once helps its bare mentions); equipment and operations from the MISC gazetteer
    (CH-47, عملية العزم الصلب) are added with source="gazetteer" where the tagger found nothing.
    `text`, `start` and `end` are the span as written (clitics included: "وواشنطن"); `canonical`
    drops the clitics."""
    model = model or load_model()
    res = gazetteers()
    units = []
    for number, paragraph in enumerate(paragraphs):
        for sentence in split_sentences(paragraph):
            toks = tokenize(sentence.text)
            if toks:
                kept = without_initial_dots(toks)
                units.append((number, sentence.start, toks, kept,
                              sentence_context([toks[k].text for k in kept])))
    add_document_features([u[4] for u in units])
    mentions: list[Mention] = []
    for (number, offset, all_toks, kept, ctx), tags in zip(units, model.tag_contexts([u[4] for u in units])):
        toks = [all_toks[k] for k in kept]
        spans = [s for s in bio_spans([TAGS[k] for k in tags]) if plausible(toks, s)]
        keys = [x.keys for x in ctx.lexes[2:-2]]
        for start, end, _ in res.misc_only.matches(keys):
            if any(s <= start and end <= e and e - s > end - start for s, e, _ in spans):
                continue  # inside a longer name the tagger found
            spans = [s for s in spans if s[1] <= start or s[0] >= end]
            spans.append((start, end, "GAZ"))
        spans.extend(equipment(toks, spans))
        spans.sort()
        cue_ends = {end: start for start, end, _ in ctx.cues}
        for start, end, typ in spans:
            source = "model"
            if typ == "GAZ":
                typ, source = "MISC", "gazetteer"
            first, last = toks[start], toks[end - 1]
            raw = [t.text for t in all_toks[kept[start]:kept[end - 1] + 1] if t.is_word]
            mention = Mention(number, offset + first.start, offset + last.end, typ, source, raw)
            if typ == "PER":
                mention.role = role_of(offset, toks, ctx.lexes, start, cue_ends, spans, paragraphs[number])
            mentions.append(mention)
    clean_words(mentions)
    link(mentions)
    return [Entity(text=paragraphs[m.paragraph][m.start:m.end], type=m.type, canonical=m.canonical,
                   paragraph=m.paragraph, start=m.start, end=m.end, role=m.role, source=m.source)
            for m in mentions]
