"""Search latency, claim-check time and workspace size from 31k to 1 million articles, on SQLite and PostgreSQL.

    python bench/scale.py [--sizes 31000,1000000] [--backends sqlite,postgres] [--postgres URL]
                          [--source /tmp/tabayyun-bench/snn31k.db] [--rounds 3] [--claims 5]
                          [--folder /tmp/tabayyun-bench] [--format table|json]

Each workspace holds N synthetic articles recombined from the real, already analysed SaudiNewsNet
articles of `--source` (`bench/scale_corpus.py`; build that workspace with `python bench/serve_search.py`).
They are bulk-loaded once (SQLite: FOLDER/synthetic-N.db; PostgreSQL: schema synthetic_N of the
--postgres database) and reused by later runs; an interrupted load goes on where it stopped. Then,
per workspace:

    search   tabayyun.search.search, full text (embeddings=False), k=20, over bench/serve_search.py's
             45 queries, one warm-up pass and --rounds measured passes: p50, p95, max
    check    tabayyun.check.check(embeddings=False) of --claims claims made from stored titles: median, max
    size     bytes per article (SQLite: the file and its WAL; PostgreSQL: every table of the schema)

Every p95 is also given as a ratio to the p95 of the smallest SQLite workspace, measured in the same
run. The goal (issue 7) is a search p95 under 100 ms at 1M articles on at least one backend.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from scale_corpus import Source, load_postgres, load_sqlite, stored_articles  # noqa: E402
from search import percentiles  # noqa: E402
from serve_search import DEFAULT_DB, QUERIES, workspace_size  # noqa: E402

from tabayyun.check import check  # noqa: E402
from tabayyun.search import search  # noqa: E402
from tabayyun.store import open_storage  # noqa: E402

K = 20
GOAL_MS = 100.0
DEFAULT_POSTGRES = os.environ.get("TABAYYUN_BENCH_POSTGRES", "postgresql://tabayyun:tabayyun@127.0.0.1:5432/tabayyun_bench")


@dataclass
class Row:
    backend: str
    articles: int
    bytes_per_article: int
    load_s: float | None       # None: reused
    search_p50_ms: float
    search_p95_ms: float
    search_max_ms: float
    check_median_s: float | None
    check_max_s: float | None
    ratio: float = 1.0         # search p95 / the smallest SQLite workspace's


def schema_address(url: str, schema: str) -> str:
    """The address of one schema of the database at `url` (bench/engine.py uses it too)."""
    return f"{url}{'&' if '?' in url else '?'}options={quote(f'-csearch_path={schema}')}"


def ensure_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')


def postgres_size(address: str) -> int:
    storage = open_storage(address, readonly=True)
    try:
        return int(storage.conn.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'"
        ).fetchone()[0])
    finally:
        storage.close()


def workspace(backend: str, count: int, args, source: Source | None) -> tuple[str, float | None, Source | None]:
    """The address of the workspace of `count` articles (loaded now when incomplete), the load's
    seconds (None when reused) and the source (read on first need)."""
    if backend == "sqlite":
        address = str(args.folder / f"synthetic-{count}.db")
    else:
        ensure_schema(args.postgres, f"synthetic_{count}")
        address = schema_address(args.postgres, f"synthetic_{count}")
    stored = stored_articles(address)
    if stored >= count:
        return address, None, source
    source = source or Source.read(args.source)
    print(f"loading {count} articles into {backend} ({stored} already there)", file=sys.stderr, flush=True)
    started = time.perf_counter()
    if backend == "sqlite":
        load_sqlite(source, Path(address), count)
    else:
        load_postgres(source, address, count)
    return address, round(time.perf_counter() - started, 1), source


def claims_from(storage, count: int) -> list[str]:
    """Claims from the titles of stored articles spread over the workspace (the same for every size)."""
    titles = [row[0] for row in storage.conn.execute(
        "SELECT title FROM documents WHERE title IS NOT NULL AND length(title) > 30 ORDER BY rowid LIMIT 400")]
    step = max(1, len(titles) // max(1, count))
    return titles[::step][:count]


def time_search(storage, rounds: int) -> list[float]:
    for query in QUERIES:
        search(storage, query, k=K, embeddings=False)
    latencies = []
    for _ in range(rounds):
        for query in QUERIES:
            started = time.perf_counter()
            search(storage, query, k=K, embeddings=False)
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def time_checks(storage, claims: list[str]) -> list[float]:
    seconds = []
    for claim in claims:
        started = time.perf_counter()
        check(storage, claim, embeddings=False)
        seconds.append(time.perf_counter() - started)
    return seconds


def measure(backend: str, count: int, address: str, load_s: float | None, args) -> Row:
    storage = open_storage(address, readonly=True)
    try:
        latencies = time_search(storage, args.rounds)
        checks = time_checks(storage, claims_from(storage, args.claims)) if args.claims else []
        articles = storage.count()
    finally:
        storage.close()
    size = workspace_size(Path(address)) if backend == "sqlite" else postgres_size(address)
    p50, p95 = percentiles(latencies)
    return Row(backend, articles, round(size / max(1, articles)), load_s, round(p50, 1), round(p95, 1),
               round(max(latencies), 1), round(statistics.median(checks), 2) if checks else None,
               round(max(checks), 2) if checks else None)


def print_table(rows: list[Row]) -> None:
    print(f"search k={K}, full text, {len(QUERIES)} queries; ratio = p95 / the smallest SQLite workspace's p95;"
          f" goal p95 < {GOAL_MS:.0f} ms at 1M")
    print(f"{'backend':<9}{'articles':>10}{'KiB/article':>12}{'load s':>9}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
          f"{'ratio':>8}{'check med s':>13}{'check max s':>13}")
    for row in rows:
        load = f"{row.load_s:>9.0f}" if row.load_s is not None else f"{'reused':>9}"
        check_cells = (f"{row.check_median_s:>13.2f}{row.check_max_s:>13.2f}" if row.check_median_s is not None
                       else f"{'-':>13}{'-':>13}")
        print(f"{row.backend:<9}{row.articles:>10}{row.bytes_per_article / 1024:>12.1f}{load}{row.search_p50_ms:>9.1f}"
              f"{row.search_p95_ms:>9.1f}{row.search_max_ms:>9.1f}{row.ratio:>7.2f}x{check_cells}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="31000,1000000", help="comma-separated article counts")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="a postgresql:// database (a schema per size)")
    parser.add_argument("--source", type=Path, default=DEFAULT_DB, help="the workspace of real articles recombined")
    parser.add_argument("--folder", type=Path, default=DEFAULT_DB.parent)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--claims", type=int, default=5)
    parser.add_argument("--format", choices=("table", "json"), default="table")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.source.exists():
        print(f"{args.source} not found: build it first with `python bench/serve_search.py`", file=sys.stderr)
        return 1
    args.folder.mkdir(parents=True, exist_ok=True)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    rows: list[Row] = []
    source = None
    for backend in args.backends.split(","):
        for count in sizes:
            address, load_s, source = workspace(backend, count, args, source)
            rows.append(measure(backend, count, address, load_s, args))
            print(f"  {asdict(rows[-1])}", file=sys.stderr, flush=True)
    reference = next((row for row in rows if row.backend == "sqlite"), rows[0]).search_p95_ms
    for row in rows:
        row.ratio = round(row.search_p95_ms / max(reference, 1e-9), 2)
    if args.format == "json":
        print(json.dumps([asdict(row) for row in rows], indent=1))
    else:
        print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
