"""The PostgreSQL workspace: the same tables, queries and schema versions as the SQLite one.

`PostgresStorage` inherits every query of `SQLiteStorage` (they are written in SQL both engines run, over
a `PgConnection` that speaks sqlite3's dialect of the DB-API) and overrides only what differs: opening,
schema versioning (a one-row table instead of PRAGMA user_version; `migrations/postgres/*.sql` instead
of `migrations/*.sql`), full-text ranking (a tsvector of the stored stems instead of FTS5) and retries
of write transactions that PostgreSQL aborts as deadlocks when several processes write at once.
"""

from __future__ import annotations

import functools
import random
import re
import time
from collections.abc import Callable
from importlib import resources
from typing import TypeVar

import psycopg
from psycopg import errors

from tabayyun.store import display_address
from tabayyun.store.pgconnection import PgConnection
from tabayyun.store.sqlite import LATEST_VERSION, SQLiteStorage

VERSION_TABLE = "tabayyun_schema"
# FTS5's bm25() parameters, so both backends rank full-text hits alike.
BM25_K1, BM25_B = 1.2, 0.75
WRITE_ATTEMPTS = 5
# The BIGSERIAL columns of the schema, whose sequences must follow rows copied in with their values.
SERIAL_COLUMNS = [("documents", "rowid"), ("ingest_failures", "id"), ("search_units", "rowid"),
                  ("story_members", "rowid")]

T = TypeVar("T")


def _migrations() -> list[tuple[int, str, str]]:
    folder = resources.files("tabayyun.store").joinpath("migrations").joinpath("postgres")
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def expression_terms(expression: str) -> list[str]:
    """The terms of an FTS5 expression built by `search.fulltext.match_expression` ("a" OR "b")."""
    return [term.replace('""', '"') for term in re.findall(r'"((?:[^"]|"")*)"', expression)]


def _retry_conflicts(method: Callable[..., T]) -> Callable[..., T]:
    """Run a one-transaction write again when PostgreSQL aborted it as a deadlock (two ingest
    processes inserting the same documents in different orders): the rerun finds the other's rows."""

    @functools.wraps(method)
    def retrying(self, *args, **kwargs):
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                return method(self, *args, **kwargs)
            except (errors.DeadlockDetected, errors.SerializationFailure):
                if attempt == WRITE_ATTEMPTS:
                    raise
                time.sleep(random.uniform(0.01, 0.05) * attempt)
        raise AssertionError("unreachable")

    return retrying


# One statement ranks the units matching any query term with FTS5's BM25: per term, its idf over all
# units (floored at 1e-6 as FTS5 does) times its saturated frequency in the unit, normalised by the
# unit's length against the average. Each term is a phrase of the tokens the 'simple' parser finds
# in it, as an FTS5 quoted string is. A term's frequency in a unit is read with ts_rank_cd: with the
# default weights every occurrence of a one-lexeme query is a cover worth 0.1, so ten times the rank
# is the count, computed in C (unnesting each hit's tsvector was five times slower). Only the units
# from a rowid on are ranked (see `fulltext_floor`). There the document frequencies are estimated
# from that newest stretch of the index, scaled to the whole: counting every match of a common word
# read most of a million-article index on each query, and FTS5's exact counts are not at hand.
FULLTEXT_SQL = f"""
WITH query AS (
    SELECT t.term, phraseto_tsquery('simple', t.term) AS tsq FROM unnest(?::text[]) AS t(term)
), hits AS (
    SELECT query.term, s.rowid, s.doc_id, s.idx, s.length,
           greatest(round(ts_rank_cd(s.tsv, query.tsq) * 10), 1)::float8 AS tf
    FROM query JOIN search_units s ON s.tsv @@ query.tsq AND s.rowid >= ?
), df AS (
    SELECT term, count(*)::float8 * ?::float8 AS hit_units FROM hits GROUP BY term
), weighted AS (
    SELECT h.rowid, h.doc_id, h.idx, h.tf,
           greatest(ln((?::float8 - df.hit_units + 0.5) / (df.hit_units + 0.5)), 1e-6) AS idf,
           h.length / nullif(?::float8, 0) AS relative_length
    FROM hits h JOIN df ON df.term = h.term
)
SELECT doc_id, idx,
       -sum(idf * tf * {BM25_K1 + 1} / (tf + {BM25_K1} * (1 - {BM25_B} + {BM25_B} * coalesce(relative_length, 1))))
       AS score
FROM weighted GROUP BY rowid, doc_id, idx ORDER BY score, rowid LIMIT ?
"""
# The index's totals (units, average length) are read again after this many seconds, or after this
# storage wrote: counting every unit on each query cost more than the ranking on 31k articles.
TOTALS_TTL_S = 60.0


