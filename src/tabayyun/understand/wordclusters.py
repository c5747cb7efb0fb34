"""The word-cluster table the NER tagger reads (learnt by `tabayyun.train.clusters`).

A table maps a word key (the tagger's `word_base`) to one cluster index per granularity. Keys are
stored as 64-bit BLAKE2b hashes (sorted, so a table's file and digest depend on its content only):
the file holds no words of the corpus it was learnt from; a lookup hashes the key. `digest` identifies a table: a tagger records the digest
of the table it was trained with and refuses to run with another (cluster indices mean nothing
across tables).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

CLUSTERS_RESOURCE = "models/ner/clusters.npz"


def key_hash(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")


@dataclass(frozen=True, eq=False)
class WordClusters:
    hashes: np.ndarray  # uint64, sorted
    labels: np.ndarray  # (len(hashes), granularities) uint16
    meta: dict = field(default_factory=dict)

    @property
    def digest(self) -> str:
        if not len(self.hashes):
            return ""
        h = hashlib.sha256(self.hashes.tobytes())
        h.update(self.labels.tobytes())
        return h.hexdigest()[:16]

    @cached_property
    def _index(self) -> dict[int, tuple[str, ...]]:
        return {h: tuple(map(str, row)) for h, row in zip(self.hashes.tolist(), self.labels.tolist())}

    def lookup(self, key: str) -> tuple[str, ...]:
        """The cluster indices of `key` (as strings, coarsest first), or () when it has none."""
        return self._index.get(key_hash(key), ()) if len(self.hashes) else ()


EMPTY = WordClusters(np.zeros(0, np.uint64), np.zeros((0, 0), np.uint16), {})


def save_clusters(keys: list[str], labels: np.ndarray, path: str | Path, meta: dict) -> int:
    """Write a table (hashed keys, sorted) as a compressed .npz; returns its size in bytes."""
    hashes = np.array([key_hash(k) for k in keys], dtype=np.uint64)
    order = np.argsort(hashes, kind="stable")
    hashes, labels = hashes[order], np.asarray(labels, dtype=np.uint16)[order]
    keep = np.ones(len(hashes), bool)
    keep[1:] = hashes[1:] != hashes[:-1]  # a hash collision keeps the more frequent word's entry
    return write_npz(path, {"hashes": hashes[keep], "labels": labels[keep]}, meta)


def write_npz(path: str | Path, arrays: dict[str, np.ndarray], meta: dict) -> int:
    """Arrays and a JSON `meta` as one compressed .npz (the model tables' format); returns bytes."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays, meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return path.stat().st_size


def read_npz(raw: bytes) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays and the meta of a `write_npz` file."""
    with np.load(io.BytesIO(raw), allow_pickle=False) as data:
        meta = json.loads(data["meta"].tobytes().decode("utf-8")) if "meta" in data else {}
        return {name: data[name] for name in data.files if name != "meta"}, meta


def read_clusters(raw: bytes) -> WordClusters:
    arrays, meta = read_npz(raw)
    return WordClusters(arrays["hashes"].astype(np.uint64), arrays["labels"].astype(np.uint16), meta)


@lru_cache(maxsize=1)
def shipped_clusters() -> WordClusters:
    """The table shipped in the package (EMPTY when the package has none)."""
    resource = resources.files("tabayyun").joinpath(CLUSTERS_RESOURCE)
    if not resource.is_file():
        return EMPTY
    return read_clusters(resource.read_bytes())
