-- Workspace schema version 3 (PostgreSQL dialect of ../0003_search.sql): hybrid search.
-- Instead of FTS5, each unit's stems (tabayyun's own normalized light stems, the same `terms` text
-- SQLite indexes) feed a tsvector with the 'simple' configuration (no stemming, no stop words: the
-- stemming is already done) under a GIN index. `length` (tokens in the unit) and the row count give
-- the BM25 of `PostgresStorage.fulltext_units`, the ranking FTS5 uses.
CREATE TABLE search_units (
    rowid  BIGSERIAL PRIMARY KEY,
    doc_id TEXT COLLATE "C" NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    idx    INTEGER NOT NULL,
    terms  TEXT NOT NULL,
    tsv    TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, terms)) STORED,
    -- tokens as FTS5's unicode61 counts them: runs of characters other than spaces and ASCII punctuation
    length INTEGER GENERATED ALWAYS AS (regexp_count(terms, '[^ !-/:-@[-`{-~]+')) STORED,
    UNIQUE (doc_id, idx)
);
CREATE INDEX search_units_tsv ON search_units USING GIN (tsv);

-- Embedding vectors, cached by content (no pgvector in Debian: bytes, scored with numpy as on SQLite).
CREATE TABLE embeddings (
    key        TEXT COLLATE "C" PRIMARY KEY,
    model      TEXT COLLATE "C" NOT NULL,
    kind       TEXT NOT NULL,
    dim        INTEGER NOT NULL,
    vector     BYTEA NOT NULL,             -- little-endian float16 (dim * 2 bytes) or float32 (dim * 4)
    created_at TEXT NOT NULL
);

CREATE TABLE lead_embeddings (
    doc_id TEXT COLLATE "C" NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    model  TEXT COLLATE "C" NOT NULL,
    key    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (doc_id, model)
);
