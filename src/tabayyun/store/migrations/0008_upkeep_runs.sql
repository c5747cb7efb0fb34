-- Workspace schema version 8: where an unfinished `tabayyun reprocess` got to, written after each
-- committed batch, so that `tabayyun reprocess --resume` goes on after a run that was stopped in any
-- way (a SIGKILL or a power cut prints nothing). A run that finishes removes its row.
CREATE TABLE upkeep_runs (
    task         TEXT PRIMARY KEY,         -- 'reprocess'
    options      TEXT NOT NULL,            -- JSON: what the run was asked (analysis stages, sites, reference date)
    done_through TEXT,                     -- every document up to this id, in ingestion order, is done
    started_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
