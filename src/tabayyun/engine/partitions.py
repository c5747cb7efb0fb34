"""Partitions of the input for the Dask engine: the unit of work of one task.

The pages of a folder go in groups of consecutive files (in the order the plain ingest reads them),
a JSONL file in ranges of lines (cut at newline bytes, so a task reads only its range), a WARC, ZIP
or JSON file and a URL whole. Every partition is read back through `sources.readers`: a partition
yields exactly the items (and item failures, with the same sources) that the plain ingest reads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tabayyun.pipeline import RawItem
from tabayyun.sources import readers
from tabayyun.sources.readers import ItemFailure

FILES_PER_PARTITION = 64
LINES_PER_PARTITION = 500
# A JSONL range is cut at this many bytes too: the plain reader's limit for one record file.
RECORD_FILE_FACTOR = 20
_SCAN_CHUNK = 1 << 20


@dataclass(frozen=True)
class Partition:
    """`paths` read whole through the readers, or, with `byte_range`, lines `first_line`.. of one
    JSONL file (the bytes [start, end) of it)."""

    index: int
    name: str
    paths: tuple[str, ...]
    byte_range: tuple[int, int] | None = None
    first_line: int = 1

    @property
    def digest(self) -> str:
        """A short stable name for files (shards) that belong to this partition."""
        spec = f"{self.paths}|{self.byte_range}|{self.first_line}"
        return hashlib.sha256(spec.encode("utf-8")).hexdigest()[:12]


@dataclass
class Plan:
    partitions: list[Partition]
    failures: list[ItemFailure]     # inputs that cannot be partitioned (missing, stdin)


def plan_partitions(paths: list[str], max_bytes: int, files_per_partition: int = FILES_PER_PARTITION,
                    lines_per_partition: int = LINES_PER_PARTITION) -> Plan:
    """The partitions of `paths`, in the order the plain ingest reads their items."""
    specs: list[tuple[str, tuple[str, ...], tuple[int, int] | None, int]] = []
    failures: list[ItemFailure] = []
    pages: list[str] = []

    def flush_pages() -> None:
        for start in range(0, len(pages), files_per_partition):
            group = tuple(pages[start:start + files_per_partition])
            name = group[0] if len(group) == 1 else f"{group[0]} .. {Path(group[-1]).name} ({len(group)} files)"
            specs.append((name, group, None, 1))
        pages.clear()

    for path in paths:
        if path == "-":
            failures.append(ItemFailure("<stdin>", "standard input cannot be partitioned: use --engine local"))
            continue
        if readers.is_url(path):
            flush_pages()
            specs.append((path, (path,), None, 1))
            continue
        p = Path(path)
        if not p.exists():
            failures.append(ItemFailure(path, "no such file or folder"))
            continue
        for child in sorted(readers._walk(p)) if p.is_dir() else [p]:
            suffix = readers._suffix(child)
            if suffix in readers.RECORD_SUFFIXES and suffix != ".json" and not readers.starts_json_array(child):
                flush_pages()
                specs += [(f"{child} lines {first}-{last}", (str(child),), span, first)
                          for first, last, span in _line_ranges(child, lines_per_partition,
                                                                 max_bytes * RECORD_FILE_FACTOR)]
            elif suffix in readers.RECORD_SUFFIXES or suffix in readers.ARCHIVE_SUFFIXES:
                flush_pages()
                specs.append((str(child), (str(child),), None, 1))
            else:
                pages.append(str(child))
    flush_pages()
    return Plan([Partition(i, name, paths_, span, first) for i, (name, paths_, span, first) in enumerate(specs)],
                failures)


def _line_ranges(path: Path, lines: int, max_range_bytes: int) -> Iterator[tuple[int, int, tuple[int, int]]]:
    """(first line, last line, (start byte, end byte)) ranges of at most `lines` lines and, unless a
    single line is longer, `max_range_bytes` bytes."""
    start = position = line_end = 0
    first = line = 1
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(_SCAN_CHUNK):
                offset = 0
                while (newline := chunk.find(b"\n", offset)) >= 0:
                    line_end = position + newline + 1
                    if line - first + 1 >= lines or (line_end - start > max_range_bytes and line > first):
                        yield first, line, (start, line_end)
                        start, first = line_end, line + 1
                    line += 1
                    offset = newline + 1
                position += len(chunk)
    except OSError:
        position = 0
    if position > start:
        yield first, line if position > line_end else line - 1, (start, position)


def items_of(partition: Partition, max_bytes: int) -> Iterator[RawItem | ItemFailure]:
    """The items of a partition, as `readers.iter_items` yields them for the same input."""
    if partition.byte_range is None:
        yield from readers.iter_items(list(partition.paths), max_bytes)
        return
    path = partition.paths[0]
    start, end = partition.byte_range
    try:
        with open(path, "rb") as stream:
            stream.seek(start)
            data = stream.read(end - start)
    except OSError as err:
        yield ItemFailure(path, f"cannot read: {err.strerror or err}")
        return
    offset = partition.first_line - 1
    for item in readers._guarded(path, readers._from_records(path, data, jsonl=True)):
        yield _renumbered(item, path, offset)


def _renumbered(item: RawItem | ItemFailure, path: str, offset: int) -> RawItem | ItemFailure:
    """A record's source `path:N` counted from the start of the range -> from the start of the file."""
    prefix = f"{path}:"
    if offset and item.source.startswith(prefix) and item.source[len(prefix):].isdigit():
        item.source = f"{prefix}{int(item.source[len(prefix):]) + offset}"
    return item
