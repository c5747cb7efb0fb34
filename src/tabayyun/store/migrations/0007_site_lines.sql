-- Workspace schema version 7: the lines each site repeats across its pages, counted over every
-- ingest into the workspace (`tabayyun.clean.siterepeats`), so a page ingested later is cleaned with
-- what the site's earlier pages showed. Hashes only: no text is kept here.

-- The pages counted, per host: a page's identity is the hash of its set of long lines, so an exact
-- re-scrape (or the same page ingested again) counts once.
CREATE TABLE site_pages (
    host TEXT NOT NULL,
    page INTEGER NOT NULL,                 -- 64-bit hash of the page's long lines, as a signed integer
    PRIMARY KEY (host, page)
);

-- Per host, how many of its counted pages each long line stands on.
CREATE TABLE site_lines (
    host  TEXT NOT NULL,
    line  INTEGER NOT NULL,                -- 64-bit hash of the line's match form, as a signed integer
    pages INTEGER NOT NULL,
    PRIMARY KEY (host, line)
);
