"""Writing export records as JSON Lines, CSV or Parquet, batch by batch."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import BinaryIO

from tabayyun.export.records import DEFAULT_BATCH, iter_records

FORMATS = ("jsonl", "csv", "parquet")

SCALAR_COLUMNS = ("id", "title", "outlet", "published", "url", "language", "format", "encoding", "path", "story")
NESTED_COLUMNS = ("title_evidence", "outlet_evidence", "published_evidence", "language_evidence", "paragraphs",
                  "removed", "entities", "times", "quotes", "citations", "duplicates", "stances")
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP's CSV injection list).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _batches(records: Iterable[dict], size: int) -> Iterator[list[dict]]:
    records = iter(records)
    while chunk := list(islice(records, size)):
        yield chunk


def write_jsonl(records: Iterable[dict], out: BinaryIO) -> int:
    count = 0
    for record in records:
        out.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
        count += 1
    return count


def csv_cell(value: object) -> str:
    """A CSV cell: nested values as JSON, None as empty, and text a spreadsheet would run as a
    formula (scraped titles can start with "=") prefixed with an apostrophe so it stays text."""
    if value is None:
        return ""
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def write_csv(records: Iterable[dict], out: BinaryIO) -> int:
    """One row per document; UTF-8 with a byte-order mark, without which Excel reads Arabic as mojibake."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(SCALAR_COLUMNS + NESTED_COLUMNS)
    count = 0
    for record in records:
        writer.writerow([csv_cell(record.get(column)) for column in SCALAR_COLUMNS + NESTED_COLUMNS])
        count += 1
    text.flush()
    text.detach()  # the caller owns `out`: closing the wrapper must not close it
    return count


def write_parquet(records: Iterable[dict], out: BinaryIO, batch: int = DEFAULT_BATCH) -> int:
    """One row group per batch of documents, under the explicit schema of `parquet_schema()`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tabayyun.export.schema import parquet_schema

    schema = parquet_schema()
    count = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        for chunk in _batches(records, batch):
            writer.write_table(pa.Table.from_pylist(chunk, schema=schema), row_group_size=len(chunk))
            count += len(chunk)
    return count


def write_export(storage, fmt: str, out: BinaryIO, claim: str | None = None, as_of: str | None = None,
                 embeddings: bool = True, batch: int = DEFAULT_BATCH) -> int:
    """Write every document of the workspace to `out` in `fmt` (one of FORMATS); returns how many."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (choose from {', '.join(FORMATS)})")
    records = iter_records(storage, claim=claim, as_of=as_of, embeddings=embeddings, batch=batch)
    if fmt == "jsonl":
        return write_jsonl(records, out)
    if fmt == "csv":
        return write_csv(records, out)
    return write_parquet(records, out, batch)
