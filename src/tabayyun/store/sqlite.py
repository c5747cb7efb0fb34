"""The SQLite workspace: one file, WAL mode, versioned schema applied from `migrations/*.sql`."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

from tabayyun.model import Document
from tabayyun.store.duplicatestore import DuplicateStore, _chunks
from tabayyun.store.searchindex import SearchIndexStore
from tabayyun.store.sitestore import SiteStore
from tabayyun.store.storystore import StoryStore

SCHEMA_VERSION_PRAGMA = "user_version"
# LIMIT for "no limit" that SQLite and PostgreSQL both accept (SQLite's -1 is an error in PostgreSQL).
NO_LIMIT = 2**63 - 1


def _migrations() -> list[tuple[int, str, str]]:
    folder = resources.files("tabayyun.store").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


LATEST_VERSION = max(v for v, _, _ in _migrations())


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _document_filters(outlet: str | None, since: str | None, until: str | None) -> tuple[str, list[str]]:
    """The WHERE clause (or "") and its parameters for documents of an outlet and a publication range."""
    where, params = [], []
    for clause, value in (("outlet = ?", outlet), ("published >= ?", since), ("published <= ?", until)):
        if value:
            where.append(clause)
            params.append(value)
    return (" WHERE " + " AND ".join(where) if where else ""), params


# The rows of a document's analysis, dropped when it is analysed again (`replace_documents`), and those
# built on its title and paragraphs alone, dropped only when they changed.
_ANALYSIS_TABLES = ("paragraphs", "removed_blocks", "entities", "quotes", "citations", "time_expressions",
                    "search_units")
_TEXT_TABLES = ("lead_embeddings", "minhash_signatures")


class SQLiteStorage(SearchIndexStore, DuplicateStore, StoryStore, SiteStore):
    """Every SQL statement of the workspace lives here (and in the migrations; search's in `searchindex.py`,
    near-duplicates' in `duplicatestore.py`, stories' in `storystore.py`)."""

    def __init__(self, path: str | Path, readonly: bool = False, shared: bool = False):
        """`shared`: the connection may be handed from thread to thread (the web server's pool does,
        one user at a time)."""
        self.path = str(path)
        if readonly:
            self.conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30,
                                        check_same_thread=not shared)
            self._check_readable()
        else:
            self.conn = sqlite3.connect(self.path, timeout=30, check_same_thread=not shared)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.migrate()
            self.index_missing()
            self.sign_missing()
        self.conn.execute("PRAGMA foreign_keys=ON")

    # schema -----------------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        return self.conn.execute(f"PRAGMA {SCHEMA_VERSION_PRAGMA}").fetchone()[0]

    def _check_readable(self) -> None:
        """A read-only view must be a workspace this tabayyun understands, or fail with one clear line."""
        try:
            version = self.schema_version
            self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as err:
            self.conn.close()
            raise RuntimeError(f"{self.path} is not a tabayyun workspace ({err})") from None
        if version == 0 or version > LATEST_VERSION:
            self.conn.close()
            what = "is not a tabayyun workspace (no schema)" if version == 0 else (
                f"has schema version {version}, newer than this tabayyun ({LATEST_VERSION}): upgrade tabayyun")
            raise RuntimeError(f"{self.path} {what}")

    def migrate(self) -> list[str]:
        """Apply every migration newer than the file's version, each in its own transaction."""
        applied = []
        current = self.schema_version
        if current > LATEST_VERSION:
            raise RuntimeError(
                f"{self.path} has schema version {current}, newer than this tabayyun ({LATEST_VERSION}): upgrade tabayyun"
            )
        for version, name, sql in _migrations():
            if version <= current:
                continue
            with self.conn:
                self.conn.executescript(f"BEGIN;\n{sql}\nPRAGMA {SCHEMA_VERSION_PRAGMA}={version};\nCOMMIT;")
            applied.append(name)
        return applied

    def close(self) -> None:
        self.conn.close()

    def after_bulk_copy(self) -> None:
        """Nothing to do after rows were copied in with their ids: SQLite's next rowid is max + 1."""

    # writing ----------------------------------------------------------------------------------
    def add_documents(self, docs: list[tuple[Document, int]],
                      index_texts: dict[str, list[str]] | None = None) -> list[bool]:
        """Store documents in one transaction; returns, per document, True if new, False if a duplicate.

        `docs` pairs each Document with the byte size of its raw input; `index_texts` holds the
        `document_index` of those whose full-text rows were computed elsewhere (a worker)."""
        stored = []
        now = _now()
        with self.conn:
            for doc, size in docs:
                cursor = self.conn.execute(
                    "INSERT INTO documents (id, source, url, format, encoding, title, outlet, published,"
                    " language, analysis, ingested_at) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                    (doc.id, doc.path, doc.url, doc.format, doc.encoding, doc.title, doc.outlet, doc.published,
                     doc.language, json.dumps(doc.to_dict(), ensure_ascii=False), now),
                )
                is_new = cursor.rowcount == 1
                if is_new:
                    self.conn.execute("INSERT INTO raw_inputs (doc_id, content, size) VALUES (?,?,?)",
                                      (doc.id, doc.text, size))
                    self._add_analysis(doc, (index_texts or {}).get(doc.id))
                self.conn.execute("INSERT INTO document_sources (doc_id, source, seen_at) VALUES (?,?,?)"
                                  " ON CONFLICT DO NOTHING",
                                  (doc.id, doc.path or "", now))
                stored.append(is_new)
        return stored

    def _add_analysis(self, doc: Document, index_texts: list[str] | None = None) -> None:
        """The rows of one document's clean text and analysis, inside the caller's transaction."""
        self.conn.executemany("INSERT INTO paragraphs (doc_id, idx, text) VALUES (?,?,?)",
                              [(doc.id, i, p) for i, p in enumerate(doc.paragraphs)])
        self.conn.executemany(
            "INSERT INTO removed_blocks (doc_id, idx, kind, text, rule, line_start, line_end)"
            " VALUES (?,?,?,?,?,?,?)",
            [(doc.id, i, r.kind, r.text, r.rule, *(r.lines or (None, None))) for i, r in enumerate(doc.removed)],
        )
        self._add_understanding(doc)
        self._index_document(doc.id, doc.title, doc.paragraphs, index_texts)

    def replace_documents(self, docs: list[Document], same_text: frozenset[str] = frozenset(),
                          same_story: frozenset[str] = frozenset()) -> tuple[int, list[int]]:
        """Put a new clean text and analysis in place of stored documents' (same ids, same raw input,
        sources and ingestion time), in one transaction; returns how many stories were left with no
        member and dropped, and the ids of those left with fewer (`refresh_stories` labels and dates
        them again). Unless a document's title and paragraphs are the same as before (its id in
        `same_text`), its lead vector, MinHash signature and near-duplicate pairs go; unless what
        stories are made of is (title, lead, entity names, date: `same_story`), its story membership.
        `sign_missing`, lead embedding and `cluster_missing` build them again."""
        with self.conn:
            left = self._distinct_in("SELECT story_id FROM story_members WHERE doc_id IN ({})",
                                     [doc.id for doc in docs if doc.id not in same_story])
            for doc in docs:
                self.conn.execute(
                    "UPDATE documents SET title = ?, outlet = ?, published = ?, language = ?, analysis = ?"
                    " WHERE id = ?", (doc.title, doc.outlet, doc.published, doc.language,
                                      json.dumps(doc.to_dict(), ensure_ascii=False), doc.id))
                tables = (*_ANALYSIS_TABLES, *(() if doc.id in same_text else _TEXT_TABLES),
                          *(() if doc.id in same_story else ("story_members",)))
                for table in tables:
                    self.conn.execute(f"DELETE FROM {table} WHERE doc_id = ?", (doc.id,))
                if doc.id not in same_text:
                    self.conn.execute("DELETE FROM duplicate_pairs WHERE doc_a = ? OR doc_b = ?", (doc.id, doc.id))
                self._add_analysis(doc)
            dropped = 0
            for chunk in _chunks(left):
                dropped += self.conn.execute(
                    f"DELETE FROM stories WHERE id IN ({','.join('?' * len(chunk))}) AND NOT EXISTS"
                    " (SELECT 1 FROM story_members m WHERE m.story_id = stories.id)", chunk).rowcount
            kept = self._distinct_in("SELECT id FROM stories WHERE id IN ({})", left) if dropped else left
            return dropped, kept

    def save_run(self, task: str, options: dict, done_through: str | None) -> None:
        """Record how far an unfinished upkeep run (`task`, e.g. "reprocess") got, with what it was asked."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self.conn:
            self.conn.execute(
                "INSERT INTO upkeep_runs (task, options, done_through, started_at, updated_at) VALUES (?,?,?,?,?)"
                " ON CONFLICT (task) DO UPDATE SET options = excluded.options,"
                " done_through = excluded.done_through, updated_at = excluded.updated_at",
                (task, json.dumps(options, ensure_ascii=False, sort_keys=True), done_through, now, now))

    def unfinished_run(self, task: str) -> dict | None:
        """{task, options, done_through, started_at, updated_at} of the unfinished run of `task`, or None."""
        row = self.conn.execute("SELECT task, options, done_through, started_at, updated_at FROM upkeep_runs"
                                " WHERE task = ?", (task,)).fetchone()
        if row is None:
            return None
        return {"task": row[0], "options": json.loads(row[1]), "done_through": row[2], "started_at": row[3],
                "updated_at": row[4]}

    def clear_run(self, task: str) -> None:
        with self.conn:
            self.conn.execute("DELETE FROM upkeep_runs WHERE task = ?", (task,))

    def _distinct_in(self, sql: str, values: list) -> list:
        """The distinct first-column values of `sql`, its `IN ({})` filled with `values` a chunk at a time."""
        found: set = set()
        for chunk in _chunks(values):
            found.update(row[0] for row in self.conn.execute(sql.format(",".join("?" * len(chunk))), chunk))
        return sorted(found)

    def _add_understanding(self, doc: Document) -> None:
        self.conn.executemany(
            "INSERT INTO entities (doc_id, idx, text, type, canonical, role, source, paragraph, start, \"end\")"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(doc.id, i, e.text, e.type, e.canonical, e.role, e.source, e.paragraph, e.start, e.end)
             for i, e in enumerate(doc.entities)],
        )
        self.conn.executemany(
            "INSERT INTO quotes (doc_id, idx, speaker, speaker_canonical, speaker_kind, cue, cue_class, content,"
            " direct, paragraph, start, \"end\", via, evidence) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(doc.id, i, q.speaker, q.speaker_canonical, q.speaker_kind, q.cue, q.cue_class, q.content,
              int(q.direct), q.paragraph, q.start, q.end, json.dumps(q.via, ensure_ascii=False), q.evidence)
             for i, q in enumerate(doc.quotes)],
        )
        self.conn.executemany(
            "INSERT INTO citations (doc_id, idx, source, source_id, kind, paragraph, start, \"end\")"
            " VALUES (?,?,?,?,?,?,?,?)",
            [(doc.id, i, c.source, c.source_id, c.kind, c.paragraph, c.start, c.end)
             for i, c in enumerate(doc.citations)],
        )
        self.conn.executemany(
            "INSERT INTO time_expressions (doc_id, idx, text, value, granularity, anchor, paragraph, start, \"end\")"
            " VALUES (?,?,?,?,?,?,?,?,?)",
            [(doc.id, i, t.text, t.value, t.granularity, t.anchor, t.paragraph, t.start, t.end)
             for i, t in enumerate(doc.times)],
        )

    def quotes(self, speaker: str | None = None, cue_class: str | None = None, limit: int = 100) -> list[dict]:
        """Quotes across the workspace, newest document first; `speaker` matches speaker or canonical."""
        where, params = [], []
        if speaker:
            where.append("(q.speaker LIKE ? OR q.speaker_canonical LIKE ?)")
            params += [f"%{speaker}%", f"%{speaker}%"]
        if cue_class:
            where.append("q.cue_class = ?")
            params.append(cue_class)
        rows = self.conn.execute(
            "SELECT q.doc_id, d.title, d.outlet, d.published, q.speaker, q.speaker_canonical, q.speaker_kind, q.cue,"
            " q.cue_class, q.content, q.direct, q.paragraph, q.start, q.end, q.via, q.evidence"
            " FROM quotes q JOIN documents d ON d.id = q.doc_id"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY d.published IS NULL, d.published DESC, q.doc_id, q.idx LIMIT ?",
            (*params, limit),
        ).fetchall()
        keys = ("doc_id", "title", "outlet", "published", "speaker", "speaker_canonical", "speaker_kind", "cue",
                "cue_class", "content", "direct", "paragraph", "start", "end", "via", "evidence")
        result = [dict(zip(keys, row)) for row in rows]
        for row in result:
            row["via"], row["direct"] = json.loads(row["via"]), bool(row["direct"])
        return result

    def entity_mentions(self, type_: str | None = None) -> list[dict]:
        """Every entity mention with its document, for grouping across the workspace."""
        rows = self.conn.execute(
            "SELECT e.doc_id, e.text, e.type, e.canonical, e.role FROM entities e"
            + (" WHERE e.type = ?" if type_ else "") + " ORDER BY e.doc_id, e.idx",
            (type_,) if type_ else (),
        ).fetchall()
        return [dict(zip(("doc_id", "text", "type", "canonical", "role"), row)) for row in rows]

    def add_sources(self, seen: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Record more places where already-stored content was read from; returns the (doc_id, source)
        pairs whose content this workspace does not hold, recorded nowhere (a shard written against
        another workspace, or whose original is in a later shard)."""
        now = _now()
        held, missing = [], []
        with self.conn:
            for doc_id, source in seen:
                if self.has(doc_id):
                    held.append((doc_id, source, now))
                else:
                    missing.append((doc_id, source))
            self.conn.executemany("INSERT INTO document_sources (doc_id, source, seen_at) VALUES (?,?,?)"
                                  " ON CONFLICT DO NOTHING", held)
        return missing

    def add_failures(self, failures: list[tuple[str, str]]) -> None:
        now = _now()
        with self.conn:
            self.conn.executemany("INSERT INTO ingest_failures (source, message, at) VALUES (?,?,?)",
                                  [(s, m, now) for s, m in failures])

    # reading ----------------------------------------------------------------------------------
    def has(self, doc_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone() is not None

    def count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM documents").fetchone()[0]

    def get(self, doc_id: str) -> Document | None:
        """One document by id or unique id prefix, with its raw input."""
        # A range, not LIKE: the primary key finds it (LIKE read every row, seconds at a million).
        prefix = doc_id.strip().lower()
        rows = self.conn.execute(
            "SELECT d.analysis, r.content FROM documents d LEFT JOIN raw_inputs r ON r.doc_id = d.id"
            " WHERE d.id >= ? AND d.id < ? ORDER BY d.id LIMIT 2", (prefix, prefix + "\U0010ffff"),
        ).fetchall()
        if len(rows) != 1:
            return None
        data = json.loads(rows[0][0])
        data["text"] = rows[0][1] or ""
        return Document.from_dict(data)

    def document_rowid(self, doc_id: str) -> int | None:
        """A document's place in ingestion order (what `stored_documents` pages by); None if absent."""
        row = self.conn.execute("SELECT rowid FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return row[0] if row else None

    def stored_documents(self, after: int, limit: int, url_contains: tuple[str, ...] = ()
                         ) -> list[tuple[int, Document]]:
        """(rowid, Document with its raw input) of the documents stored after rowid `after`, in order
        of ingestion: a reader that pages through the workspace (`url_contains`: lower-case strings, only
        documents whose address holds one of them, or a look-alike: LIKE's `_` stands for any letter)."""
        where = " OR ".join(["lower(d.url) LIKE ?"] * len(url_contains))
        rows = self.conn.execute(
            "SELECT d.rowid, d.analysis, r.content FROM documents d JOIN raw_inputs r ON r.doc_id = d.id"
            f" WHERE d.rowid > ?{f' AND ({where})' if where else ''} ORDER BY d.rowid LIMIT ?",
            (after, *(f"%{part}%" for part in url_contains), limit)).fetchall()
        found = []
        for rowid, analysis, content in rows:
            data = json.loads(analysis)
            data["text"] = content
            found.append((rowid, Document.from_dict(data)))
        return found

    def list(self, limit: int | None = None, offset: int = 0, outlet: str | None = None,
             since: str | None = None, until: str | None = None) -> list[dict]:
        """Document summaries, newest publication first, then by ingestion order."""
        where, params = _document_filters(outlet, since, until)
        sql = (
            "SELECT id, title, outlet, published, language, format, source,"
            " (SELECT count(*) FROM paragraphs p WHERE p.doc_id = d.id),"
            " (SELECT count(*) FROM removed_blocks b WHERE b.doc_id = d.id)"
            " FROM documents d" + where
            + " ORDER BY published IS NULL, published DESC, rowid LIMIT ? OFFSET ?"
        )
        rows = self.conn.execute(sql, (*params, limit if limit is not None else NO_LIMIT, offset)).fetchall()
        keys = ("id", "title", "outlet", "published", "language", "format", "source", "paragraphs", "removed")
        return [dict(zip(keys, row)) for row in rows]

    def failures(self) -> list[dict]:
        rows = self.conn.execute("SELECT source, message, at FROM ingest_failures ORDER BY id").fetchall()
        return [{"source": s, "message": m, "at": a} for s, m, a in rows]

    # source reliability ----------------------------------------------------------------------
    def reliabilities(self) -> dict[str, float]:
        """Reliability set by users, per outlet (outlets absent here use the default of their kind)."""
        return dict(self.conn.execute("SELECT outlet, reliability FROM source_reliability").fetchall())

    def set_reliability(self, outlet: str, reliability: float, note: str | None = None) -> None:
        if not 0 <= reliability <= 1:
            raise ValueError(f"reliability must be between 0 and 1, not {reliability}")
        with self.conn:
            self.conn.execute(
                "INSERT INTO source_reliability (outlet, reliability, note, updated_at) VALUES (?,?,?,?)"
                " ON CONFLICT (outlet) DO UPDATE SET reliability = excluded.reliability, note = excluded.note,"
                " updated_at = excluded.updated_at", (outlet, reliability, note, _now()))

    def outlets(self) -> list[tuple[str, int]]:
        """Every outlet in the workspace with its number of documents, most documents first."""
        return self.conn.execute(
            "SELECT outlet, count(*) FROM documents WHERE outlet IS NOT NULL GROUP BY outlet"
            " ORDER BY count(*) DESC, outlet").fetchall()

    # web API -----------------------------------------------------------------------------------
    def count_documents(self, outlet: str | None = None, since: str | None = None, until: str | None = None) -> int:
        """How many documents `list` would give with the same filters and no limit."""
        where, params = _document_filters(outlet, since, until)
        return self.conn.execute("SELECT count(*) FROM documents" + where, params).fetchone()[0]

    def story_of(self, doc_id: str) -> int | None:
        """The id of the story `doc_id` belongs to, if it has been clustered into one."""
        row = self.conn.execute("SELECT story_id FROM story_members WHERE doc_id = ?", (doc_id,)).fetchone()
        return row[0] if row else None

    def reliability_rows(self) -> dict[str, dict]:
        """Reliability set by users with its note: outlet -> {reliability, note}."""
        return {outlet: {"reliability": value, "note": note} for outlet, value, note in self.conn.execute(
            "SELECT outlet, reliability, note FROM source_reliability ORDER BY outlet")}
