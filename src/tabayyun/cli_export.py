"""Export commands of the `tabayyun` CLI: `export` (JSON Lines, CSV, Parquet, ClaimReview) and
`report` (a claim's check as one HTML file). Parsing and writing only; the work is in
`tabayyun.export` and `tabayyun.report`."""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator, Optional

import typer

from tabayyun.cli_claims import _as_of
from tabayyun.cli_output import DbOption, _open_writable, _text, err
from tabayyun.export import FORMATS

EXPORT_FORMATS = (*FORMATS, "claimreview")
AsOfOption = typer.Option(None, "--as-of", help="Check the claim with only what was published by this date.")
NoEmbeddingsOption = typer.Option(False, "--no-embeddings", help="Full-text retrieval only for the claim.")


def _fail(message: str, code: int = 2) -> None:
    err.print(_text(f"error: {message}"), soft_wrap=True)
    raise typer.Exit(code)


def _valid_as_of(value: Optional[str]) -> Optional[str]:
    try:
        return _as_of(value)
    except typer.BadParameter as exc:
        _fail(f"--as-of: {exc}")
    return None


@contextmanager
def _output(path: Optional[str]) -> Iterator[BinaryIO]:
    """stdout, or a file written whole or not at all (a failed export leaves no half file behind)."""
    if path is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    partial = target.with_name(target.name + ".part")
    try:
        with open(partial, "wb") as handle:
            yield handle
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        _fail(f"cannot write {path}: {exc}", 1)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _check(storage, claim: str, as_of: Optional[str], embeddings: bool):
    from tabayyun.check import check

    try:
        return check(storage, claim, as_of=as_of, embeddings=embeddings)
    finally:
        storage.close()


def export(
    fmt: str = typer.Option(..., "--format", "-f", help=f"One of: {', '.join(EXPORT_FORMATS)}."),
    out_path: Optional[str] = typer.Option(None, "--out", "-o",
                                           help="Output file (default: stdout; parquet needs one)."),
    claim: Optional[str] = typer.Option(None, "--claim", help="Add each document's stance on this claim "
                                                              "(claimreview: the claim to review)."),
    as_of: Optional[str] = AsOfOption,
    no_embeddings: bool = NoEmbeddingsOption,
    db: Optional[str] = DbOption,
) -> None:
    """Export every document with its analysis (jsonl, csv, parquet), or a claim's check as ClaimReview JSON-LD."""
    if fmt not in EXPORT_FORMATS:
        _fail(f"unknown format {fmt!r} (choose from {', '.join(EXPORT_FORMATS)})")
    if fmt == "parquet" and not out_path:
        _fail("parquet is binary: give a file with --out")
    if claim is not None and not claim.strip():
        _fail("the claim is empty")
    if fmt == "claimreview" and not claim:
        _fail("claimreview needs the claim to review: --claim TEXT")
    day = _valid_as_of(as_of)
    storage = _open_writable(db)
    if fmt == "claimreview":
        from tabayyun.export import claim_review

        review = claim_review(_check(storage, claim, day, not no_embeddings))
        with _output(out_path) as handle:
            handle.write((json.dumps(review, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
        return
    from tabayyun.export import write_export

    try:
        # Documents stored before duplicates and stories existed get them now, so every record has both.
        storage.sign_missing()
        storage.cluster_missing()
        with _output(out_path) as handle:
            count = write_export(storage, fmt, handle, claim=claim, as_of=day, embeddings=not no_embeddings)
    finally:
        storage.close()
    if out_path:
        err.print(_text(f"exported {count} documents to {out_path}"))


def report(
    claim: str = typer.Option(..., "--claim", help="The claim to check."),
    out_path: str = typer.Option(..., "--out", "-o", help="The HTML file to write."),
    as_of: Optional[str] = AsOfOption,
    no_embeddings: bool = NoEmbeddingsOption,
    db: Optional[str] = DbOption,
) -> None:
    """Check a claim and write the result as one self-contained, printable HTML report."""
    from tabayyun.report import render_report

    if not claim.strip():
        _fail("the claim is empty")
    day = _valid_as_of(as_of)
    result = _check(_open_writable(db), claim, day, not no_embeddings)
    with _output(out_path) as handle:
        handle.write(render_report(result).encode("utf-8"))
    err.print(_text(f"{result.verdict.label} ({result.verdict.confidence:.2f}): report written to {out_path}"))


def register(app: typer.Typer) -> None:
    app.command()(export)
    app.command()(report)
