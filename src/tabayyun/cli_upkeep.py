"""Keeping a workspace current: what it has learnt of each site's furniture (`tabayyun sites`), and
its stored pages cleaned and analysed again from their raw input (`tabayyun reprocess`)."""

from __future__ import annotations

import json
from typing import Optional

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from tabayyun.clean.siterepeats import MAX_SITE_PAGES, MIN_PAGES
from tabayyun.cli_output import (AnalysisOption, DbOption, FormatOption, _fail_line, _open_existing, _open_writable,
                                 _reference, _text, check_analysis, display_db, err, out)
from tabayyun.pipeline import ANALYSIS_LEVELS
from tabayyun.reprocess import ReprocessReport, reprocess as run_reprocess


def reprocess(db: Optional[str] = DbOption,
              analysis: str = AnalysisOption,
              workers: Optional[int] = typer.Option(None, help="Worker processes (default: up to 2)."),
              batch_size: int = typer.Option(200, help="Changed documents per committed batch."),
              reference_date: Optional[str] = typer.Option(None, help="Date that relative dates resolve against "
                                                                      "(default: each page's publication date)."),
              embed: bool = typer.Option(True, "--embed/--no-embed", help="Embed the lead of each changed "
                                                                          "document again for semantic search."),
              after: Optional[str] = typer.Option(None, "--after", help="Start after this document (in the order "
                                                                         "of ingestion), as an interrupted run "
                                                                         "names it."),
              resume: bool = typer.Option(False, "--resume", help="Go on with the workspace's unfinished run "
                                                                  "(however it stopped), with its own options."),
              site: Optional[list[str]] = typer.Option(None, "--site", help="Only the pages of this site (a host as "
                                                                      "`tabayyun sites` lists it); repeatable."),
              site_repeats: bool = typer.Option(True, "--site-repeats/--no-site-repeats",
                                                help="Remove the lines each site repeats on 3 or more of the pages "
                                                     "the workspace has counted.")) -> None:
    """Clean and analyse every stored page again from its raw input (after an upgrade, when the site
    counts grew, or to turn a --analysis basic workspace into a full one); documents whose result
    changed are replaced, with their near-duplicates, lead vectors and stories. Exit 0: all fine; 2:
    some documents failed (they keep their stored analysis); 1: fatal."""
    check_analysis(analysis)
    if resume and after:
        raise typer.BadParameter("--resume goes on from where the unfinished run got to: give it or --after")
    storage = _open_writable(db)
    latest: list[ReprocessReport] = []
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err,
                      transient=True) as progress:
            task = progress.add_task("reprocessing", total=None)

            def show(report: ReprocessReport) -> None:
                latest[:] = [report]
                progress.update(task, description=f"read {report.seen}  changed {report.changed}  "
                                                  f"failed {report.failed}")

            report = run_reprocess(storage, stages=ANALYSIS_LEVELS[analysis], reference_date=_reference(reference_date),
                                   workers=workers, batch_size=batch_size, embed=embed, site_repeats=site_repeats,
                                   sites=site, after=after, resume=resume, on_failure=_fail_line, on_progress=show)
    except ValueError as exc:
        err.print(_text(f"error: {exc}"), soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        through = latest[0].done_through if latest else None
        err.print(_text("interrupted: " + (f"every page up to document {through} is done; "
                                           if through else "nothing done; ")
                        + "`tabayyun reprocess --resume` goes on from there"), soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        storage.close()
    err.print(_text(summary(report) + f"  ->  {display_db(db)}"), soft_wrap=True)
    raise typer.Exit(report.exit_code)


def summary(report: ReprocessReport) -> str:
    line = f"{report.seen} read: {report.changed} changed, {report.unchanged} unchanged, {report.failed} failed"
    if report.changed:
        leads = (f"leads not embedded: {report.embed_note}" if report.embed_note
                 else f"{report.embedded} leads embedded")
        line += f"; again: {report.signed} signed for near-duplicates, {leads}, {report.clustered} placed in stories"
        notes = [f"{report.stories_dropped} stories left empty were dropped"] if report.stories_dropped else []
        notes += [f"{report.stories_refreshed} left with fewer labelled and dated again"] \
            if report.stories_refreshed else []
        line += f" ({'; '.join(notes)})" if notes else ""
    elif report.embedded:
        line += f"; {report.embedded} documents without a lead vector got one"
    return line


def sites(db: Optional[str] = DbOption, fmt: str = FormatOption) -> None:
    """The sites whose pages the workspace has counted: how many pages, and how many lines each repeats
    on 3 or more of them (removed from its pages as the site's, not the article's)."""
    storage = _open_existing(db)
    rows = [{"host": host, "pages": pages, "repeated_lines": lines}
            for host, pages, lines in storage.site_summaries(MIN_PAGES)]
    storage.close()
    if fmt == "json":
        out.print(json.dumps(rows, ensure_ascii=False, indent=2), soft_wrap=True)
        return
    if not rows:
        out.print("no site counted yet: ingest flattened-text pages with an address (site repeats on)", soft_wrap=True)
        return
    table = Table("site", "pages counted", f"lines on {MIN_PAGES}+ pages",
                  title=f"sites (at most {MAX_SITE_PAGES:,} pages counted a site)", title_justify="left")
    for row in rows:
        table.add_row(_text(row["host"]), str(row["pages"]), str(row["repeated_lines"]))
    out.print(table)


def register(app: typer.Typer) -> None:
    app.command()(reprocess)
    app.command()(sites)
