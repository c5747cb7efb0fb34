"""Article understanding: quotes (speaker, cue class) and time expressions against a hand-made gold
set over the built-in sample corpus, and the speed of the whole `analyze` pipeline.

    python bench/understanding.py [--shared ../shared] [--articles 1000]

Gold: bench/gold/understanding/<page>.json (the sample pages are the project's own writing). A
predicted quote matches a gold one in the same paragraph when its content starts with the gold
content's first words; a time expression matches when the texts overlap. Speed: articles per second
of the full pipeline (and, when the NER model has its optional network layer, of the pipeline with
the tagger alone) against the cleaning stage alone in the same run (SaudiNewsNet when present).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from tabayyun.arabic import normalize_for_match  # noqa: E402
from tabayyun.pipeline import RawItem, process  # noqa: E402
from tabayyun.sample import sample_path  # noqa: E402


def _key(text: str) -> str:
    return normalize_for_match(text).replace('"', "").strip()


def score_page(gold: dict) -> dict[str, int]:
    page = (sample_path() / gold["file"]).read_bytes()
    from datetime import date

    doc = process(RawItem(gold["file"], page), reference_date=date.fromisoformat(gold["reference_date"]))
    counts = {name: 0 for name in ("quote_gold", "quote_pred", "quote_hit", "speaker_ok", "class_ok", "kind_ok",
                                   "direct_ok", "time_gold", "time_pred", "time_hit", "value_ok")}
    counts["quote_gold"], counts["quote_pred"] = len(gold["quotes"]), len(doc.quotes)
    unused = list(doc.quotes)
    for wanted in gold["quotes"]:
        start = _key(wanted["content_start"])
        match = next((q for q in unused if q.paragraph == wanted["paragraph"]
                      and start[:25] in _key(q.content)[:len(start) + 40]), None)
        if match is None:
            continue
        unused.remove(match)
        counts["quote_hit"] += 1
        speaker, found = _key(wanted["speaker"]), _key(match.speaker or "")
        counts["speaker_ok"] += bool(found) and (speaker in found or found in speaker)
        counts["class_ok"] += match.cue_class == wanted["cue_class"]
        counts["kind_ok"] += match.speaker_kind == wanted["speaker_kind"]
        counts["direct_ok"] += match.direct == wanted["direct"]
    counts["time_gold"], counts["time_pred"] = len(gold["times"]), len(doc.times)
    unused_times = list(doc.times)
    for wanted in gold["times"]:
        text = _key(wanted["text"])
        match = next((t for t in unused_times if t.paragraph == wanted["paragraph"]
                      and (text in _key(t.text) or _key(t.text) in text)), None)
        if match is None:
            continue
        unused_times.remove(match)
        counts["time_hit"] += 1
        counts["value_ok"] += match.value == wanted["value"]
    return counts


def speed(shared: Path, articles: int) -> list[tuple[str, int, float]]:
    records = []
    folder = shared / "data" / "saudinewsnet" / "dataset"
    if folder.is_dir():
        archive = zipfile.ZipFile(sorted(folder.glob("*.zip"))[0])
        for record in json.loads(archive.read(archive.namelist()[0])):
            if record.get("content", "").strip():
                records.append(RawItem("snn", record["content"], title=record.get("title"), form="text"))
            if len(records) >= articles:
                break
    else:
        pages = [RawItem(p.name, p.read_bytes()) for p in sorted(sample_path().iterdir())]
        records = (pages * (articles // len(pages) + 1))[:articles]
    from tabayyun.understand.ner import load_model
    from tabayyun.understand.ner_features import clear_lexical_cache

    model = load_model()
    network = model.network
    rows = []
    runs = [("clean + metadata (reference)", ["clean", "metadata"], network),
            ("full analyze pipeline", None, network)]
    if network is not None:      # a network layer trained beside the model (tabayyun train ner --vectors)
        runs.insert(1, ("analyze, NER tagger alone", None, None))
    for name, stages, layer in runs:
        model.network = layer     # the network layer over the NER tagger, or none
        clear_lexical_cache()     # every run starts with cold per-word caches
        model.clear_caches()
        started = time.perf_counter()
        for item in records:
            try:
                process(item, stages=stages)
            except ValueError:
                pass
        rows.append((name, len(records), time.perf_counter() - started))
    model.network = network
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    parser.add_argument("--articles", type=int, default=1000)
    args = parser.parse_args()
    totals: dict[str, int] = {}
    for gold_file in sorted((HERE / "gold" / "understanding").glob("*.json")):
        for name, value in score_page(json.loads(gold_file.read_text(encoding="utf-8"))).items():
            totals[name] = totals.get(name, 0) + value

    def ratio(a: str, b: str) -> float:
        return totals.get(a, 0) / totals[b] if totals.get(b) else 0.0

    print(f"{'measure':<34} {'value':>8}")
    rows = [
        ("quotes: precision", ratio("quote_hit", "quote_pred")),
        ("quotes: recall", ratio("quote_hit", "quote_gold")),
        ("quotes: speaker right (matched)", ratio("speaker_ok", "quote_hit")),
        ("quotes: cue class right (matched)", ratio("class_ok", "quote_hit")),
        ("quotes: speaker kind right (matched)", ratio("kind_ok", "quote_hit")),
        ("quotes: direct/indirect right", ratio("direct_ok", "quote_hit")),
        ("times: precision", ratio("time_hit", "time_pred")),
        ("times: recall", ratio("time_hit", "time_gold")),
        ("times: value right (matched)", ratio("value_ok", "time_hit")),
    ]
    for name, value in rows:
        print(f"{name:<34} {value:>8.3f}")
    print(f"(gold: {totals.get('quote_gold', 0)} quotes, {totals.get('time_gold', 0)} time expressions)")
    print()
    print(f"{'run':<32} {'articles':>8} {'seconds':>8} {'articles/s':>10} {'ratio':>6}")
    timing = speed(args.shared, args.articles)
    reference = timing[0][1] / timing[0][2]
    for name, count, seconds in timing:
        print(f"{name:<32} {count:>8} {seconds:>8.1f} {count / seconds:>10.1f} {count / seconds / reference:>5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
