"""Ingestion throughput on SaudiNewsNet (31k articles as zipped JSON), into a fresh SQLite workspace.

    python bench/ingest.py [--shared ../shared] [--limit-files N] [--workers 2] [--embeddings]

Runs the real `ingest` (read, decode, analyze, store in committed batches) at both analysis levels:
`basic` (clean text and metadata) and `full` (plus entities, times, quotes, citations), with 1 worker
on the first day's file (the first row is the reference) and with --workers on the whole corpus (or
--limit-files days); prints articles per second and the ratio to the reference. Ingest reads its
inputs once more first, for the lines each site repeats (`ingest.inputs_repeats`); a row without that
pass shows its cost. `tabayyun reprocess` of the first day, stored by a basic ingest, runs twice:
basic -> full, then again when nothing changes. Lead embeddings
(about 95 ms of CPU an article, six times the whole analysis) are off unless --embeddings: this is
the ingestion and cleaning figure; bench/connect.py measures the whole run with embeddings.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from tabayyun.ingest import ingest  # noqa: E402
from tabayyun.pipeline import ANALYSIS_LEVELS  # noqa: E402
from tabayyun.store import open_storage  # noqa: E402


def run(files: list[Path], workers: int, analysis: str, embed: bool, site_repeats: bool = True
        ) -> tuple[int, int, float]:
    with tempfile.TemporaryDirectory() as folder:
        storage = open_storage(Path(folder) / "bench.db")
        started = time.perf_counter()
        report = ingest(storage, [str(f) for f in files], workers=workers, stages=ANALYSIS_LEVELS[analysis],
                        embed=embed, site_repeats=site_repeats)
        seconds = time.perf_counter() - started
        storage.close()
    return report.stored + report.duplicates, report.failed, seconds


def run_reprocess(files: list[Path], workers: int, embed: bool) -> list[tuple[str, int, int, float]]:
    """`tabayyun reprocess` of the pages stored by a basic ingest (not timed): basic -> full, then
    the same again, when nothing changes (each page is still analysed, to compare)."""
    from tabayyun.reprocess import reprocess

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        storage = open_storage(Path(folder) / "bench.db")
        ingest(storage, [str(f) for f in files], workers=workers, stages=ANALYSIS_LEVELS["basic"], embed=embed)
        for name in ("reprocess basic -> full", "reprocess again, unchanged"):
            started = time.perf_counter()
            report = reprocess(storage, workers=workers, embed=embed)
            rows.append((f"{name}, {workers} workers, first day", report.seen, report.failed,
                         time.perf_counter() - started))
        storage.close()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    parser.add_argument("--limit-files", type=int, default=None, help="only the first N daily files")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--embeddings", action="store_true", help="embed each article's lead too")
    parser.add_argument("--basic-only", action="store_true", help="skip the full-analysis run on the whole corpus")
    args = parser.parse_args()
    folder = args.shared / "data" / "saudinewsnet" / "dataset"
    if not folder.is_dir():
        print(f"skipped: {folder} not found", file=sys.stderr)
        return 0
    files = sorted(folder.glob("*.zip"))[: args.limit_files]
    days = f"{len(files)} days"
    rows = [("basic, 1 worker, first day", *run(files[:1], 1, "basic", args.embeddings))]
    rows.append((f"basic, {args.workers} workers, {days}", *run(files, args.workers, "basic", args.embeddings)))
    rows.append(("  the same, no site repeats pass", *run(files, args.workers, "basic", args.embeddings, False)))
    rows.append(("full, 1 worker, first day", *run(files[:1], 1, "full", args.embeddings)))
    rows.append((f"full, {args.workers} workers, first day", *run(files[:1], args.workers, "full", args.embeddings)))
    rows += run_reprocess(files[:1], args.workers, args.embeddings)
    if not args.basic_only:
        rows.append((f"full, {args.workers} workers, {days}", *run(files, args.workers, "full", args.embeddings)))
    reference = rows[0][1] / rows[0][3]
    print(f"lead embeddings {'on' if args.embeddings else 'off'}")
    print(f"{'run':<46} {'articles':>9} {'failed':>7} {'seconds':>8} {'articles/s':>11} {'ratio':>6}")
    for name, done, failed, seconds in rows:
        rate = done / seconds
        print(f"{name:<46} {done:>9} {failed:>7} {seconds:>8.1f} {rate:>11.1f} {rate / reference:>5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
