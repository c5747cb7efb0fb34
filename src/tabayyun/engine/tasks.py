"""The Dask task: one partition through the per-document pipeline, on a worker.

Each item is decoded and, unless the workspace already holds its content (read-only view, checked
before the expensive analysis), cleaned and analysed by the same code as the plain ingest; each new
document also gets its MinHash signature and, with embeddings on, its lead vector. The batch then
goes into a Parquet shard (SQLite workspaces) or straight into the PostgreSQL workspace.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tabayyun.connect.stories import StoryKeys
from tabayyun.engine.partitions import Partition, items_of
from tabayyun.engine.shards import Batch, Signed, store_batch, write_shard
from tabayyun.ingest import _WorkerConfig, process_item, readonly_view
from tabayyun.sources.readers import ItemFailure
from tabayyun.store import open_storage


@dataclass(frozen=True)
class TaskConfig:
    db: str | None              # the workspace: its read-only view, and the target when `shards` is None
    shards: str | None          # folder of Parquet shards
    worker: _WorkerConfig       # its `embed`: workers embed the leads


@dataclass
class Outcome:
    """A stored partition, as the driver accounts for it."""

    stored: list[bool] = field(default_factory=list)      # per document of the batch: new?
    new: list[str] = field(default_factory=list)          # ids of the new documents, in input order
    seen: list[str] = field(default_factory=list)         # ids of content already stored, read again
    failures: list[tuple[str, str]] = field(default_factory=list)
    presigned: dict[str, Signed] = field(default_factory=dict)
    story_keys: dict[str, StoryKeys] = field(default_factory=dict)
    embedded: int = 0                                     # leads embedded by the worker
    orphans: list[tuple[str, str]] = field(default_factory=list)  # `Batch.orphans`


@dataclass
class TaskResult:
    index: int
    shard: str | None = None        # the shard written, or
    outcome: Outcome | None = None  # what was stored into the workspace directly


def outcome_of(batch: Batch, stored: list[bool]) -> Outcome:
    new = [doc.id for (doc, _), is_new in zip(batch.docs, stored) if is_new]
    return Outcome(stored, new, [doc_id for doc_id, _ in batch.seen], batch.failures,
                   {doc_id: batch.presigned[doc_id] for doc_id in new if doc_id in batch.presigned},
                   {doc_id: batch.story_keys[doc_id] for doc_id in new if doc_id in batch.story_keys},
                   len(batch.leads), batch.orphans)


def shard_stem(partition: Partition) -> str:
    return f"{partition.index:06d}-{partition.digest}"


# Per worker process: the workspace views and the embedder, opened once and kept across tasks.
_opened: dict[tuple, Any] = {}


def _kept(key: tuple, open_: Callable[[], Any]) -> Any:
    if key not in _opened:
        _opened[key] = open_()
    return _opened[key]


def _file_identity(address: str | None) -> tuple:
    """A SQLite file replaced at the same path must not be answered by the old file's view."""
    try:
        return (address, os.stat(address).st_ino) if address and "://" not in address else (address,)
    except OSError:
        return (address,)


def run_partition(partition: Partition, config: TaskConfig) -> TaskResult:
    """The Dask task (see the module docstring)."""
    batch = analyse(partition, config)
    if config.shards is not None:
        return TaskResult(partition.index, shard=write_shard(config.shards, shard_stem(partition), batch))
    storage = _kept(("write", config.db), lambda: open_storage(config.db))
    return TaskResult(partition.index, outcome=outcome_of(batch, store_batch(storage, batch)))


def analyse(partition: Partition, config: TaskConfig) -> Batch:
    """The batch of a partition: documents analysed and signed, content already stored, failures."""
    view = _kept(("read", *_file_identity(config.db)), lambda: readonly_view(config.db))
    batch = Batch()
    for item in items_of(partition, config.worker.max_bytes):
        if isinstance(item, ItemFailure):
            batch.failures.append((item.source, item.message))
            continue
        batch.add(process_item(item, config.worker, view))
    return batch
