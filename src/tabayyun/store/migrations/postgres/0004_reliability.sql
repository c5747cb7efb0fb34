-- Workspace schema version 4 (PostgreSQL dialect of ../0004_reliability.sql).
CREATE TABLE source_reliability (
    outlet      TEXT COLLATE "C" PRIMARY KEY,
    reliability DOUBLE PRECISION NOT NULL CHECK (reliability >= 0 AND reliability <= 1),
    note        TEXT,
    updated_at  TEXT NOT NULL
);
