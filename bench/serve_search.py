"""Search latency on the whole SaudiNewsNet corpus (31k articles): library, facets, the HTTP API, hybrid.

    python bench/serve_search.py [--db /tmp/tabayyun-bench/snn31k.db] [--limit N] [--rounds 3]
                                 [--format table|json] [--profile facets]

Builds the workspace once (every article, `embed=False`, the `basic` analysis level, which already
fills the full-text index) in a `nice -n 10` subprocess with at most 2 workers, and reuses it when a
finished build is recorded next to it (`DB.build.json`; an interrupted build resumes where it stopped,
stored articles are skipped). Then times a fixed list of Arabic and English queries, one warm-up
pass and `--rounds` measured passes, the modes taking turns on each query:

    search      tabayyun.search.search, full text (embeddings=False), k=20
    facets      tabayyun.search.facets.faceted_search (embeddings=False), k=20
    api         GET /api/v1/search?q=...&embeddings=false through fastapi's TestClient
    hybrid      search with embeddings; the warm-up pass caches the query vectors (needs lead vectors)

and prints p50, p95 and max per mode, each p95 as a ratio to `search`'s p95 measured in the same run,
and the workspace size per article. The goal (issue 6) is a p95 under 100 ms for `facets` and `api`.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from search import NEWS_QUERIES, percentiles, saudinewsnet_sample  # noqa: E402

from tabayyun.ingest import ingest  # noqa: E402
from tabayyun.pipeline import ANALYSIS_LEVELS  # noqa: E402
from tabayyun.store import open_storage  # noqa: E402

DEFAULT_DB = Path("/tmp/tabayyun-bench/snn31k.db")
ALL_ARTICLES = 10**9
ANALYSIS = "basic"          # the cheapest level: clean text and metadata; the full-text index is filled at store
MAX_WORKERS = 2
# The reader caps a JSONL file at 20x the per-item limit (about 100 MB): the corpus is split into shards.
SHARD_LINES = 5000
K = 20
GOAL_MS = 100.0
EXTRA_QUERIES = ["ولي العهد", "مجلس الوزراء يوافق", "الرئيس الأمريكي أوباما", "الأمم المتحدة", "داعش في سوريا",
                 "الهلال والنصر", "أمانة منطقة الرياض", "الدفاع المدني", "الطيران المدني", "مطار الملك عبدالعزيز",
                 "الميزانية العامة للدولة", "صندوق التنمية العقارية", "رمضان", "عيد الفطر", "خادم الحرمين الشريفين",
                 "Saudi Arabia", "Iran nuclear deal", "Yemen", "ISIS", "stock market",
                 "انخفاض أسعار البترول وأثره على الاقتصاد", "الهيئة العامة للرياضة", "جامعة الملك سعود", "المرور",
                 "مكافحة الفساد"]
QUERIES = NEWS_QUERIES + EXTRA_QUERIES


# building the workspace ------------------------------------------------------------------------
def build_record_path(db: Path) -> Path:
    return db.with_name(db.name + ".build.json")


def finished_build(db: Path, limit: int | None) -> dict | None:
    """The record of a finished build of `db` for `limit` articles (None: all) whose document count still matches."""
    record_path = build_record_path(db)
    if not (db.exists() and record_path.exists()):
        return None
    record = json.loads(record_path.read_text(encoding="utf-8"))
    if record.get("limit") != limit:
        return None
    storage = open_storage(db)
    try:
        count = storage.count()
    finally:
        storage.close()
    return record if count == record.get("documents") else None


def write_shards(shared: Path, limit: int, folder: Path) -> list[Path]:
    """The first `limit` articles as JSONL shards of SHARD_LINES lines, through bench/search.py's reader."""
    folder.mkdir(parents=True, exist_ok=True)
    corpus = saudinewsnet_sample(shared, limit, folder)
    if corpus is None:
        raise SystemExit(f"SaudiNewsNet not found under {shared / 'data' / 'saudinewsnet'}")
    lines = corpus.read_text(encoding="utf-8").splitlines(keepends=True)
    corpus.unlink()
    shards = []
    for number, start in enumerate(range(0, len(lines), SHARD_LINES)):
        shard = folder / f"shard-{number:03d}.jsonl"
        shard.write_text("".join(lines[start:start + SHARD_LINES]), encoding="utf-8")
        shards.append(shard)
    return shards


