"""Cleaning and analysing stored pages again, from the raw input the workspace keeps.

Three reasons to: tabayyun was upgraded (a better cleaner, a retrained tagger); the workspace has
since learnt more of each site's furniture (its site counts grew after the page was stored); or it
was ingested with `--analysis basic` and now wants entities, times, quotes and citations. A stored
document keeps its id, raw input, sources and ingestion time; when the new result differs, its clean
text and analysis are replaced, and what was built on what changed (lead vector, MinHash signature,
near-duplicate pairs, story membership) is built again.

What a page's container said about it (a JSON record's `title`, `published`, `outlet`) is not kept
apart: it is read back from the evidence of the stored values that came from a "record field".
"""

from __future__ import annotations

import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date

from tabayyun.clean.siterepeats import SiteRepeats, site_of
from tabayyun.connect.stories import document_story_keys
from tabayyun.ingest import DEFAULT_BATCH, _results, _WorkerConfig, inputs_repeats
from tabayyun.model import Document
from tabayyun.pipeline import RawItem
from tabayyun.sources.readers import ItemFailure
from tabayyun.store import SQLiteStorage, open_storage

RECORD_FIELD = "record field"   # the evidence source of a value a JSON record gave
_NO_SIZE_LIMIT = 2**62           # stored pages passed the size limit of the ingest that stored them
_READ_PAGE = 500                 # stored documents read at a time
RUN_TASK = "reprocess"           # its row in the workspace's upkeep_runs while unfinished


@dataclass
class ReprocessReport:
    seen: int = 0
    changed: int = 0                  # documents whose clean text or analysis changed (and were replaced)
    unchanged: int = 0
    failed: int = 0                   # documents the pipeline now rejects: kept as they were
    failures: list[ItemFailure] = field(default_factory=list)
    stories_dropped: int = 0          # stories left with no member when their documents were placed again
    stories_refreshed: int = 0        # stories left with fewer members: labelled and dated again
    signed: int = 0                   # changed documents signed and compared again (near-duplicates)
    embedded: int = 0                 # documents whose lead was embedded (changed ones, and any without one)
    clustered: int = 0                # changed documents placed into a story again
    embed_note: str | None = None     # why leads were not embedded again
    done_through: str | None = None   # every document up to this id (in ingestion order) is done and committed

    @property
    def exit_code(self) -> int:
        return 2 if self.failed else 0

    def to_dict(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "failures"}
        data["failures"] = [{"source": f.source, "message": f.message} for f in self.failures]
        return data


def _unfinished(storage: SQLiteStorage) -> tuple[dict, str | None]:
    """The options of the workspace's unfinished reprocess run, and the document it got to."""
    run = storage.unfinished_run(RUN_TASK)
    if run is None:
        raise ValueError("no unfinished reprocess run to resume")
    return run["options"], run["done_through"]


def stored_item(doc: Document) -> RawItem:
    """The input a stored document was made from, with the hints its container gave."""

    def hint(evidence) -> str | None:
        return evidence.text if evidence is not None and evidence.source == RECORD_FIELD else None

    return RawItem(source=doc.path or doc.id, data=doc.text, url=doc.url, title=hint(doc.title_evidence),
                   published=hint(doc.published_evidence), outlet=hint(doc.outlet_evidence), form=doc.format)


