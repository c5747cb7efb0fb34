"""Claim-check time on a workspace of 1,000 SaudiNewsNet articles (2 cores, CPU only).

    python bench/check.py [--shared ../shared] [--articles 1000] [--claims 5]

Builds a fresh workspace from the first N articles (full analysis, leads embedded), then checks
claims made from the titles of N/claims-spaced articles, rewritten so that they are new text:
- cold: a new claim in a fresh process (`tabayyun check`: imports, model loading, embedding the
  claim and the candidate paragraphs);
- new claim: a new claim in a warm process (embeddings of the workspace already cached);
- repeated: the same claim again (every vector cached).
The reference row is full-text search alone in the same process; ratios are against it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from tabayyun.check import check  # noqa: E402
from tabayyun.ingest import ingest  # noqa: E402
from tabayyun.search.hybrid import search  # noqa: E402
from tabayyun.sources.readers import iter_items  # noqa: E402
from tabayyun.pipeline import MAX_BYTES, RawItem  # noqa: E402
from tabayyun.store import open_storage  # noqa: E402


def write_slice(folder: Path, target: Path, count: int) -> int:
    """The first `count` SaudiNewsNet articles as a JSONL file."""
    written = 0
    with open(target, "w", encoding="utf-8") as fh:
        for item in iter_items([str(p) for p in sorted(folder.glob("*.zip"))], MAX_BYTES):
            if not isinstance(item, RawItem):
                continue
            data = item.data.decode("utf-8", "replace") if isinstance(item.data, bytes) else item.data
            fh.write(json.dumps({"text": data, "title": item.title, "url": item.url, "published": item.published,
                                 "outlet": item.outlet}, ensure_ascii=False) + "\n")
            written += 1
            if written == count:
                break
    return written


def claims_from(storage, count: int) -> list[str]:
    titles = [row["title"] for row in storage.list() if row["title"] and len(row["title"].split()) >= 5]
    step = max(1, len(titles) // count)
    # Reordered and reworded so the claim text itself has never been embedded.
    return [f"هل صحيح أن {' '.join(reversed(t.split()[:8]))}" for t in titles[::step][:count]]


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--claims", type=int, default=5)
    args = parser.parse_args()
    folder = args.shared / "data" / "saudinewsnet" / "dataset"
    if not folder.is_dir():
        print(f"skipped: {folder} not found", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        source, db = Path(tmp) / "slice.jsonl", Path(tmp) / "bench.db"
        n = write_slice(folder, source, args.articles)
        storage = open_storage(db)
        os.environ.pop("TABAYYUN_EMBEDDINGS", None)
        ingest_s = timed(lambda: ingest(storage, [str(source)], workers=2))
        claims = claims_from(storage, args.claims)
        rows: dict[str, list[float]] = {"full-text search only (reference)": [], "cold (fresh process)": [],
                                        "new claim, warm process": [], "repeated claim": []}
        for claim in claims:
            rows["full-text search only (reference)"].append(timed(lambda: search(storage, claim, embeddings=False)))
        env = {**os.environ, "PYTHONPATH": str(HERE.parent / "src")}
        for claim in claims[:2]:
            rows["cold (fresh process)"].append(timed(lambda: subprocess.run(
                [sys.executable, "-m", "tabayyun.cli", "check", "بالفعل " + claim, "--db", str(db), "--format", "json"],
                check=True, capture_output=True, env=env)))
        for claim in claims:
            rows["new claim, warm process"].append(timed(lambda: check(storage, claim)))
            rows["repeated claim"].append(timed(lambda: check(storage, claim)))
        storage.close()
    reference = statistics.median(rows["full-text search only (reference)"])
    print(f"workspace: {n} articles, ingested with lead embeddings in {ingest_s:.1f} s ({n / ingest_s:.1f}/s)")
    print(f"{'run':<38} {'claims':>6} {'median s':>9} {'max s':>7} {'ratio':>8}")
    for name, times in rows.items():
        median = statistics.median(times)
        print(f"{name:<38} {len(times):>6} {median:>9.3f} {max(times):>7.3f} {median / reference:>7.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
