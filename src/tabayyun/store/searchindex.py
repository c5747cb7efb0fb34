"""The SQL of search (schema version 3): the full-text index of stems and the embedding cache.

A mixin of `SQLiteStorage`, kept apart so the storage class stays readable; the search logic itself
(terms, ranking, fusion) lives in `tabayyun.search`.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime, timezone

from tabayyun.search.fulltext import document_index, match_expression
from tabayyun.store.duplicatestore import _chunks

TITLE_IDX = -1  # the title's row in the full-text index
_ONE_TOKEN = re.compile(r"\w+")    # a term FTS5's unicode61 tokenizer keeps whole


class SearchIndexStore:
    """Full-text index and embedding cache; `self.conn` is the workspace connection."""

    conn: sqlite3.Connection

    # full-text index -------------------------------------------------------------------------
    def _index_document(self, doc_id: str, title: str | None, paragraphs: list[str],
                        texts: list[str] | None = None) -> None:
        """Index rows of one document, inside the caller's transaction (the title as idx -1);
        `texts`: its `document_index`, when computed already."""
        texts = texts if texts is not None else document_index(title, paragraphs)
        rows = [(doc_id, i, text) for i, text in enumerate(texts, start=TITLE_IDX)]
        self.conn.executemany("INSERT INTO search_units (doc_id, idx, terms) VALUES (?,?,?)"
                              " ON CONFLICT DO NOTHING", rows)

    def index_missing(self, batch: int = 500) -> int:
        """Index every document that has no row in the full-text index yet (documents stored before
        schema version 3); returns how many were indexed."""
        done = 0
        while True:
            ids = [row[0] for row in self.conn.execute(
                "SELECT id FROM documents d WHERE NOT EXISTS (SELECT 1 FROM search_units s WHERE s.doc_id = d.id)"
                " ORDER BY d.rowid LIMIT ?", (batch,))]  # ingestion order: full-text ties rank alike
            if not ids:
                return done
            with self.conn:
                for doc_id in ids:
                    title = self.conn.execute("SELECT title FROM documents WHERE id = ?", (doc_id,)).fetchone()[0]
                    paragraphs = [text for _, text in self.conn.execute(
                        "SELECT idx, text FROM paragraphs WHERE doc_id = ? ORDER BY idx", (doc_id,))]
                    self._index_document(doc_id, title, paragraphs)
            done += len(ids)

    def fulltext_floor(self, expression: str, window: int) -> int | None:
        """The rowid from which the `window` most recently indexed units matching an FTS5 expression
        start, or None when no more than `window` units match (cheap: FTS5 walks its lists newest
        first and stops, nothing is ranked)."""
        row = self.conn.execute("SELECT rowid FROM search_fts WHERE search_fts MATCH ? ORDER BY rowid DESC"
                                " LIMIT 1 OFFSET ?", (expression, window)).fetchone()
        return None if row is None else row[0] + 1

    def fulltext_units(self, expression: str, limit: int, floor: int | None = None) -> list[tuple[str, int, float]]:
        """(doc_id, idx, bm25) of the best units matching an FTS5 expression, among those from rowid
        `floor` on when given; lower bm25 is better (its statistics stay those of the whole index)."""
        # Ranked inside FTS5 first: only the `limit` best rows are joined, not every matching one.
        return self.conn.execute(
            "SELECT u.doc_id, u.idx, best.score FROM (SELECT rowid, bm25(search_fts) AS score FROM search_fts"
            " WHERE search_fts MATCH ? AND rowid >= ? ORDER BY score LIMIT ?) AS best"
            " JOIN search_units u ON u.rowid = best.rowid ORDER BY best.score",
            (expression, floor or 0, limit)).fetchall()

    def document_terms(self, doc_ids: list[str]) -> dict[str, set[str]]:
        """doc_id -> the distinct terms of its full-text index rows (title and paragraphs)."""
        found: dict[str, set[str]] = {doc_id: set() for doc_id in doc_ids}
        for chunk in _chunks(sorted(set(doc_ids))):
            for doc_id, terms in self.conn.execute(
                    f"SELECT doc_id, terms FROM search_units WHERE doc_id IN ({','.join('?' * len(chunk))})", chunk):
                found[doc_id].update(terms.split())
        return found

    def term_frequencies(self, terms: list[str], cap: int) -> tuple[dict[str, int], int]:
        """({term: the number of index units holding it, counted up to `cap`}, the number of units,
        estimated by the last rowid)."""
        # fts5vocab reads FTS5's own term list: no unit is visited. A term FTS5 cuts into several
        # tokens ("2.3") is not in that list: its units are counted as a phrase, as search matches it.
        self.conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocab USING fts5vocab(main, search_fts, row)")
        found = {term: 0 for term in terms}
        tokens = [term for term in terms if _ONE_TOKEN.fullmatch(term)]
        for chunk in _chunks(tokens):
            found.update((term, min(count, cap)) for term, count in self.conn.execute(
                f"SELECT term, doc FROM temp.search_vocab WHERE term IN ({','.join('?' * len(chunk))})", chunk))
        for term in set(terms) - set(tokens):
            found[term] = self.conn.execute("SELECT count(*) FROM (SELECT 1 FROM search_fts WHERE search_fts MATCH ?"
                                            " LIMIT ?)", (match_expression([term]), cap)).fetchone()[0]
        units = self.conn.execute("SELECT max(rowid) FROM search_units").fetchone()[0] or 0
        return found, units

    def unit_texts(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int], str]:
        """The text of paragraphs by (doc_id, idx); idx -1 gives the title."""
        found: dict[tuple[str, int], str] = {}
        for chunk in _chunks(sorted(set(keys))):
            pairs = " OR ".join("(doc_id = ? AND idx = ?)" for _ in chunk)
            params = [value for key in chunk for value in key]
            found.update(((d, i), t) for d, i, t in self.conn.execute(
                f"SELECT doc_id, idx, text FROM paragraphs WHERE {pairs}", params))
            titles = [doc_id for doc_id, idx in chunk if idx == TITLE_IDX]
            if titles:
                found.update(((d, TITLE_IDX), t or "") for d, t in self.conn.execute(
                    f"SELECT id, title FROM documents WHERE id IN ({','.join('?' * len(titles))})", titles))
        return found

    def summaries(self, doc_ids: list[str]) -> dict[str, dict]:
        """id -> {title, outlet, published} for the given documents."""
        found = {}
        for chunk in _chunks(sorted(set(doc_ids))):
            for row in self.conn.execute(
                    f"SELECT id, title, outlet, published FROM documents WHERE id IN ({','.join('?' * len(chunk))})",
                    chunk):
                found[row[0]] = dict(zip(("title", "outlet", "published"), row[1:]))
        return found

    def facet_values(self, doc_ids: list[str]) -> dict[str, dict]:
        """id -> {outlet, published, story (id or None), entities [(canonical, type)]} for search facets."""
        found: dict[str, dict] = {}
        for chunk in _chunks(sorted(set(doc_ids))):
            marks = ",".join("?" * len(chunk))
            for doc_id, outlet, published, story in self.conn.execute(
                    f"SELECT d.id, d.outlet, d.published, m.story_id FROM documents d"
                    f" LEFT JOIN story_members m ON m.doc_id = d.id WHERE d.id IN ({marks})", chunk):
                found[doc_id] = {"outlet": outlet, "published": published, "story": story, "entities": []}
            for doc_id, canonical, type_ in self.conn.execute(
                    f"SELECT doc_id, coalesce(canonical, text), type FROM entities WHERE doc_id IN ({marks})"
                    " GROUP BY doc_id, coalesce(canonical, text), type ORDER BY doc_id, min(idx)", chunk):
                found[doc_id]["entities"].append((canonical, type_))
        return found

    def leads(self, doc_ids: list[str] | None = None, without_model: str | None = None) -> list[tuple[str, str, str]]:
        """(doc_id, title, first paragraph) of the given documents (default: all), keeping only those
        without a lead vector for `without_model` when it is given."""
        sql = ("SELECT d.id, coalesce(d.title, ''), coalesce(p.text, '') FROM documents d"
               " LEFT JOIN paragraphs p ON p.doc_id = d.id AND p.idx = 0 WHERE 1 = 1")
        params: list[str] = []
        if without_model is not None:
            sql += " AND NOT EXISTS (SELECT 1 FROM lead_embeddings l WHERE l.doc_id = d.id AND l.model = ?)"
            params.append(without_model)
        if doc_ids is None:
            return self.conn.execute(sql + " ORDER BY d.rowid", params).fetchall()
        rows = []
        for chunk in _chunks(list(doc_ids)):
            rows += self.conn.execute(sql + f" AND d.id IN ({','.join('?' * len(chunk))})", [*params, *chunk]).fetchall()
        return rows

    # embedding cache -------------------------------------------------------------------------
    def cached_embeddings(self, keys: list[str]) -> dict[str, tuple[int, bytes]]:
        """key -> (dim, vector bytes) for the keys found in the cache."""
        found = {}
        for chunk in _chunks(sorted(set(keys))):
            found.update((key, (dim, blob)) for key, dim, blob in self.conn.execute(
                f"SELECT key, dim, vector FROM embeddings WHERE key IN ({','.join('?' * len(chunk))})", chunk))
        return found

    def cache_embeddings(self, rows: list[tuple[str, str, str, int, bytes]],
                         leads: list[tuple[str, str, str]] = ()) -> None:
        """Store (key, model, kind, dim, vector bytes) rows, and (doc_id, model, key) lead links,
        in one transaction."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self.conn:
            self.conn.executemany(
                "INSERT INTO embeddings (key, model, kind, dim, vector, created_at) VALUES (?,?,?,?,?,?)"
                " ON CONFLICT DO NOTHING",
                [(*row, now) for row in rows])
            self.conn.executemany("INSERT INTO lead_embeddings (doc_id, model, key) VALUES (?,?,?)"
                                  " ON CONFLICT (doc_id, model) DO UPDATE SET key = excluded.key",
                                  list(leads))

    def lead_count(self, model: str) -> int:
        """How many documents have a lead vector for `model`."""
        return self.conn.execute("SELECT count(*) FROM lead_embeddings WHERE model = ?", (model,)).fetchone()[0]

    def count_without_lead(self, model: str) -> int:
        """How many documents with a title or a paragraph have no lead vector for `model`."""
        return self.conn.execute(
            "SELECT count(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM lead_embeddings l"
            " WHERE l.doc_id = d.id AND l.model = ?) AND (coalesce(d.title, '') != ''"
            " OR EXISTS (SELECT 1 FROM paragraphs p WHERE p.doc_id = d.id))", (model,)).fetchone()[0]

    def lead_vectors(self, model: str) -> list[tuple[str, int, bytes]]:
        """(doc_id, dim, vector bytes) of every document's lead vector for `model`."""
        return self.conn.execute(
            "SELECT l.doc_id, e.dim, e.vector FROM lead_embeddings l JOIN embeddings e ON e.key = l.key"
            " WHERE l.model = ? ORDER BY l.doc_id", (model,)).fetchall()

    # workbench reads ----------------------------------------------------------------------------
    def workspace_counts(self) -> dict[str, int]:
        """The numbers on the workbench's home page."""
        queries = {
            "documents": "SELECT count(*) FROM documents",
            "outlets": "SELECT count(DISTINCT outlet) FROM documents WHERE outlet IS NOT NULL",
            "stories": "SELECT count(DISTINCT story_id) FROM story_members",
            "entities": "SELECT count(DISTINCT canonical) FROM entities",
            "quotes": "SELECT count(*) FROM quotes",
            "failures": "SELECT count(*) FROM ingest_failures",
        }
        return {name: self.conn.execute(sql).fetchone()[0] for name, sql in queries.items()}

    def entity_mentions_of(self, name: str) -> list[dict]:
        """The mentions whose canonical name (or, failing that, text) is `name`: {doc_id, text, type, role}."""
        rows = self.conn.execute(
            "SELECT doc_id, text, type, role FROM entities WHERE canonical = ?"
            " UNION ALL SELECT doc_id, text, type, role FROM entities WHERE text = ? AND canonical != ?",
            (name, name, name)).fetchall()
        return [dict(zip(("doc_id", "text", "type", "role"), row)) for row in rows]

    def speaker_quotes(self, canonical: str, limit: int = 100) -> list[dict]:
        """The quotes of one speaker (exact canonical name), newest document first."""
        rows = self.conn.execute(
            "SELECT q.doc_id, d.title, d.outlet, d.published, q.speaker, q.cue, q.cue_class, q.content"
            " FROM quotes q JOIN documents d ON d.id = q.doc_id WHERE q.speaker_canonical = ?"
            " ORDER BY d.published IS NULL, d.published DESC, q.doc_id, q.idx LIMIT ?", (canonical, limit)).fetchall()
        keys = ("doc_id", "title", "outlet", "published", "speaker", "cue", "cue_class", "content")
        return [dict(zip(keys, row)) for row in rows]
