"""Connecting articles on SaudiNewsNet: duplicate precision/recall, story clustering F1, throughput.

    nice -n 10 python bench/connect.py [--shared ../shared] [--limit 1000] [--embeddings] [--format json]
                                       [--engine plain|dask] [--analysis basic|full]
    python bench/connect.py --candidates OUT.tsv     # the candidate pairs the duplicate gold was drawn from
    python bench/connect.py --limit 100000 --embeddings --keep /tmp/snn.db   # keep the workspace, then
    python bench/connect.py --recluster /tmp/snn.db  # place its stories again (about 90 s on the whole corpus)
    python bench/connect.py --topics /tmp/snn.db     # its topic links, against scoring every candidate pair

Gold (bench/gold/snn_duplicates.tsv, snn_duplicates_band.tsv, snn_stories.tsv; see bench/gold/README.md) names
articles by key `snnNNNNN`: the position (0-based) of the article in the corpus as `saudinewsnet_sample`
of bench/search.py reads it (daily files in name order, records in file order). The benchmark ingests
the articles the gold needs plus the first --limit others into a fresh workspace (--analysis basic),
maps keys to document ids through the workspace's document sources, and reports
- duplicates: precision and recall of tabayyun's stored pairs (or one id for an identical text)
  against the labelled pairs, and apart on the band sample (pairs near the containment rules);
- stories: pairwise and BCubed precision/recall/F1 of the story of each labelled article (articles
  labelled `other` are gold singletons);
- throughput in documents per second of each stage: ingest/clean (the rest: read, clean, analyse,
  sign, and with --embeddings embed the lead, all in the workers; store), LSH + exact pair checks
  (`DuplicateFinder.add`), stories (`StoryClusterer.add`);
- goals: the issue's bars for the three quality figures and, when the run takes the whole corpus with
  --embeddings, its minutes against WHOLE_CORPUS_MINUTES.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from search import saudinewsnet_sample  # noqa: E402

GOLD = HERE / "gold"
DUPLICATE_GOLD = GOLD / "snn_duplicates.tsv"
STORY_GOLD = GOLD / "snn_stories.tsv"
BAND_GOLD = GOLD / "snn_duplicates_band.tsv"     # pairs of the whole corpus near the containment rules
GOALS = {"duplicates precision": 0.95, "duplicates recall": 0.90, "stories BCubed F1": 0.85}
# The issue's time goal, judged only on a run of the whole corpus with lead embeddings: at most this many.
WHOLE_CORPUS_MINUTES = 30

# --- the corpus -------------------------------------------------------------------------------------


def article_key(index: int) -> str:
    return f"snn{index:05d}"


def load_corpus(shared: Path, folder: Path) -> dict[str, dict]:
    """Every SaudiNewsNet record by key (see the module docstring); empty when the corpus is absent."""
    corpus = saudinewsnet_sample(shared, 10**9, folder)
    if corpus is None:
        return {}
    with corpus.open(encoding="utf-8") as lines:
        return {article_key(i): json.loads(line) for i, line in enumerate(lines)}


# --- candidate pairs for the duplicate gold: an independent similarity ------------------------------
# Not tabayyun's: its own letter folding, character 4-grams of the first 600 characters, and blocking
# by day and shared rare words (so the strata do not inherit tabayyun's word shingles or LSH).

_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u0640]")
_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"})
_NOT_LETTER = re.compile(r"[^\w]+|_|\d+")
HEAD_CHARS = 600
STRATA = {"high": (0.5, 1.01), "middle": (0.2, 0.5), "low": (0.05, 0.2)}


def fold(text: str) -> str:
    return " ".join(_NOT_LETTER.sub(" ", _MARKS.sub("", text).translate(_FOLD)).split())


def char_grams(text: str, size: int = 4) -> set[str]:
    head = fold(text)[:HEAD_CHARS]
    return {head[i:i + size] for i in range(max(1, len(head) - size + 1))}


def gram_jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _day_number(record: dict) -> int:
    year, month, day = (int(x) for x in (record.get("date_extracted") or "2015-01-01")[:10].split("-"))
    return year * 400 + month * 32 + day


def blocked_pairs(corpus: dict[str, dict], rare: int = 6, max_df: int = 40, days: int = 2) -> set[tuple[str, str]]:
    """Pairs within `days` of each other sharing at least two of their `rare` rarest head words."""
    heads = {key: set(w for w in fold(r.get("content") or "")[:HEAD_CHARS].split() if len(w) > 3)
             for key, r in corpus.items()}
    df = Counter(w for words in heads.values() for w in words)
    blocks: dict[str, list[str]] = defaultdict(list)
    for key, words in heads.items():
        for word in sorted((w for w in words if 2 <= df[w] <= max_df), key=lambda w: (df[w], w))[:rare]:
            blocks[word].append(key)
    shared: Counter = Counter()
    for keys in blocks.values():
        shared.update(combinations(sorted(keys), 2))
    day = {key: _day_number(r) for key, r in corpus.items()}
    return {pair for pair, count in shared.items() if count >= 2 and abs(day[pair[0]] - day[pair[1]]) <= days}


def tabayyun_flags(corpus: dict[str, dict], pairs: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """The pairs tabayyun's exact duplicate test accepts on the raw content (its own shingles)."""
    from tabayyun.connect.duplicates import compare, is_duplicate, shingles

    cache: dict[str, set[int]] = {}

    def of(key: str) -> set[int]:
        if key not in cache:
            cache[key] = shingles((corpus[key].get("content") or "").split("\n"))
        return cache[key]

    flagged = set()
    for a, b in pairs:
        jaccard, containment = compare(of(a), of(b))
        if is_duplicate(jaccard, containment, min(len(of(a)), len(of(b)))):
            flagged.add((a, b))
    return flagged


