-- Workspace schema version 2 (PostgreSQL dialect of ../0002_understanding.sql). `end` is a reserved
-- word in PostgreSQL: the column is quoted, here and in every statement that names it unqualified.
CREATE TABLE entities (
    doc_id    TEXT COLLATE "C" NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    idx       INTEGER NOT NULL,
    text      TEXT COLLATE "C" NOT NULL,
    type      TEXT COLLATE "C" NOT NULL,
    canonical TEXT COLLATE "C" NOT NULL,
    role      TEXT COLLATE "C",
    source    TEXT NOT NULL,
    paragraph INTEGER NOT NULL,
    start     INTEGER NOT NULL,
    "end"     INTEGER NOT NULL,
    PRIMARY KEY (doc_id, idx)
);
CREATE INDEX entities_canonical ON entities (canonical);
CREATE INDEX entities_type ON entities (type);

CREATE TABLE quotes (
    doc_id            TEXT COLLATE "C" NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    idx               INTEGER NOT NULL,
    speaker           TEXT COLLATE "C",
    speaker_canonical TEXT COLLATE "C",
    speaker_kind      TEXT COLLATE "C" NOT NULL,
    cue               TEXT COLLATE "C" NOT NULL,
    cue_class         TEXT COLLATE "C" NOT NULL,
    content           TEXT NOT NULL,
    direct            INTEGER NOT NULL,
    paragraph         INTEGER NOT NULL,
    start             INTEGER NOT NULL,
    "end"             INTEGER NOT NULL,
    via               TEXT NOT NULL,
    evidence          TEXT NOT NULL,
    PRIMARY KEY (doc_id, idx)
);
CREATE INDEX quotes_speaker ON quotes (speaker_canonical);
CREATE INDEX quotes_cue_class ON quotes (cue_class);

CREATE TABLE citations (
    doc_id    TEXT COLLATE "C" NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    idx       INTEGER NOT NULL,
    source    TEXT COLLATE "C" NOT NULL,
    source_id TEXT COLLATE "C",
    kind      TEXT COLLATE "C" NOT NULL,
    paragraph INTEGER,
    start     INTEGER NOT NULL,
    "end"     INTEGER NOT NULL,
    PRIMARY KEY (doc_id, idx)
);
CREATE INDEX citations_source ON citations (source_id);

CREATE TABLE time_expressions (
    doc_id      TEXT COLLATE "C" NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    idx         INTEGER NOT NULL,
    text        TEXT NOT NULL,
    value       TEXT COLLATE "C",
    granularity TEXT COLLATE "C" NOT NULL,
    anchor      TEXT COLLATE "C",
    paragraph   INTEGER NOT NULL,
    start       INTEGER NOT NULL,
    "end"       INTEGER NOT NULL,
    PRIMARY KEY (doc_id, idx)
);
CREATE INDEX time_expressions_value ON time_expressions (value);
