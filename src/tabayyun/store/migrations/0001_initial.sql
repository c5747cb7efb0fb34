-- Workspace schema version 1: documents, their raw input, clean paragraphs and removed boilerplate.
CREATE TABLE documents (
    id          TEXT PRIMARY KEY,          -- sha256 of the decoded content, first 16 hex digits
    source      TEXT,                      -- where it was first read: a path, path:line, path#record
    url         TEXT,
    format      TEXT NOT NULL,             -- 'text' (flattened page) or 'html'
    encoding    TEXT,                      -- detected input encoding (NULL for JSON string fields)
    title       TEXT,
    outlet      TEXT,
    published   TEXT,                      -- ISO date (YYYY-MM-DD) or NULL
    language    TEXT,
    analysis    TEXT NOT NULL,             -- JSON: the full `analyze` object with every evidence
    ingested_at TEXT NOT NULL              -- UTC timestamp
);
CREATE INDEX documents_published ON documents (published);
CREATE INDEX documents_outlet ON documents (outlet);

CREATE TABLE raw_inputs (
    doc_id  TEXT PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
    content TEXT NOT NULL,                 -- the decoded input, exactly as read (text or HTML)
    size    INTEGER NOT NULL               -- bytes of the input before decoding
);

CREATE TABLE paragraphs (
    doc_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    idx    INTEGER NOT NULL,
    text   TEXT NOT NULL,
    PRIMARY KEY (doc_id, idx)
);

CREATE TABLE removed_blocks (
    doc_id     TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    kind       TEXT NOT NULL,              -- menu, ticker, masthead, related, caption, credit, comments,
                                           -- repeated_title, date_line, other
    text       TEXT NOT NULL,
    rule       TEXT NOT NULL,              -- the rule that removed it
    line_start INTEGER,                    -- line range in the cleaned input, NULL for HTML markup
    line_end   INTEGER,
    PRIMARY KEY (doc_id, idx)
);
CREATE INDEX removed_blocks_kind ON removed_blocks (kind);

CREATE TABLE document_sources (
    doc_id  TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    source  TEXT NOT NULL,                 -- every place the same content was read from
    seen_at TEXT NOT NULL,
    PRIMARY KEY (doc_id, source)
);

CREATE TABLE ingest_failures (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    source  TEXT NOT NULL,
    message TEXT NOT NULL,
    at      TEXT NOT NULL
);
