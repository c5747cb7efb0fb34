"""The Dask engine's driver: partitions out as tasks, finished partitions in, cross-document steps after.

`dask_ingest` submits one task per partition (`tasks.run_partition`, retried by Dask) to a local
cluster of worker processes, or to any Dask scheduler. Finished partitions are stored as they come
(the driver loads a SQLite workspace's shards; PostgreSQL tasks store their own batch), then connected
(duplicates, stories: the plain ingest's `Connector`) in input order, `batch_size` new documents at
a time as the plain ingest does, so both engines give the same stories.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

from tabayyun.connect.stories import StoryKeys
from tabayyun.engine.partitions import FILES_PER_PARTITION, LINES_PER_PARTITION, Partition, plan_partitions
from tabayyun.engine.shards import Batch, Signed, mark_folder, read_shard, store_batch, unpack_signatures
from tabayyun.engine.tasks import Outcome, TaskConfig, TaskResult, outcome_of, run_partition
from tabayyun.ingest import (
    DEFAULT_BATCH, Connector, IngestReport, _WorkerConfig, cores_to_settle, idle_scheduling, inputs_repeats,
)
from tabayyun.pipeline import MAX_BYTES
from tabayyun.sources.readers import ItemFailure

DEFAULT_WORKERS = 2
RETRIES = 2


class InOrderLoader:
    """Accounts for finished partitions in any order and connects their new documents in input order."""

    def __init__(self, storage, connect: Connector, batch_size: int,
                 on_failure: Callable[[ItemFailure], None] | None, on_progress: Callable[[IngestReport], None] | None):
        self.storage, self.connect, self.report = storage, connect, connect.report
        self.batch_size, self.on_failure, self.on_progress = batch_size, on_failure, on_progress
        self.waiting: dict[int, Outcome | None] = {}
        self.next_index = 0
        self.new: list[str] = []
        self.seen: list[str] = []
        self.presigned: dict[str, Signed] = {}
        self.story_keys: dict[str, StoryKeys] = {}
        # Sources of content another partition stores: a partition that ran after the one storing it
        # (Dask) can be loaded before it (shards load in input order); recorded by `finish`, when every
        # partition is in.
        self.orphans: list[tuple[str, str]] = []

    def store(self, batch: Batch) -> Outcome:
        return outcome_of(batch, store_batch(self.storage, batch))

    def item_failures(self, failures: list[ItemFailure]) -> None:
        """Inputs that are no partition (a missing path): one line each, as the plain ingest."""
        if failures:
            self.storage.add_failures([(f.source, f.message) for f in failures])
            self._count_failures([(f.source, f.message) for f in failures])

    def _count_failures(self, failures: list[tuple[str, str]]) -> None:
        for source, message in failures:
            failure = ItemFailure(source, message)
            self.report.failed += 1
            self.report.failures.append(failure)
            if self.on_failure:
                self.on_failure(failure)

    def finished(self, index: int, outcome: Outcome) -> None:
        self.report.count_stored(outcome.stored)
        self.report.duplicates += len(outcome.seen)
        self.report.embedded += outcome.embedded
        self.orphans += outcome.orphans
        self._count_failures(outcome.failures)
        self._done(index, outcome)

    def partition_failed(self, index: int, name: str, message: str) -> None:
        """A partition whose task failed for good: reported by name, recorded, counted."""
        failure = ItemFailure(name, message)
        self.report.failed_partitions.append(failure)
        self.storage.add_failures([(name, message)])
        if self.on_failure:
            self.on_failure(failure)
        self._done(index, None)

    def _done(self, index: int, outcome: Outcome | None) -> None:
        self.report.partitions_done += 1
        self.waiting[index] = outcome
        while self.next_index in self.waiting:
            ready = self.waiting.pop(self.next_index)
            self.next_index += 1
            if ready is not None:
                self.new += ready.new
                self.seen += ready.seen
                self.presigned.update(ready.presigned)
                self.story_keys.update(ready.story_keys)
            while len(self.new) >= self.batch_size:
                self._connect(self.batch_size)
        if self.on_progress:
            self.on_progress(self.report)

    def _connect(self, count: int) -> None:
        ids, self.new = self.new[:count], self.new[count:]
        presigned = unpack_signatures({d: self.presigned.pop(d) for d in ids if d in self.presigned})
        keys = {d: self.story_keys.pop(d) for d in ids if d in self.story_keys}
        self.connect([(doc_id, None) for doc_id in ids], [], self.seen, presigned, keys)
        self.seen = []

    def finish(self) -> None:
        if self.new or self.seen:
            self._connect(len(self.new))
        if self.orphans:
            self.orphans = self.storage.add_sources(self.orphans)
        # What is still missing was stored in another workspace (shards written against it): one
        # failure each, so a source is never silently dropped; they were counted as duplicates.
        failures = [(source, f"read again as document {doc_id}, which this workspace does not hold"
                             " (the shard was written against another workspace)")
                    for doc_id, source in self.orphans]
        if failures:
            self.report.duplicates -= len(failures)
            self.storage.add_failures(failures)
            self._count_failures(failures)


class EngineError(RuntimeError):
    """The Dask engine cannot run (Dask missing, scheduler unreachable); the message is one line."""


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None) -> Iterator:
    """A client of the scheduler at `scheduler`, or of a local cluster of `workers` processes with
    one thread each (the pipeline is pure Python: processes, not threads, use the cores)."""
    try:
        from distributed import Client, LocalCluster
    except ModuleNotFoundError:
        raise EngineError("--engine dask needs Dask: pip install 'tabayyun[dask]'") from None
    if scheduler:
        try:
            client = Client(scheduler, timeout=30)
        except (OSError, TimeoutError, ValueError) as exc:
            raise EngineError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            yield client
        return
    with LocalCluster(n_workers=workers or DEFAULT_WORKERS, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        settle_local_workers(client)
        yield client


def settle_local_workers(client) -> None:
    """When the local workers take every core: each at idle priority on a core of its own, as the
    plain ingest's worker processes (`ingest.cores_to_settle` says why)."""
    addresses = sorted(client.scheduler_info()["workers"])
    cores = cores_to_settle(len(addresses))
    for index, address in enumerate(addresses if cores else []):
        client.run(idle_scheduling, cores[index % len(cores)], workers=[address])


