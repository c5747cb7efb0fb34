"""The SQL of near-duplicates (schema version 5): MinHash signatures and duplicate pairs.

A mixin of `SQLiteStorage`, like `searchindex.py`; the shingling, hashing and matching live in
`tabayyun.connect.duplicates`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime, timezone

# The shingling and hashing of the stored signatures (see `tabayyun.connect.duplicates`): documents
# without a signature of this scheme are signed when the workspace is opened for writing.
SCHEME = "minhash-w5-p128"


def _chunks(items: list, size: int = 500) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class DuplicateStore:
    """Signatures and pairs; `self.conn` is the workspace connection."""

    conn: sqlite3.Connection

    def signatures(self, scheme: str) -> list[tuple[str, int, bytes]]:
        """(doc_id, shingle count, signature bytes) of every document signed with `scheme`."""
        return self.conn.execute(
            "SELECT doc_id, shingles, signature FROM minhash_signatures WHERE scheme = ? AND shingles > 0"
            " ORDER BY doc_id", (scheme,)).fetchall()

    def unsigned(self, scheme: str, limit: int) -> list[str]:
        """Ids of documents without a signature of `scheme` (stored before version 5, or a killed run)."""
        return [row[0] for row in self.conn.execute(
            "SELECT id FROM documents d WHERE NOT EXISTS (SELECT 1 FROM minhash_signatures m"
            " WHERE m.doc_id = d.id AND m.scheme = ?) ORDER BY d.rowid LIMIT ?", (scheme, limit))]

    def count_unsigned(self, scheme: str) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM minhash_signatures m"
            " WHERE m.doc_id = d.id AND m.scheme = ?)", (scheme,)).fetchone()[0]

    def paragraph_lists(self, doc_ids: list[str]) -> dict[str, list[str]]:
        """doc_id -> its paragraphs in order (an empty list for a document without any)."""
        found: dict[str, list[str]] = {doc_id: [] for doc_id in doc_ids}
        for chunk in _chunks(sorted(set(doc_ids))):
            for doc_id, _, text in self.conn.execute(
                    f"SELECT doc_id, idx, text FROM paragraphs WHERE doc_id IN ({','.join('?' * len(chunk))})"
                    " ORDER BY doc_id, idx", chunk):
                found[doc_id].append(text)
        return found

    def analyses(self, doc_ids: list[str]) -> dict:
        """doc_id -> its stored `Document` (analysis only, without the raw input) for the ids found."""
        import json

        from tabayyun.model import Document

        found = {}
        for chunk in _chunks(sorted(set(doc_ids))):
            for doc_id, analysis in self.conn.execute(
                    f"SELECT id, analysis FROM documents WHERE id IN ({','.join('?' * len(chunk))})", chunk):
                found[doc_id] = Document.from_dict(json.loads(analysis))
        return found

    def add_signatures(self, rows: list[tuple[str, str, int, bytes]],
                       pairs: list[tuple[str, str, float, float, str]]) -> None:
        """Store (doc_id, scheme, shingles, signature) rows and (doc_a, doc_b, jaccard, containment,
        method) pairs in one transaction."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self.conn:
            self.conn.executemany(
                "INSERT INTO minhash_signatures (doc_id, scheme, shingles, signature) VALUES (?,?,?,?)"
                " ON CONFLICT (doc_id) DO UPDATE SET scheme = excluded.scheme, shingles = excluded.shingles,"
                " signature = excluded.signature",
                rows)
            self.conn.executemany(
                "INSERT INTO duplicate_pairs (doc_a, doc_b, jaccard, containment, method, found_at)"
                " VALUES (?,?,?,?,?,?) ON CONFLICT (doc_a, doc_b) DO UPDATE SET jaccard = excluded.jaccard,"
                " containment = excluded.containment, method = excluded.method, found_at = excluded.found_at",
                [(*pair, now) for pair in pairs])

    def duplicate_pairs(self) -> list[tuple[str, str, float, float, str]]:
        """Every near-duplicate pair: (doc_a, doc_b, jaccard, containment, method: the rule that
        accepted it), doc_a < doc_b."""
        return self.conn.execute(
            "SELECT doc_a, doc_b, jaccard, containment, method FROM duplicate_pairs ORDER BY doc_a, doc_b").fetchall()

    def sign_missing(self) -> int:
        """Sign (and compare) every document without a signature; returns how many were signed."""
        if not self.unsigned(SCHEME, 1):
            return 0
        from tabayyun.connect.duplicates import DuplicateFinder

        return DuplicateFinder(self).sign_missing()