def reprocess(storage: SQLiteStorage, *, stages: list[str] | None = None, reference_date: date | None = None,
              workers: int | None = None, batch_size: int = DEFAULT_BATCH, embed: bool = True,
              site_repeats: bool = True, sites: list[str] | None = None, after: str | None = None,
              resume: bool = False, on_failure: Callable[[ItemFailure], None] | None = None,
              on_progress: Callable[[ReprocessReport], None] | None = None) -> ReprocessReport:
    """Run every stored document through the pipeline again (`stages`: see `pipeline.ANALYSIS_LEVELS`)
    and replace those whose result changed, a committed batch at a time: a killed run leaves each
    document either as it was or as the new pipeline makes it. With `site_repeats`, each page is
    cleaned with the lines its site repeats across the pages the workspace has counted. `sites`: only
    the pages of these hosts (as `tabayyun sites` lists them; "www." is dropped). `after`: start after
    this document (a killed run's `done_through`); ValueError when the workspace has no such document.
    The workspace records how far the run got after each batch (`upkeep_runs`) until it finishes:
    `resume` goes on from there with that run's own options (ValueError when there is none)."""
    options = {"stages": stages, "sites": sites, "site_repeats": site_repeats,
               "reference_date": reference_date.isoformat() if reference_date else None}
    if resume:
        options, after = _unfinished(storage)
        stages, sites, site_repeats = options["stages"], options["sites"], options["site_repeats"]
        reference_date = date.fromisoformat(options["reference_date"]) if options["reference_date"] else None
    start = 0
    if after is not None and (start := storage.document_rowid(after.strip())) is None:
        raise ValueError(f"no stored document {after!r}")
    storage.save_run(RUN_TASK, options, after)

    def committed(report: ReprocessReport) -> None:
        storage.save_run(RUN_TASK, options, report.done_through or after)   # nothing read yet: where it began
        if on_progress:
            on_progress(report)

    report = ReprocessReport()
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    repeats = None
    if site_repeats:
        inputs_repeats([], storage=storage)     # a workspace without site counts counts its stored pages first
        repeats = SiteRepeats.counted_in(storage)
    config = _WorkerConfig(None, reference_date, _NO_SIZE_LIMIT, stages, site_repeats=repeats)
    feed = _StoredFeed(storage, workers, sites, start)
    workers = workers if feed.parallel else 1
    changed: list[Document] = []
    kept = _Kept()
    left: set[int] = set()      # stories that changed documents left
    changed_ids: list[str] = []
    last: str | None = None     # the last document read
    try:
        for done in _results(feed, config, workers):
            old = feed.next_done()
            last = old.id
            report.seen += 1
            new = _result(old, done)
            if isinstance(new, str):
                report.failed += 1
                report.failures.append(ItemFailure(old.path or old.id, new))
                if on_failure:
                    on_failure(report.failures[-1])
            elif new.to_dict() == old.to_dict():
                report.unchanged += 1
            else:
                changed.append(new)
                kept.note(old, new)
            if len(changed) >= batch_size or report.seen % batch_size == 0:
                changed_ids += _replace(storage, changed, kept, left, report, last, committed)
    finally:
        feed.stop()
    changed_ids += _replace(storage, changed, kept, left, report, last, committed)
    _connect_again(storage, changed_ids, embed, report)
    report.stories_refreshed = storage.refresh_stories(sorted(left))
    storage.clear_run(RUN_TASK)
    return report


class _StoredFeed:
    """Every stored document as an input item, in order of ingestion; each also waits in `pending`
    so that results (which come back in the same order) meet the document they replace.

    With worker processes the items are drawn by the pool's feeding thread, which takes all it can
    get: at most BACKLOG documents are read ahead of the results, or a large workspace would be read
    into memory whole. That thread reads through a read-only connection of its own (`parallel`; when
    none can be opened, as for an in-memory workspace, the caller runs without worker processes)."""

    BACKLOG = 2 * _READ_PAGE

    def __init__(self, storage: SQLiteStorage, workers: int, sites: list[str] | None = None, after: int = 0):
        self.storage, self.reader, self.after = storage, storage, after
        if workers > 1 and storage.path != ":memory:":
            try:
                self.reader = open_storage(storage.path, readonly=True, shared=True)
            except Exception:  # noqa: BLE001 - without a second connection, the pages are read in this thread
                pass
        self.parallel = self.reader is not storage
        self.sites = {site.strip().lower().removeprefix("www.") for site in sites or ()}
        self.pending: deque[Document] = deque()
        self.room = threading.Semaphore(self.BACKLOG)
        self.stopped = False

    def __iter__(self) -> Iterator[RawItem]:
        reader, after = self.reader, self.after
        try:
            while page := reader.stored_documents(after, _READ_PAGE, tuple(sorted(self.sites))):
                for after, doc in page:
                    if self.sites and site_of(doc.url) not in self.sites:
                        continue
                    while self.parallel and not self.room.acquire(timeout=0.2):
                        if self.stopped:    # the pool is being closed: it waits for this thread
                            return
                    self.pending.append(doc)
                    yield stored_item(doc)
        finally:
            if reader is not self.storage:
                reader.close()

    def stop(self) -> None:
        self.stopped = True

    def next_done(self) -> Document:
        """The stored document the next result belongs to."""
        if self.parallel:
            self.room.release()
        return self.pending.popleft()


