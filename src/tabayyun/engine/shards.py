"""Parquet shards: what one partition's task produced, for a SQLite workspace (which has one writer)
to load, either by the driver as each partition finishes or by a later `tabayyun ingest DIR`.

A shard folder holds MARKER and one Parquet file per partition, written under a hidden temporary
name and renamed when complete, so a reader never sees half a shard. Each row is one item:
`document` (its analysis as JSON with the raw text, its full-text index rows and story keys, byte
size, MinHash signature and sorted shingle hashes and, when embeddings were on, its lead vector),
`seen` (content already stored, read again from `source`) or `failure`. Shards written before
`shingle_hashes` or `story_keys` existed still load: their documents are shingled again where the
exact check needs them, and their story keys computed by the writer.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tabayyun.model import Document

if TYPE_CHECKING:
    from tabayyun.connect.stories import StoryKeys

MARKER = "_tabayyun_shards.json"
SUFFIX = ".parquet"
FORMAT = {"format": "tabayyun-shards", "version": 1}
Signed = tuple[int, bytes, "bytes | None"]   # `pack_signature`: shingle count, signature, sorted hashes


@dataclass
class Batch:
    """The items of one partition after the per-document pipeline, ready to store."""

    docs: list[tuple[Document, int]] = field(default_factory=list)       # (document, raw byte size)
    seen: list[tuple[str, str]] = field(default_factory=list)            # (doc_id, source)
    failures: list[tuple[str, str]] = field(default_factory=list)        # (source, message)
    presigned: dict[str, Signed] = field(default_factory=dict)  # doc_id -> `pack_signature`
    embeddings: list[tuple[str, str, str, int, bytes]] = field(default_factory=list)  # cache rows
    # `seen` pairs whose content the workspace did not hold when the batch was stored (`add_sources`)
    orphans: list[tuple[str, str]] = field(default_factory=list)
    leads: list[tuple[str, str, str]] = field(default_factory=list)      # (doc_id, model, key)
    index_texts: dict[str, list[str]] = field(default_factory=dict)      # doc_id -> its full-text rows
    story_keys: dict[str, StoryKeys] = field(default_factory=dict)       # doc_id -> `document_story_keys`

    def add(self, done) -> None:
        """Take one item as a worker finished it (`ingest._Done`): a document with what the worker
        computed for it, content already stored, or a failure."""
        if done.error is not None:
            self.failures.append((done.source, done.error))
        elif done.duplicate_id is not None:
            self.seen.append((done.duplicate_id, done.source))
        else:
            self.docs.append((done.doc, done.size))
            if done.doc.id in self.index_texts:
                # The same content again, read with other metadata (a date, a title), which may clean
                # it otherwise: the workspace stores the first copy, so what it is indexed, signed
                # and placed by must be the first copy's too.
                return
            self.index_texts[done.doc.id] = done.index_texts
            self.presigned[done.doc.id] = done.presigned
            if done.story_keys is not None:
                self.story_keys[done.doc.id] = done.story_keys
            self.embeddings += done.embeddings
            self.leads += done.leads


class ShardDocument(Document):
    """A document read back from a shard: its analysis is the dict the shard holds, given back by
    `to_dict` as is (rebuilding it with `dataclasses.asdict` over every entity and quote would cost
    the workspace's single writer milliseconds a document)."""

    @classmethod
    def from_analysis(cls, data: dict) -> ShardDocument:
        doc = cls.from_dict(data)
        doc._analysis = {key: value for key, value in data.items() if key != "text"}
        return doc

    def to_dict(self, include_text: bool = False) -> dict:
        data = dict(self._analysis)
        if include_text:
            data["text"] = self.text
        return data


def is_shard_folder(path: str) -> bool:
    return os.path.isfile(os.path.join(path, MARKER))


def mark_folder(folder: str) -> None:
    """Create `folder` (if needed) as a shard folder."""
    os.makedirs(folder, exist_ok=True)
    marker = os.path.join(folder, MARKER)
    if not os.path.exists(marker):
        Path(marker).write_text(json.dumps(FORMAT) + "\n", encoding="utf-8")


def shard_paths(folder: str) -> list[str]:
    """The complete shards of a folder, in partition order (temporary files are hidden)."""
    return sorted(str(p) for p in Path(folder).glob(f"*{SUFFIX}") if not p.name.startswith("."))


def write_shard(folder: str, stem: str, batch: Batch) -> str:
    """Write `batch` as `folder/stem.parquet` atomically (temporary name, then rename); returns the path."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    vectors = {key: (model, kind, dim, blob) for key, model, kind, dim, blob in batch.embeddings}
    leads = {doc_id: (model, key) for doc_id, model, key in batch.leads}
    rows: list[dict] = []
    for doc, size in batch.docs:
        count, signature, hashes = batch.presigned.get(doc.id, (None, None, None))
        model, key = leads.get(doc.id, (None, None))
        index_texts = batch.index_texts.get(doc.id)
        keys = batch.story_keys.get(doc.id)
        cached = vectors.pop(key, None) if key else None
        rows.append({"kind": "document", "doc_id": doc.id, "source": doc.path, "size": size,
                     "analysis": json.dumps(doc.to_dict(include_text=True), ensure_ascii=False),
                     "index_texts": "\n".join(index_texts) if index_texts is not None else None,
                     "story_keys": json.dumps(keys, ensure_ascii=False) if keys is not None else None,
                     "shingles": count, "signature": signature, "shingle_hashes": hashes,
                     "lead_model": model, "lead_key": key,
                     "lead_dim": cached[2] if cached else None, "lead_vector": cached[3] if cached else None})
    rows += [{"kind": "seen", "doc_id": doc_id, "source": source} for doc_id, source in batch.seen]
    rows += [{"kind": "failure", "source": source, "message": message} for source, message in batch.failures]
    table = pa.Table.from_pylist(rows, schema=_schema())
    target = os.path.join(folder, stem + SUFFIX)
    temporary = os.path.join(folder, f".{stem}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        pq.write_table(table, temporary)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return target


def _schema():
    import pyarrow as pa

    return pa.schema([("kind", pa.string()), ("doc_id", pa.string()), ("source", pa.string()),
                      ("size", pa.int64()), ("analysis", pa.string()), ("index_texts", pa.string()),
                      ("story_keys", pa.string()),
                      ("shingles", pa.int32()), ("signature", pa.binary()), ("shingle_hashes", pa.binary()),
                      ("lead_model", pa.string()),
                      ("lead_key", pa.string()), ("lead_dim", pa.int32()), ("lead_vector", pa.binary()),
                      ("message", pa.string())])


def read_shard(path: str) -> Batch:
    """The batch a shard holds; raises (pyarrow, JSON or key errors) on a damaged shard."""
    import pyarrow.parquet as pq

    batch, read = Batch(), set()
    for row in pq.read_table(path, schema=_schema()).to_pylist():
        if row["kind"] == "seen":
            batch.seen.append((row["doc_id"], row["source"]))
        elif row["kind"] == "failure":
            batch.failures.append((row["source"], row["message"]))
        elif row["kind"] == "document":
            doc = ShardDocument.from_analysis(json.loads(row["analysis"]))
            batch.docs.append((doc, row["size"]))
            if doc.id in read:
                continue    # a later copy of the same content: the first is stored (see `Batch.add`)
            read.add(doc.id)
            if row.get("index_texts") is not None:
                batch.index_texts[doc.id] = row["index_texts"].split("\n")
            if row.get("story_keys") is not None:
                terms, names = json.loads(row["story_keys"])
                batch.story_keys[doc.id] = (terms, names)
            if row["shingles"] is not None:
                batch.presigned[doc.id] = (row["shingles"], row["signature"], row["shingle_hashes"])
            if row["lead_key"]:
                batch.leads.append((doc.id, row["lead_model"], row["lead_key"]))
            if row["lead_vector"] is not None:
                batch.embeddings.append((row["lead_key"], row["lead_model"], "passage", row["lead_dim"],
                                         row["lead_vector"]))
        else:
            raise ValueError(f"unknown row kind {row['kind']!r}")
    return batch


def store_batch(storage, batch: Batch) -> list[bool]:
    """Store a batch: its documents (each once by content id; True per new one), their lead vectors,
    the other sources of stored content (those of content not stored go to `batch.orphans`) and the
    failures."""
    stored = storage.add_documents(batch.docs, batch.index_texts) if batch.docs else []
    if batch.leads:
        storage.cache_embeddings(batch.embeddings, leads=batch.leads)
    if batch.failures:
        storage.add_failures(batch.failures)
    if batch.seen:
        batch.orphans = storage.add_sources(batch.seen)
    return stored


def pack_signature(paragraphs: list[str]) -> Signed:
    """A document's MinHash signature as a worker sends it: (shingle count, the signature's and the
    sorted shingle hashes' little-endian uint32s). The hashes spare the storing process shingling the
    document again for its exact checks."""
    from tabayyun.connect.duplicates import sign

    count, signature, hashes = sign(paragraphs)
    if not count:
        return 0, b"", b""
    return count, signature.astype("<u4").tobytes(), hashes.astype("<u4").tobytes()


def unpack_signatures(presigned: dict[str, Signed]) -> dict[str, tuple[int, np.ndarray, np.ndarray | None]]:
    """Signatures as `DuplicateFinder.add` takes them (the hashes None from a shard written before
    they were sent)."""
    from tabayyun.connect.duplicates import signature

    return {doc_id: (count, np.frombuffer(blob, dtype="<u4") if count else signature(set()),
                     np.frombuffer(hashes, dtype="<u4") if hashes is not None else None)
            for doc_id, (count, blob, hashes) in presigned.items()}


def load_shard_folder(storage, folder: str, connect, batch_size: int,
                      on_failure: Callable | None, on_progress: Callable | None) -> None:
    """Load every shard of `folder` in partition order (the plain `tabayyun ingest DIR`): each is
    stored, then its new documents connected, as the Dask engine's driver does."""
    from tabayyun.engine.driver import InOrderLoader

    paths = shard_paths(folder)
    loader = InOrderLoader(storage, connect, batch_size, on_failure, on_progress)
    loader.report.partitions += len(paths)
    for index, path in enumerate(paths):
        try:
            batch = read_shard(path)
        except Exception as exc:  # noqa: BLE001 - a damaged shard costs one line, the others load
            loader.partition_failed(index, path, f"damaged shard: {type(exc).__name__}: {exc}")
            continue
        loader.finished(index, loader.store(batch))
    loader.finish()
