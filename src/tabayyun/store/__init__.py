"""The workspace storage: the only place that knows SQL. SQLite now; other backends plug in here."""

from __future__ import annotations

import os
from pathlib import Path

from tabayyun.store.sqlite import LATEST_VERSION, SQLiteStorage

DEFAULT_DB = "tabayyun.db"


def resolve_db(db: str | None) -> str:
    """--db, else $TABAYYUN_DB, else ./tabayyun.db."""
    return db or os.environ.get("TABAYYUN_DB") or DEFAULT_DB


def open_storage(db: str | Path | None = None, readonly: bool = False, shared: bool = False) -> SQLiteStorage:
    target = resolve_db(str(db) if db else None)
    if "://" in target:
        raise ValueError(f"unsupported workspace address {target!r}: only SQLite files are supported so far")
    return SQLiteStorage(target, readonly=readonly, shared=shared)


__all__ = ["DEFAULT_DB", "LATEST_VERSION", "SQLiteStorage", "open_storage", "resolve_db"]