def sample_candidates(corpus: dict[str, dict], per_stratum: int, seed: int = 5) -> list[tuple[str, str, str, float]]:
    """(key_a, key_b, stratum, similarity): `per_stratum` blocked pairs from each similarity stratum
    and as many of the pairs tabayyun flags that no stratum drew."""
    grams: dict[str, set[str]] = {}
    scored = []
    for a, b in sorted(blocked_pairs(corpus)):
        for key in (a, b):
            if key not in grams:
                grams[key] = char_grams(corpus[key].get("content") or "")
        scored.append((a, b, gram_jaccard(grams[a], grams[b])))
    rng = random.Random(seed)
    chosen: list[tuple[str, str, str, float]] = []
    for name, (low, high) in STRATA.items():
        stratum = [(a, b, s) for a, b, s in scored if low <= s < high]
        chosen += [(a, b, name, s) for a, b, s in rng.sample(stratum, min(per_stratum, len(stratum)))]
    taken = {(a, b) for a, b, _, _ in chosen}
    flagged = sorted(tabayyun_flags(corpus, [(a, b) for a, b, _ in scored]) - taken)
    similarity = {(a, b): s for a, b, s in scored}
    chosen += [(a, b, "tabayyun", similarity[(a, b)]) for a, b in rng.sample(flagged, min(per_stratum, len(flagged)))]
    return chosen


# --- the benchmark -----------------------------------------------------------------------------------


def read_tsv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as opened:
        return list(csv.DictReader(opened, delimiter="\t"))


class StageClock:
    """Seconds spent in `DuplicateFinder.add` and `StoryClusterer.add` while installed (the ingest
    calls both after each committed batch, in this process)."""

    def __init__(self):
        self.seconds = {"duplicates": 0.0, "stories": 0.0}

    def install(self) -> None:
        from tabayyun.connect.duplicates import DuplicateFinder
        from tabayyun.connect.stories import StoryClusterer

        for cls, stage in ((DuplicateFinder, "duplicates"), (StoryClusterer, "stories")):
            original = cls.add

            def timed(this, *args, _original=original, _stage=stage, **kwargs):
                started = time.perf_counter()
                try:
                    return _original(this, *args, **kwargs)
                finally:
                    self.seconds[_stage] += time.perf_counter() - started

            cls.add = timed


