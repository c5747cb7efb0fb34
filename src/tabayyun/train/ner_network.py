"""Training the NER network layer (`understand/ner_network.py`) with torch (`pip install torch`).

The network reads the tagger's tag scores. Scores of sentences the tagger was trained on
are far more confident than those of new text, so the network learns from out-of-fold scores: the
training sentences are cut into five consecutive parts, and each part is scored by a tagger
trained on the other four. At tagging time the shipped tagger (trained on all of them) scores
new text, as the fifth-held-out taggers scored theirs.

Word vectors come from `tabayyun train clusters --vectors FILE` (the same counts as the clusters);
training projects them (kept fixed) to the network's word size, and the projected table, quantized
to int8, is what ships.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import numpy as np

from tabayyun.understand.ner import NerModel, model_digest
from tabayyun.understand.ner_features import TAG_INDEX, TAGS, add_document_features, sentence_context
from tabayyun.train.clusters import read_vectors
from tabayyun.understand.ner_network import MAX_CHARS, token_inputs
from tabayyun.understand.wordclusters import key_hash, write_npz

EPOCHS = 14
OUT_OF_FOLD_PARTS = 5
WORD_SIZE, CHAR_SIZE, CHAR_FILTERS, SMALL_SIZE, FEATURE_SIZE, HIDDEN = 100, 24, 60, 16, 40, 128


def out_of_fold_emissions(sentences: list[list[tuple[str, str]]], fit, window: int, log=None) -> list[np.ndarray]:
    """The tagger's scores of each sentence, from a tagger that did not learn from it.
    `fit(sentences) -> NerModel` trains one."""
    scores: list[np.ndarray] = []
    size = len(sentences)
    for part in range(OUT_OF_FOLD_PARTS):
        lo, hi = size * part // OUT_OF_FOLD_PARTS, size * (part + 1) // OUT_OF_FOLD_PARTS
        model = fit(sentences[:lo] + sentences[hi:])
        scores += tagger_scores(model, sentences[lo:hi], window)
        if log:
            log(f"out-of-fold tagger {part + 1}/{OUT_OF_FOLD_PARTS} done")
    return scores


def tagger_scores(model: NerModel, sentences: list[list[tuple[str, str]]], window: int) -> list[np.ndarray]:
    contexts = [sentence_context([t for t, _ in s]) for s in sentences]
    add_document_features(contexts, window)
    return [np.asarray(model.emissions(c.lexes, c.pos)[0], np.float32) for c in contexts]


class _Vocabularies:
    """Feature strings, characters, proclitics and shapes seen in training, numbered as `NerNetwork`
    numbers them (features from 0; the others from 1, 0 standing for one never seen)."""

    def __init__(self, inputs) -> None:
        self.features = sorted({f for sentence in inputs for t in sentence for f in t.features})
        self.chars = sorted({c for sentence in inputs for t in sentence for c in t.chars})
        self.proclitics = sorted({t.proclitics for sentence in inputs for t in sentence})
        self.shapes = sorted({t.shape for sentence in inputs for t in sentence})
        self.ids = {"features": {f: i for i, f in enumerate(self.features)},
                    **{name: {v: i + 1 for i, v in enumerate(getattr(self, name))}
                       for name in ("chars", "proclitics", "shapes")}}

    def meta(self) -> dict:
        return {"features": self.features, "chars": "".join(self.chars), "proclitics": self.proclitics,
                "shapes": self.shapes}


def fit_network(sentences: list[list[tuple[str, str]]], scores: list[np.ndarray], vectors: tuple[np.ndarray, np.ndarray],
                window: int, epochs: int = EPOCHS, seed: int = 1, log=None) -> tuple[dict[str, np.ndarray], dict]:
    """Train the BiLSTM-CRF on `sentences` and their out-of-fold tagger `scores`; returns the
    parameters and metadata of `network.npz`."""
    import torch

    torch.manual_seed(seed)
    rng = random.Random(seed)
    contexts = [sentence_context([t for t, _ in s]) for s in sentences]
    add_document_features(contexts, window)
    inputs = [token_inputs(c) for c in contexts]
    vocab = _Vocabularies(inputs)
    allv = np.concatenate(scores)
    mean, sd = float(allv.mean()), float(allv.std())
    hashes, table = vectors
    rows = {h: i + 1 for i, h in enumerate(hashes.tolist())}
    examples = [_encode(tokens, (s - mean) / sd, [TAG_INDEX[t] for _, t in sentence], vocab, rows)
                for tokens, s, sentence in zip(inputs, scores, sentences)]
    net = _tagger_class()(torch.tensor(np.vstack([np.zeros((1, table.shape[1]), np.float32), table])), vocab)
    optimizer = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=2e-3)
    for epoch in range(epochs):
        if epoch in (epochs - 4, epochs - 2):      # a smaller step for the last epochs: steadier at the end
            for group in optimizer.param_groups:
                group["lr"] /= 2
        order = list(range(len(examples)))
        rng.shuffle(order)
        total, started = 0.0, time.perf_counter()
        for i in range(0, len(order), 16):
            loss = net.nll([examples[k] for k in order[i:i + 16]])
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            optimizer.step()
            total += float(loss.detach())
        if log:
            log(f"network epoch {epoch + 1}/{epochs}: loss {total:.1f} ({time.perf_counter() - started:.0f} s)")
    params = net.export()
    params["word_hashes"] = hashes
    meta = {**vocab.meta(), "emission_mean": mean, "emission_sd": sd, "tags": list(TAGS), "epochs": epochs,
            "seed": seed, "max_chars": MAX_CHARS}
    return params, meta


def _encode(tokens, scores: np.ndarray, gold: list[int], vocab: _Vocabularies, rows: dict[int, int]) -> dict:
    ids = vocab.ids
    return {"words": [rows.get(key_hash(t.key), 0) for t in tokens],
            "features": [[ids["features"][f] for f in t.features if f in ids["features"]] for t in tokens],
            "chars": [[ids["chars"].get(c, 0) for c in t.chars] or [0] for t in tokens],
            "proclitics": [ids["proclitics"].get(t.proclitics, 0) for t in tokens],
            "shapes": [ids["shapes"].get(t.shape, 0) for t in tokens],
            "scores": scores.astype(np.float32), "gold": gold}


def _tagger_class():
    import torch
    from torch import nn

    class Tagger(nn.Module):
        """The network of `understand/ner_network.py`, with dropout and the CRF's likelihood."""

        def __init__(self, table, vocab: _Vocabularies) -> None:
            super().__init__()
            n_tags = len(TAGS)
            self.words = nn.Embedding.from_pretrained(table, freeze=True)
            self.word_projection = nn.Linear(table.shape[1], WORD_SIZE)
            self.oov = nn.Parameter(torch.zeros(WORD_SIZE))
            self.char_embedding = nn.Embedding(len(vocab.chars) + 1, CHAR_SIZE, padding_idx=0)
            self.conv = nn.Conv1d(CHAR_SIZE, CHAR_FILTERS, 3, padding=1)
            self.proclitic_embedding = nn.Embedding(len(vocab.proclitics) + 1, SMALL_SIZE)
            self.shape_embedding = nn.Embedding(len(vocab.shapes) + 1, SMALL_SIZE)
            self.feature_layer = nn.Linear(len(vocab.features), FEATURE_SIZE)
            self.dropout = nn.Dropout(0.4)
            size = WORD_SIZE + CHAR_FILTERS + 2 * SMALL_SIZE + FEATURE_SIZE + n_tags
            self.lstm = nn.LSTM(size, HIDDEN, batch_first=True, bidirectional=True)
            self.out = nn.Linear(2 * HIDDEN, n_tags)
            self.skip = nn.Linear(n_tags, n_tags)
            self.transitions = nn.Parameter(torch.zeros(n_tags, n_tags))
            self.start = nn.Parameter(torch.zeros(n_tags))
            self.n_features = len(vocab.features)

        def emissions(self, batch: list[dict]):
            size, steps = len(batch), max(len(e["gold"]) for e in batch)
            width = max(len(c) for e in batch for c in e["chars"])
            words = torch.zeros(size, steps, dtype=torch.long)
            chars = torch.zeros(size, steps, width, dtype=torch.long)
            char_lengths = torch.ones(size, steps, dtype=torch.long)
            proclitics = torch.zeros(size, steps, dtype=torch.long)
            shapes = torch.zeros(size, steps, dtype=torch.long)
            multi_hot = torch.zeros(size, steps, self.n_features)
            scores = torch.zeros(size, steps, len(TAGS))
            lengths = torch.tensor([len(e["gold"]) for e in batch])
            for i, e in enumerate(batch):
                n = len(e["gold"])
                words[i, :n] = torch.tensor(e["words"])
                proclitics[i, :n] = torch.tensor(e["proclitics"])
                shapes[i, :n] = torch.tensor(e["shapes"])
                scores[i, :n] = torch.from_numpy(e["scores"])
                for j, (c, f) in enumerate(zip(e["chars"], e["features"])):
                    chars[i, j, :len(c)] = torch.tensor(c)
                    char_lengths[i, j] = len(c)
                    multi_hot[i, j, f] = 1.0
            word_part = torch.tanh(self.word_projection(self.words(words))) + (words == 0).unsqueeze(-1) * self.oov
            conv = self.conv(self.char_embedding(chars.view(size * steps, width)).transpose(1, 2))
            inside = torch.arange(width).view(1, 1, width) < char_lengths.view(size * steps, 1, 1)
            char_part = torch.relu(conv.masked_fill(~inside, -1e9).max(dim=2).values.view(size, steps, -1))
            x = torch.cat([word_part, char_part, self.proclitic_embedding(proclitics), self.shape_embedding(shapes),
                           torch.relu(self.feature_layer(multi_hot)), scores], -1)
            packed = nn.utils.rnn.pack_padded_sequence(self.dropout(x), lengths, batch_first=True, enforce_sorted=False)
            h, _ = self.lstm(packed)
            h, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=steps)
            mask = torch.arange(steps).view(1, steps) < lengths.view(size, 1)
            return self.out(self.dropout(h)) + self.skip(scores), mask

        def nll(self, batch: list[dict]):
            e, mask = self.emissions(batch)
            size, steps, _ = e.shape
            gold = torch.zeros(size, steps, dtype=torch.long)
            for i, example in enumerate(batch):
                gold[i, :len(example["gold"])] = torch.tensor(example["gold"])
            score = self.start[gold[:, 0]] + e[:, 0].gather(1, gold[:, :1]).squeeze(1)
            alpha = self.start + e[:, 0]
            for j in range(1, steps):
                here = mask[:, j]
                step = self.transitions[gold[:, j - 1], gold[:, j]] + e[:, j].gather(1, gold[:, j:j + 1]).squeeze(1)
                score = score + step * here
                moved = torch.logsumexp(alpha.unsqueeze(2) + self.transitions.unsqueeze(0), dim=1) + e[:, j]
                alpha = torch.where(here.unsqueeze(1), moved, alpha)
            return (torch.logsumexp(alpha, 1) - score).mean()

        def export(self) -> dict[str, np.ndarray]:
            """The numpy parameters of `NerNetwork`: the projected word table quantized to int8."""
            with torch.no_grad():
                projected = torch.tanh(self.word_projection(self.words.weight[1:])).numpy()
                oov = (torch.tanh(self.word_projection.bias) + self.oov).numpy()

                def f32(t):
                    return t.detach().numpy().astype(np.float32)

                params = {"words": np.round(projected * 127).astype(np.int8), "word_scale": np.array(127.0),
                          "oov": oov.astype(np.float32), "char_embedding": f32(self.char_embedding.weight),
                          "conv_w": f32(self.conv.weight), "conv_b": f32(self.conv.bias),
                          "proclitic_embedding": f32(self.proclitic_embedding.weight),
                          "shape_embedding": f32(self.shape_embedding.weight),
                          "features_w": f32(self.feature_layer.weight), "features_b": f32(self.feature_layer.bias),
                          "out_w": f32(self.out.weight), "out_b": f32(self.out.bias),
                          "skip_w": f32(self.skip.weight), "skip_b": f32(self.skip.bias),
                          "transitions": f32(self.transitions), "start": f32(self.start)}
                for direction, suffix in (("f", ""), ("b", "_reverse")):
                    params[f"lstm_{direction}_ih"] = f32(getattr(self.lstm, f"weight_ih_l0{suffix}"))
                    params[f"lstm_{direction}_hh"] = f32(getattr(self.lstm, f"weight_hh_l0{suffix}"))
                    params[f"lstm_{direction}_b"] = (f32(getattr(self.lstm, f"bias_ih_l0{suffix}"))
                                                     + f32(getattr(self.lstm, f"bias_hh_l0{suffix}")))
            return params

    return Tagger


def train_network(train: list[list[tuple[str, str]]], model_path: str | Path, vectors_path: str | Path,
                  window: int, fit, epochs: int = EPOCHS, seed: int = 1, log=None) -> dict:
    """Train the network over the tagger at `model_path` (trained on `train`; `fit(sentences) ->
    NerModel` trains one alike) and write `network.npz` beside it; returns a summary."""
    started = time.perf_counter()
    scores = out_of_fold_emissions(train, fit, window, log)
    params, meta = fit_network(train, scores, read_vectors(vectors_path), window, epochs, seed, log)
    meta["tagger"] = model_digest(Path(model_path).read_bytes())
    out = Path(model_path).with_name("network.npz")
    size = write_npz(out, params, meta)
    return {"out": str(out), "bytes": size, "epochs": epochs, "seconds": round(time.perf_counter() - started, 1)}
