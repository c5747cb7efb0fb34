"""Body-line extraction quality and speed: tabayyun against trafilatura and jusText on the same pages.

    python bench/extraction.py [--shared ../shared] [--split all|dev|test] [--gate]

Gold sets (line numbers only, never page text, under bench/gold/):
- baly/<claim>_<article>.json: raw pages of ../shared/data/baly2018 (flattened text, one line per
  original line); `baly_dev.txt` names the pages looked at while writing rules, the rest (48 pages,
  annotated blind: bench/gold/README.md) are held out;
- sample/<file>.json: the built-in sample corpus (flattened pages; HTML pages are scored on paragraphs).
Every tool gets the same flattened page and its address; for the HTML tools each line is wrapped in <p>.
`tabayyun+site` is tabayyun given the pile a page came from (`pipeline.pile_repeats` over all 2,429
pages of the Baly corpus, as `tabayyun analyze` does over the pages it is given): lines a site repeats
on 3 or more pages are removed (the table is built before the clock starts). `tabayyun` is one page
alone, as ingest cleans it today.
Prints line-level precision, recall and F1 of body lines (micro over lines), and pages per second.
With --gate, exits 1 when tabayyun's F1 on the held-out Baly pages falls under the regression floor
(the figure reached so far, less 0.01) or under a reference tool's. The goal is 0.95; it is printed.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from tabayyun.arabic import normalize_for_match  # noqa: E402
from tabayyun.clean.flat import segment  # noqa: E402
from tabayyun.clean.siterepeats import NO_LINES, SiteRepeats  # noqa: E402
from tabayyun.pipeline import pile_repeats  # noqa: E402
from tabayyun.sample import sample_manifest, sample_path  # noqa: E402
from tabayyun.sources.decode import decode_bytes  # noqa: E402

GOAL_F1 = 0.95
FLOOR_F1 = 0.855  # held-out F1 of the page alone (0.866 on the 64 pages drawn in November 2026), less 0.01


def load_baly(shared: Path, split: str) -> list[tuple[str, list[str], set[int]]]:
    dataset = shared / "data" / "baly2018" / "dataset"
    dev = set((HERE / "gold" / "baly_dev.txt").read_text().split())
    pages = []
    for gold_file in sorted((HERE / "gold" / "baly").glob("*.json")):
        gold = json.loads(gold_file.read_text())
        name = gold_file.stem
        if (split == "dev" and name not in dev) or (split == "test" and name in dev):
            continue
        claim = json.loads((dataset / f"{gold['claim']}.json").read_text(encoding="utf-8"))
        lines = claim["article"][gold["article"]].split("\n")
        assert len(lines) == gold["n_lines"], name
        pages.append((name, lines, set(gold["body"]), claim["url"][gold["article"]]))
    return pages


def load_sample() -> list[tuple[str, list[str], set[int]]]:
    manifest = {m["file"]: m for m in sample_manifest()}
    pages = []
    for gold_file in sorted((HERE / "gold" / "sample").glob("*.json")):
        gold = json.loads(gold_file.read_text())
        if "body_lines" not in gold:
            continue
        text, _ = decode_bytes((sample_path() / gold["file"]).read_bytes())
        text = text.lstrip("\ufeff")
        assert manifest[gold["file"]]["form"] == "text"
        pages.append((gold["file"], text.split("\n"), set(gold["body_lines"]), None))
    return pages


def load_sample_html() -> list[tuple[str, str, list[str]]]:
    pages = []
    for gold_file in sorted((HERE / "gold" / "sample").glob("*.json")):
        gold = json.loads(gold_file.read_text())
        if "body_paragraphs" in gold:
            text, _ = decode_bytes((sample_path() / gold["file"]).read_bytes())
            pages.append((gold["file"], text, gold["body_paragraphs"]))
    return pages


def html_scores(pages) -> dict[str, dict[str, float]]:
    """HTML pages are scored on paragraphs: a kept paragraph is right when it is a gold paragraph."""
    import justext
    import trafilatura

    from tabayyun import analyze

    tools = {
        "tabayyun": lambda page: analyze(page).paragraphs,
        "trafilatura": lambda page: (trafilatura.extract(page) or "").split("\n"),
        "justext": lambda page: [p.text for p in justext.justext(page.encode("utf-8"), justext.get_stoplist("Arabic"))
                                 if not p.is_boilerplate],
    }
    results = {}
    for name, tool in tools.items():
        tp = fp = fn = 0
        started = time.perf_counter()
        for _, page, gold in pages:
            kept = {normalize_for_match(k) for k in tool(page) if k.strip()}
            wanted = {normalize_for_match(g) for g in gold}
            tp += len(kept & wanted)
            fp += len(kept - wanted)
            fn += len(wanted - kept)
        results[name] = _prf(tp, fp, fn, len(pages) / (time.perf_counter() - started))
    return results


def _prf(tp: int, fp: int, fn: int, pages_per_s: float) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "pages_per_s": pages_per_s}


def tabayyun_body(lines: list[str], url: str | None = None, site_lines: Mapping[int, int] = NO_LINES) -> set[int]:
    seg = segment("\n".join(lines), url=url, site_lines=site_lines)
    return {line.index for line in seg.body}


def as_html(lines: list[str]) -> str:
    paragraphs = "".join(f"<p>{html.escape(line)}</p>\n" for line in lines if line.strip())
    return f'<html lang="ar" dir="rtl"><head><meta charset="utf-8"></head><body>{paragraphs}</body></html>'


def map_back(lines: list[str], kept: list[str]) -> set[int]:
    """Which page lines an HTML tool kept: exact line match first, else containment."""
    kept_keys = [normalize_for_match(k) for k in kept if k.strip()]
    exact = set(kept_keys)
    joined = "\n".join(kept_keys)
    found = set()
    for i, line in enumerate(lines):
        key = normalize_for_match(line)
        if key and (key in exact or (len(key) > 20 and key in joined)):
            found.add(i)
    return found


def tabayyun_site_body(lines: list[str], url: str | None = None) -> set[int]:
    """tabayyun given the pile the page came from: the lines its site repeats on other pages go."""
    return tabayyun_body(lines, url, SITE_REPEATS.lines_for(url))


def baly_repeats(shared: Path) -> SiteRepeats:
    """Each site's repeated lines over every page of the Baly corpus (2,429 pages, unlabelled)."""
    pages = []
    for path in sorted((shared / "data" / "baly2018" / "dataset").glob("*.json")):
        claim = json.loads(path.read_text(encoding="utf-8"))
        pages += [(url, article) for article, url in zip(claim["article"], claim["url"])]
    return pile_repeats(pages)