def measure_pairs(storage, ids: dict, key_pairs: list[tuple[str, str]]) -> dict:
    """tabayyun's exact (Jaccard, containment) of each pair of keys, over the stored paragraphs."""
    from tabayyun.connect.duplicates import compare, shingles

    doc_ids = sorted({ids[k] for pair in key_pairs for k in pair if k in ids})
    sets = {doc_id: shingles(paragraphs) for doc_id, paragraphs in storage.paragraph_lists(doc_ids).items()}
    return {pair: compare(sets.get(ids.get(pair[0]), set()), sets.get(ids.get(pair[1]), set())) for pair in key_pairs}


def stage_rates(docs: int, total: float, clock: StageClock, report, embeddings: bool) -> dict:
    """Seconds and documents per second of each stage; ingest/clean is what the others leave (the
    workers embed the leads while they analyse: that time is theirs, not apart; only the leads the
    storing process had to embed itself are)."""
    embed_seconds = report.embed_seconds if embeddings else 0.0
    rest = total - clock.seconds["duplicates"] - clock.seconds["stories"] - embed_seconds
    first = "ingest+embed" if embeddings else "ingest/clean"
    stages = {first: rest, "LSH+pairs": clock.seconds["duplicates"], "stories": clock.seconds["stories"]}
    if embed_seconds:
        stages["leads embedded by the storing process"] = embed_seconds
    return {"docs": docs, "stored": report.stored, "exact copies": report.duplicates,
            "total seconds": round(total, 1), "total docs/s": round(docs / total, 1), "embedded": report.embedded,
            "stages": {name: {"seconds": round(s, 1), "docs/s": round(docs / s, 1) if s > 0 else None}
                       for name, s in stages.items()},
            "embedding note": report.embed_note}


def build_workspace(corpus: dict[str, dict], keys: list[str], db: Path, args,
                    key_pairs: list[tuple[str, str]]) -> tuple[dict, dict]:
    """Ingest `keys` (in corpus order) into a fresh workspace at `db` (`args`: embeddings, workers,
    analysis); returns (key -> doc id, {pairs, members, throughput, measured: the exact overlap of each
    of `key_pairs`})."""
    from tabayyun.ingest import ingest
    from tabayyun.pipeline import ANALYSIS_LEVELS
    from tabayyun.store import open_storage

    ordered = sorted(set(keys))
    source = db.with_suffix(".jsonl")
    with source.open("w", encoding="utf-8") as out:
        for key in ordered:
            out.write(json.dumps(corpus[key], ensure_ascii=False) + "\n")
    clock = StageClock()
    clock.install()
    storage = open_storage(db)
    started = time.perf_counter()
    if args.engine == "dask":
        from tabayyun.engine.driver import dask_ingest

        report = dask_ingest(storage, [str(source)], workers=args.workers, stages=ANALYSIS_LEVELS[args.analysis],
                             embed=args.embeddings)
    else:
        report = ingest(storage, [str(source)], workers=args.workers, stages=ANALYSIS_LEVELS[args.analysis],
                        embed=args.embeddings)
    total = time.perf_counter() - started
    line_key = {str(number): key for number, key in enumerate(ordered, start=1)}
    ids = {line_key[src.rsplit(":", 1)[1]]: doc_id
           for doc_id, src in storage.conn.execute("SELECT doc_id, source FROM document_sources")}
    members = dict((doc, story) for story, doc in storage.story_members())
    pairs = {(a, b) for a, b, *_ in storage.duplicate_pairs()}
    measured = measure_pairs(storage, ids, key_pairs)
    storage.close()
    throughput = stage_rates(len(ordered), total, clock, report, args.embeddings)
    return ids, {"pairs": pairs, "members": members, "throughput": throughput, "measured": measured}


def prf(tp: int, fp: int, fn: int) -> dict:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3)}


