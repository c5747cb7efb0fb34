-- Workspace schema version 6 (PostgreSQL dialect of ../0006_stories.sql): stories. `rowid` keeps the
-- order in which documents joined, as SQLite's rowid does.
CREATE TABLE stories (
    id         INTEGER PRIMARY KEY,
    label      TEXT,
    label_doc  TEXT COLLATE "C",
    first      TEXT COLLATE "C",
    last       TEXT COLLATE "C",
    updated_at TEXT NOT NULL
);

CREATE TABLE story_members (
    doc_id    TEXT COLLATE "C" PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
    rowid     BIGSERIAL NOT NULL UNIQUE,
    story_id  INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    score     DOUBLE PRECISION NOT NULL,
    reason    TEXT NOT NULL,
    joined_at TEXT NOT NULL
);
CREATE INDEX story_members_story ON story_members (story_id);
