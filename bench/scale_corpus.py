"""A synthetic corpus of up to millions of articles, recombined from already analysed SaudiNewsNet articles.

Issue 7's benchmarks need workspaces far bigger than the 31k real articles. Running the pipeline on a
million pages would take days on 2 cores, so the big workspaces are bulk-loaded instead: article i
takes a random real article's title and lead, keeps or swaps each later paragraph for a paragraph of
another random article, and gets a new publication date (2010-2026) and one of 400 synthetic
outlets. The stems the full-text index holds are the real articles' own (already computed by the
pipeline), so the index has the vocabulary, lengths and term frequencies of real Arabic news. Nothing
is written but the workspace itself: the corpus is generated on the fly, from the seed, never stored.

    from scale_corpus import Source, load_sqlite, load_postgres
    source = Source.read(Path("/tmp/tabayyun-bench/snn31k.db"))   # a workspace of real articles
    load_sqlite(source, Path("/tmp/tabayyun-bench/synthetic-1000000.db"), 1_000_000)
    write_jsonl(source, Path("/tmp/synthetic"), 100_000)   # raw JSONL shards, for the ingest benchmarks
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from tabayyun.store import open_storage  # noqa: E402

OUTLETS = 400
FIRST_DAY = date(2010, 1, 1)
DAYS = (date(2026, 10, 31) - FIRST_DAY).days
SWAP_PARAGRAPH = 0.5
BATCH = 2000
SEED = 7
EVIDENCE = {"source": "synthetic recombination (bench/scale_corpus.py)", "text": "", "line": None,
            "confidence": 1.0, "note": ""}


@dataclass
class Source:
    """The real articles recombined: per article its title, title stems, and (text, stems) paragraphs."""

    titles: list[tuple[str, str]]
    paragraphs: list[list[tuple[str, str]]]

    @classmethod
    def read(cls, db: Path) -> Source:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            stems = {(doc_id, idx): terms for doc_id, idx, terms in conn.execute(
                "SELECT doc_id, idx, terms FROM search_units")}
            texts: dict[str, list[tuple[str, str]]] = {}
            for doc_id, idx, text in conn.execute("SELECT doc_id, idx, text FROM paragraphs ORDER BY doc_id, idx"):
                texts.setdefault(doc_id, []).append((text, stems.get((doc_id, idx), "")))
            titles, paragraphs = [], []
            for doc_id, title in conn.execute("SELECT id, coalesce(title, '') FROM documents ORDER BY rowid"):
                if doc_id in texts:
                    titles.append((title, stems.get((doc_id, -1), "")))
                    paragraphs.append(texts[doc_id])
        finally:
            conn.close()
        if not titles:
            raise SystemExit(f"{db} holds no article with paragraphs to recombine")
        return cls(titles, paragraphs)


@dataclass
class Article:
    id: str
    title: str
    outlet: str
    published: str
    paragraphs: list[tuple[str, str]]   # (text, stems)
    title_stems: str
    number: int

    def analysis(self) -> str:
        """The stored analysis (`Document.to_dict` of the `basic` level): no spans to keep consistent."""
        return json.dumps({
            "id": self.id, "path": f"synthetic:{self.number}", "url": None, "format": "text", "encoding": None,
            "title": self.title, "title_evidence": EVIDENCE, "outlet": self.outlet, "outlet_evidence": EVIDENCE,
            "published": self.published, "published_evidence": EVIDENCE, "language": "ar",
            "language_evidence": EVIDENCE, "paragraphs": [text for text, _ in self.paragraphs],
            "removed": [], "entities": [], "times": [], "quotes": [], "citations": []}, ensure_ascii=False)

    def raw(self) -> str:
        return "\n\n".join([self.title, *(text for text, _ in self.paragraphs)])


def articles(source: Source, count: int, seed: int = SEED) -> Iterator[Article]:
    """`count` recombined articles, the same for the same seed."""
    rng = random.Random(seed)
    total = len(source.titles)
    for number in range(count):
        base = rng.randrange(total)
        paragraphs = list(source.paragraphs[base])
        for i in range(1, len(paragraphs)):
            if rng.random() < SWAP_PARAGRAPH:
                other = source.paragraphs[rng.randrange(total)]
                paragraphs[i] = other[rng.randrange(len(other))]
        title, title_stems = source.titles[base]
        outlet = f"synthetic-{rng.randrange(OUTLETS):03d}"
        published = (FIRST_DAY + timedelta(days=rng.randrange(DAYS))).isoformat()
        key = "\x1f".join([title, outlet, published, *(text for text, _ in paragraphs), str(number)])
        yield Article(hashlib.sha256(key.encode()).hexdigest()[:16], title, outlet, published, paragraphs,
                      title_stems, number)


def write_jsonl(source: Source, folder: Path, count: int, shard_lines: int = 5000) -> Path:
    """`count` synthetic articles as JSONL records (title, text, outlet, published, url) in shards of
    `shard_lines` under `folder` (the reader caps one JSONL file at about 100 MB), for the ingest
    benchmarks: the pipeline analyses them from their text, as it would real pages."""
    folder.mkdir(parents=True, exist_ok=True)
    out = None
    for article in articles(source, count):
        if article.number % shard_lines == 0:
            if out is not None:
                out.close()
            out = (folder / f"shard-{article.number // shard_lines:04d}.jsonl").open("w", encoding="utf-8")
        record = {"title": article.title, "text": "\n\n".join(text for text, _ in article.paragraphs),
                  "outlet": article.outlet, "published": article.published,
                  "url": f"https://{article.outlet}.example/{article.number}"}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    if out is not None:
        out.close()
    return folder


def batches(source: Source, count: int, start: int = 0) -> Iterator[list[Article]]:
    """The articles from number `start` on (a resumed load skips those stored), BATCH at a time."""
    batch: list[Article] = []
    for article in articles(source, count):
        if article.number < start:
            continue
        batch.append(article)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _rows(batch: list[Article], now: str) -> dict[str, list[tuple]]:
    return {
        "documents": [(a.id, f"synthetic:{a.number}", None, "text", None, a.title, a.outlet, a.published, "ar",
                       a.analysis(), now) for a in batch],
        "raw_inputs": [(a.id, raw, len(raw.encode())) for a in batch for raw in (a.raw(),)],
        "paragraphs": [(a.id, i, text) for a in batch for i, (text, _) in enumerate(a.paragraphs)],
        "document_sources": [(a.id, f"synthetic:{a.number}", now) for a in batch],
        "search_units": [(a.id, i, stems) for a in batch
                         for i, stems in [(-1, a.title_stems), *((j, s) for j, (_, s) in enumerate(a.paragraphs))]],
    }


COLUMNS = {
    "documents": "id, source, url, format, encoding, title, outlet, published, language, analysis, ingested_at",
    "raw_inputs": "doc_id, content, size",
    "paragraphs": "doc_id, idx, text",
    "document_sources": "doc_id, source, seen_at",
    "search_units": "doc_id, idx, terms",
}


def stored_articles(address: str | Path) -> int:
    """How many articles the workspace holds, creating it (empty, with the project's migrations) when
    it does not exist. An existing one is only read: opened for writing, a workspace would compute what
    the bulk load leaves out (near-duplicate signatures of every article, for hours)."""
    try:
        storage = open_storage(address, readonly=True)
    except (RuntimeError, sqlite3.Error):
        storage = open_storage(address)
    try:
        return storage.count()
    finally:
        storage.close()


def _progress(done: int, count: int, started: float) -> None:
    if done % 50_000 < BATCH or done == count:
        rate = done / max(time.perf_counter() - started, 1e-9)
        print(f"  loaded {done}/{count} articles, {rate:.0f}/s", file=sys.stderr, flush=True)


def load_sqlite(source: Source, db: Path, count: int) -> int:
    """Bulk-load `count` articles into a SQLite workspace (created with the project's migrations; a
    rerun goes on from the articles stored); returns how many are stored."""
    stored = stored_articles(db)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1000000")
    now = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    started = time.perf_counter()
    for batch in batches(source, count, stored):
        with conn:
            for table, rows in _rows(batch, now).items():
                marks = ",".join("?" * len(rows[0]))
                conn.executemany(f"INSERT INTO {table} ({COLUMNS[table]}) VALUES ({marks})", rows)
        stored += len(batch)
        _progress(stored, count, started)
    conn.execute("PRAGMA optimize")
    conn.close()
    return stored


def load_postgres(source: Source, address: str, count: int) -> int:
    """Bulk-load `count` articles into a PostgreSQL workspace with COPY (created with the project's
    migrations; a rerun goes on from the articles stored); returns how many are stored."""
    import psycopg

    stored = stored_articles(address)
    with psycopg.connect(address, autocommit=True) as conn:
        # One GIN build after the load is far cheaper than keeping the index up to date row by row.
        conn.execute("DROP INDEX IF EXISTS search_units_tsv")
        now = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
        started = time.perf_counter()
        for batch in batches(source, count, stored):
            with conn.transaction():
                for table, rows in _rows(batch, now).items():
                    with conn.cursor().copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row([value.replace("\x00", "\ufffd") if isinstance(value, str) else value
                                            for value in row])
            stored += len(batch)
            _progress(stored, count, started)
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("CREATE INDEX IF NOT EXISTS search_units_tsv ON search_units USING GIN (tsv)")
        conn.execute("VACUUM ANALYZE")
    return stored
