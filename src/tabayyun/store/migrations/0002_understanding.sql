-- Workspace schema version 2: what the article-understanding stages find, one row per item, so the
-- workspace can be searched by entity, speaker and cue class. Every row points at its evidence:
-- a paragraph index and character offsets into that paragraph's text.
CREATE TABLE entities (
    doc_id    TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    idx       INTEGER NOT NULL,
    text      TEXT NOT NULL,                -- the mention as written
    type      TEXT NOT NULL,                -- PER, ORG, LOC, MISC
    canonical TEXT NOT NULL,                -- the name all mentions of the entity share in the article
    role      TEXT,                         -- the title the text gives a person
    source    TEXT NOT NULL,                -- model, gazetteer
    paragraph INTEGER NOT NULL,
    start     INTEGER NOT NULL,
    end       INTEGER NOT NULL,
    PRIMARY KEY (doc_id, idx)
);
CREATE INDEX entities_canonical ON entities (canonical);
CREATE INDEX entities_type ON entities (type);

CREATE TABLE quotes (
    doc_id            TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    idx               INTEGER NOT NULL,
    speaker           TEXT,
    speaker_canonical TEXT,
    speaker_kind      TEXT NOT NULL,        -- person, organization, anonymous, document, unknown
    cue               TEXT NOT NULL,        -- the reporting verb as written
    cue_class         TEXT NOT NULL,        -- assert, deny, confirm, report, refuse_comment, warn
    content           TEXT NOT NULL,
    direct            INTEGER NOT NULL,     -- 1 for a quotation, 0 for reported speech
    paragraph         INTEGER NOT NULL,
    start             INTEGER NOT NULL,
    end               INTEGER NOT NULL,
    via               TEXT NOT NULL,        -- JSON list: outlet, then the agencies it came through
    evidence          TEXT NOT NULL,        -- how the speaker was found
    PRIMARY KEY (doc_id, idx)
);
CREATE INDEX quotes_speaker ON quotes (speaker_canonical);
CREATE INDEX quotes_cue_class ON quotes (cue_class);

CREATE TABLE citations (
    doc_id    TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    idx       INTEGER NOT NULL,
    source    TEXT NOT NULL,
    source_id TEXT,                         -- registry id (resources/sources.tsv) when known
    kind      TEXT NOT NULL,                -- dateline, credit, attribution
    paragraph INTEGER,                      -- NULL for a credit line among the removed blocks
    start     INTEGER NOT NULL,
    end       INTEGER NOT NULL,
    PRIMARY KEY (doc_id, idx)
);
CREATE INDEX citations_source ON citations (source_id);

CREATE TABLE time_expressions (
    doc_id      TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    idx         INTEGER NOT NULL,
    text        TEXT NOT NULL,
    value       TEXT,                       -- ISO date, YYYY-MM, YYYY, or START/END
    granularity TEXT NOT NULL,
    anchor      TEXT,                       -- the date relative expressions were resolved against
    paragraph   INTEGER NOT NULL,
    start       INTEGER NOT NULL,
    end         INTEGER NOT NULL,
    PRIMARY KEY (doc_id, idx)
);
CREATE INDEX time_expressions_value ON time_expressions (value);
