"""The `tabayyun` command line: parsing and printing only; the work happens in the library."""

from __future__ import annotations

import json
import sys
from typing import Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from tabayyun.cli_claims import check as check_claim, register
from tabayyun.cli_export import register as register_export
from tabayyun.cli_migrate import register as register_migrate
from tabayyun.cli_upkeep import register as register_upkeep
from tabayyun.cli_serve import register as register_serve
from tabayyun.cli_stories import register as register_stories
from tabayyun.cli_output import (AnalysisOption, DbOption, FormatOption, SiteRepeatsOption, _fail_line, _open_existing,
                                 _open_writable, _reference, _safe, _text, check_analysis, display_db, err, out,
                                 passage_line)
from tabayyun.ingest import IngestReport, ingest as run_ingest, inputs_repeats
from tabayyun.model import Document
from tabayyun.pipeline import ANALYSIS_LEVELS, MAX_BYTES, ItemError, process_safely
from tabayyun.sample import sample_path
from tabayyun.sources.readers import ItemFailure, iter_items
from tabayyun.store import open_storage
from tabayyun.understand.entities import group_mentions

app = typer.Typer(help="tabayyun (تبيّن): verify the news. Arabic-first claim-verification workbench.",
                  no_args_is_help=True, add_completion=False)


def _ingest_with_progress(db: Optional[str], paths: list[str], runner=run_ingest, **options) -> IngestReport:
    try:
        storage = open_storage(db)
    except Exception as exc:  # noqa: BLE001 - any failure to open the workspace is fatal
        err.print(_text(f"fatal: cannot open workspace {display_db(db)}: {exc}"), soft_wrap=True)
        raise typer.Exit(1) from None
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    if runner is not run_ingest:    # the Dask engine: a bar of the partitions done
        columns = (*columns[:2], BarColumn(), MofNCompleteColumn(), columns[2])
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("ingesting", total=None)

        def show(report: IngestReport) -> None:
            progress.update(task, description=(
                f"stored {report.stored}  duplicates {report.duplicates}  failed {report.failed}"),
                total=report.partitions or None, completed=report.partitions_done)

        report = runner(storage, paths, on_failure=_fail_line, on_progress=show, **options)
    storage.close()
    return report


def _print_summary(report: IngestReport, db: Optional[str]) -> None:
    embedded = (f", {report.embedded} leads embedded for search in {report.embed_seconds:.1f} s"
                if report.embedded else "")
    partitions = f", {len(report.failed_partitions)} partitions failed" if report.failed_partitions else ""
    err.print(_text(
        f"{report.stored} stored, {report.duplicates} skipped as duplicate, {report.failed} failed{partitions}"
        f"{embedded}  ->  {display_db(db)}"), soft_wrap=True)
    grown = report.sites_grown
    if grown:
        who = (f"{grown[0]} now repeats lines that its" if len(grown) == 1 else
               f"{len(grown)} sites ({', '.join(grown[:5])}{' ...' if len(grown) > 5 else ''}) now repeat lines"
               " that their")
        err.print(_text(f"note: {who} pages stored earlier still hold: `tabayyun reprocess --site HOST` cleans "
                        "those again"), soft_wrap=True)


