"""The SQL of stories (schema version 6): stories and their members.

A mixin of `SQLiteStorage`, like `duplicatestore.py`; the clustering lives in `tabayyun.connect.stories`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from tabayyun.store.duplicatestore import _chunks


class StoryStore:
    """Stories and story members; `self.conn` is the workspace connection."""

    conn: sqlite3.Connection

    def story_members(self) -> list[tuple[int, str]]:
        """(story_id, doc_id) of every clustered document, in order of joining."""
        return self.conn.execute("SELECT story_id, doc_id FROM story_members ORDER BY rowid").fetchall()

    def story_members_after(self, rowid: int) -> list[tuple[int, int, str]]:
        """(rowid, story_id, doc_id) of the documents that joined a story after `rowid`, in order."""
        return self.conn.execute("SELECT rowid, story_id, doc_id FROM story_members WHERE rowid > ?"
                                 " ORDER BY rowid", (rowid,)).fetchall()

    def max_story_id(self) -> int:
        return self.conn.execute("SELECT coalesce(max(id), 0) FROM stories").fetchone()[0]

    @contextmanager
    def stories_locked(self) -> Iterator[None]:
        """One transaction in which no other process places documents into stories, so that story
        ids allocated inside it are unique: SQLite's write lock (BEGIN IMMEDIATE), or a transaction-
        level advisory lock on PostgreSQL (released at commit)."""
        if isinstance(self.conn, sqlite3.Connection):
            if self.conn.in_transaction:
                self.conn.commit()
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.conn.rollback()
                raise
            self.conn.commit()
            return
        with self.conn:
            self.conn.execute("SELECT pg_advisory_xact_lock(hashtext('tabayyun.stories.' || current_schema()))")
            yield

    def unclustered(self, limit: int) -> list[str]:
        """Ids of documents in no story yet, in order of ingestion."""
        return [row[0] for row in self.conn.execute(
            "SELECT id FROM documents d WHERE NOT EXISTS (SELECT 1 FROM story_members m WHERE m.doc_id = d.id)"
            " ORDER BY d.rowid LIMIT ?", (limit,))]

    def story_inputs(self, doc_ids: list[str]) -> dict[str, dict]:
        """doc_id -> {title, lead (first paragraph), published, outlet, entities (canonical names)}."""
        found: dict[str, dict] = {}
        for chunk in _chunks(sorted(set(doc_ids))):
            marks = ",".join("?" * len(chunk))
            for doc_id, title, lead, published, outlet in self.conn.execute(
                    "SELECT d.id, d.title, p.text, d.published, d.outlet FROM documents d LEFT JOIN paragraphs p"
                    f" ON p.doc_id = d.id AND p.idx = 0 WHERE d.id IN ({marks})", chunk):
                found[doc_id] = {"title": title, "lead": lead, "published": published, "outlet": outlet,
                                 "entities": []}
            for doc_id, canonical in self.conn.execute(
                    f"SELECT doc_id, coalesce(canonical, text) FROM entities WHERE doc_id IN ({marks})"
                    " ORDER BY doc_id, idx", chunk):
                found[doc_id]["entities"].append(canonical)
        return found

    def duplicates_of(self, doc_id: str, min_jaccard: float = 0.0) -> list[str]:
        """The documents stored as near-duplicates of `doc_id`, those of Jaccard >= `min_jaccard`, by id."""
        return self.copies_of([doc_id], min_jaccard)[doc_id]

    def copies_of(self, doc_ids: list[str], min_jaccard: float = 0.0) -> dict[str, list[str]]:
        """`duplicates_of` for many documents in a few queries: doc_id -> its near-duplicates, by id."""
        found: dict[str, set[str]] = {doc_id: set() for doc_id in doc_ids}
        for chunk in _chunks(sorted(found)):
            marks = ",".join("?" * len(chunk))
            for mine, other in self.conn.execute(
                    f"SELECT doc_a, doc_b FROM duplicate_pairs WHERE doc_a IN ({marks}) AND jaccard >= ?"
                    f" UNION ALL SELECT doc_b, doc_a FROM duplicate_pairs WHERE doc_b IN ({marks}) AND jaccard >= ?",
                    [*chunk, min_jaccard, *chunk, min_jaccard]):
                found[mine].add(other)
        return {doc_id: sorted(others) for doc_id, others in found.items()}

    def save_stories(self, stories: list[tuple[int, str | None, str | None, str | None, str | None]],
                     members: list[tuple[str, int, float, dict]]) -> None:
        """Upsert (id, label, label_doc, first, last) stories and add (doc_id, story_id, score, reason)
        members, in one transaction."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self.conn:
            self.conn.executemany(
                "INSERT INTO stories (id, label, label_doc, first, last, updated_at) VALUES (?,?,?,?,?,?)"
                " ON CONFLICT (id) DO UPDATE SET label = excluded.label, label_doc = excluded.label_doc,"
                " first = excluded.first, last = excluded.last, updated_at = excluded.updated_at",
                [(*row, now) for row in stories])
            self.conn.executemany(
                "INSERT INTO story_members (doc_id, story_id, score, reason, joined_at) VALUES (?,?,?,?,?)"
                " ON CONFLICT (doc_id) DO UPDATE SET story_id = excluded.story_id, score = excluded.score,"
                " reason = excluded.reason, joined_at = excluded.joined_at",
                [(doc_id, story_id, score, json.dumps(reason, ensure_ascii=False), now)
                 for doc_id, story_id, score, reason in members])

    def story_rows(self, story_id: int | None = None) -> list[dict]:
        """Stories (one, or all) as {id, label, label_doc, first, last}, newest last date first."""
        rows = self.conn.execute(
            "SELECT id, label, label_doc, first, last FROM stories"
            + (" WHERE id = ?" if story_id is not None else "")
            + " ORDER BY last IS NULL, last DESC, id", (story_id,) if story_id is not None else ()).fetchall()
        return [dict(zip(("id", "label", "label_doc", "first", "last"), row)) for row in rows]

    def story_documents(self, story_ids: list[int]) -> list[dict]:
        """Members of the given stories: {story_id, id, title, outlet, published, score, reason}."""
        found = []
        for chunk in _chunks(sorted(set(story_ids))):
            for row in self.conn.execute(
                    "SELECT m.story_id, d.id, d.title, d.outlet, d.published, m.score, m.reason FROM story_members m"
                    f" JOIN documents d ON d.id = m.doc_id WHERE m.story_id IN ({','.join('?' * len(chunk))})"
                    " ORDER BY d.published IS NULL, d.published, m.rowid", chunk):
                item = dict(zip(("story_id", "id", "title", "outlet", "published", "score", "reason"), row))
                item["reason"] = json.loads(item["reason"])
                found.append(item)
        return found

    def story_entities(self, story_ids: list[int]) -> list[tuple[int, str, int]]:
        """(story_id, canonical name, number of member documents naming it)."""
        found = []
        for chunk in _chunks(sorted(set(story_ids))):
            found += self.conn.execute(
                "SELECT m.story_id, coalesce(e.canonical, e.text), count(DISTINCT e.doc_id) FROM story_members m"
                f" JOIN entities e ON e.doc_id = m.doc_id WHERE m.story_id IN ({','.join('?' * len(chunk))})"
                " GROUP BY 1, 2", chunk).fetchall()
        return found

    def entity_names(self) -> list[tuple[str, str, str]]:
        """(doc_id, canonical, text) of every distinct entity mention of the workspace."""
        return self.conn.execute("SELECT DISTINCT doc_id, canonical, text FROM entities").fetchall()

    def lead_vectors_for(self, model: str, doc_ids: list[str]) -> list[tuple[str, int, bytes]]:
        """(doc_id, dim, vector bytes) of the lead vectors of the given documents for `model`."""
        found = []
        for chunk in _chunks(sorted(set(doc_ids))):
            found += self.conn.execute(
                "SELECT l.doc_id, e.dim, e.vector FROM lead_embeddings l JOIN embeddings e ON e.key = l.key"
                f" WHERE l.model = ? AND l.doc_id IN ({','.join('?' * len(chunk))})", (model, *chunk)).fetchall()
        return found

    def clear_stories(self) -> None:
        """Forget every story and membership (documents are kept): the next `cluster_missing` places
        every document again, with the clustering's current settings."""
        with self.conn:
            self.conn.execute("DELETE FROM story_members")
            self.conn.execute("DELETE FROM stories")

    def refresh_stories(self, story_ids: list[int]) -> int:
        """Label and date the given stories again from the members they have now (documents left them
        when reprocessed); returns how many of them still exist."""
        if not story_ids:
            return 0
        from tabayyun.connect.stories import StoryClusterer

        return StoryClusterer(self).refresh(story_ids)

    def cluster_missing(self) -> int:
        """Put every document that is in no story yet into one; returns how many."""
        if not self.unclustered(1):
            return 0
        from tabayyun.connect.stories import StoryClusterer

        return StoryClusterer(self).cluster_missing()
