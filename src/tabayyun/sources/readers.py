"""Readers: turn the paths a user gives (files, folders, JSON/JSONL, WARC, ZIP, stdin, http(s) URLs and
feeds: see `fetch.py`) into RawItems.

Readers never stop a batch: a broken record yields an `ItemFailure` carrying a one-line reason and the
reader goes on with the next one.
"""

from __future__ import annotations

import json
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path

from tabayyun.pipeline import RawItem

PAGE_SUFFIXES = {".txt": "text", ".text": "text", ".html": "html", ".htm": "html", ".xhtml": "html"}
RECORD_SUFFIXES = {".json", ".jsonl", ".ndjson"}
ARCHIVE_SUFFIXES = {".warc", ".warc.gz", ".zip"}

# Field names that news dumps use for the same thing; the first present wins.
TEXT_FIELDS = ("text", "content", "body", "article")
HTML_FIELDS = ("html", "raw_html", "page")
FIELD_ALIASES = {
    "url": ("url", "link", "uri"),
    "title": ("title", "headline"),
    "published": ("published", "date", "date_published", "published_at", "publication_date", "date_extracted"),
    "outlet": ("outlet", "source", "site", "site_name", "publisher"),
}


@dataclass
class ItemFailure:
    source: str
    message: str


def is_url(argument: str) -> bool:
    """An http(s) address, not a path (told here, so that httpx loads only when one is given)."""
    return argument[:8].lower().startswith(("http://", "https://"))


def iter_items(paths: list[str], max_bytes: int) -> Iterator[RawItem | ItemFailure]:
    for path in paths:
        if path == "-":
            yield from _guarded("<stdin>", _from_stdin(max_bytes))
            continue
        if is_url(path):
            from tabayyun.sources.fetch import iter_url  # httpx is only loaded when a URL is given

            yield from _guarded(path, iter_url(path, max_bytes))
            continue
        p = Path(path)
        if p.is_dir():
            for child in sorted(_walk(p)):
                yield from _guarded(str(child), _from_file(child, max_bytes))
        elif p.exists():
            yield from _guarded(path, _from_file(p, max_bytes))
        else:
            yield ItemFailure(path, "no such file or folder")


def _guarded(source: str, items: Iterator[RawItem | ItemFailure]) -> Iterator[RawItem | ItemFailure]:
    """A file that breaks a reader half-way (bad ZIP checksum, JSON nested too deep) costs one
    failure line; what it yielded before stays, and the batch goes on with the next file."""
    try:
        yield from items
    except Exception as err:  # noqa: BLE001 - hostile input must never stop a batch
        message = str(err).splitlines()[0][:160] if str(err) else ""
        yield ItemFailure(source, f"cannot read further: {type(err).__name__}: {message}")


def _hidden(parts: tuple[str, ...]) -> bool:
    """Dot files and folders, and the resource forks macOS puts in archives, are never pages."""
    return any(part.startswith(".") or part == "__MACOSX" for part in parts)


def _walk(folder: Path) -> Iterator[Path]:
    for child in folder.rglob("*"):
        if child.is_file() and not _hidden(child.relative_to(folder).parts):
            if _suffix(child) in PAGE_SUFFIXES or _suffix(child) in RECORD_SUFFIXES | ARCHIVE_SUFFIXES:
                yield child


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".warc.gz" if name.endswith(".warc.gz") else path.suffix.lower()


def _from_file(path: Path, max_bytes: int) -> Iterator[RawItem | ItemFailure]:
    suffix = _suffix(path)
    source = str(path)
    try:
        if suffix in (".warc", ".warc.gz"):
            yield from _from_warc(path)
            return
        if suffix == ".zip":
            yield from _from_zip(path, max_bytes)
            return
        if suffix in (".jsonl", ".ndjson") and not starts_json_array(path):
            yield from _from_jsonl_file(path, max_bytes)
            return
        size = path.stat().st_size
        if size > max_bytes * (20 if suffix in RECORD_SUFFIXES else 1):
            yield ItemFailure(source, f"too large: {size:,} bytes (limit {max_bytes:,}; see --max-bytes)")
            return
        data = path.read_bytes()
    except OSError as err:
        yield ItemFailure(source, f"cannot read: {err.strerror or err}")
        return
    yield from _from_bytes(source, suffix, data)


def starts_json_array(path: Path) -> bool:
    """A .jsonl file holding one JSON array is read whole, as a .json file."""
    try:
        with path.open("rb") as stream:
            head = stream.read(4096)
    except OSError:
        return True     # unreadable: the whole-file reader reports the error
    return _opens_array(head)


def _opens_array(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"[")


def _from_jsonl_file(path: Path, max_bytes: int) -> Iterator[RawItem | ItemFailure]:
    """A JSON Lines file of any size, streamed a line at a time: only each record is limited (a line
    longer than `max_bytes` is a failure of its own, skipped without being held in memory)."""
    source = str(path)
    with path.open("rb") as stream:
        for number in count(1):
            line = stream.readline(max_bytes + 1)
            if not line:
                return
            if len(line) > max_bytes and not line.endswith(b"\n"):
                while (rest := stream.readline(1 << 20)) and not rest.endswith(b"\n"):
                    pass
                yield ItemFailure(f"{source}:{number}", f"line too large: over {max_bytes:,} bytes (see --max-bytes)")
                continue
            yield from _from_line(source, number, line)