def _result(old: Document, done) -> Document | str:
    """The new document, or why there is none (a one-line reason)."""
    if done.error is not None:
        return f"{done.error} (the stored document is kept as it was)"
    new = done.doc
    if new.id != old.id:
        return "the stored input no longer hashes to the document's id (kept as it was)"
    new.path, new.encoding = old.path, old.encoding
    return new


@dataclass
class _Kept:
    """The changed documents whose text (title and paragraphs), or whose story keys (text terms, entity
    names and date), stayed the same: what was built on those alone is kept."""

    same_text: set[str] = field(default_factory=set)
    same_story: set[str] = field(default_factory=set)

    def note(self, old: Document, new: Document) -> None:
        if (new.title, new.paragraphs) == (old.title, old.paragraphs):
            self.same_text.add(new.id)
        if (document_story_keys(new), new.published) == (document_story_keys(old), old.published):
            self.same_story.add(new.id)

    def clear(self) -> None:
        self.same_text.clear()
        self.same_story.clear()


def _replace(storage: SQLiteStorage, changed: list[Document], kept: _Kept, left: set[int],
             report: ReprocessReport, through: str | None,
             on_progress: Callable[[ReprocessReport], None] | None) -> list[str]:
    """Commit the changed documents read so far (the stories they left go into `left`); `through`:
    the last document read."""
    ids = [doc.id for doc in changed]
    if changed:
        dropped, fewer = storage.replace_documents(changed, frozenset(kept.same_text), frozenset(kept.same_story))
        report.stories_dropped += dropped
        left.update(fewer)
        report.changed += len(changed)
        changed.clear()
        kept.clear()
    report.done_through = through
    if on_progress:
        on_progress(report)
    return ids


def _connect_again(storage: SQLiteStorage, doc_ids: list[str], embed: bool, report: ReprocessReport) -> None:
    """Signatures and near-duplicate pairs, lead vectors, then stories, as ingest orders them. Signing
    and stories cover every document without them (what a killed run dropped, too). Leads: in a
    workspace that has lead vectors, every document without one (a killed run's changed documents
    too); in one that has none (ingested with --no-embed), only those that changed in this run."""
    from tabayyun.search.embed import Embedder
    from tabayyun.search.semantic import embed_leads

    report.signed = storage.sign_missing()
    embedder = Embedder(storage, enabled=embed, reason="switched off (--no-embed)")
    wanted = None if embedder.enabled and storage.lead_count(embedder.model) else doc_ids
    if wanted is None or wanted:
        report.embed_note = embedder.reason
        try:
            report.embedded = embed_leads(storage, None, embedder, doc_ids=wanted)
        except Exception as exc:  # noqa: BLE001 - the new analyses are committed; only their vectors are missing
            report.embed_note = f"embedding failed ({type(exc).__name__}: {exc})"
            print(f"warning: {report.embed_note}; search will use full text for the changed documents",
                  file=sys.stderr)
    report.clustered = storage.cluster_missing()