@app.command()
def ingest(
    paths: list[str] = typer.Argument(..., help="Files, folders, .json/.jsonl, .warc(.gz), .zip, or - for stdin."),
    db: Optional[str] = DbOption,
    workers: Optional[int] = typer.Option(None, help="Worker processes (default: up to 2); with --engine dask, "
                                                     "the local cluster's workers."),
    batch_size: int = typer.Option(200, help="Documents per committed batch."),
    max_bytes: int = typer.Option(MAX_BYTES, help="Largest item accepted, in bytes."),
    reference_date: Optional[str] = typer.Option(None, help="Date that relative dates resolve against."),
    analysis: str = AnalysisOption,
    embed: bool = typer.Option(True, "--embed/--no-embed", help="Embed each new document's title and lead for "
                                                                "semantic search (off: full-text search only)."),
    site_repeats: bool = SiteRepeatsOption,
    engine: str = typer.Option("local", help="local (worker processes of this machine) or dask (Dask tasks over "
                                             "partitions of the input)."),
    scheduler: Optional[str] = typer.Option(None, help="--engine dask: address of a running Dask scheduler "
                                                       "(tcp://...; default: a local cluster)."),
    shards: Optional[str] = typer.Option(None, help="--engine dask: keep the Parquet shards in this folder "
                                                    "(`tabayyun ingest DIR` loads such a folder); with --scheduler "
                                                    "and a SQLite workspace, a folder the workers share."),
) -> None:
    """Clean and store pages in the workspace. Exit 0: all fine; 2: some items or partitions failed; 1: fatal."""
    check_analysis(analysis)
    if engine not in ("local", "dask"):
        raise typer.BadParameter("--engine must be local or dask")
    if engine == "local" and (scheduler or shards):
        raise typer.BadParameter("--scheduler and --shards need --engine dask")
    options = dict(workers=workers, batch_size=batch_size, max_bytes=max_bytes, embed=embed,
                   reference_date=_reference(reference_date), stages=ANALYSIS_LEVELS[analysis],
                   site_repeats=site_repeats)
    if engine == "dask":
        from tabayyun.engine.driver import EngineError, dask_ingest

        options.update(runner=dask_ingest, scheduler=scheduler, shards=shards)
        try:
            report = _ingest_with_progress(db, paths, **options)
        except EngineError as exc:
            err.print(_text(f"fatal: {exc}"), soft_wrap=True)
            raise typer.Exit(1) from None
    else:
        report = _ingest_with_progress(db, paths, **options)
    _print_summary(report, db)
    raise typer.Exit(report.exit_code)


@app.command()
def analyze(
    files: list[str] = typer.Argument(..., help="Pages to analyze (same inputs as ingest)."),
    reference_date: Optional[str] = typer.Option(None, help="Date that relative dates resolve against."),
    fmt: str = typer.Option("json", "--format", "-f", help="json, jsonl or text."),
    max_bytes: int = typer.Option(MAX_BYTES, help="Largest item accepted, in bytes."),
    site_repeats: bool = SiteRepeatsOption,
) -> None:
    """Run the pipeline without a workspace and print one JSON object per document."""
    if fmt not in ("json", "jsonl", "text"):
        raise typer.BadParameter("--format must be json, jsonl or text")
    reference = _reference(reference_date)
    failed = 0
    repeats = inputs_repeats(files, max_bytes) if site_repeats else None
    for item in iter_items(files, max_bytes):
        if isinstance(item, ItemFailure):
            _fail_line(item)
            failed += 1
            continue
        try:
            doc = process_safely(item, reference_date=reference, max_bytes=max_bytes, site_repeats=repeats)
        except ItemError as exc:
            _fail_line(ItemFailure(item.source, str(exc)))
            failed += 1
            continue
        _print_document(doc, fmt)
    raise typer.Exit(2 if failed else 0)


def _print_document(doc: Document, fmt: str, show_removed: bool = True) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(doc.to_dict(), ensure_ascii=False, indent=2) + "\n")
    elif fmt == "jsonl":
        sys.stdout.write(json.dumps(doc.to_dict(), ensure_ascii=False) + "\n")
    else:
        _print_text(doc, show_removed)


