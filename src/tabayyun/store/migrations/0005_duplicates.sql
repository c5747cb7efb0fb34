-- Workspace schema version 5: near-duplicate articles. A MinHash signature of each document's clean
-- paragraphs (normalized word 5-shingles), and the near-duplicate pairs found among them.
-- Documents stored before this version are signed (and compared) when the workspace is next opened
-- for writing.

-- One row per document (an article without text gets a row with shingles = 0 and an empty signature,
-- so it is not signed again). `scheme` names the shingling and hashing, so a change can re-sign.
CREATE TABLE minhash_signatures (
    doc_id    TEXT PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
    scheme    TEXT NOT NULL,               -- e.g. minhash-w5-p128 (5-word shingles, 128 permutations)
    shingles  INTEGER NOT NULL,            -- number of distinct shingles
    signature BLOB NOT NULL                -- little-endian uint32, one per permutation
);

-- Near-duplicate pairs, checked on the exact shingle sets: Jaccard >= 0.5 or containment
-- (|A and B| / the smaller set) >= 0.8. Groups are the connected components of these pairs.
CREATE TABLE duplicate_pairs (
    doc_a       TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    doc_b       TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    jaccard     REAL NOT NULL,             -- |A and B| / |A or B| of the shingle sets
    containment REAL NOT NULL,             -- |A and B| / min(|A|, |B|)
    method      TEXT NOT NULL,             -- how the pair was found: minhash-lsh+exact
    found_at    TEXT NOT NULL,
    PRIMARY KEY (doc_a, doc_b),
    CHECK (doc_a < doc_b)
);
CREATE INDEX duplicate_pairs_b ON duplicate_pairs (doc_b);
