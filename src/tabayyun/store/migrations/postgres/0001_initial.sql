-- Workspace schema version 1 (PostgreSQL dialect of ../0001_initial.sql: same tables and columns).
-- Text that is compared or ordered uses the "C" collation, so ordering matches SQLite's byte order
-- whatever the database's locale; `rowid` keeps SQLite's ingestion order.
CREATE TABLE documents (
    id          TEXT COLLATE "C" PRIMARY KEY,  -- sha256 of the decoded content, first 16 hex digits
    rowid       BIGSERIAL NOT NULL UNIQUE,     -- ingestion order, as SQLite's rowid
    source      TEXT,
    url         TEXT,
    format      TEXT NOT NULL,
    encoding    TEXT,
    title       TEXT COLLATE "C",
    outlet      TEXT COLLATE "C",
    published   TEXT COLLATE "C",              -- ISO date (YYYY-MM-DD) or NULL
    language    TEXT,
    analysis    TEXT NOT NULL,                 -- JSON: the full `analyze` object with every evidence
    ingested_at TEXT NOT NULL
);
CREATE INDEX documents_published ON documents (published);
CREATE INDEX documents_outlet ON documents (outlet);

CREATE TABLE raw_inputs (
    doc_id  TEXT COLLATE "C" PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
    content TEXT NOT NULL,
    size    BIGINT NOT NULL
);

CREATE TABLE paragraphs (
    doc_id TEXT COLLATE "C" NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    idx    INTEGER NOT NULL,
    text   TEXT NOT NULL,
    PRIMARY KEY (doc_id, idx)
);

CREATE TABLE removed_blocks (
    doc_id     TEXT COLLATE "C" NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    kind       TEXT COLLATE "C" NOT NULL,
    text       TEXT NOT NULL,
    rule       TEXT NOT NULL,
    line_start INTEGER,
    line_end   INTEGER,
    PRIMARY KEY (doc_id, idx)
);
CREATE INDEX removed_blocks_kind ON removed_blocks (kind);

CREATE TABLE document_sources (
    doc_id  TEXT COLLATE "C" NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    source  TEXT COLLATE "C" NOT NULL,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (doc_id, source)
);

CREATE TABLE ingest_failures (
    id      BIGSERIAL PRIMARY KEY,
    source  TEXT NOT NULL,
    message TEXT NOT NULL,
    at      TEXT NOT NULL
);
