"""Search cost and latency: ingest with and without lead embeddings, embedding cost, query latency.

    python bench/search.py [--shared ../shared] [--limit 2000] [--workers 2] [--analysis basic]

On the built-in sample corpus and, when ../shared/data/saudinewsnet is there, on its first --limit
articles (the first daily files' JSON): ingests into fresh workspaces with `embed=False` and
`embed=True` (documents per second and the ratio), reports the embedding cost per lead (title and
first paragraph), then runs a fixed set of queries full-text only, hybrid cold (query vectors and
candidate paragraphs not yet cached) and hybrid cached (the same queries again), and prints p50/p95.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from tabayyun.ingest import ingest  # noqa: E402
from tabayyun.pipeline import ANALYSIS_LEVELS  # noqa: E402
from tabayyun.sample import sample_path  # noqa: E402
from tabayyun.search import Embedder, search  # noqa: E402
from tabayyun.store import open_storage  # noqa: E402

SAMPLE_QUERIES = ["الكوليرا في مرفأ الريحان", "نفي وزير الصحة", "محطة تحلية مياه البحر", "تعليق رحلات النورس",
                  "cholera outbreak in a port city", "مرض معد ينتشر في ميناء", "أزمة شح المياه", "السفارة",
                  "خطة طوارئ", "الانسحاب"]
NEWS_QUERIES = ["أسعار النفط", "كأس العالم", "موسم الحج", "وزارة الصحة تعلن إصابات كورونا", "هطول الأمطار",
                "الحوثيين في اليمن", "الاتفاق النووي مع إيران", "سوق الأسهم السعودية", "نتائج الدوري", "التعليم العالي",
                "ارتفاع درجات الحرارة", "هجوم إرهابي على مسجد", "oil prices fall", "football match result",
                "توظيف المواطنين في القطاع الخاص", "حوادث المرور", "الأمن يقبض على مطلوبين", "مشاريع الإسكان",
                "العلاقات السعودية الأمريكية", "البطالة بين الشباب"]


def saudinewsnet_sample(shared: Path, limit: int, folder: Path) -> Path | None:
    """The first `limit` SaudiNewsNet articles as one JSONL file, or None when the corpus is absent."""
    zips = sorted((shared / "data" / "saudinewsnet" / "dataset").glob("*.zip"))
    if not zips:
        return None
    records: list[dict] = []
    for archive in zips:
        with zipfile.ZipFile(archive) as opened:
            for name in opened.namelist():
                records += json.loads(opened.read(name))
        if len(records) >= limit:
            break
    target = folder / "saudinewsnet.jsonl"
    with target.open("w", encoding="utf-8") as out:
        for record in records[:limit]:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return target


def run_ingest(corpus: Path, db: Path, embed: bool, workers: int, analysis: str) -> dict:
    storage = open_storage(db)
    started = time.perf_counter()
    report = ingest(storage, [str(corpus)], workers=workers, stages=ANALYSIS_LEVELS[analysis], embed=embed)
    seconds = time.perf_counter() - started
    storage.close()
    return {"docs": report.stored, "seconds": seconds, "embedded": report.embedded,
            "embed_seconds": report.embed_seconds, "note": report.embed_note}


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def time_queries(db: Path, queries: list[str], embeddings: bool) -> tuple[list[float], int]:
    """Latency of each query (ms) with a fresh Embedder each time (so only the workspace cache helps),
    and how many vectors were computed in all."""
    storage = open_storage(db)
    if embeddings:
        Embedder(storage).query("تحمية النموذج")   # load the model outside the timings
    latencies, computed = [], 0
    for query in queries:
        started = time.perf_counter()
        result = search(storage, query, k=10, embeddings=embeddings)
        latencies.append((time.perf_counter() - started) * 1000)
        computed += result.embedding.get("misses", 0)
    storage.close()
    return latencies, computed


def bench_corpus(name: str, corpus: Path, queries: list[str], args, folder: Path) -> tuple[list, list]:
    plain = run_ingest(corpus, folder / f"{name}-plain.db", False, args.workers, args.analysis)
    db = folder / f"{name}.db"
    embedded = run_ingest(corpus, db, True, args.workers, args.analysis)
    if embedded["note"]:
        print(f"{name}: leads not embedded: {embedded['note']}", file=sys.stderr)
    rate_plain, rate_embed = plain["docs"] / plain["seconds"], embedded["docs"] / embedded["seconds"]
    per_lead = embedded["embed_seconds"] * 1000 / max(1, embedded["embedded"])
    ingest_row = (name, plain["docs"], rate_plain, rate_embed, rate_embed / rate_plain, per_lead)
    search_rows = []
    for mode, embeddings in (("full text", False), ("hybrid, cold", True), ("hybrid, cached", True)):
        latencies, computed = time_queries(db, queries, embeddings)
        search_rows.append((name, mode, len(queries), *percentiles(latencies), computed / len(queries)))
    return [ingest_row], search_rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    parser.add_argument("--limit", type=int, default=2000, help="SaudiNewsNet articles to ingest")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--analysis", choices=sorted(ANALYSIS_LEVELS), default="basic")
    args = parser.parse_args()
    ingest_rows, search_rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        corpora = [("sample", sample_path(), SAMPLE_QUERIES)]
        news = saudinewsnet_sample(args.shared, args.limit, folder)
        if news is None:
            print("saudinewsnet: skipped (../shared/data/saudinewsnet not found)", file=sys.stderr)
        else:
            corpora.append(("saudinewsnet", news, NEWS_QUERIES))
        for name, corpus, queries in corpora:
            rows = bench_corpus(name, corpus, queries, args, folder)
            ingest_rows += rows[0]
            search_rows += rows[1]
    print(f"ingest ({args.analysis} analysis, {args.workers} workers)")
    print(f"{'corpus':<14} {'docs':>6} {'docs/s plain':>13} {'docs/s +embed':>14} {'ratio':>6} {'ms/lead':>8}")
    for name, docs, plain, embedded, ratio, per_lead in ingest_rows:
        print(f"{name:<14} {docs:>6} {plain:>13.1f} {embedded:>14.1f} {ratio:>5.2f}x {per_lead:>8.1f}")
    print("\nsearch (k=10, in process, a fresh Embedder per query)")
    print(f"{'corpus':<14} {'mode':<16} {'queries':>7} {'p50 ms':>8} {'p95 ms':>8} {'vectors/query':>14}")
    for name, mode, count, p50, p95, computed in search_rows:
        print(f"{name:<14} {mode:<16} {count:>7} {p50:>8.1f} {p95:>8.1f} {computed:>14.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