def _print_text(doc: Document, show_removed: bool) -> None:
    def meta(label: str, value, evidence) -> None:
        why = f"  [{evidence.source}, {evidence.confidence:.2f}]" if evidence else ""
        note = f"  ({evidence.note})" if evidence and evidence.note else ""
        out.print(_text(f"{label:<10} {value if value is not None else '-'}{why}{note}"))

    out.print(_text(f"── {doc.id}  {doc.path or doc.url or ''}", style="bold"))
    meta("title", doc.title, doc.title_evidence)
    meta("outlet", doc.outlet, doc.outlet_evidence)
    meta("published", doc.published, doc.published_evidence)
    meta("language", doc.language, doc.language_evidence)
    out.print()
    for i, paragraph in enumerate(doc.paragraphs):
        out.print(_text(f"[{i}] {paragraph}"))
    _print_understanding(doc)
    if show_removed and doc.removed:
        out.print()
        for block in doc.removed:
            first = block.text.split("\n", 1)[0]
            more = f" (+{block.text.count(chr(10))} lines)" if "\n" in block.text else ""
            out.print(_text(f"  removed {block.kind:<14} {first[:90]}{more}", style="dim"))
    out.print()


def _print_understanding(doc: Document) -> None:
    people: dict[str, str] = {}
    for entity in doc.entities:
        people.setdefault(f"{entity.type} {entity.canonical}", entity.role or "")
    if people:
        out.print()
        out.print(_text("entities: " + "، ".join(f"{name}" + (f" ({role})" if role else "")
                                                for name, role in people.items())), soft_wrap=True)
    for time_expr in doc.times:
        out.print(_text(f"  time  [{time_expr.paragraph}] {time_expr.text} -> {time_expr.value or '?'}"
                       f" ({time_expr.granularity})"), soft_wrap=True)
    for quote in doc.quotes:
        via = f" via {' <- '.join(quote.via)}" if quote.via else ""
        out.print(_text(f"  quote [{quote.paragraph}] {quote.speaker or '?'} [{quote.speaker_kind}] {quote.cue}"
                       f" ({quote.cue_class}){via}: {quote.content[:120]}"), soft_wrap=True)


@app.command("list")
def list_documents(
    db: Optional[str] = DbOption,
    limit: int = typer.Option(50, help="How many documents to show."),
    offset: int = typer.Option(0, help="Skip this many."),
    outlet: Optional[str] = typer.Option(None, help="Only this outlet."),
    since: Optional[str] = typer.Option(None, help="Published on or after (YYYY-MM-DD)."),
    until: Optional[str] = typer.Option(None, help="Published on or before (YYYY-MM-DD)."),
    fmt: str = FormatOption,
) -> None:
    """List the documents of the workspace, newest first."""
    storage = _open_existing(db)
    rows = storage.list(limit=limit, offset=offset, outlet=outlet, since=since, until=until)
    total = storage.count()
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    out.print(_text(f"{total} documents in {display_db(storage.path)}", style="bold"))
    for row in rows:
        line = _text(f"{row['id'][:12]}  {row['published'] or '----------'}  ")
        line.append(_safe(f"{(row['outlet'] or '-')[:24]:<24}"), style="cyan")
        line.append(_safe(f"  {row['title'] or '-'}  "))
        line.append(f"[{row['paragraphs']} ¶, {row['removed']} removed]", style="dim")
        out.print(line, soft_wrap=True)


@app.command()
def show(
    doc_id: str = typer.Argument(..., help="Document id (or a unique prefix)."),
    db: Optional[str] = DbOption,
    fmt: str = FormatOption,
    raw: bool = typer.Option(False, "--raw", help="Print the raw input as stored."),
) -> None:
    """Show one stored document: metadata with evidence, paragraphs, removed blocks."""
    storage = _open_existing(db)
    doc = storage.get(doc_id)
    if doc is None:
        err.print(_text(f"error: no single document matches id {doc_id!r}"), soft_wrap=True)
        raise typer.Exit(1)
    if raw:
        sys.stdout.write(doc.text + "\n")
    elif fmt == "json":
        _print_document(doc, "json")
    else:
        _print_text(doc, show_removed=True)