def trafilatura_body(lines: list[str], url: str | None = None) -> set[int]:
    import trafilatura

    text = trafilatura.extract(as_html(lines), url=url, include_comments=False, include_tables=True) or ""
    return map_back(lines, text.split("\n"))


def justext_body(lines: list[str], url: str | None = None) -> set[int]:
    import justext

    paragraphs = justext.justext(as_html(lines).encode("utf-8"), justext.get_stoplist("Arabic"))
    return map_back(lines, [p.text for p in paragraphs if not p.is_boilerplate])


TOOLS = {"tabayyun": tabayyun_body, "tabayyun+site": tabayyun_site_body, "trafilatura": trafilatura_body,
         "justext": justext_body}
SITE_REPEATS = SiteRepeats()   # filled by main from the whole Baly corpus


def score(pages, tool) -> dict[str, float]:
    tp = fp = fn = 0
    started = time.perf_counter()
    for _, lines, gold, url in pages:
        predicted = tool(lines, url)
        tp += len(predicted & gold)
        fp += len(predicted - gold)
        fn += len(gold - predicted)
    return _prf(tp, fp, fn, len(pages) / (time.perf_counter() - started))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    parser.add_argument("--split", choices=["all", "dev", "test"], default="all")
    parser.add_argument("--gate", action="store_true", help="fail when the held-out F1 drops")
    parser.add_argument("--show-errors", action="store_true", help="list pages where tabayyun errs")
    args = parser.parse_args()

    global SITE_REPEATS
    sets = {"sample": load_sample()}
    if (args.shared / "data" / "baly2018").is_dir():
        SITE_REPEATS = baly_repeats(args.shared)
        sets[f"baly-{args.split}"] = load_baly(args.shared, args.split)
        if args.gate and args.split != "test":
            sets["baly-test"] = load_baly(args.shared, "test")
    else:
        print(f"note: {args.shared}/data/baly2018 not found: Baly pages skipped", file=sys.stderr)

    results = {}
    html_pages = load_sample_html()
    print(f"{'set':<12} {'tool':<13} {'pages':>5} {'P':>6} {'R':>6} {'F1':>6} {'pages/s':>9} {'speed ratio':>11}")
    for set_name, pages in sets.items():
        if not pages:
            continue
        reference_speed = None
        for tool_name, tool in TOOLS.items():
            result = score(pages, tool)
            results[(set_name, tool_name)] = result
            reference_speed = reference_speed or result["pages_per_s"]
            print(
                f"{set_name:<12} {tool_name:<13} {len(pages):>5} {result['precision']:>6.3f} {result['recall']:>6.3f} "
                f"{result['f1']:>6.3f} {result['pages_per_s']:>9.1f} {result['pages_per_s'] / reference_speed:>10.2f}x"
            )
    if html_pages:
        reference_speed = None
        for tool_name, result in html_scores(html_pages).items():
            reference_speed = reference_speed or result["pages_per_s"]
            print(
                f"{'sample-html':<12} {tool_name:<13} {len(html_pages):>5} {result['precision']:>6.3f} "
                f"{result['recall']:>6.3f} {result['f1']:>6.3f} {result['pages_per_s']:>9.1f} "
                f"{result['pages_per_s'] / reference_speed:>10.2f}x"
            )
    if args.show_errors:
        for set_name, pages in sets.items():
            for name, lines, gold, url in pages:
                predicted = tabayyun_body(lines, url)
                if predicted != gold:
                    print(f"{set_name} {name}: missed {sorted(gold - predicted)} extra {sorted(predicted - gold)}")
    if args.gate and ("baly-test", "tabayyun") in results:
        ours = results[("baly-test", "tabayyun")]["f1"]
        others = max(results[("baly-test", t)]["f1"] for t in TOOLS if not t.startswith("tabayyun"))
        goal = "met" if ours >= GOAL_F1 else "NOT met"
        if ours < FLOOR_F1 or ours <= others:
            print(f"GATE FAILED: held-out body-line F1 {ours:.3f} (floor {FLOOR_F1}, references {others:.3f})")
            return 1
        print(f"gate passed: held-out body-line F1 {ours:.3f} >= floor {FLOOR_F1} and > references {others:.3f}; "
              f"goal {GOAL_F1} {goal}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
