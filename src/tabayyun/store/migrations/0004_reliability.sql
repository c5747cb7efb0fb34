-- Workspace schema version 4: how far each outlet is trusted when claims are checked.
-- Outlets without a row get the default of their kind (agency 0.8, known outlet 0.65, unknown 0.5).
CREATE TABLE source_reliability (
    outlet      TEXT PRIMARY KEY,      -- as in documents.outlet
    reliability REAL NOT NULL CHECK (reliability >= 0 AND reliability <= 1),
    note        TEXT,                  -- why: who set it, on what grounds
    updated_at  TEXT NOT NULL
);
