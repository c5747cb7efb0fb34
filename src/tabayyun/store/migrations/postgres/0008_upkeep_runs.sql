-- Workspace schema version 8 (PostgreSQL dialect of ../0008_upkeep_runs.sql): unfinished upkeep runs.
CREATE TABLE upkeep_runs (
    task         TEXT COLLATE "C" PRIMARY KEY,
    options      TEXT NOT NULL,
    done_through TEXT COLLATE "C",
    started_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
