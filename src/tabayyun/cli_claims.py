"""Claim commands of the `tabayyun` CLI: check, sources, train stance, eval stance and verdict.

`tabayyun.cli` calls `register` with its apps (also when run as `python -m tabayyun.cli`, where that
module is `__main__`); parsing and printing only.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from tabayyun.cli_output import DbOption, FormatOption, _open_writable, _text, err, out

DataOption = typer.Option(..., "--data", help="A folder in the Baly et al. (2018) format (dataset/*.json).")
# The options both eval commands take.
ShippedOption = typer.Option(False, help="Evaluate the shipped model on every claim; train nothing.")
FoldExtraOption = typer.Option(None, "--extra", help="ANS corpus folder: the pair model of each fold learns from it.")
EvalEmbeddingsOption = typer.Option(True, help="Use the sentence-pair model on e5 embeddings (off: lexical only).")
CacheOption = typer.Option(None, help="Embedding cache file (default ~/.cache/tabayyun/embeddings.db).")


def _as_of(value: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {value}") from None


def check(
    claim: str = typer.Argument(..., help="The claim to check, in Arabic (or any language of the workspace)."),
    db: Optional[str] = DbOption,
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Use only what was published by this date."),
    top: int = typer.Option(20, "--top", "-k", help="How many retrieved documents to assess."),
    no_embeddings: bool = typer.Option(False, "--no-embeddings", help="Full-text retrieval only."),
    fmt: str = FormatOption,
) -> None:
    """Check a claim: the documents about it by stance, with rationale sentences, and a verdict."""
    from tabayyun.check import check as run_check

    if not claim.strip():
        raise typer.BadParameter("the claim is empty")
    storage = _open_writable(db)
    try:
        result = run_check(storage, claim, as_of=_as_of(as_of), top=top, embeddings=not no_embeddings)
    finally:
        storage.close()
    if fmt == "json":
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n")
        return
    _print_check(result)


def _print_check(result) -> None:
    verdict = result.verdict
    out.print(_text(f"claim: {result.claim}", style="bold"))
    out.print(_text(f"verdict: {verdict.label} (confidence {verdict.confidence:.2f})"
                    + (f", as of {result.as_of}" if result.as_of else ""), style="bold"))
    out.print(_text(verdict.explanation))
    if result.retrieval.get("note"):
        out.print(_text(f"note: {result.retrieval['note']}", style="yellow"))
    for item in result.assessments:
        doc, found = item.document, item.stance
        scores = " ".join(f"{k} {v:.2f}" for k, v in found.scores.items())
        out.print(_text(f"\n[{found.label}] {doc.id}  {doc.published or '-'}  {doc.outlet or '-'}  ({scores})",
                        style="bold"))
        if doc.title:
            out.print(_text(f"  {doc.title}"))
        for sentence in found.rationale:
            where = "title" if sentence.paragraph < 0 else f"¶{sentence.paragraph} {sentence.start}-{sentence.end}"
            who = f", {sentence.speaker} ({sentence.cue_class})" if sentence.speaker else ""
            out.print(_text(f"  > ({where}, {sentence.score:.2f}{who}) {sentence.text}"), soft_wrap=True)
    if verdict.timeline:
        out.print(_text("\ntimeline:", style="bold"))
        for entry in verdict.timeline:
            out.print(_text(f"  {entry.date or '-'}  {entry.stance:<9} {entry.outlet or '-'}: {entry.gist}"),
                      soft_wrap=True)
    spent = result.retrieval.get("embedding", {})
    out.print(_text(f"\n{result.retrieval.get('mode')} retrieval, {result.retrieval.get('seconds')} s"
                    f" (embedded {spent.get('misses', 0)} new texts)"))


def sources(
    db: Optional[str] = DbOption,
    set_: list[str] = typer.Option([], "--set", help="OUTLET=RELIABILITY (0 to 1); repeatable."),
    note: Optional[str] = typer.Option(None, help="Why (stored with --set)."),
    fmt: str = FormatOption,
) -> None:
    """The outlets of the workspace and how far each is trusted when claims are checked."""
    from tabayyun.verdict import source_rows

    storage = _open_writable(db)
    try:
        for assignment in set_:
            outlet, _, value = assignment.rpartition("=")
            try:
                storage.set_reliability(outlet.strip(), float(value), note)
            except ValueError as exc:
                raise typer.BadParameter(f"--set {assignment}: {exc}") from None
        rows = source_rows(storage)
    finally:
        storage.close()
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table("outlet", "documents", "reliability", "set by")
    for row in rows:
        table.add_row(_text(row["outlet"]), str(row["documents"]), f"{row['reliability']:.2f}", row["set_by"])
    out.print(table)


def _training_embedder(cache: Optional[str], embeddings: bool):
    """An embedder whose vectors are cached in a workspace file, so retraining embeds nothing twice."""
    if not embeddings:
        return None
    from tabayyun.search.embed import Embedder
    from tabayyun.store import open_storage

    path = Path(cache or Path.home() / ".cache" / "tabayyun" / "embeddings.db")
    path.parent.mkdir(parents=True, exist_ok=True)
    embedder = Embedder(open_storage(str(path)))
    if not embedder.enabled:
        err.print(_text(f"note: {embedder.reason}; lexical features only"))
        return None
    return embedder


def train_stance_command(
    data: str = DataOption,
    extra: Optional[str] = typer.Option(None, help="ANS corpus folder: its pairs train the sentence model."),
    out_path: Optional[str] = typer.Option(None, "--out", help="Where to write the model (default: the package)."),
    embeddings: bool = typer.Option(True, help="Also train the sentence-pair model on e5 embeddings (embeds the"
                                            " best sentences of every document once; cached)."),
    cache: Optional[str] = CacheOption,
) -> None:
    """Train the stance model on every claim in DATA and write it with its model card."""
    from tabayyun.train.stance import train_and_save

    summary = train_and_save(data, out_path, extra=extra, embedder=_training_embedder(cache, embeddings))
    sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")


def train_pairs_command(
    data: str = typer.Option(..., "--data", help="ANS-format folder: stance/train.csv (s1, s2, stance)."),
    out_path: Optional[str] = typer.Option(None, "--out", help="Where to write the pair reader "
                                                                "(default: the package)."),
) -> None:
    """Train the pair reader (an e5 cross-encoder with low-rank adapters; needs torch, the train extra)."""
    from tabayyun.train.stance import train_pair_reader

    try:
        summary = train_pair_reader(data, out_path, log=lambda line: err.print(_text(line)))
    except (RuntimeError, OSError, ValueError) as exc:
        err.print(_text(f"error: {exc}"))
        raise typer.Exit(1) from None
    sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")


def eval_stance_command(
    data: str = DataOption,
    shipped: bool = ShippedOption,
    extra: Optional[str] = FoldExtraOption,
    embeddings: bool = EvalEmbeddingsOption,
    cache: Optional[str] = CacheOption,
    fmt: str = FormatOption,
) -> None:
    """Accuracy, macro-F1, per-class F1, confusion, rationale P/R and pairs/s (CV grouped by claim)."""
    from tabayyun.train.stance import evaluate_folder

    _emit_report(evaluate_folder(data, shipped=shipped, embedder=_training_embedder(cache, embeddings), extra=extra),
                 fmt)


def eval_verdict_command(
    data: str = DataOption,
    shipped: bool = ShippedOption,
    extra: Optional[str] = FoldExtraOption,
    embeddings: bool = EvalEmbeddingsOption,
    cache: Optional[str] = CacheOption,
    fmt: str = FormatOption,
) -> None:
    """Claim-veracity accuracy and macro-F1 against the corpus' true/false labels."""
    from tabayyun.train.stance import evaluate_verdicts

    _emit_report(evaluate_verdicts(data, shipped=shipped, embedder=_training_embedder(cache, embeddings),
                                   extra=extra), fmt)