def score_duplicates(gold: list[dict], ids: dict, pairs: set, measured: dict) -> dict:
    """Precision and recall of tabayyun's pairs on the labelled pairs, with the errors' keys."""
    errors: dict[str, list] = {"false positive": [], "false negative": []}
    tp = fp = fn = missing = 0
    for row in gold:
        a, b = ids.get(row["key_a"]), ids.get(row["key_b"])
        if a is None or b is None:
            missing += 1
            continue
        found = a == b or tuple(sorted((a, b))) in pairs
        wanted = row["label"] == "dup"
        tp += found and wanted
        fp += found and not wanted
        fn += wanted and not found
        if found != wanted:
            jaccard, containment = measured.get((row["key_a"], row["key_b"]), (0.0, 0.0))
            errors["false positive" if found else "false negative"].append(
                [row["key_a"], row["key_b"], row["stratum"], f"J {jaccard:.2f} C {containment:.2f}", row["reason"]])
    strata = Counter((row["stratum"], row["label"]) for row in gold)
    return {**prf(tp, fp, fn), "pairs": len(gold) - missing, "not ingested": missing, "tp": tp, "fp": fp, "fn": fn,
            "gold": {f"{s}/{label}": n for (s, label), n in sorted(strata.items())}, "errors": errors}


def score_stories(gold: list[dict], ids: dict, members: dict) -> dict:
    """Pairwise and BCubed precision/recall/F1 of the stories of the labelled articles (`other`
    articles are gold singletons; an unclustered article a predicted singleton)."""
    truth = {row["key"]: (row["event"] if row["event"] != "other" else f"other:{row['key']}") for row in gold}
    predicted = {key: members.get(ids.get(key), f"none:{key}") for key in truth}
    keys = sorted(truth)
    tp = fp = fn = 0
    errors: dict[str, list] = {"split": [], "merged": []}
    for a, b in combinations(keys, 2):
        same_truth, same_pred = truth[a] == truth[b], predicted[a] == predicted[b]
        tp += same_truth and same_pred
        fp += same_pred and not same_truth
        fn += same_truth and not same_pred
        if same_truth != same_pred:
            errors["merged" if same_pred else "split"].append([a, b, truth[a], truth[b]])
    b_precision = b_recall = 0.0
    for key in keys:
        in_pred = {k for k in keys if predicted[k] == predicted[key]}
        in_truth = {k for k in keys if truth[k] == truth[key]}
        b_precision += len(in_pred & in_truth) / len(in_pred)
        b_recall += len(in_pred & in_truth) / len(in_truth)
    b_precision, b_recall = b_precision / len(keys), b_recall / len(keys)
    b_f1 = 2 * b_precision * b_recall / (b_precision + b_recall) if b_precision + b_recall else 0.0
    spread = {event: len({predicted[k] for k in keys if truth[k] == event}) for event in set(truth.values())}
    return {"split events": {e: n for e, n in sorted(spread.items(), key=lambda x: -x[1]) if n > 1},
            "articles": len(keys), "gold events": len({t for t in truth.values() if not t.startswith("other:")}),
            "predicted stories": len(set(predicted.values())), "pairwise": prf(tp, fp, fn),
            "bcubed": {"precision": round(b_precision, 3), "recall": round(b_recall, 3), "f1": round(b_f1, 3)},
            "errors": {kind: rows[:50] for kind, rows in errors.items()}}


def run(args) -> dict:
    duplicates_gold, stories_gold, band_gold = read_tsv(DUPLICATE_GOLD), read_tsv(STORY_GOLD), read_tsv(BAND_GOLD)
    with tempfile.TemporaryDirectory(dir=args.folder) as tmp:
        corpus = load_corpus(args.shared, Path(tmp))
        if not corpus:
            raise SystemExit("saudinewsnet not found under --shared")
        keys = [r[side] for r in duplicates_gold + band_gold for side in ("key_a", "key_b")]
        keys += [r["key"] for r in stories_gold] + list(corpus)[:args.limit]
        key_pairs = [(r["key_a"], r["key_b"]) for r in duplicates_gold + band_gold]
        ids, found = build_workspace(corpus, keys, args.keep or Path(tmp) / "connect.db", args, key_pairs)
    if args.keep:
        keys_file(args.keep).write_text(json.dumps(ids), encoding="utf-8")
    duplicates = score_duplicates(duplicates_gold, ids, found["pairs"], found["measured"])
    band = score_duplicates(band_gold, ids, found["pairs"], found["measured"])
    stories = score_stories(stories_gold, ids, found["members"])
    goals = {name: {"value": value, "goal": GOALS[name], "met": value >= GOALS[name]} for name, value in
             (("duplicates precision", duplicates["precision"]), ("duplicates recall", duplicates["recall"]),
              ("stories BCubed F1", stories["bcubed"]["f1"]))}
    if args.embeddings and len(set(keys)) == len(corpus):
        minutes = round(found["throughput"]["total seconds"] / 60, 1)
        goals["whole corpus minutes"] = {"value": minutes, "goal": WHOLE_CORPUS_MINUTES, "at most": True,
                                         "met": minutes <= WHOLE_CORPUS_MINUTES}
    return {"command": " ".join(sys.argv), "embeddings": args.embeddings, "workers": args.workers,
            "engine": args.engine, "analysis": args.analysis,
            "duplicates": duplicates, "duplicates band": band, "stories": stories, "throughput": found["throughput"],
            "goals": goals}


