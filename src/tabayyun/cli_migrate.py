"""`tabayyun migrate SOURCE TARGET`: copy a whole workspace between SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tabayyun.cli_output import _text, display_db, err, out
from tabayyun.store import open_storage
from tabayyun.store.migrate import TABLES, CopyReport, TargetNotEmpty, copy_workspace, table_counts


def _open(address: str, readonly: bool):
    try:
        return open_storage(address, readonly=readonly)
    except Exception as exc:  # noqa: BLE001 - any failure to open a workspace ends the command
        err.print(_text(f"error: cannot open workspace {display_db(address)}: {exc}"), soft_wrap=True)
        raise typer.Exit(1) from None


def _same_place(source: str, target: str) -> bool:
    """Whether two addresses name one workspace (copying it onto itself with --force would empty it)."""
    if "://" in source or "://" in target:
        return source == target
    return Path(source).resolve() == Path(target).resolve()


def _summary(report: CopyReport) -> Table:
    table = Table("table", "source rows", "target rows", "", title="rows per table", title_justify="left")
    for name, rows in report.source.items():
        copied = report.target.get(name, 0)
        table.add_row(_text(name), str(rows), str(copied), "ok" if copied == rows else "DIFFERS")
    return table


def migrate(source: str = typer.Argument(..., help="Workspace to copy: a SQLite file or a postgresql:// address."),
            target: str = typer.Argument(..., help="Workspace to create: a SQLite file or a postgresql:// address."),
            force: bool = typer.Option(False, "--force", help="Replace the contents of a target that is not empty.")
            ) -> None:
    """Copy every table of a workspace to another backend (ids, stories and embedding cache kept;
    the full-text index rebuilt on the target), then check that the row counts match."""
    if "://" not in source and not Path(source).is_file():
        err.print(_text(f"error: no workspace at {display_db(source)}"), soft_wrap=True)
        raise typer.Exit(1)
    if _same_place(source, target):
        err.print(_text(f"error: {display_db(source)} is both the source and the target"), soft_wrap=True)
        raise typer.Exit(1)
    reader = _open(source, readonly=True)
    writer = _open(target, readonly=False)
    total = sum(table_counts(reader, [name for name, _ in TABLES]).values())
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=err, transient=True) as progress:
            task = progress.add_task("copying", total=total)
            report = copy_workspace(reader, writer, force=force, on_rows=lambda table, rows: progress.update(
                task, advance=rows, description=f"copying {table}"))
    except TargetNotEmpty as exc:
        err.print(_text(f"error: {display_db(target)}: {exc}"), soft_wrap=True)
        raise typer.Exit(1) from None
    except Exception as exc:  # noqa: BLE001 - a failed copy is one line, not a traceback
        err.print(_text(f"error: copying {display_db(source)} to {display_db(target)} failed: {exc}"), soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        reader.close()
        writer.close()
    out.print(_summary(report))
    if not report.verified:
        err.print(_text("error: row counts differ for " + ", ".join(report.mismatches())), soft_wrap=True)
        raise typer.Exit(1)
    out.print(_text(f"{sum(report.target.values())} rows copied and verified: {display_db(source)}"
                    f"  ->  {display_db(target)}"), soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command()(migrate)
