"""Batch ingestion: read items, run the pipeline in worker processes, store in committed batches.

Guarantees: a document counts as stored only after its batch is committed, so a killed run loses
nothing it reported; a rerun skips what is stored (ids are content hashes); one bad item costs one
line on stderr and the batch goes on.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from tabayyun.clean.siterepeats import SiteRepeats, site_of
from tabayyun.connect.duplicates import DuplicateFinder
from tabayyun.connect.stories import StoryClusterer, StoryKeys, document_story_keys
from tabayyun.engine.shards import Batch, Signed, is_shard_folder, pack_signature, store_batch, unpack_signatures
from tabayyun.model import Document
from tabayyun.pipeline import MAX_BYTES, ItemError, RawItem, make_document, pile_repeats, process_safely
from tabayyun.search.fulltext import document_index
from tabayyun.sources.readers import ItemFailure, is_url, iter_items
from tabayyun.store import SQLiteStorage, open_storage

DEFAULT_BATCH = 200


@dataclass
class IngestReport:
    stored: int = 0
    duplicates: int = 0
    failed: int = 0
    failures: list[ItemFailure] = field(default_factory=list)
    embedded: int = 0                 # documents whose lead (title, first paragraph) was embedded for search
    embed_seconds: float = 0.0        # time spent embedding them
    embed_note: str | None = None     # why leads were not embedded (switched off, unavailable, failed)
    signed: int = 0                   # documents given a MinHash signature (near-duplicate detection)
    duplicate_pairs: int = 0          # near-duplicate pairs found between new and stored documents
    clustered: int = 0                # new documents put into a story (joined or started)
    sites_grown: list[str] = field(default_factory=list)   # sites whose stored pages miss newly repeated lines
    partitions: int = 0               # --engine dask: partitions of the input, and how many are done
    partitions_done: int = 0
    failed_partitions: list[ItemFailure] = field(default_factory=list)   # partitions whose task failed

    @property
    def exit_code(self) -> int:
        return 2 if self.failed or self.failed_partitions else 0

    def count_stored(self, stored: list[bool]) -> None:
        """Count the outcome of `add_documents`: new, or already there (stored by an earlier batch)."""
        self.stored += sum(stored)
        self.duplicates += len(stored) - sum(stored)


@dataclass
class _Done:
    """What a worker sends back for one item."""

    source: str
    doc: Document | None = None
    index_texts: list[str] | None = None   # the document's full-text rows (`document_index`)
    presigned: Signed | None = None  # its MinHash signature and shingle hashes (`pack_signature`)
    story_keys: StoryKeys | None = None   # what it is placed into a story by (`document_story_keys`)
    embeddings: list[tuple[str, str, str, int, bytes]] = field(default_factory=list)  # its lead vector: cache rows
    leads: list[tuple[str, str, str]] = field(default_factory=list)                   # and link (doc_id, model, key)
    size: int = 0
    duplicate_id: str | None = None
    error: str | None = None


@dataclass
class _WorkerConfig:
    db_path: str | None
    reference_date: date | None
    max_bytes: int
    stages: list[str] | None = None
    embed: bool = False     # embed each new document's lead where it is analysed
    site_repeats: SiteRepeats | None = None   # the lines each site repeats across the inputs (frozen)


_worker: dict = {}


class _LeadEmbedding:
    """Embeds the leads of newly stored documents after each committed batch, for semantic search,
    and of the duplicates that have none yet (a rerun after a kill, or after `--no-embed`).
    A failure never costs stored documents: one line on stderr, and no more embedding in this run."""

    def __init__(self, storage: SQLiteStorage, enabled: bool, report: IngestReport):
        from tabayyun.search.embed import Embedder

        self.storage, self.report = storage, report
        self.embedder = Embedder(storage, enabled=enabled, reason="switched off (--no-embed)")
        report.embed_note = self.embedder.reason

    def __call__(self, docs: list[Document], duplicate_ids: list[str]) -> None:
        if not (docs or duplicate_ids) or not self.embedder.enabled:
            return
        from tabayyun.search.semantic import embed_leads

        try:
            self.report.embedded += embed_leads(self.storage, docs, self.embedder)
            if duplicate_ids:
                self.report.embedded += embed_leads(self.storage, None, self.embedder, doc_ids=duplicate_ids)
        except Exception as exc:  # noqa: BLE001 - the documents are committed; only their vectors are missing
            self.embedder.reason = self.report.embed_note = f"embedding failed ({type(exc).__name__}: {exc})"
            print(f"warning: {self.report.embed_note}; the documents are stored, search will use full text "
                  "for them", file=sys.stderr)
        self.report.embed_seconds = self.embedder.stats.seconds


class Connector:
    """The cross-document steps after a batch is committed, in this order: near-duplicates of the new
    documents, lead vectors, stories (after both, so copies join their original's story). The plain
    ingest runs them after each batch; the Dask engine after each partition, in input order."""

    def __init__(self, storage: SQLiteStorage, report: IngestReport, embed: bool):
        self.report = report
        self.embed_leads = _LeadEmbedding(storage, embed, report)
        self.finder = DuplicateFinder(storage)
        self.clusterer = StoryClusterer(storage, embeddings=embed)

    def __call__(self, new: list[tuple[str, list[str] | None]], embed_docs: list[Document],
                 duplicate_ids: list[str], presigned: dict | None = None,
                 story_keys: dict[str, StoryKeys] | None = None) -> None:
        """`new`: (doc_id, paragraphs) of the newly stored documents; `presigned` and `story_keys`: their
        MinHash signatures (see `DuplicateFinder.add`) and story keys when computed elsewhere (a worker);
        `embed_docs` those whose lead still needs a vector, `duplicate_ids` stored ones that may lack one."""
        if new:
            self.report.duplicate_pairs += len(self.finder.add(new, presigned))
            self.report.signed = self.finder.signed
        self.embed_leads(embed_docs, duplicate_ids)
        if new:
            self.report.clustered += len(self.clusterer.add([doc_id for doc_id, _ in new], story_keys))
        # What the steps keep between batches (story counters, the finder's hashes: millions of
        # objects) is long-lived: frozen, Python's full collections stop walking it again and again
        # (they took 6% of a 40k-article load). `__exit__` gives it back to the collector.
        gc.freeze()

    def __enter__(self) -> Connector:
        return self

    def __exit__(self, *exc) -> None:
        gc.unfreeze()


def readonly_view(address: str | None) -> SQLiteStorage | None:
    """A read-only view of an existing workspace (SQLite file or PostgreSQL address) for the
    "already stored?" check of workers; None when there is none yet."""
    if not address or (not address.startswith(("postgresql://", "postgres://")) and not os.path.exists(address)):
        return None
    try:
        return open_storage(address, readonly=True)
    except Exception:  # noqa: BLE001 - a missing read-only view only costs the duplicate shortcut
        return None


def _init_worker(config: _WorkerConfig) -> None:
    _worker["config"] = config
    _worker["storage"] = readonly_view(config.db_path)


def _init_pool_worker(config: _WorkerConfig, cores: list[int]) -> None:
    # Each worker holds one core: an embedding engine with a thread per core would fight the others.
    os.environ["OMP_NUM_THREADS"] = "1"
    if cores:
        idle_scheduling(cores[(multiprocessing.current_process()._identity[0] - 1) % len(cores)])
    _init_worker(config)


def worker_pool(workers: int, config: _WorkerConfig):
    """The plain engine's worker processes (forked where the system can), settled on the cores."""
    context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    return context.Pool(workers, initializer=_init_pool_worker, initargs=(config, cores_to_settle(workers)))


def cores_to_settle(workers: int) -> list[int]:
    """The cores to put `workers` worker processes on, one each at idle priority, when they take every
    core of this machine; none (leave them be) when a core is left for this process, which stores and
    connects what they analyse.

    That process then shares a core with a worker; at equal priority the two took turns every few
    milliseconds, and each turn cost the worker its caches (two workers used 14% more CPU a document
    than one). At idle priority a worker gives the core up while this process has work and takes it
    back when it waits. Measured on 2 cores, two pipeline processes beside a storing one: 16.0 ms a
    document each alone, 18.9 with the storing process, 17.2 as SCHED_BATCH jobs, 16.6 as SCHED_BATCH
    jobs on a core each, 16.3 at idle priority on a core each. It also leaves a laptop's interactive
    work ahead of a long ingest. Linux only (elsewhere: none)."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    return cores if cores and workers >= len(cores) else []


def idle_scheduling(core: int) -> None:
    """Put every thread of this process under SCHED_IDLE (it runs when nothing else on its core
    wants to) on `core`; threads started later inherit both. Linux only (called with the cores of
    `cores_to_settle`); a thread that has just ended, or a system that refuses the policy, changes
    nothing."""
    for tid in (int(tid) for tid in os.listdir("/proc/self/task")):
        try:
            os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
            os.sched_setaffinity(tid, {core})
        except (AttributeError, OSError):
            pass


def _run_one(item: RawItem) -> _Done:
    return process_item(item, _worker["config"], _worker.get("storage"))


def process_item(item: RawItem, config: _WorkerConfig, storage: SQLiteStorage | None) -> _Done:
    """Decode one item and, unless `storage` (a read-only view) holds it already, analyse it."""
    size = len(item.data) if isinstance(item.data, bytes) else len(item.data.encode("utf-8"))
    try:
        decoded = make_document(item, config.max_bytes)
        if storage is not None and storage.has(decoded.id):
            # On a rerun, stored documents are recognised by their content hash and not analysed again.
            return _Done(item.source, size=size, duplicate_id=decoded.id)
        doc = process_safely(item, reference_date=config.reference_date, stages=config.stages,
                             max_bytes=config.max_bytes, decoded=decoded, site_repeats=config.site_repeats)
    except ItemError as err:
        return _Done(item.source, error=str(err))
    done = _Done(item.source, doc=doc, index_texts=document_index(doc.title, doc.paragraphs),
                 presigned=pack_signature(doc.paragraphs), story_keys=document_story_keys(doc), size=size)
    if config.embed:
        done.embeddings, done.leads = _lead_vector(doc, storage)
    return done


class _CollectedCache:
    """The embedding cache seen by a worker's embedder: reads through the workspace's read-only
    view, and keeps what it would write, for the storing process to write with the document."""

    def __init__(self, view):
        self.view = view
        self.rows: list[tuple[str, str, str, int, bytes]] = []
        self.leads: list[tuple[str, str, str]] = []

    def cached_embeddings(self, keys: list[str]) -> dict[str, tuple[int, bytes]]:
        return self.view.cached_embeddings(keys) if self.view is not None else {}

    def cache_embeddings(self, rows, leads=()) -> None:
        self.rows += rows
        self.leads += leads


def _lead_vector(doc: Document, view) -> tuple[list, list]:
    """A new document's lead vector, computed by the worker that analysed it: (cache rows, lead
    links), both empty when embeddings are off or fail there (the storing process then embeds it)."""
    from tabayyun.search.embed import Embedder
    from tabayyun.search.semantic import embed_leads

    embedder = _worker.get("embedder")
    if embedder is None:
        embedder = _worker["embedder"] = Embedder()
    if not embedder.enabled:
        return [], []
    collected = _CollectedCache(view)
    embedder.storage = collected
    embedder._memory.clear()    # the vector goes with the document; a long run must not keep them all
    try:
        embed_leads(collected, [doc], embedder)
    except Exception:  # noqa: BLE001 - the storing process embeds what a worker could not
        return [], []
    return collected.rows, collected.leads


def _results(items: Iterable[RawItem | ItemFailure], config: _WorkerConfig, workers: int) -> Iterator[_Done]:
    def split() -> Iterator[RawItem]:
        for item in items:
            if isinstance(item, ItemFailure):
                failures.append(item)
                continue
            yield item

    failures: list[ItemFailure] = []
    if workers <= 1:
        _init_worker(config)
        for item in split():
            while failures:
                failure = failures.pop(0)
                yield _Done(failure.source, error=failure.message)
            yield _run_one(item)
    else:
        with worker_pool(workers, config) as pool:
            for done in pool.imap(_run_one, split(), chunksize=8):
                while failures:
                    failure = failures.pop(0)
                    yield _Done(failure.source, error=failure.message)
                yield done
    for failure in failures:
        yield _Done(failure.source, error=failure.message)


def ingest(
    storage: SQLiteStorage,
    paths: list[str],
    *,
    workers: int | None = None,
    batch_size: int = DEFAULT_BATCH,
    max_bytes: int = MAX_BYTES,
    reference_date: date | None = None,
    stages: list[str] | None = None,
    on_failure: Callable[[ItemFailure], None] | None = None,
    on_progress: Callable[[IngestReport], None] | None = None,
    embed: bool = True,
    site_repeats: bool = True,
) -> IngestReport:
    """Ingest every item under `paths` into `storage`; returns the counts. `stages` names the pipeline
    stages to run (default: all of them; see `pipeline.ANALYSIS_LEVELS` for the named sets). With
    `embed` (and embeddings available), each batch's new documents get their lead embedded for search.
    With `site_repeats`, a first pass over the inputs finds the lines each site repeats on several of
    its pages (`inputs_repeats`), which cleaning then removes. A folder of Parquet shards (`ingest
    --engine dask --shards DIR`) is loaded, not read as pages."""
    from tabayyun.search.embed import engine_loaded

    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    # Workers embed the leads of what they analyse, unless they would be forked from a process whose
    # embedding engine is running (its threads do not survive a fork): then this process embeds them.
    config = _WorkerConfig(storage.path if storage.path != ":memory:" else None, reference_date, max_bytes, stages,
                           embed=embed and (workers <= 1 or not engine_loaded()),
                           site_repeats=inputs_repeats(paths, max_bytes, storage) if site_repeats else None)
    report = IngestReport(sites_grown=list(config.site_repeats.grown) if config.site_repeats else [])
    batch = Batch()
    with Connector(storage, report, embed) as connect:
        shard_folders = [path for path in paths if is_shard_folder(path)]
        if shard_folders:
            # Parquet shards written by `--engine dask --shards DIR`: loaded, not read as pages.
            from tabayyun.engine.shards import load_shard_folder

            for folder in shard_folders:
                load_shard_folder(storage, folder, connect, batch_size, on_failure, on_progress)
            paths = [path for path in paths if path not in shard_folders]
        for done in _results(iter_items(paths, max_bytes), config, workers):
            _count_result(done, report, on_failure)
            batch.add(done)
            if len(batch.docs) >= batch_size:
                batch = _flush(storage, batch, report, connect, on_progress)
        _flush(storage, batch, report, connect, on_progress)
    return report


BACKFILL_PAGES = 100_000   # stored pages counted once when a workspace has no site counts yet


def inputs_repeats(paths: list[str], max_bytes: int = MAX_BYTES, storage: SQLiteStorage | None = None
                   ) -> SiteRepeats:
    """The lines each site repeats across the pages under `paths` (`pipeline.pile_repeats`), frozen
    for the workers; with `storage`, counted together with the pages of the same sites that earlier
    ingests into the workspace counted (and this pile's new pages are counted there; a workspace with
    no counts yet first counts its latest BACKFILL_PAGES stored pages). Standard input
    and addresses are not read twice (nor fetched twice): their pages count for nothing, and Parquet
    shard folders hold pages already cleaned."""
    local = [path for path in paths if path != "-" and not is_url(path) and not is_shard_folder(path)]
    items = (item for item in iter_items(local, max_bytes) if isinstance(item, RawItem))
    repeats = pile_repeats(items, max_bytes)
    if storage is None:
        return repeats.frozen()
    backfilled: set[str] = set()
    if not storage.site_page_counts():
        # A workspace stored before it kept counts (schema version 7): its latest pages count first.
        for url, text in storage.stored_text_pages(BACKFILL_PAGES):
            repeats.add(url, text)
            backfilled.add(site_of(url))
    merged = repeats.merged_with(storage)
    # Stored pages counted just now were cleaned without any counts: their sites' lines are all new.
    merged.grown = sorted({*merged.grown, *(backfilled & merged.hosts())})
    return merged


def _count_result(done: _Done, report: IngestReport, on_failure: Callable[[ItemFailure], None] | None) -> None:
    if done.error is not None:
        failure = ItemFailure(done.source, done.error)
        report.failed += 1
        report.failures.append(failure)
        if on_failure:
            on_failure(failure)
    elif done.duplicate_id is not None:
        report.duplicates += 1


def _flush(storage: SQLiteStorage, batch: Batch, report: IngestReport, connect: Connector,
           on_progress: Callable[[IngestReport], None] | None) -> Batch:
    """Store a batch, connect its new documents (duplicates, stories, lead vectors); a fresh batch."""
    stored = store_batch(storage, batch)
    report.count_stored(stored)
    new_docs = [doc for (doc, _), is_new in zip(batch.docs, stored) if is_new]
    with_vector = {doc_id for doc_id, _, _ in batch.leads}
    report.embedded += sum(doc.id in with_vector for doc in new_docs)
    connect([(doc.id, doc.paragraphs) for doc in new_docs], [doc for doc in new_docs if doc.id not in with_vector],
            [doc.id for (doc, _), is_new in zip(batch.docs, stored) if not is_new]
            + [doc_id for doc_id, _ in batch.seen],
            unpack_signatures({doc.id: batch.presigned[doc.id] for doc in new_docs}),
            {doc.id: batch.story_keys[doc.id] for doc in new_docs if doc.id in batch.story_keys})
    if on_progress:
        on_progress(report)
    return Batch()
