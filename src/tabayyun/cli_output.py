"""What every `tabayyun` command shares: the consoles, escaping of scraped text, common options and
opening the workspace."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.text import Text

from tabayyun.sources.readers import ItemFailure
from tabayyun.store import display_address, open_storage, resolve_db

# Scraped text is hostile: no markup, emoji codes or highlighting may be interpreted in it.
out = Console(highlight=False, emoji=False, markup=False)
err = Console(stderr=True, highlight=False, emoji=False, markup=False)

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _safe(value: object) -> str:
    """Scraped text must not drive the terminal: control characters (escape sequences) and bidi
    overrides are dropped before printing; newlines and tabs stay."""
    return _UNSAFE.sub("", str(value))


def _text(value: object, **style) -> Text:
    return Text(_safe(value), **style)


def passage_line(passage: dict) -> str:
    """A shared passage on one line: where it is on each side (paragraph[start:end]), then its text."""
    a, b = passage["a"], passage["b"]
    return f"¶{a['paragraph']}[{a['start']}:{a['end']}] ~ ¶{b['paragraph']}[{b['start']}:{b['end']}]  {passage['text']}"


def _reference(value: Optional[str]) -> Optional[date]:
    """A --reference-date value as a date."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {value}") from None


def _fail_line(failure: ItemFailure) -> None:
    err.print(_text(f"error: {failure.source}: {failure.message}"), soft_wrap=True)


DbOption = typer.Option(None, "--db", help="Workspace: a SQLite file or a postgresql:// address"
                                          " (default: $TABAYYUN_DB or ./tabayyun.db).")


def display_db(db: Optional[str]) -> str:
    """The workspace address as printed: resolved like --db, without a PostgreSQL password."""
    return display_address(resolve_db(db))
FormatOption = typer.Option("text", "--format", "-f", help="Output format: text or json.")
AnalysisOption = typer.Option("full", help="full (entities, times, quotes, citations) or basic (clean text "
                                          "and metadata only, much faster).")
SiteRepeatsOption = typer.Option(True, "--site-repeats/--no-site-repeats",
                                 help="First read the inputs once to find the lines each site repeats on 3 or more "
                                      "pages, and remove them (local inputs with an address; ingest adds "
                                      "the counts kept in the workspace from earlier ingests).")


def check_analysis(analysis: str) -> None:
    from tabayyun.pipeline import ANALYSIS_LEVELS

    if analysis not in ANALYSIS_LEVELS:
        raise typer.BadParameter("--analysis must be full or basic")


def _open_existing(db: Optional[str]):
    path = resolve_db(db)
    try:
        return open_storage(path, readonly=True)
    except Exception as exc:  # noqa: BLE001
        err.print(_text(f"error: cannot open workspace {display_db(path)}: {exc}"), soft_wrap=True)
        raise typer.Exit(1) from None


def _open_writable(db: Optional[str]):
    """An existing workspace, opened for writing (search caches embeddings and indexes old documents)."""
    path = resolve_db(db)
    if "://" not in path and not Path(path).is_file():
        err.print(_text(f"error: no workspace at {path} (run `tabayyun ingest` first)"), soft_wrap=True)
        raise typer.Exit(1)
    try:
        return open_storage(path)
    except Exception as exc:  # noqa: BLE001
        err.print(_text(f"error: cannot open workspace {display_db(path)}: {exc}"), soft_wrap=True)
        raise typer.Exit(1) from None
