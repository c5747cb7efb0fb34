"""Word clusters for the NER tagger, learnt from unlabeled news text.

ANERcorp has 125k tokens: most names a tagger meets are not in it. Words used in the same contexts
in a large unlabeled corpus (سوتشي beside جنيف, a footballer beside another) land in one cluster, and
the tagger's weights for a cluster carry over to its unseen members (Ratinov and Roth 2009 use Brown
clusters so). Here the clusters come from distributional vectors:

1. every token is reduced to the key the tagger uses (`word_base`: normalized, clitics split off);
2. the `vocab` most frequent keys (at least `min_count` occurrences) are counted against the `contexts`
   most frequent keys at each of the positions -2, -1, +1, +2 (one column per context and position);
3. positive pointwise mutual information (context probabilities smoothed by the power 0.75), then a
   randomized truncated SVD (Halko et al. 2011) to `dims` dimensions, rows scaled to unit length;
4. spherical k-means at three granularities (64, 256 and 1024 clusters by default), seeded.

The table is written with hashed keys (`tabayyun.understand.wordclusters`): no corpus text ships.
Numpy only; the count matrix is dense (vocab x 4*contexts float32: 3.2 GB at the defaults).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from tabayyun.arabic import tokenize
from tabayyun.understand.ner_features import word_base
from tabayyun.understand.wordclusters import key_hash, read_npz, save_clusters, write_npz

GRANULARITIES = (64, 256, 1024)
POSITIONS = (-2, -1, 1, 2)
_TEXT_FIELDS = ("title", "content", "text", "article", "claim", "body")


def corpus_texts(paths: Iterable[str | Path], log: Callable[[str], None] | None = None) -> Iterator[str]:
    """The texts of a corpus: .txt files, .json and .jsonl records (their title, content, text,
    article, claim and body fields, strings or lists of strings), .zip archives of those, and folders
    of any of them (recursively, in sorted order). An unreadable file gets one line through `log`."""
    for path in paths:
        path = Path(path)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            try:
                if file.suffix.lower() == ".zip":
                    with zipfile.ZipFile(file) as archive:
                        for name in sorted(archive.namelist()):
                            yield from _texts_of(name, archive.read(name))
                else:
                    yield from _texts_of(file.name, file.read_bytes())
            except (OSError, ValueError, zipfile.BadZipFile) as exc:
                if log:
                    log(f"{file}: skipped ({exc})")


def _texts_of(name: str, raw: bytes) -> Iterator[str]:
    suffix = Path(name).suffix.lower()
    if suffix == ".txt":
        yield raw.decode("utf-8", errors="replace")
    elif suffix == ".json":
        yield from _record_texts(json.loads(raw.decode("utf-8")))
    elif suffix == ".jsonl":
        for line in raw.decode("utf-8").splitlines():
            if line.strip():
                yield from _record_texts(json.loads(line))


def _record_texts(value) -> Iterator[str]:
    if isinstance(value, list):
        for item in value:
            yield from _record_texts(item)
    elif isinstance(value, dict):
        for field in _TEXT_FIELDS:
            item = value.get(field) or value.get(field.capitalize())
            if isinstance(item, str):
                yield item
            elif isinstance(item, list):
                yield from (x for x in item if isinstance(x, str))


def token_ids(texts: Iterable[str]) -> tuple[np.ndarray, list[str]]:
    """The corpus as one array of key ids (0 marks a line boundary) and the keys by id."""
    ids: dict[str, int] = {}
    keys_of: dict[str, int] = {}
    sequence: list[int] = []
    for text in texts:
        for line in text.split("\n"):
            tokens = tokenize(line)
            if not tokens:
                continue
            sequence.append(0)
            for token in tokens:
                found = keys_of.get(token.text)
                if found is None:
                    key = word_base(token.text)
                    found = ids.get(key)
                    if found is None:
                        found = ids[key] = len(ids) + 1
                    if len(keys_of) < 2_000_000:
                        keys_of[token.text] = found
                sequence.append(found)
    sequence.append(0)
    return np.asarray(sequence, dtype=np.int32), ["<boundary>", *ids]


def ppmi_vectors(sequence: np.ndarray, rows: np.ndarray, contexts: np.ndarray, dims: int, seed: int) -> np.ndarray:
    """Unit-length `dims`-dimensional vectors of the key ids `rows`: PPMI against the key ids
    `contexts` at each position of POSITIONS, reduced by a randomized SVD."""
    size = int(sequence.max()) + 1
    row_of = np.full(size, -1, np.int64)
    row_of[rows] = np.arange(len(rows))
    col_of = np.full(size, -1, np.int64)
    col_of[contexts] = np.arange(len(contexts))
    width = len(contexts) * len(POSITIONS)
    counts = np.zeros((len(rows), width), np.float32)
    flat_counts = counts.reshape(-1)
    for k, d in enumerate(POSITIONS):
        words, ctx = (sequence[-d:], sequence[:d]) if d < 0 else (sequence[:-d], sequence[d:])
        r, c = row_of[words], col_of[ctx]
        ok = (r >= 0) & (c >= 0)
        cells, n = np.unique(r[ok] * width + c[ok] + k * len(contexts), return_counts=True)
        flat_counts[cells] += n.astype(np.float32)
    total = float(counts.sum()) or 1.0
    log_word = np.log(np.maximum(counts.sum(1, keepdims=True), 1e-12) / total).astype(np.float32)
    smoothed = counts.sum(0, keepdims=True) ** 0.75
    log_ctx = np.log(np.maximum(smoothed / max(float(smoothed.sum()), 1e-12), 1e-30)).astype(np.float32)
    for start in range(0, len(rows), 4096):  # in place, a block at a time: the matrix is large
        block = counts[start:start + 4096]
        with np.errstate(divide="ignore", invalid="ignore"):
            block[:] = np.log(block / total) - log_word[start:start + 4096] - log_ctx
        block[~np.isfinite(block)] = 0.0
        np.maximum(block, 0.0, out=block)
    return _randomized_svd(counts, dims, seed)


def _randomized_svd(matrix: np.ndarray, dims: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dims = max(1, min(dims, min(matrix.shape) - 1))
    probe = rng.standard_normal((matrix.shape[1], min(dims + 30, min(matrix.shape)))).astype(np.float32)
    basis = matrix @ probe
    for _ in range(2):  # power iterations sharpen the leading directions
        basis, _ = np.linalg.qr(basis)
        basis = matrix @ (matrix.T @ basis)
    basis, _ = np.linalg.qr(basis)
    u, s, _ = np.linalg.svd(basis.T @ matrix, full_matrices=False)
    vectors = (basis @ u[:, :dims]) * np.sqrt(s[:dims])
    return vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9)


def spherical_kmeans(vectors: np.ndarray, k: int, seed: int, iterations: int = 25) -> np.ndarray:
    """Cluster index of each unit vector (cosine k-means, centres seeded from random rows)."""
    k = max(1, min(k, len(vectors)))
    rng = np.random.default_rng(seed)
    centres = vectors[rng.choice(len(vectors), k, replace=False)].copy()
    for _ in range(iterations):
        assign = np.argmax(vectors @ centres.T, axis=1)
        sums = np.zeros_like(centres)
        np.add.at(sums, assign, vectors)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        moved = norms[:, 0] > 0
        centres[moved] = sums[moved] / norms[moved]
    return np.argmax(vectors @ centres.T, axis=1)


def train_clusters(paths: Iterable[str | Path], out_path: str | Path, vocab: int = 40_000, contexts: int = 5_000,
                   min_count: int = 5, dims: int = 120, granularities: tuple[int, ...] = GRANULARITIES,
                   seed: int = 0, vectors_out: str | Path | None = None,
                   log: Callable[[str], None] | None = None) -> dict:
    """Learn word clusters from the texts under `paths` and write the table to `out_path`; returns a
    summary (tokens read, words clustered, file size). `vectors_out`: also write the word vectors
    the clusters were made from (the NER network's input: `tabayyun train ner --vectors`)."""
    sequence, keys = token_ids(corpus_texts(paths, log))
    counts = np.bincount(sequence, minlength=len(keys))
    counts[0] = 0
    order = np.argsort(-counts, kind="stable")
    rows = order[:vocab]
    rows = rows[counts[rows] >= min_count]
    if len(rows) < 2:
        raise ValueError("too little text to learn word clusters from")
    context_ids = order[:contexts]
    context_ids = context_ids[counts[context_ids] > 0]
    vectors = ppmi_vectors(sequence, rows, context_ids, dims, seed)
    labels = np.stack([spherical_kmeans(vectors, k, seed + n) for n, k in enumerate(granularities)], axis=1)
    meta = {"tokens": int((sequence > 0).sum()), "words": int(len(rows)), "contexts": int(len(context_ids)),
            "dims": dims, "granularities": list(granularities), "min_count": min_count, "seed": seed}
    size = save_clusters([keys[i] for i in rows], labels, out_path, meta)
    if vectors_out is not None:
        save_vectors([keys[i] for i in rows], vectors, vectors_out)
    return {"out": str(out_path), "bytes": size, **meta}


def save_vectors(keys: list[str], vectors: np.ndarray, path: str | Path) -> int:
    """Word vectors by hashed key (`tabayyun train clusters --vectors`): an input of training, not shipped."""
    return write_npz(path, {"hashes": np.array([key_hash(k) for k in keys], np.uint64),
                            "vectors": np.asarray(vectors, np.float32)}, {})


def read_vectors(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(hashes, vectors scaled to unit length) of a `save_vectors` file."""
    arrays, _ = read_npz(Path(path).read_bytes())
    vectors = arrays["vectors"].astype(np.float32)
    return arrays["hashes"].astype(np.uint64), vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9)