def build(db: Path, shared: Path, limit: int | None, workers: int) -> dict:
    """Ingest the articles into `db` (a rerun resumes: stored ids are skipped) and record the build."""
    db.parent.mkdir(parents=True, exist_ok=True)
    shards = write_shards(shared, limit or ALL_ARTICLES, db.with_name(db.stem + "-corpus"))
    storage = open_storage(db)

    def progress(report) -> None:
        done = report.stored + report.duplicates
        if done and done % 2000 < 200:
            print(f"  ingest: {done} articles, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)

    started = time.perf_counter()
    report = ingest(storage, [str(shard) for shard in shards], workers=min(workers, MAX_WORKERS),
                    stages=ANALYSIS_LEVELS[ANALYSIS], embed=False, on_progress=progress)
    seconds = time.perf_counter() - started
    for shard in shards:
        shard.unlink()
    record = {"limit": limit, "analysis": ANALYSIS, "workers": min(workers, MAX_WORKERS),
              "stored": report.stored, "duplicates": report.duplicates, "failed": report.failed,
              "seconds": round(seconds, 1), "docs_per_s": round((report.stored + report.duplicates) / seconds, 1),
              "resumed": storage.count() != report.stored, "documents": storage.count()}
    storage.close()
    build_record_path(db).write_text(json.dumps(record, indent=1), encoding="utf-8")
    return record


def ensure_workspace(args) -> dict:
    """The build record: reused when finished, else built now in a `nice -n 10` subprocess."""
    record = finished_build(args.db, args.limit)
    if record is not None:
        return {**record, "reused": True}
    command = ["nice", "-n", "10", sys.executable, __file__, "--build-only", "--db", str(args.db),
               "--shared", str(args.shared), "--workers", str(args.workers)]
    if args.limit:
        command += ["--limit", str(args.limit)]
    print(f"building {args.db} ({' '.join(command[:3])} ...)", file=sys.stderr, flush=True)
    subprocess.run(command, check=True)
    record = finished_build(args.db, args.limit)
    if record is None:
        raise SystemExit(f"the build of {args.db} did not finish")
    return {**record, "reused": False}


# measuring -------------------------------------------------------------------------------------
def time_rounds(modes: dict[str, Callable[[str], object]], queries: list[str], rounds: int) -> dict[str, list[float]]:
    """Milliseconds of each call per mode in `rounds` passes over `queries`, after one unmeasured
    warm-up pass. The modes take turns on each query, so a load that comes and goes on a shared
    machine weighs on all of them alike and their ratios hold."""
    for run in modes.values():
        for query in queries:
            run(query)
    latencies: dict[str, list[float]] = {mode: [] for mode in modes}
    for _ in range(rounds):
        for query in queries:
            for mode, run in modes.items():
                started = time.perf_counter()
                run(query)
                latencies[mode].append((time.perf_counter() - started) * 1000)
    return latencies


def library_modes(storage) -> dict[str, Callable[[str], object]]:
    from tabayyun.search import search
    from tabayyun.search.facets import faceted_search

    return {"search": lambda q: search(storage, q, k=K, embeddings=False),
            "facets": lambda q: faceted_search(storage, q, k=K, embeddings=False)}


def api_mode(db: Path) -> tuple[Callable[[str], object] | None, object, str | None]:
    """A caller of GET /api/v1/search through TestClient, the client (to close), or why there is none."""
    from fastapi.testclient import TestClient

    from tabayyun.web import create_app

    path = "/api/v1/search"
    try:
        app = create_app(str(db))
    except Exception as exc:  # noqa: BLE001 - the web app is being built alongside; the library modes still count
        return None, None, f"the web app could not be created ({type(exc).__name__}: {exc}): {path} not measured"
    if path not in app.openapi().get("paths", {}):
        return None, None, f"{path} does not exist yet: the API mode was not measured"
    client = TestClient(app)
    client.__enter__()

    def call(query: str) -> object:
        response = client.get(path, params={"q": query, "embeddings": "false", "k": K})
        if response.status_code != 200:
            raise RuntimeError(f"{path}?q={query!r}: HTTP {response.status_code}: {response.text[:200]}")
        return response

    return call, client, None


def hybrid_mode(storage) -> tuple[Callable[[str], object] | None, str | None]:
    """Hybrid search with one Embedder (query vectors cached after the warm-up), or why it is skipped."""
    from tabayyun.search import Embedder, search

    embedder = Embedder(storage)
    if not embedder.enabled:
        return None, f"hybrid skipped: embeddings off ({embedder.reason})"
    if storage.lead_count(embedder.model) == 0:
        return None, "hybrid skipped: the workspace has no lead vectors (it was built with embed=False)"
    return (lambda q: search(storage, q, k=K, embeddings=embedder)), None


def measure(db: Path, queries: list[str], rounds: int) -> tuple[dict[str, list[float]], list[str]]:
    """Latencies (ms) per mode, and notes on the modes that were not measured."""
    storage = open_storage(db)
    modes = library_modes(storage)
    notes: list[str] = []
    call, client, note = api_mode(db)
    if call is None:
        notes.append(note)
    else:
        modes["api"] = call
    hybrid, note = hybrid_mode(storage)
    if hybrid is None:
        notes.append(note)
    else:
        modes["hybrid"] = hybrid
    try:
        return time_rounds(modes, queries, rounds), notes
    finally:
        if client is not None:
            client.__exit__(None, None, None)
        storage.close()


def profile(db: Path, queries: list[str], mode: str, top: int = 25) -> str:
    """cProfile of one pass of `mode` over the queries (after a warm-up pass), sorted by cumulative time."""
    storage = open_storage(db)
    try:
        run = library_modes(storage)[mode]
        for query in queries:
            run(query)
        profiler = cProfile.Profile()
        profiler.enable()
        for query in queries:
            run(query)
        profiler.disable()
    finally:
        storage.close()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


# reporting -------------------------------------------------------------------------------------
def workspace_size(db: Path) -> int:
    """Bytes of the workspace file and its WAL."""
    return sum(path.stat().st_size for path in (db, db.with_name(db.name + "-wal")) if path.exists())


def summary(results: dict[str, list[float]], queries: int) -> list[dict]:
    reference = percentiles(results["search"])[1]
    rows = []
    for mode, latencies in results.items():
        p50, p95 = percentiles(latencies)
        rows.append({"mode": mode, "queries": queries, "calls": len(latencies), "p50_ms": round(p50, 1),
                     "p95_ms": round(p95, 1), "max_ms": round(max(latencies), 1),
                     "p95_ratio": round(p95 / reference, 2)})
    return rows


def print_table(record: dict, rows: list[dict], notes: list[str], db: Path) -> None:
    size = workspace_size(db)
    how = "reused" if record["reused"] else "built now"
    print(f"workspace {db}: {record['documents']} documents ({how}), {size / 2**20:.0f} MiB,"
          f" {size / max(1, record['documents']) / 1024:.1f} KiB per article")
    print(f"ingest: {record['docs_per_s']} docs/s ({record['analysis']} analysis, embed=False,"
          f" {record['workers']} workers, nice 10, {record['seconds']} s{', resumed' if record['resumed'] else ''})")
    print(f"\nsearch latency, k={K}, in process; ratio = p95 / search's p95; goal p95 < {GOAL_MS:.0f} ms")
    print(f"{'mode':<8} {'queries':>7} {'calls':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'p95 ratio':>10}")
    for row in rows:
        print(f"{row['mode']:<8} {row['queries']:>7} {row['calls']:>6} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f}"
              f" {row['max_ms']:>8.1f} {row['p95_ratio']:>9.2f}x")
    for note in notes:
        print(f"note: {note}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=None, help=f"workspace (default {DEFAULT_DB}; snnN.db with --limit)")
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    parser.add_argument("--limit", type=int, default=None, help="only the first N articles")
    parser.add_argument("--workers", type=int, default=MAX_WORKERS, help=f"ingest workers (at most {MAX_WORKERS})")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--profile", choices=("search", "facets"), help="print a cProfile of one mode instead")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.db is None:
        args.db = DEFAULT_DB if args.limit is None else DEFAULT_DB.with_name(f"snn{args.limit}.db")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.build_only:
        print(json.dumps(build(args.db, args.shared, args.limit, args.workers)), file=sys.stderr)
        return 0
    record = ensure_workspace(args)
    if args.profile:
        print(profile(args.db, QUERIES, args.profile))
        return 0
    results, notes = measure(args.db, QUERIES, args.rounds)
    rows = summary(results, len(QUERIES))
    if args.format == "json":
        size = workspace_size(args.db)
        print(json.dumps({"build": record, "bytes_per_article": round(size / max(1, record["documents"])),
                          "k": K, "rounds": args.rounds, "modes": rows, "notes": notes}, ensure_ascii=False, indent=1))
    else:
        print_table(record, rows, notes, args.db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