@app.command()
def demo(db: Optional[str] = DbOption) -> None:
    """Ingest the built-in sample corpus, print what was found, and check one of its claims."""
    report = _ingest_with_progress(db, [str(sample_path())])
    _print_summary(report, db)
    list_documents(db=db, limit=50, offset=0, outlet=None, since=None, until=None, fmt="text")
    out.print(_text(f"\n$ tabayyun check \"{DEMO_CLAIM}\" --top 6", style="bold"))
    check_claim(DEMO_CLAIM, db=db, as_of=None, top=6, no_embeddings=False, fmt="text")
    raise typer.Exit(report.exit_code)


DEMO_CLAIM = "تفشي وباء الكوليرا في مرفأ الريحان"


@app.command()
def entities(
    db: Optional[str] = DbOption,
    type_: Optional[str] = typer.Option(None, "--type", help="PER, ORG, LOC or MISC."),
    limit: int = typer.Option(50, help="How many entities to show."),
    fmt: str = FormatOption,
) -> None:
    """Entities across the workspace: canonical name, aliases, roles, how many documents name them."""
    storage = _open_existing(db)
    groups = group_mentions(storage.entity_mentions(type_.upper() if type_ else None))[:limit]
    if fmt == "json":
        sys.stdout.write(json.dumps(groups, ensure_ascii=False, indent=2) + "\n")
        return
    for group in groups:
        line = _text(f"{group['type']:<5} {group['canonical']}", style="bold")
        line.append(f"  [{group['mentions']} mentions, {group['documents']} documents]", style="dim")
        out.print(line, soft_wrap=True)
        others = [a for a in group["aliases"] if a != group["canonical"]]
        if others:
            out.print(_text("      aliases: " + "، ".join(others)), soft_wrap=True)
        if group["roles"]:
            out.print(_text("      roles: " + "، ".join(group["roles"])), soft_wrap=True)


@app.command()
def quotes(
    db: Optional[str] = DbOption,
    speaker: Optional[str] = typer.Option(None, help="Only quotes whose speaker contains this."),
    cue_class: Optional[str] = typer.Option(None, help="assert, deny, confirm, report, refuse_comment, warn."),
    limit: int = typer.Option(100, help="How many quotes to show."),
    fmt: str = FormatOption,
) -> None:
    """Quotes across the workspace: who said what, with which verb, in which document."""
    storage = _open_existing(db)
    rows = storage.quotes(speaker=speaker, cue_class=cue_class, limit=limit)
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    for row in rows:
        head = _text(f"{row['doc_id'][:12]}  {row['published'] or '----------'}  ")
        head.append(_safe(f"{row['speaker'] or '?'}"), style="bold")
        head.append(_safe(f"  [{row['speaker_kind']}]  {row['cue']} ({row['cue_class']})"), style="cyan")
        if row["via"]:
            head.append(_safe("  via " + " <- ".join(row["via"])), style="dim")
        out.print(head, soft_wrap=True)
        mark = "«»" if row["direct"] else "  "
        out.print(_text(f"    {mark[0]}{row['content']}{mark[1]}"), soft_wrap=True)


@app.command()
def search(
    query: str = typer.Argument(..., help="Free text, a claim or keywords (Arabic or other languages)."),
    db: Optional[str] = DbOption,
    top: int = typer.Option(10, "--top", "-k", help="How many documents to show."),
    no_embeddings: bool = typer.Option(False, "--no-embeddings", help="Full-text search only (no model)."),
    fmt: str = FormatOption,
) -> None:
    """Search the workspace: full text of light stems fused with semantic similarity (embeddings)."""
    from tabayyun.search.embed import Embedder
    from tabayyun.search.hybrid import search as run_search

    if fmt not in ("text", "json"):
        raise typer.BadParameter("--format must be text or json")
    storage = _open_writable(db)
    embedder = Embedder(storage, enabled=not no_embeddings, reason="--no-embeddings")
    result = run_search(storage, query, k=top, embeddings=embedder)
    storage.close()
    if fmt == "json":
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n")
        return
    head = _text(f"{len(result.hits)} documents for ", style="bold")
    head.append(_safe(query), style="bold")
    head.append(f"  [{result.mode}, {result.seconds * 1000:.0f} ms]", style="dim")
    out.print(head, soft_wrap=True)
    if result.note:
        out.print(_text(result.note, style="dim"), soft_wrap=True)
    for rank, hit in enumerate(result.hits, 1):
        _print_hit(rank, hit)