def keys_file(db: Path) -> Path:
    return db.with_name(db.name + ".keys.json")


def recluster(db: Path) -> dict:
    """Stories of a workspace kept with --keep placed again, in ingest order and in batches of the
    ingest's size, with the code's current settings: about 90 s on the whole corpus instead of a new
    ingest, so a change to story placement can be measured at that scale."""
    from tabayyun.connect.stories import StoryClusterer
    from tabayyun.ingest import DEFAULT_BATCH
    from tabayyun.store import open_storage

    ids = json.loads(keys_file(db).read_text(encoding="utf-8"))
    storage = open_storage(db)
    storage.clear_stories()
    started = time.process_time()
    placed = StoryClusterer(storage).cluster_missing(DEFAULT_BATCH)
    seconds = round(time.process_time() - started, 1)
    members = dict((doc, story) for story, doc in storage.story_members())
    storage.close()
    return {"command": " ".join(sys.argv), "placed": placed, "cpu seconds": seconds,
            "stories": score_stories(read_tsv(STORY_GOLD), ids, members)}


def topic_links(db: Path) -> dict:
    """The topic links of a kept workspace, found as `list_topics` finds them (every candidate pair of a
    story scored at once with numpy, those near the threshold one by one) and, as the reference, with
    every candidate pair scored one by one; CPU seconds of each and of loading the stories."""
    from tabayyun.connect.stories import StoryClusterer
    from tabayyun.connect.topics import _links
    from tabayyun.store import open_storage

    storage = open_storage(db)
    started = time.process_time()
    clusterer = StoryClusterer(storage)
    clusterer._load()
    result = {"command": " ".join(sys.argv), "stories": len(clusterer.stories),
              "load cpu seconds": round(time.process_time() - started, 1)}
    found = {}
    for name, shortcut in (("every pair", False), ("shortcut", True)):
        started = time.process_time()
        found[name] = _links(clusterer, shortcut)
        result[f"{name} cpu seconds"] = round(time.process_time() - started, 1)
    storage.close()
    result["links"] = len(found["shortcut"])
    result["same links"] = found["shortcut"] == found["every pair"]
    result["ratio"] = round(result["shortcut cpu seconds"] / max(result["every pair cpu seconds"], 1e-9), 3)
    return result