@contextmanager
def _shard_folder(shards: str | None, db: str) -> Iterator[str | None]:
    """Where tasks put their batches: --shards, nothing (PostgreSQL takes them directly), or a
    temporary folder next to a SQLite workspace, removed once loaded."""
    if shards:
        mark_folder(shards)
        yield shards
        return
    if db.startswith(("postgresql://", "postgres://")):
        yield None
        return
    parent = os.path.dirname(os.path.abspath(db)) if db != ":memory:" else None
    folder = tempfile.mkdtemp(prefix=".tabayyun-shards-", dir=parent)
    try:
        mark_folder(folder)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def dask_ingest(
    storage,
    paths: list[str],
    *,
    client=None,
    scheduler: str | None = None,
    workers: int | None = None,
    shards: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    max_bytes: int = MAX_BYTES,
    reference_date: date | None = None,
    stages: list[str] | None = None,
    on_failure: Callable[[ItemFailure], None] | None = None,
    on_progress: Callable[[IngestReport], None] | None = None,
    embed: bool = True,
    site_repeats: bool = True,
    files_per_partition: int = FILES_PER_PARTITION,
    lines_per_partition: int = LINES_PER_PARTITION,
    retries: int = RETRIES,
    task: Callable[[Partition, TaskConfig], TaskResult] = run_partition,
) -> IngestReport:
    """`tabayyun.ingest.ingest` as Dask tasks: on `client`, else the scheduler at `scheduler`, else a
    local cluster of `workers` processes. `shards`: a folder to keep the Parquet shards in. `task`
    replaces the partition task (tests). `site_repeats`: the first pass over the inputs that finds the
    lines each site repeats runs here, in the driver, as the plain ingest's does."""
    plan = plan_partitions(paths, max_bytes, files_per_partition, lines_per_partition)
    report = IngestReport(partitions=len(plan.partitions))
    with Connector(storage, report, embed) as connect, _shard_folder(shards, storage.path) as folder:
        loader = InOrderLoader(storage, connect, batch_size, on_failure, on_progress)
        loader.item_failures(plan.failures)
        if on_progress:
            on_progress(report)
        repeats = inputs_repeats(paths, max_bytes, storage) if site_repeats else None
        report.sites_grown = list(repeats.grown) if repeats else []
        config = TaskConfig(db=storage.path if storage.path != ":memory:" else None, shards=folder,
                            worker=_WorkerConfig(None, reference_date, max_bytes, stages, embed=embed,
                                                 site_repeats=repeats))
        if plan.partitions:
            if client is not None:
                _run(client, plan.partitions, config, task, retries, loader)
            else:
                with dask_client(scheduler, workers) as opened:
                    _run(opened, plan.partitions, config, task, retries, loader)
        loader.finish()
    return report


def _run(client, partitions: list[Partition], config: TaskConfig, task, retries: int, loader: InOrderLoader) -> None:
    """Submit every partition; take each result as it finishes. A task that still fails after Dask's
    retries fails its partition; a shard that cannot be read sends its partition again (as often)."""
    from distributed import as_completed

    attempts: dict[int, int] = {}

    def submit(partition: Partition):
        attempts[partition.index] = attempts.get(partition.index, 0) + 1
        return client.submit(task, partition, config, retries=retries, pure=False,
                             key=f"tabayyun-partition-{partition.index}-{uuid.uuid4().hex[:12]}")

    pending = {submit(partition): partition for partition in partitions}
    queue = as_completed(list(pending))
    for future in queue:
        partition = pending.pop(future)
        try:
            result: TaskResult = future.result()
        except Exception as exc:  # noqa: BLE001 - the task's own error, after Dask's retries
            loader.partition_failed(partition.index, partition.name,
                                    f"partition failed after {retries + 1} attempts: {_describe(exc)}")
            continue
        finally:
            future.release()
        if result.shard is None:
            loader.finished(partition.index, result.outcome)
            continue
        try:
            batch = read_shard(result.shard)
        except Exception as exc:  # noqa: BLE001 - a damaged shard: the partition runs again
            if attempts[partition.index] <= retries:
                again = submit(partition)
                pending[again] = partition
                queue.add(again)
            else:
                loader.partition_failed(partition.index, partition.name, f"shard unreadable after"
                                        f" {attempts[partition.index]} attempts: {_describe(exc)}")
            continue
        loader.finished(partition.index, loader.store(batch))


def _describe(exc: BaseException) -> str:
    message = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