def _print_hit(rank: int, hit) -> None:
    ranks = f"full text {hit.fulltext_rank or '-'}, meaning {hit.semantic_rank or '-'}"
    line = _text(f"{rank:>2}. {hit.doc_id[:12]}  {hit.published or '----------'}  ")
    line.append(_safe(f"{(hit.outlet or '-')[:24]:<24}"), style="cyan")
    line.append(_safe(f"  {hit.title or '-'}"), style="bold")
    line.append(f"  [{hit.score:.4f}; {ranks}]", style="dim")
    out.print(line, soft_wrap=True)
    where = "title" if hit.paragraph < 0 else f"¶{hit.paragraph}"
    snippet = _text(f"    {where}: ")
    position = 0
    for start, end in hit.marks:
        snippet.append(_safe(hit.snippet[position:start]))
        snippet.append(_safe(hit.snippet[start:end]), style="bold yellow")
        position = end
    snippet.append(_safe(hit.snippet[position:]))
    out.print(snippet, soft_wrap=True)


@app.command()
def duplicates(db: Optional[str] = DbOption, fmt: str = FormatOption,
               passages: bool = typer.Option(False, "--passages", help="List each pair's shared passages.")) -> None:
    """Near-duplicate articles: groups of copies of one text (wire copies, re-scrapes), with each pair's
    shingle Jaccard, containment and the rule that accepted it, and which copy came first, which credit an
    agency and which not."""
    from tabayyun.connect.duplicates import duplicate_groups

    if fmt not in ("text", "json"):
        raise typer.BadParameter("--format must be text or json")
    storage = _open_writable(db)
    try:
        storage.sign_missing()
        groups = duplicate_groups(storage, passages=passages)
        total = storage.count()
    finally:
        storage.close()
    if fmt == "json":
        sys.stdout.write(json.dumps({"groups": groups}, ensure_ascii=False, indent=2) + "\n")
        return
    copies = sum(len(group["documents"]) for group in groups)
    out.print(_text(f"{len(groups)} groups of near-duplicates ({copies} of {total} documents)", style="bold"))
    for number, group in enumerate(groups, 1):
        out.print(_text(f"\n── group {number}: {len(group['documents'])} documents", style="bold"))
        for doc in group["documents"]:
            line = _text(f"  {doc['id'][:12]}  {doc['published'] or '----------'}  ")
            line.append(_safe(f"{(doc['outlet'] or '-')[:24]:<24}"), style="cyan")
            line.append(_safe(f"  {doc['title'] or '-'}"))
            out.print(line, soft_wrap=True)
        for pair in group["pairs"]:
            out.print(_text(f"    {pair['a'][:12]} ~ {pair['b'][:12]}  jaccard {pair['jaccard']:.2f}"
                            f"  containment {pair['containment']:.2f}  {pair['method']}", style="dim"))
            for passage in pair.get("passages", []):
                out.print(_text(f"      shared {passage_line(passage)}"), soft_wrap=True)
        out.print(_syndication_line(group["syndication"]), soft_wrap=True)


def _syndication_line(synd: dict):
    """One line: the first copy (or why there is none), then who credits an agency and who does not."""
    first = synd["first"][:12] if synd["first"] else "unknown"
    credited = ", ".join(f"{doc_id[:12]} ({synd['evidence'][doc_id]['credit'][0]['text']})"
                         for doc_id in synd["credited"]) or "none"
    uncredited = ", ".join(doc_id[:12] for doc_id in synd["uncredited"]) or "none"
    return _text(f"    first: {first} ({synd['first_note']}); credited: {credited}; without credit: {uncredited}",
                 style="green")