def print_text(result: dict, examples: int) -> None:
    dup, sto, thr = result["duplicates"], result["stories"], result["throughput"]
    print(f"duplicates  pairs {dup['pairs']}  P {dup['precision']:.3f}  R {dup['recall']:.3f}  F1 {dup['f1']:.3f}"
          f"  (tp {dup['tp']}, fp {dup['fp']}, fn {dup['fn']}; gold {dup['gold']})")
    band = result["duplicates band"]
    print(f"  band      pairs {band['pairs']}  P {band['precision']:.3f}  R {band['recall']:.3f}  (tp {band['tp']},"
          f" fp {band['fp']}, fn {band['fn']}; gold {band['gold']}: containment 0.6-0.9 over the whole corpus)")
    pw, bc = sto["pairwise"], sto["bcubed"]
    print(f"stories     articles {sto['articles']}  events {sto['gold events']}  predicted {sto['predicted stories']}"
          f"  pairwise P {pw['precision']:.3f} R {pw['recall']:.3f} F1 {pw['f1']:.3f}"
          f"  BCubed P {bc['precision']:.3f} R {bc['recall']:.3f} F1 {bc['f1']:.3f}")
    print(f"\nthroughput  {thr['docs']} docs in {thr['total seconds']} s ({thr['total docs/s']} docs/s,"
          f" embeddings {'on' if result['embeddings'] else 'off'}, {result['analysis']} analysis,"
          f" {result['workers']} workers, {result['engine']} engine, {thr['embedded']} leads embedded)")
    print(f"{'stage':<38} {'seconds':>8} {'docs/s':>8}")
    for name, stage in thr["stages"].items():
        print(f"{name:<38} {stage['seconds']:>8} {stage['docs/s'] or '-':>8}")
    print(f"\nevents split into several stories (event: stories): {sto['split events']}")
    print("\ngoals: " + ", ".join(f"{n} {g['value']:.3f} ({'<=' if g.get('at most') else '>='} {g['goal']})"
                                  f" {'met' if g['met'] else 'MISSED'}" for n, g in result["goals"].items()))
    for kind, rows in (*dup["errors"].items(), *sto["errors"].items()):
        if rows:
            print(f"\n{kind} ({len(rows)}), first {examples}:")
            for row in rows[:examples]:
                print("  " + "  ".join(row))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    parser.add_argument("--limit", type=int, default=1000, help="corpus articles ingested besides the gold's")
    parser.add_argument("--embeddings", action="store_true", help="embed leads (stories then use them)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--engine", choices=["plain", "dask"], default="plain",
                        help="dask: a local cluster of --workers processes, each embedding its own leads")
    parser.add_argument("--analysis", choices=["basic", "full"], default="basic",
                        help="pipeline stages at ingest (full adds entities, which stories also use)")
    parser.add_argument("--folder", type=Path, default=None, help="where the temporary workspace goes")
    parser.add_argument("--format", choices=["text", "json"], default="text")
    parser.add_argument("--examples", type=int, default=5, help="error examples shown per kind (text)")
    parser.add_argument("--candidates", type=Path, help="write the sampled candidate pairs here and stop")
    parser.add_argument("--keep", type=Path, help="build the workspace here (a new SQLite file) and keep it")
    parser.add_argument("--recluster", type=Path, metavar="DB",
                        help="a workspace kept with --keep: place its stories again and score them, nothing else")
    parser.add_argument("--topics", type=Path, metavar="DB",
                        help="a workspace kept with --keep: time its topic links against the pair-by-pair reference")
    args = parser.parse_args()
    if args.topics:
        result = topic_links(args.topics)
        print(json.dumps(result, ensure_ascii=False, indent=1) if args.format == "json" else
              f"{'stories':>8} {'links':>6} {'load s':>7} {'every pair s':>13} {'shortcut s':>11} {'ratio':>6} same\n"
              f"{result['stories']:>8} {result['links']:>6} {result['load cpu seconds']:>7} "
              f"{result['every pair cpu seconds']:>13} {result['shortcut cpu seconds']:>11} {result['ratio']:>6} "
              f"{result['same links']}")
        return 0 if result["same links"] else 1
    if args.recluster:
        result = recluster(args.recluster)
        bc = result["stories"]["bcubed"]
        print(json.dumps(result, ensure_ascii=False, indent=1) if args.format == "json" else
              f"stories placed again: {result['placed']} documents, {result['cpu seconds']} s of CPU;"
              f" BCubed P {bc['precision']:.3f} R {bc['recall']:.3f} F1 {bc['f1']:.3f},"
              f" split events {result['stories']['split events']}")
        return 0
    if args.keep and args.keep.exists():
        raise SystemExit(f"{args.keep} exists: --keep builds a new workspace")
    if args.candidates:
        with tempfile.TemporaryDirectory() as tmp:
            corpus = load_corpus(args.shared, Path(tmp))
        with args.candidates.open("w", encoding="utf-8") as out:
            out.write("key_a\tkey_b\tstratum\tsimilarity\n")
            for a, b, stratum, similarity in sample_candidates(corpus, 60):
                out.write(f"{a}\t{b}\t{stratum}\t{similarity:.3f}\n")
        return 0
    result = run(args)
    if args.format == "json":
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print_text(result, args.examples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
