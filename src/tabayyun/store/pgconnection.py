"""A psycopg 3 connection that speaks like `sqlite3.Connection`, so the storage mixins run unchanged.

It offers what the mixins use of sqlite3: `execute` / `executemany` with `?` placeholders (returning a
cursor with fetchone, fetchall, rowcount and iteration), `with conn:` as one transaction (committed on
success, rolled back on an error, nested blocks become savepoints) and `close`. Outside a `with`
block every statement commits on its own, as reads do in sqlite3.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

import psycopg


@lru_cache(maxsize=2048)
def translate_placeholders(sql: str) -> str:
    """sqlite3's `?` placeholders as psycopg's `%s`, and literal `%` doubled; text inside quotes
    ('...' strings, "..." identifiers) is left alone."""
    out: list[str] = []
    quote: str | None = None
    for char in sql:
        if quote:
            if char == quote:
                quote = None
            out.append("%%" if char == "%" else char)
        elif char in ("'", '"'):
            quote = char
            out.append(char)
        elif char == "?":
            out.append("%s")
        elif char == "%":
            out.append("%%")
        else:
            out.append(char)
    return "".join(out)


def storable(value: Any) -> Any:
    """A parameter PostgreSQL accepts: its text cannot hold NUL, which SQLite's can (a scraped page,
    a search box): NUL becomes U+FFFD, as an undecodable byte does, so the statement runs and a
    filter holding it matches nothing instead of failing."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, list):
        return [storable(item) for item in value]
    return value


class PgConnection:
    """One PostgreSQL session (autocommit outside `with` blocks)."""

    def __init__(self, url: str, readonly: bool = False):
        self.raw = psycopg.connect(url, autocommit=True)
        if readonly:
            # A setting, not a connect option, so the address's own `options` (search_path) still apply.
            self.raw.execute("SET default_transaction_read_only = on")
        # `with conn:` blocks of different threads must not interleave their savepoints: the web
        # pool hands a connection to one request at a time, the lock only makes that explicit.
        self._lock = threading.RLock()
        self._transactions: list[psycopg.Transaction] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor:
        cursor = self.raw.cursor()
        cursor.execute(translate_placeholders(sql), tuple(storable(value) for value in params))
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> psycopg.Cursor:
        cursor = self.raw.cursor()
        rows = [tuple(storable(value) for value in row) for row in rows]
        if rows:
            cursor.executemany(translate_placeholders(sql), rows)
        return cursor

    def stream(self, sql: str, size: int) -> Iterator[list[tuple]]:
        """The rows of a query `size` at a time through a server-side cursor, for tables too large
        to fetch at once (a client cursor holds every row)."""
        with self.raw.transaction(), self.raw.cursor(name="tabayyun_stream") as cursor:
            cursor.execute(translate_placeholders(sql))
            while rows := cursor.fetchmany(size):
                yield rows

    def execute_script(self, sql: str) -> None:
        """Run several statements with no parameters (a migration file) as they are."""
        self.raw.execute(sql.encode("utf-8"))

    def __enter__(self) -> PgConnection:
        self._lock.acquire()
        try:
            transaction = self.raw.transaction()
            transaction.__enter__()
        except BaseException:
            self._lock.release()
            raise
        self._transactions.append(transaction)
        return self

    def __exit__(self, exc_type, exc, traceback) -> bool:
        try:
            self._transactions.pop().__exit__(exc_type, exc, traceback)
        finally:
            self._lock.release()
        return False

    def close(self) -> None:
        self.raw.close()