class PostgresStorage(SQLiteStorage):
    """A workspace in a PostgreSQL database (or a schema of one: put `options=-csearch_path%3DNAME`
    in the address). `path` is the address, so worker processes can open their own view."""

    def __init__(self, url: str, readonly: bool = False, shared: bool = False):
        """`shared` is accepted for the same signature: a psycopg connection may change threads."""
        self.path = url
        try:
            self.conn = PgConnection(url, readonly=readonly)
        except psycopg.OperationalError as err:
            raise RuntimeError(f"cannot open the workspace at {display_address(url)}: {err}".strip()) from None
        if readonly:
            self._check_readable()
        else:
            self.migrate()
            self.index_missing()
            self.sign_missing()

    # schema -----------------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        if self.conn.execute("SELECT to_regclass(?)", (VERSION_TABLE,)).fetchone()[0] is None:
            return 0
        row = self.conn.execute(f"SELECT version FROM {VERSION_TABLE}").fetchone()
        return row[0] if row else 0

    def _check_readable(self) -> None:
        version = self.schema_version
        if version == 0 or version > LATEST_VERSION:
            self.conn.close()
            what = "is not a tabayyun workspace (no schema)" if version == 0 else (
                f"has schema version {version}, newer than this tabayyun ({LATEST_VERSION}): upgrade tabayyun")
            raise RuntimeError(f"{display_address(self.path)} {what}")

    def migrate(self) -> list[str]:
        """Apply every migration newer than the workspace's version, each in its own transaction. An
        advisory lock makes processes that open a new workspace at once apply each migration once."""
        current = self.schema_version
        if current > LATEST_VERSION:
            raise RuntimeError(f"{display_address(self.path)} has schema version {current}, newer than this"
                               f" tabayyun ({LATEST_VERSION}): upgrade tabayyun")
        applied = []
        for version, name, sql in _migrations():
            if version <= current:
                continue
            with self.conn:
                self.conn.execute("SELECT pg_advisory_xact_lock(hashtext('tabayyun.migrate.' || current_schema()))")
                self.conn.execute(f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version INTEGER NOT NULL,"
                                  " single BOOLEAN PRIMARY KEY DEFAULT true CHECK (single))")
                current = self.schema_version
                if version <= current:
                    continue
                self.conn.execute_script(sql)
                self.conn.execute(f"INSERT INTO {VERSION_TABLE} (version) VALUES (?)"
                                  " ON CONFLICT (single) DO UPDATE SET version = excluded.version", (version,))
            applied.append(name)
        return applied

    def after_bulk_copy(self) -> None:
        """Move each id sequence past the ids copied in (`store.migrate` keeps the source's ids)."""
        with self.conn:
            for table, column in SERIAL_COLUMNS:
                self.conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
                                  f" coalesce(max({column}), 0) + 1, false) FROM {table}")

    # full text --------------------------------------------------------------------------------
    def fulltext_floor(self, expression: str, window: int) -> int | None:
        """The rowid from which the `window` most recently indexed matching units start, or None when
        no more than `window` units match."""
        terms = expression_terms(expression)
        if not terms:
            return None
        any_term = " || ".join(["phraseto_tsquery('simple', ?)"] * len(terms))
        row = self.conn.execute(f"SELECT rowid FROM search_units WHERE tsv @@ ({any_term})"
                                " ORDER BY rowid DESC OFFSET ? LIMIT 1", (*terms, window)).fetchone()
        return None if row is None else row[0] + 1

    def fulltext_units(self, expression: str, limit: int, floor: int | None = None) -> list[tuple[str, int, float]]:
        """(doc_id, idx, bm25) of the best units matching an FTS5 expression, among those from rowid
        `floor` on when given; lower bm25 is better."""
        terms = expression_terms(expression)
        if not terms:
            return []
        units, average_length = self._fulltext_totals()
        scale = 1.0
        if floor is not None:
            last = self.conn.execute("SELECT max(rowid) FROM search_units").fetchone()[0] or floor
            scale = max(1.0, units / max(1, last - floor + 1))
        return [(doc_id, idx, float(score)) for doc_id, idx, score in self.conn.execute(
            FULLTEXT_SQL, (terms, floor or 0, scale, units, average_length, limit)).fetchall()]

    def term_frequencies(self, terms: list[str], cap: int) -> tuple[dict[str, int], int]:
        """({term: the number of index units holding it, counted up to `cap`}, the number of units,
        estimated by the last rowid)."""
        # Counting stops at `cap`: a common word's thousands of matches are never all read.
        found = {term: 0 for term in terms}
        if terms:
            found.update(self.conn.execute(
                "SELECT t.term, (SELECT count(*) FROM (SELECT 1 FROM search_units s"
                " WHERE s.tsv @@ phraseto_tsquery('simple', t.term) LIMIT ?) AS capped)::int"
                " FROM unnest(?::text[]) AS t(term)", (cap, terms)).fetchall())
        units = self.conn.execute("SELECT max(rowid) FROM search_units").fetchone()[0] or 0
        return found, units

    def _fulltext_totals(self) -> tuple[float, float]:
        """(units, average unit length) of the full-text index, cached for TOTALS_TTL_S seconds (an empty
        index is read again each time: the first documents may be on their way from another process)."""
        cached = getattr(self, "_totals", None)
        if cached is None or not cached[0] or time.monotonic() - cached[2] > TOTALS_TTL_S:
            units, average = self.conn.execute(
                "SELECT count(*)::float8, coalesce(avg(length), 0)::float8 FROM search_units").fetchone()
            cached = self._totals = (units, average, time.monotonic())
        return cached[0], cached[1]

    def _index_document(self, doc_id: str, title: str | None, paragraphs: list[str],
                        texts: list[str] | None = None) -> None:
        self._totals = None
        super()._index_document(doc_id, title, paragraphs, texts)

    # writes that concurrent writers may deadlock -------------------------------------------------
    add_documents = _retry_conflicts(SQLiteStorage.add_documents)
    replace_documents = _retry_conflicts(SQLiteStorage.replace_documents)
    add_sources = _retry_conflicts(SQLiteStorage.add_sources)
    add_signatures = _retry_conflicts(SQLiteStorage.add_signatures)
    save_stories = _retry_conflicts(SQLiteStorage.save_stories)
    cache_embeddings = _retry_conflicts(SQLiteStorage.cache_embeddings)


if [version for version, _, _ in _migrations()] != list(range(1, LATEST_VERSION + 1)):
    raise ImportError("tabayyun.store: the PostgreSQL migrations do not match the SQLite schema versions")
