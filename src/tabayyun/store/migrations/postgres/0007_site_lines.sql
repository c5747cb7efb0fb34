-- Workspace schema version 7 (PostgreSQL dialect of ../0007_site_lines.sql): lines sites repeat.
CREATE TABLE site_pages (
    host TEXT COLLATE "C" NOT NULL,
    page BIGINT NOT NULL,
    PRIMARY KEY (host, page)
);

CREATE TABLE site_lines (
    host  TEXT COLLATE "C" NOT NULL,
    line  BIGINT NOT NULL,
    pages INTEGER NOT NULL,
    PRIMARY KEY (host, line)
);
