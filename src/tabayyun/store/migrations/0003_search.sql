-- Workspace schema version 3: hybrid search. A full-text index over the light stems of every title
-- and paragraph, and a cache of embedding vectors keyed by content, so nothing is embedded twice.
-- Documents stored before this version are indexed when the workspace is next opened for writing.

-- One row per indexed unit: a paragraph (idx = paragraphs.idx) or the title (idx = -1). `terms`
-- holds the light stem of every word, plus the stem without a leading preposition where the
-- conservative split kept one (لبغداد is indexed as لبغداد and بغداد).
CREATE TABLE search_units (
    rowid  INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    idx    INTEGER NOT NULL,                -- paragraph index, -1 for the title
    terms  TEXT NOT NULL,                   -- space-separated stems
    UNIQUE (doc_id, idx)
);

-- The FTS5 index over `search_units.terms` (external content: the text is stored once).
CREATE VIRTUAL TABLE search_fts USING fts5(
    terms, content = 'search_units', content_rowid = 'rowid', tokenize = 'unicode61 remove_diacritics 0'
);
CREATE TRIGGER search_units_insert AFTER INSERT ON search_units BEGIN
    INSERT INTO search_fts (rowid, terms) VALUES (new.rowid, new.terms);
END;
CREATE TRIGGER search_units_delete AFTER DELETE ON search_units BEGIN
    INSERT INTO search_fts (search_fts, rowid, terms) VALUES ('delete', old.rowid, old.terms);
END;

-- Embedding vectors, cached by content: the key is the SHA-256 (hex) of model, kind and normalized text.
CREATE TABLE embeddings (
    key        TEXT PRIMARY KEY,
    model      TEXT NOT NULL,
    kind       TEXT NOT NULL,               -- passage or query (the e5 prefix used)
    dim        INTEGER NOT NULL,
    vector     BLOB NOT NULL,               -- little-endian float16 (dim * 2 bytes) or float32 (dim * 4)
    created_at TEXT NOT NULL
);

-- Which cached vector holds each document's lead (title and first paragraph), per model: the
-- semantic side of search scores all of them with one matrix product.
CREATE TABLE lead_embeddings (
    doc_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    model  TEXT NOT NULL,
    key    TEXT NOT NULL,                   -- embeddings.key (the cache may be emptied: no foreign key)
    PRIMARY KEY (doc_id, model)
);
