"""`Workspace`: the Python API over one workspace (an SQLite file)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from tabayyun.ingest import IngestReport, ingest
from tabayyun.model import Document
from tabayyun.reprocess import ReprocessReport, reprocess
from tabayyun.store import open_storage

if TYPE_CHECKING:
    from tabayyun.check import CheckResult
    from tabayyun.search.hybrid import SearchResult


class Workspace:
    """A workspace of ingested articles. `Workspace()` opens ./tabayyun.db or $TABAYYUN_DB."""

    def __init__(self, path: str | Path | None = None):
        self.storage = open_storage(path)
        self.path = self.storage.path

    def ingest(self, *paths: str | Path, workers: int | None = None, reference_date: date | None = None,
               **options) -> IngestReport:
        return ingest(self.storage, [str(p) for p in paths], workers=workers, reference_date=reference_date, **options)

    def reprocess(self, workers: int | None = None, reference_date: date | None = None, **options
                  ) -> ReprocessReport:
        """Clean and analyse every stored page again from its raw input; documents whose result changed
        are replaced. See `tabayyun.reprocess`."""
        return reprocess(self.storage, workers=workers, reference_date=reference_date, **options)

    def get(self, doc_id: str) -> Document | None:
        return self.storage.get(doc_id)

    def list(self, **filters) -> list[dict]:
        return self.storage.list(**filters)

    def search(self, query: str, k: int = 20, embeddings: bool = True, **options) -> SearchResult:
        """Hybrid search (full text of stems + semantic similarity); see `tabayyun.search.search`."""
        from tabayyun.search.hybrid import search

        return search(self.storage, query, k=k, embeddings=embeddings, **options)

    def check(self, claim: str, as_of: str | None = None, top: int = 20, embeddings: bool = True) -> CheckResult:
        """Retrieve the documents about a claim, decide each one's stance, and give a verdict."""
        from tabayyun.check import check

        return check(self.storage, claim, as_of=as_of, top=top, embeddings=embeddings)

    def duplicates(self, passages: bool = False) -> list[dict]:
        """Groups of near-duplicate documents (copies of one text), largest first: each
        {"documents": [{id, title, outlet, published}], "pairs": [{a, b, jaccard, containment, method}],
        "syndication": {first, credited, uncredited, evidence, ...}}; with `passages` each pair also
        lists its shared passages with offsets on both sides. Documents not yet signed are signed
        first. See `tabayyun.connect.duplicates`, `.syndication` and `.passages`."""
        from tabayyun.connect.duplicates import duplicate_groups

        self.storage.sign_missing()
        return duplicate_groups(self.storage, passages=passages)

    def stories(self, entity: str | None = None, since: str | None = None) -> list[dict]:
        """Stories (events), latest first: {id, label, first, last, size, entities, outlets}; documents
        in no story yet are clustered first. See `tabayyun.connect.stories`."""
        from tabayyun.connect.stories import list_stories

        self.storage.cluster_missing()
        return list_stories(self.storage, entity=entity, since=since)

    def story(self, story_id: int, passages: bool = False) -> dict | None:
        """One story with its documents by date, each with the scores it joined with; with `passages`
        also the passages its documents share ("passages": [{a, b, passages}]); None if absent."""
        from tabayyun.connect.stories import get_story

        self.storage.cluster_missing()
        return get_story(self.storage, int(story_id), passages=passages)

    def topics(self, min_stories: int = 1) -> list[dict]:
        """Topics: stories on one long-running subject grouped (linked by similarity without the time
        gate), largest first, each link with its scores. See `tabayyun.connect.topics`."""
        from tabayyun.connect.topics import list_topics

        return list_topics(self.storage, min_stories=min_stories)

    def timeline(self, story: int | None = None, entity: str | None = None, claim: str | None = None,
                 embeddings: bool = False, topic: int | None = None) -> list[dict] | None:
        """The dated events of a story, of a topic, of the documents naming an entity, or of the
        documents about a claim (each event with the document's stance): one of them; None when the
        story or topic does not exist. See `tabayyun.connect.timeline`."""
        from tabayyun.connect.timeline import select_timeline

        events = select_timeline(self.storage, story=story, entity=entity, claim=claim, embeddings=embeddings,
                                 topic=topic)
        return None if events is None else [event.to_dict() for event in events]

    def __len__(self) -> int:
        return self.storage.count()

    def close(self) -> None:
        self.storage.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
