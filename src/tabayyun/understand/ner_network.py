"""A BiLSTM-CRF layer over the CRF tagger, run with numpy (`network.npz` beside the model; optional).

It reads, for each token: the word's vector (learnt from unlabeled news with the word clusters, see
`train/clusters.py`, and projected by training), a character CNN over the normalized word, its
proclitics and shape, the tagger's sentence and document features (gazetteer positions, title
cues, what the word is elsewhere in the article), and the tagger's own score for each tag.
A bidirectional LSTM over the sentence turns these into tag scores, which a CRF's tag-transition
table decodes (Viterbi, I-X only after B-X or I-X). The tagger stays the explanation of a tag
(its features are readable); the network corrects it where a word's context and spelling say more.

Trained by `tabayyun.train.ner_network` (torch, an optional extra); this module needs numpy only.
Word keys are stored as 64-bit hashes, as in the cluster table: the file holds no corpus words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from tabayyun.understand.ner_features import TAGS, Lex, SentenceContext
from tabayyun.understand.wordclusters import key_hash, read_npz

NETWORK_RESOURCE = "models/ner/network.npz"
MAX_CHARS = 20       # the character CNN reads the first 20 letters of a word
_WORD_CACHE_LIMIT = 200_000


@dataclass(frozen=True)
class TokenInput:
    """What the network reads of one token, before its vocabularies turn it into numbers."""

    key: str                  # the word's base (the key of its vector)
    features: tuple[str, ...]  # the tagger's position features and gazetteer types
    chars: str
    proclitics: str
    shape: str


def word_input(record: Lex) -> tuple[str, tuple[str, ...], str, str, str]:
    """What the network reads of a word wherever it stands: (key, gazetteer types, characters,
    proclitics, shape)."""
    gazetteer = tuple(f for f in record.f0 if f.startswith("gw="))
    proclitics = next((f for f in record.f0 if f.startswith("p=")), "p=")
    shape = next((f for f in record.f0 if f.startswith("sh=")), "sh=")
    return record.base, gazetteer, record.norm[:MAX_CHARS], proclitics, shape


def token_inputs(ctx: SentenceContext) -> list[TokenInput]:
    """The network's inputs for each token of a sentence (what training reads; tagging reads the same
    through `word_input`, cached per word)."""
    inputs = []
    for i, features in enumerate(ctx.pos):
        key, gazetteer, chars, proclitics, shape = word_input(ctx.lexes[i + 2])
        inputs.append(TokenInput(key, (*features, *gazetteer), chars, proclitics, shape))
    return inputs


def allowed_transitions() -> tuple[np.ndarray, np.ndarray]:
    """(transition mask [prev, cur], start mask): 0 where allowed, a large negative where not."""
    n = len(TAGS)
    mask = np.zeros((n, n), np.float32)
    for p, prev in enumerate(TAGS):
        for c, tag in enumerate(TAGS):
            if tag.startswith("I-") and prev[2:] != tag[2:]:
                mask[p, c] = -1e4
    start = np.array([-1e4 if tag.startswith("I-") else 0.0 for tag in TAGS], np.float32)
    return mask, start


@lru_cache(maxsize=1)
def _blas_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _one_blas_thread():
    return _blas_controller().limit(limits=1, user_api="blas")


@dataclass
class NerNetwork:
    params: dict[str, np.ndarray]
    meta: dict
    _words: dict[str, tuple] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        meta, p = self.meta, self.params
        self.features = {f: i for i, f in enumerate(meta["features"])}
        self.char_ids = {c: i + 1 for i, c in enumerate(meta["chars"])}
        self.proclitic_ids = {x: i + 1 for i, x in enumerate(meta["proclitics"])}
        self.shape_ids = {x: i + 1 for i, x in enumerate(meta["shapes"])}
        self.word_rows = {h: i + 1 for i, h in enumerate(p["word_hashes"].tolist())}
        words = p["words"].astype(np.float32) / float(p["word_scale"])
        self.words = np.vstack([p["oov"][None, :], words])
        self.mask, self.start_mask = allowed_transitions()
        self._input_weights, self._recurrent = _both_directions(p)

    def clear_caches(self) -> None:
        self._words.clear()

    # --- inputs ---------------------------------------------------------------------------------
    def _char_vectors(self, words: list[str]) -> np.ndarray:
        """The character CNN's output for each word: (words, filters)."""
        p = self.params
        ids = [[self.char_ids.get(c, 0) for c in chars] or [0] for chars in words]
        lengths = np.array([len(row) for row in ids])
        longest = int(lengths.max())
        padded = np.zeros((len(ids), longest + 2), np.int64)      # id 0: the zero vector (as at training)
        for row, word in enumerate(ids):
            padded[row, 1:len(word) + 1] = word
        x = p["char_embedding"][padded]                                   # (words, letters + 2, size)
        width = p["conv_w"].shape[2]
        windows = np.concatenate([x[:, k:k + longest] for k in range(width)], axis=2)
        kernel = p["conv_w"].transpose(2, 1, 0).reshape(-1, p["conv_w"].shape[0])  # (width x size, filters)
        out = windows @ kernel + p["conv_b"]                               # (words, letters, filters)
        out[np.arange(longest)[None, :] >= lengths[:, None]] = -np.inf
        return np.maximum(out.max(axis=1), 0.0)

    def _words_of(self, records: list[Lex]) -> list[tuple]:
        """For each word: (its fixed input part: vector, characters, proclitics, shape; its gazetteer
        feature indices), cached per word; the words new to the cache computed together."""
        cache = self._words
        new = {r.token: r for r in records if r.token not in cache}
        if new:
            if len(cache) + len(new) > _WORD_CACHE_LIMIT:
                cache.clear()
                new = {r.token: r for r in records}
            p = self.params
            inputs = [word_input(r) for r in new.values()]
            chars = self._char_vectors([i[2] for i in inputs])
            for token, (key, gazetteer, _, proclitics, shape), char_part in zip(new, inputs, chars):
                fixed = np.concatenate([self.words[self.word_rows.get(key_hash(key), 0)], char_part,
                                        p["proclitic_embedding"][self.proclitic_ids.get(proclitics, 0)],
                                        p["shape_embedding"][self.shape_ids.get(shape, 0)]])
                cache[token] = (fixed, [self.features[f] for f in gazetteer if f in self.features])
        return [cache[r.token] for r in records]

    def sentence_inputs(self, ctx: SentenceContext, scores: np.ndarray) -> np.ndarray:
        """The LSTM's input rows for one sentence: (tokens, input size)."""
        p = self.params
        n = len(ctx.pos)
        words = self._words_of(ctx.lexes[2:n + 2])
        multi_hot = np.zeros((n, len(self.features)), np.float32)
        for i, features in enumerate(ctx.pos):
            for k in words[i][1]:
                multi_hot[i, k] = 1.0
            for f in features:
                k = self.features.get(f)
                if k is not None:
                    multi_hot[i, k] = 1.0
        feature_part = np.maximum(multi_hot @ p["features_w"].T + p["features_b"], 0.0)
        stacked = (scores - self.meta["emission_mean"]) / self.meta["emission_sd"]
        return np.hstack([np.stack([w[0] for w in words]), feature_part, stacked]).astype(np.float32)

    # --- the network ------------------------------------------------------------------------------
    def _lstm(self, x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Both LSTM directions over a padded batch (sentences, steps, inputs), stepped together; the
        backward one reads each sentence from its own last token. Returns (sentences, steps, 2 x hidden)."""
        batch, steps, _ = x.shape
        order = np.array([[(n - 1 - t) if t < n else t for t in range(steps)] for n in lengths])
        backward = np.take_along_axis(x, order[:, :, None], axis=1)
        (w_f, b_f, w_b, b_b), recurrent = self._input_weights, self._recurrent
        hidden = recurrent.shape[1]
        projected = np.stack([x @ w_f + b_f, backward @ w_b + b_b])       # (2, batch, steps, 4 x hidden)
        h = np.zeros((2, batch, hidden), np.float32)
        c = np.zeros((2, batch, hidden), np.float32)
        gates = np.empty((2, batch, 4 * hidden), np.float32)
        cell = np.empty((2, batch, hidden), np.float32)
        out = np.empty((steps, 2, batch, hidden), np.float32)
        # In place, step by step: the step's products are small, so allocations and calls are its cost.
        for t in range(steps):
            np.matmul(h, recurrent, out=gates)
            gates += projected[:, :, t]                                  # gates i, f, o, g
            np.tanh(gates, out=gates)
            sig = gates[..., :3 * hidden]
            sig += 1.0
            sig *= 0.5
            c *= sig[..., hidden:2 * hidden]
            np.multiply(sig[..., :hidden], gates[..., 3 * hidden:], out=cell)
            c += cell
            np.tanh(c, out=cell)
            h = out[t]
            np.multiply(sig[..., 2 * hidden:], cell, out=h)
        out = out.transpose(1, 2, 0, 3)
        return np.concatenate([out[0], np.take_along_axis(out[1], order[:, :, None], axis=1)], axis=2)

    def emissions(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """Tag scores (tokens, tags) of each sentence, from its input rows."""
        p = self.params
        results: list[np.ndarray | None] = [None] * len(inputs)
        order = sorted(range(len(inputs)), key=lambda k: len(inputs[k]))
        for start in range(0, len(order), 64):        # sentences of like length batched together
            chunk = [k for k in order[start:start + 64] if len(inputs[k])]
            if not chunk:
                continue
            lengths = np.array([len(inputs[k]) for k in chunk])
            x = np.zeros((len(chunk), lengths.max(), inputs[chunk[0]].shape[1]), np.float32)
            for row, k in enumerate(chunk):
                x[row, :lengths[row]] = inputs[k]
            h = self._lstm(x, lengths)
            scores = h @ p["out_w"].T + p["out_b"] + x[:, :, -len(TAGS):] @ p["skip_w"].T + p["skip_b"]
            for row, k in enumerate(chunk):
                results[k] = scores[row, :lengths[row]]
        return [r if r is not None else np.zeros((0, len(TAGS)), np.float32) for r in results]

    def decode(self, scores: np.ndarray) -> list[int]:
        """The best tag sequence under the CRF's transitions."""
        if not len(scores):
            return []
        trans = self.params["transitions"] + self.mask
        best = self.params["start"] + self.start_mask + scores[0]
        back = []
        for row in scores[1:]:
            total = best[:, None] + trans
            back.append(total.argmax(axis=0))
            best = total.max(axis=0) + row
        k = int(best.argmax())
        path = [k]
        for pointers in reversed(back):
            k = int(pointers[k])
            path.append(k)
        return path[::-1]

    def tag(self, contexts: list[SentenceContext], tag_scores: list[np.ndarray]) -> list[list[int]]:
        """Tag indices of each sentence, given the tagger's emission scores of its tokens. BLAS
        runs on one thread here: tabayyun runs one process per core, and the small products of an
        LSTM step lose far more to threads fighting over a busy core than they gain."""
        with _one_blas_thread():
            return self._tag(contexts, tag_scores)

    def _tag(self, contexts: list[SentenceContext], tag_scores: list[np.ndarray]) -> list[list[int]]:
        self._words_of([record for c in contexts for record in c.lexes[2:len(c.pos) + 2]])  # new words at once
        inputs = [self.sentence_inputs(ctx, scores) if len(scores) else np.zeros((0, 0), np.float32)
                  for ctx, scores in zip(contexts, tag_scores)]
        return [self.decode(scores) for scores in self.emissions(inputs)]


def _both_directions(p: dict[str, np.ndarray]) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """The LSTM's weights laid out for `NerNetwork._lstm`: each direction's input weights and bias
    (transposed, gates reordered from torch's i, f, g, o to i, f, o, g: one tanh then covers all four),
    and the two recurrent matrices stacked (2, hidden, 4 x hidden). The rows of the three sigmoid
    gates are halved: sigmoid(x) = (tanh(x / 2) + 1) / 2."""
    hidden = p["lstm_f_hh"].shape[1]
    reorder = np.concatenate([np.arange(0, 2 * hidden), np.arange(3 * hidden, 4 * hidden),
                              np.arange(2 * hidden, 3 * hidden)])
    scale = np.where(np.arange(4 * hidden) < 3 * hidden, 0.5, 1.0).astype(np.float32)
    inputs = []
    for direction in "fb":
        inputs += [(p[f"lstm_{direction}_ih"][reorder] * scale[:, None]).T.copy(),
                   p[f"lstm_{direction}_b"][reorder] * scale]
    recurrent = np.stack([(p[f"lstm_{direction}_hh"][reorder] * scale[:, None]).T for direction in "fb"])
    return tuple(inputs), recurrent.astype(np.float32)


def read_network(raw: bytes) -> NerNetwork:
    params, meta = read_npz(raw)
    if meta.get("tags") != list(TAGS):
        raise ValueError("NER network tags do not match this version of tabayyun")
    return NerNetwork(params, meta)


def network_beside(model_path: str | Path | None) -> bytes | None:
    """The network file shipped in the package (model_path None) or next to a model file, if any."""
    if model_path is None:
        resource = resources.files("tabayyun").joinpath(NETWORK_RESOURCE)
        return resource.read_bytes() if resource.is_file() else None
    beside = Path(model_path).with_name("network.npz")
    return beside.read_bytes() if beside.is_file() else None