def _emit_report(result: dict, fmt: str) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    else:
        _print_report(result)


def _print_report(result: dict) -> None:
    out.print(_text(f"{result.get('protocol', '')}", style="bold"))
    out.print(_text(f"accuracy {result['accuracy']:.3f}   macro-F1 {result['macro_f1']:.3f}"))
    table = Table("label", "precision", "recall", "F1", "gold")
    for label, scores in result["per_class"].items():
        gold = sum(result["confusion"][result["labels"].index(label)])
        table.add_row(label, f"{scores['precision']:.3f}", f"{scores['recall']:.3f}", f"{scores['f1']:.3f}",
                      str(gold))
    out.print(table)
    confusion = Table("gold \\ predicted", *result["labels"])
    for label, row in zip(result["labels"], result["confusion"]):
        confusion.add_row(label, *(str(v) for v in row))
    out.print(confusion)
    if "rationale" in result:
        out.print(_text(f"rationale precision {result['rationale']['precision']:.3f}"
                        f"   recall {result['rationale']['recall']:.3f}"))
    if "pairs_per_s" in result:
        out.print(_text(f"{result['pairs']} pairs, {result['pairs_per_s']:,.1f} pairs/s"))


def register(app: typer.Typer, train_app: typer.Typer, eval_app: typer.Typer) -> None:
    app.command()(check)
    app.command()(sources)
    train_app.command("stance")(train_stance_command)
    train_app.command("pairs")(train_pairs_command)
    eval_app.command("stance")(eval_stance_command)
    eval_app.command("verdict")(eval_verdict_command)
