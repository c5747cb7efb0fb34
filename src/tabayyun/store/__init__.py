"""The workspace storage: the only place that knows SQL. SQLite files, or PostgreSQL (`store.postgres`)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tabayyun.store.sqlite import LATEST_VERSION, SQLiteStorage

DEFAULT_DB = "tabayyun.db"


def resolve_db(db: str | None) -> str:
    """--db, else $TABAYYUN_DB, else ./tabayyun.db."""
    return db or os.environ.get("TABAYYUN_DB") or DEFAULT_DB


def display_address(address: str) -> str:
    """A workspace address as it may be printed: a PostgreSQL URL loses its password."""
    if "://" not in address:
        return address
    parts = urlsplit(address)
    if parts.password is None:
        return address
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)))


def open_storage(db: str | Path | None = None, readonly: bool = False, shared: bool = False) -> SQLiteStorage:
    """A SQLite file, or a PostgreSQL database for a postgresql:// address (psycopg 3 needed)."""
    target = resolve_db(str(db) if db else None)
    if target.startswith(("postgresql://", "postgres://")):
        try:
            from tabayyun.store.postgres import PostgresStorage
        except ModuleNotFoundError as err:
            if err.name != "psycopg":
                raise
            raise RuntimeError("a PostgreSQL workspace needs psycopg 3: pip install 'tabayyun[postgres]'") from None
        return PostgresStorage(target, readonly=readonly, shared=shared)
    if "://" in target:
        raise ValueError(f"unsupported workspace address {target.split('://', 1)[0]}://...: only SQLite files"
                         " and postgresql:// addresses are supported")
    return SQLiteStorage(target, readonly=readonly, shared=shared)


__all__ = ["DEFAULT_DB", "LATEST_VERSION", "SQLiteStorage", "display_address", "open_storage", "resolve_db"]