def _from_line(source: str, number: int, line: bytes) -> Iterator[RawItem | ItemFailure]:
    """One line of a JSON Lines input: a record, a failure, or nothing (a blank line)."""
    try:
        text = (line.removeprefix(b"\xef\xbb\xbf") if number == 1 else line).decode("utf-8")
    except UnicodeDecodeError:
        yield ItemFailure(f"{source}:{number}", "JSON must be UTF-8")
        return
    if not text.strip():
        return
    try:
        record = json.loads(text)
    except json.JSONDecodeError as err:
        yield ItemFailure(f"{source}:{number}", f"malformed JSON line: {err.msg}")
        return
    yield _record_item(f"{source}:{number}", record)


def _from_bytes(source: str, suffix: str, data: bytes) -> Iterator[RawItem | ItemFailure]:
    if suffix in RECORD_SUFFIXES:
        yield from _from_records(source, data, jsonl=suffix != ".json")
    else:
        yield RawItem(source=source, data=data, form=PAGE_SUFFIXES.get(suffix, "auto"))


def _from_stdin(max_bytes: int) -> Iterator[RawItem | ItemFailure]:
    data = sys.stdin.buffer.read(max_bytes * 20 + 1)
    head = data.lstrip()[:1]
    if head in (b"{", b"["):
        yield from _from_records("<stdin>", data, jsonl=head == b"{")
    else:
        yield RawItem(source="<stdin>", data=data)


def _from_records(source: str, data: bytes, jsonl: bool) -> Iterator[RawItem | ItemFailure]:
    if not jsonl or _opens_array(data):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            yield ItemFailure(source, "JSON must be UTF-8")
            return
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as err:
            if not jsonl:
                yield ItemFailure(source, f"malformed JSON: {err.msg} at line {err.lineno}")
                return
        else:
            records = loaded if isinstance(loaded, list) else [loaded]
            for number, record in enumerate(records, start=1):
                yield _record_item(f"{source}#{number}", record)
            return
    # Lines end at "\n" only, as `_from_jsonl_file` and the Dask partitions count them: a JSON string
    # may hold U+2028 or a lone "\r" unescaped.
    for number, line in enumerate(data.split(b"\n"), start=1):
        yield from _from_line(source, number, line)


def _record_item(source: str, record: object) -> RawItem | ItemFailure:
    if not isinstance(record, dict):
        return ItemFailure(source, f"record is a JSON {type(record).__name__}, expected an object")
    html = next((record[f] for f in HTML_FIELDS if isinstance(record.get(f), str) and record[f].strip()), None)
    text = next((record[f] for f in TEXT_FIELDS if isinstance(record.get(f), str) and record[f].strip()), None)
    if html is None and text is None:
        return ItemFailure(source, "record has no non-empty 'text' or 'html' field")
    hints = {}
    for name, aliases in FIELD_ALIASES.items():
        value = next((record[a] for a in aliases if isinstance(record.get(a), str) and record[a].strip()), None)
        hints[name] = value.strip() if value else None
    return RawItem(source=source, data=html if html is not None else text,
                   form="html" if html is not None else "text", **hints)


def _from_zip(path: Path, max_bytes: int) -> Iterator[RawItem | ItemFailure]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        yield ItemFailure(str(path), "not a valid ZIP archive")
        return
    with archive:
        for info in archive.infolist():
            member = Path(info.filename)
            suffix = _suffix(member)
            if info.is_dir() or _hidden(member.parts) or (suffix not in PAGE_SUFFIXES and suffix not in RECORD_SUFFIXES):
                continue
            source = f"{path}!{info.filename}"
            if info.file_size > max_bytes * (20 if suffix in RECORD_SUFFIXES else 1):
                yield ItemFailure(source, f"too large: {info.file_size:,} bytes")
                continue
            yield from _from_bytes(source, suffix, archive.read(info))


def _from_warc(path: Path) -> Iterator[RawItem | ItemFailure]:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    records = 0
    with path.open("rb") as stream:
        try:
            for number, record in enumerate(ArchiveIterator(stream), start=1):
                records += 1
                item = _warc_item(record, f"{path}#{number}")
                if item is not None:
                    yield item
        except (ArchiveLoadFailed, OSError, EOFError, ValueError, AttributeError, KeyError) as err:
            # warcio fails in many ways on damaged records (AttributeError on a missing header among them)
            first_line = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
            yield ItemFailure(str(path), f"broken WARC file after {records} records: {first_line}")
            return
        if _gzip_truncated(path):
            yield ItemFailure(str(path), f"truncated WARC file: the compressed stream ends early ({records} records read)")
        elif records == 0:
            yield ItemFailure(str(path), "no WARC records found")


def _warc_item(record, source: str) -> RawItem | ItemFailure | None:
    if record.rec_type not in ("response", "resource"):
        return None
    headers = record.http_headers if record.http_headers is not None else record.rec_headers
    content_type = headers.get_header("Content-Type") or ""
    if content_type and not any(t in content_type for t in ("html", "text/plain", "xml")):
        return None
    charset = None
    if "charset=" in content_type:
        charset = content_type.split("charset=", 1)[1].split(";")[0].strip(" \"'")
    data = record.content_stream().read()
    form = "text" if "text/plain" in content_type else "html"
    url = record.rec_headers.get_header("WARC-Target-URI")
    return RawItem(source=source, data=data, url=url, form=form, declared_encoding=charset)


def _gzip_truncated(path: Path) -> bool:
    """warcio stops quietly at a cut-off gzip member; reading the stream to its end tells."""
    if not path.name.lower().endswith(".gz"):
        return False
    import gzip
    import zlib

    try:
        with gzip.open(path, "rb") as stream:
            while stream.read(1 << 20):
                pass
    except (EOFError, OSError, zlib.error):
        return True
    return False
