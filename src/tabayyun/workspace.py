"""`Workspace`: the Python API over one workspace (an SQLite file)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tabayyun.ingest import IngestReport, ingest
from tabayyun.model import Document
from tabayyun.store import open_storage


class Workspace:
    """A workspace of ingested articles. `Workspace()` opens ./tabayyun.db or $TABAYYUN_DB."""

    def __init__(self, path: str | Path | None = None):
        self.storage = open_storage(path)
        self.path = self.storage.path

    def ingest(self, *paths: str | Path, workers: int | None = None, reference_date: date | None = None,
               **options) -> IngestReport:
        return ingest(self.storage, [str(p) for p in paths], workers=workers, reference_date=reference_date, **options)

    def get(self, doc_id: str) -> Document | None:
        return self.storage.get(doc_id)

    def list(self, **filters) -> list[dict]:
        return self.storage.list(**filters)

    def __len__(self) -> int:
        return self.storage.count()

    def close(self) -> None:
        self.storage.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
