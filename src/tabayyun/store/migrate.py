"""Copy a whole workspace from one backend to another (SQLite -> PostgreSQL, PostgreSQL -> SQLite, or
between two of a kind): every table in dependency order, in batches, keeping ids, ingestion order
(`rowid`), story ids and the embedding cache. The full-text index is not copied: the target builds
its own (FTS5 or tsvector) from the copied paragraphs, with `index_missing`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

# Every table of the workspace, parents before children, with the order its rows are copied in.
# `rowid` is copied where it is the ingestion or joining order the storage sorts by.
TABLES: list[tuple[str, str]] = [
    ("documents", "rowid"),
    ("raw_inputs", "doc_id"),
    ("paragraphs", "doc_id, idx"),
    ("removed_blocks", "doc_id, idx"),
    ("document_sources", "doc_id, source"),
    ("ingest_failures", "id"),
    ("entities", "doc_id, idx"),
    ("quotes", "doc_id, idx"),
    ("citations", "doc_id, idx"),
    ("time_expressions", "doc_id, idx"),
    ("embeddings", "key"),
    ("lead_embeddings", "doc_id, model"),
    ("source_reliability", "outlet"),
    ("minhash_signatures", "doc_id"),
    ("duplicate_pairs", "doc_a, doc_b"),
    ("stories", "id"),
    ("story_members", "rowid"),
    ("site_pages", "host, page"),
    ("site_lines", "host, line"),
    ("upkeep_runs", "task"),
]
# Tables whose `rowid` is SQLite's hidden one (a column of its own on PostgreSQL).
ROWID_TABLES = {"documents", "story_members"}
# The index each backend rebuilds itself; compared by row count only.
SEARCH_TABLE = "search_units"
BATCH_ROWS = 1000


class TargetNotEmpty(RuntimeError):
    """The target workspace already holds rows (copying would mix two workspaces)."""


@dataclass
class CopyReport:
    """Rows per table on each side; `verified` when every count matches."""

    source: dict[str, int] = field(default_factory=dict)
    target: dict[str, int] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        return self.source == self.target

    def mismatches(self) -> list[str]:
        return [name for name in self.source if self.source[name] != self.target.get(name)]


def quoted(name: str) -> str:
    """An identifier both engines read as a column name (`end` is reserved in PostgreSQL)."""
    return '"' + name.replace('"', '""') + '"'


def table_counts(storage, tables: list[str] | None = None) -> dict[str, int]:
    """Rows per workspace table (the full-text index's units included)."""
    names = tables or [name for name, _ in TABLES] + [SEARCH_TABLE]
    return {name: storage.conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in names}


def copied_columns(storage, table: str) -> list[str]:
    """The stored columns of `table` in the source, with `rowid` where it carries an order."""
    cursor = storage.conn.execute(f"SELECT * FROM {table} LIMIT 0")
    columns = [column[0] for column in cursor.description]
    if table in ROWID_TABLES and "rowid" not in columns:
        columns.insert(0, "rowid")
    return columns


def read_batches(storage, sql: str, size: int = BATCH_ROWS) -> Iterator[list[tuple]]:
    """The rows of a query, `size` at a time, without holding the whole table in memory."""
    stream = getattr(storage.conn, "stream", None)
    if stream is not None:
        yield from stream(sql, size)
        return
    cursor = storage.conn.execute(sql)
    while rows := cursor.fetchmany(size):
        yield [tuple(row) for row in rows]


def empty_target(target) -> None:
    """Delete every row of the target, children first (its index included)."""
    with target.conn:
        for name in [SEARCH_TABLE] + [name for name, _ in reversed(TABLES)]:
            target.conn.execute(f"DELETE FROM {name}")


def copy_table(source, target, table: str, order: str, on_rows: Callable[[str, int], None]) -> None:
    columns = copied_columns(source, table)
    names = ", ".join(quoted(column) for column in columns)
    insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"
    select = f"SELECT {names} FROM {table} ORDER BY {order}"
    for rows in read_batches(source, select):
        with target.conn:
            target.conn.executemany(insert, rows)
        on_rows(table, len(rows))


def copy_workspace(source, target, force: bool = False,
                   on_rows: Callable[[str, int], None] = lambda table, rows: None) -> CopyReport:
    """Copy every row of `source` into `target` (two open storages, the target writable and empty
    unless `force`, which empties it first); returns the row counts of both sides."""
    counts = table_counts(source)
    existing = {name: rows for name, rows in table_counts(target).items() if rows}
    if existing and not force:
        raise TargetNotEmpty("the target workspace is not empty (" + ", ".join(
            f"{rows} {name}" for name, rows in existing.items()) + "): use --force to replace its contents")
    if existing:
        empty_target(target)
    for table, order in TABLES:
        copy_table(source, target, table, order, on_rows)
    target.after_bulk_copy()
    target.index_missing()
    return CopyReport(source=counts, target=table_counts(target))
