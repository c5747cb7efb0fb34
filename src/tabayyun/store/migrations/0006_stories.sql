-- Workspace schema version 6: stories (events). Articles are clustered online: each new document
-- joins the best-matching story or starts one (see `tabayyun.connect.stories`). Documents stored
-- before this version, or ingested without a clustering run, are assigned when stories are next read.

-- One row per story: `label` is its most central headline (the title of `label_doc`), `first` and
-- `last` the span of its members' publication dates (NULL while no member is dated).
CREATE TABLE stories (
    id         INTEGER PRIMARY KEY,
    label      TEXT,
    label_doc  TEXT,
    first      TEXT,
    last       TEXT,
    updated_at TEXT NOT NULL
);

-- One row per clustered document (a document is in one story): `score` the similarity with which it
-- joined (1.0 for the document that started the story), `reason` a JSON object with the parts of
-- that score (embedding, terms, entities, days, duplicate_of, started).
CREATE TABLE story_members (
    doc_id    TEXT PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
    story_id  INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    score     REAL NOT NULL,
    reason    TEXT NOT NULL,
    joined_at TEXT NOT NULL
);
CREATE INDEX story_members_story ON story_members (story_id);