train_app = typer.Typer(help="Train the models tabayyun ships.", no_args_is_help=True)
eval_app = typer.Typer(help="Evaluate the shipped models.", no_args_is_help=True)
app.add_typer(train_app, name="train")
app.add_typer(eval_app, name="eval")


@train_app.command("ner")
def train_ner_command(
    data: str = typer.Option(..., help="CoNLL file: token TAG per line (ANERcorp train.txt)."),
    out_path: Optional[str] = typer.Option(None, "--out", help="Where to write the model (default: the package)."),
    iterations: int = typer.Option(300, help="L-BFGS iterations at most."),
    holdout: bool = typer.Option(True, help="Keep the last 10% of sentences out of training (for eval)."),
    vectors: Optional[str] = typer.Option(None, help="Word vectors (tabayyun train clusters --vectors FILE): also "
                                                     "train the network layer over the tagger (needs torch)."),
) -> None:
    """Train the named-entity model (a CRF, and with --vectors its network layer) and write it (needs the train extra)."""
    from importlib import resources

    from tabayyun.train.ner import train_ner
    from tabayyun.understand.ner import MODEL_RESOURCE

    target = out_path or str(resources.files("tabayyun").joinpath(MODEL_RESOURCE))
    try:
        summary = train_ner(data, target, iterations=iterations, holdout=holdout, vectors=vectors,
                            log=lambda line: err.print(_text(line)))
    except ImportError as exc:     # the train extra is not installed
        err.print(_text(f"fatal: {exc}"), soft_wrap=True)
        raise typer.Exit(1) from None
    sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")


@train_app.command("clusters")
def train_clusters_command(
    data: list[str] = typer.Option(..., help="Unlabeled news text: folders, .txt, .json/.jsonl records, .zip of "
                                             "them (repeat the option for several)."),
    out_path: Optional[str] = typer.Option(None, "--out", help="Where to write the table (default: the package)."),
    vocab: int = typer.Option(40_000, help="How many of the most frequent words to cluster."),
    seed: int = typer.Option(0, help="Seed of the random projection and of k-means."),
    vectors: Optional[str] = typer.Option(None, help="Also write the word vectors here (for tabayyun train ner "
                                                     "--vectors; not shipped)."),
) -> None:
    """Learn the word clusters the NER tagger reads (retrain the tagger after: tabayyun train ner)."""
    from importlib import resources

    from tabayyun.train.clusters import train_clusters
    from tabayyun.understand.wordclusters import CLUSTERS_RESOURCE

    target = out_path or str(resources.files("tabayyun").joinpath(CLUSTERS_RESOURCE))
    summary = train_clusters(data, target, vocab=vocab, seed=seed, vectors_out=vectors,
                             log=lambda line: err.print(_text(line)))
    sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")


@eval_app.command("ner")
def eval_ner_command(
    data: str = typer.Option(..., help="CoNLL file to evaluate on."),
    holdout_only: bool = typer.Option(False, help="Only the held-out last 10% of the file."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
) -> None:
    """Span-level precision, recall and F1 of the shipped NER model (exact match), and tokens/s."""
    from tabayyun.train.ner import evaluate_ner

    result = evaluate_ner(data, holdout_only=holdout_only)
    if fmt == "json":
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        return
    out.print(_text(f"{'type':<8} {'P':>6} {'R':>6} {'F1':>6}", style="bold"))
    for name, scores in [*sorted(result["per_type"].items()), ("overall", result["overall"])]:
        out.print(_text(f"{name:<8} {scores['precision']:>6.3f} {scores['recall']:>6.3f} {scores['f1']:>6.3f}"))
    out.print(_text(f"{result['tokens']} tokens, {result['sentences']} sentences, "
                   f"{result['tokens_per_s']:,.0f} tokens/s"))


register(app, train_app, eval_app)
register_stories(app)
register_serve(app)
register_export(app)
register_migrate(app)
register_upkeep(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
