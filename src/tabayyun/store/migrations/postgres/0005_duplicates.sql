-- Workspace schema version 5 (PostgreSQL dialect of ../0005_duplicates.sql): near-duplicates.
CREATE TABLE minhash_signatures (
    doc_id    TEXT COLLATE "C" PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
    scheme    TEXT COLLATE "C" NOT NULL,
    shingles  INTEGER NOT NULL,
    signature BYTEA NOT NULL               -- little-endian uint32, one per permutation
);

CREATE TABLE duplicate_pairs (
    doc_a       TEXT COLLATE "C" NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    doc_b       TEXT COLLATE "C" NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    jaccard     DOUBLE PRECISION NOT NULL,
    containment DOUBLE PRECISION NOT NULL,
    method      TEXT NOT NULL,
    found_at    TEXT NOT NULL,
    PRIMARY KEY (doc_a, doc_b),
    CHECK (doc_a < doc_b)
);
CREATE INDEX duplicate_pairs_b ON duplicate_pairs (doc_b);
