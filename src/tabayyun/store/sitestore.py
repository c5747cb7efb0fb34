"""The SQL of site repeats (schema version 7): the pages of each site counted so far, and the
number of them each long line stands on.

A mixin of `SQLiteStorage`, like `duplicatestore.py`; what counts as a page's lines and when a line
is the site's furniture lives in `tabayyun.clean.siterepeats`.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator

_WRAP = 1 << 64
_SIGNED_MAX = 1 << 63


def _signed(value: int) -> int:
    """A 64-bit hash as the signed integer both backends store."""
    return value - _WRAP if value >= _SIGNED_MAX else value


def _unsigned(value: int) -> int:
    return value + _WRAP if value < 0 else value


class SiteStore:
    """Counted pages and line counts per host; `self.conn` is the workspace connection."""

    conn: sqlite3.Connection

    def add_site_pages(self, host: str, pages: dict[int, frozenset[int]], limit: int, min_pages: int
                       ) -> dict[int, int]:
        """Count the pages of `host` not counted before (`pages`: page hash -> its line hashes) while the
        host has fewer than `limit` counted pages; return the lines of the host standing on `min_pages`
        or more of its counted pages, each with that number. A page is counted once even when two
        ingests meet it at the same time: only the insert that creates its row adds its lines."""
        with self.conn:
            room = limit - self.conn.execute("SELECT count(*) FROM site_pages WHERE host = ?", (host,)).fetchone()[0]
            increments: Counter[int] = Counter()
            for page, lines in sorted(pages.items()):
                if room <= 0:
                    break
                cursor = self.conn.execute("INSERT INTO site_pages (host, page) VALUES (?, ?) ON CONFLICT DO NOTHING",
                                           (host, _signed(page)))
                if cursor.rowcount == 1:
                    increments.update(lines)
                    room -= 1
            self.conn.executemany(
                "INSERT INTO site_lines (host, line, pages) VALUES (?, ?, ?) ON CONFLICT (host, line)"
                " DO UPDATE SET pages = site_lines.pages + excluded.pages",
                [(host, _signed(line), n) for line, n in sorted(increments.items())])
        return self.site_lines_of(host, min_pages)

    def site_lines_of(self, host: str, min_pages: int) -> dict[int, int]:
        """The lines of `host` standing on `min_pages` or more of its counted pages, each with that number."""
        return {_unsigned(line): n for line, n in self.conn.execute(
            "SELECT line, pages FROM site_lines WHERE host = ? AND pages >= ?", (host, min_pages))}

    def site_repeated_lines(self, min_pages: int) -> dict[str, dict[int, int]]:
        """host -> the lines standing on `min_pages` or more of its counted pages, each with that number."""
        found: dict[str, dict[int, int]] = {}
        for host, line, pages in self.conn.execute(
                "SELECT host, line, pages FROM site_lines WHERE pages >= ? ORDER BY host", (min_pages,)):
            found.setdefault(host, {})[_unsigned(line)] = pages
        return found

    def site_summaries(self, min_pages: int) -> list[tuple[str, int, int]]:
        """(host, pages counted, lines standing on `min_pages` or more of them), most pages first."""
        return self.conn.execute(
            "SELECT p.host, p.n, coalesce(l.n, 0) FROM (SELECT host, count(*) AS n FROM site_pages GROUP BY host) p"
            " LEFT JOIN (SELECT host, count(*) AS n FROM site_lines WHERE pages >= ? GROUP BY host) l"
            " ON l.host = p.host ORDER BY p.n DESC, p.host", (min_pages,)).fetchall()

    def site_page_counts(self) -> dict[str, int]:
        """host -> the number of its pages counted so far."""
        return dict(self.conn.execute("SELECT host, count(*) FROM site_pages GROUP BY host ORDER BY host"))

    def stored_text_pages(self, limit: int) -> Iterator[tuple[str, str]]:
        """(url, text) of the latest `limit` stored flattened-text pages with an address, newest first:
        what site repeats count, for documents stored before the workspace kept counts."""
        from tabayyun.store.migrate import read_batches

        sql = ("SELECT d.url, r.content FROM documents d JOIN raw_inputs r ON r.doc_id = d.id"
               f" WHERE d.format = 'text' AND d.url IS NOT NULL ORDER BY d.rowid DESC LIMIT {int(limit)}")
        for rows in read_batches(self, sql):
            yield from rows
