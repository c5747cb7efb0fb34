"""The pipeline: one `Document` flowing through named stages, each adding its own layer.

A stage is a function `(Document, Context) -> Document` registered in `STAGES`; `DEFAULT_PIPELINE`
names the order. Later stages (understanding, embeddings) register themselves the same way.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from tabayyun.clean import HtmlExtraction, Segmentation, extract_html, segment
from tabayyun.clean import metadata
from tabayyun.clean.siterepeats import NO_LINES, SiteRepeats
from tabayyun.model import Document
from tabayyun.sources.decode import DecodeError, decode_bytes
from tabayyun.understand.citations import attach_chains, find_citations
from tabayyun.understand.entities import find_entities
from tabayyun.understand.quotes import find_quotes
from tabayyun.understand.times import find_times

MAX_BYTES = 5 * 1024 * 1024
_HTML_SNIFF = re.compile(r"<(?:!doctype\s+html|html|head|body|article|div|p|meta)\b", re.I)


class ItemError(ValueError):
    """One input item could not be processed; the message is a single line for the user."""


@dataclass
class RawItem:
    """One input as a reader found it, before decoding, with any metadata the container gave."""

    source: str
    data: bytes | str
    url: str | None = None
    title: str | None = None
    published: str | None = None
    outlet: str | None = None
    form: str = "auto"
    declared_encoding: str | None = None


@dataclass
class Context:
    """What stages share besides the Document: the input's hints and intermediate results."""

    item: RawItem
    reference_date: date | None = None
    segmentation: Segmentation | None = None
    html: HtmlExtraction | None = None
    site_repeats: SiteRepeats | None = None   # lines the page's site repeats across a pile (clean_stage)


Stage = Callable[[Document, Context], Document]


def clean_stage(doc: Document, ctx: Context) -> Document:
    text = doc.text
    if doc.format == "html":
        ctx.html = extract_html(doc.text, doc.url)
        text = ctx.html.text
    title_hint = ctx.item.title or (ctx.html.title if ctx.html else None)
    site_lines = ctx.site_repeats.lines_for(doc.url) if ctx.site_repeats else NO_LINES
    ctx.segmentation = segment(text, title_hint=title_hint, url=doc.url, site_lines=site_lines)
    doc.paragraphs = [line.text for line in ctx.segmentation.body]
    doc.removed = ctx.segmentation.removed_blocks() + (ctx.html.removed if ctx.html else [])
    return doc


def metadata_stage(doc: Document, ctx: Context) -> Document:
    seg, html, item = ctx.segmentation, ctx.html, ctx.item
    title = metadata.choose(metadata.title_candidates(seg, item.title, html.title if html else None, doc.paragraphs))
    outlet = metadata.choose(metadata.outlet_candidates(seg, item.outlet, html.sitename if html else None,
                                                        doc.url, doc.paragraphs))
    doc.published, doc.published_evidence = metadata.choose_published(metadata.published_candidates(
        seg, item.published, html.date if html else None, html.date_rule if html else "", doc.url,
        doc.paragraphs, ctx.reference_date))
    language = metadata.detect_language(doc.paragraphs, title.value if title else None)
    for name, chosen in (("title", title), ("outlet", outlet), ("language", language)):
        if chosen:
            setattr(doc, name, chosen.value)
            setattr(doc, f"{name}_evidence", chosen.evidence)
    return doc


def times_stage(doc: Document, ctx: Context) -> Document:
    """Time expressions, relative ones resolved against --reference-date, else the publication date."""
    anchor = ctx.reference_date or (date.fromisoformat(doc.published) if doc.published else None)
    doc.times = find_times(doc.paragraphs, anchor)
    return doc


def entities_stage(doc: Document, ctx: Context) -> Document:
    doc.entities = find_entities(doc.paragraphs)
    return doc


def quotes_stage(doc: Document, ctx: Context) -> Document:
    doc.quotes = find_quotes(doc.paragraphs, doc.entities)
    return doc


def citations_stage(doc: Document, ctx: Context) -> Document:
    doc.citations = find_citations(doc)
    attach_chains(doc)
    return doc


STAGES: dict[str, Stage] = {
    "clean": clean_stage, "metadata": metadata_stage, "times": times_stage, "entities": entities_stage,
    "quotes": quotes_stage, "citations": citations_stage,
}
DEFAULT_PIPELINE = ["clean", "metadata", "times", "entities", "quotes", "citations"]
# `tabayyun ingest --analysis basic` stores clean articles with metadata only, several times faster
# on a large dump; `full` (the default) adds entities, time expressions, quotes and citations.
ANALYSIS_LEVELS = {"basic": ["clean", "metadata"], "full": DEFAULT_PIPELINE}


def document_id(text: str) -> str:
    """A hash of the content: the same page ingested twice, in any encoding, gets the same id."""
    canonical = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def make_document(item: RawItem, max_bytes: int = MAX_BYTES) -> Document:
    """Decode and identify an item; raises ItemError with a one-line reason."""
    size = len(item.data.encode("utf-8")) if isinstance(item.data, str) else len(item.data)
    if size > max_bytes:
        raise ItemError(f"too large: {size:,} bytes (limit {max_bytes:,}; see --max-bytes)")
    if isinstance(item.data, str):
        text, encoding = item.data, None
        if not text.strip():
            raise ItemError("empty input")
    else:
        try:
            text, encoding = decode_bytes(item.data, item.declared_encoding)
        except DecodeError as err:
            raise ItemError(str(err)) from None
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    form = item.form if item.form != "auto" else ("html" if _HTML_SNIFF.search(text[:2000]) else "text")
    return Document(id=document_id(text), text=text, format=form, path=item.source, url=item.url, encoding=encoding)


def process(item: RawItem, reference_date: date | None = None, stages: list[str] | None = None,
            max_bytes: int = MAX_BYTES, decoded: Document | None = None,
            site_repeats: SiteRepeats | None = None) -> Document:
    """Run one item through the pipeline (`decoded`: its `make_document` result, when already made;
    `site_repeats`: the pile's repeated lines per site, see `pile_repeats`)."""
    doc = decoded or make_document(item, max_bytes)
    ctx = Context(item=item, reference_date=reference_date, site_repeats=site_repeats)
    for name in stages or DEFAULT_PIPELINE:
        doc = STAGES[name](doc, ctx)
    if not doc.paragraphs and not doc.title:
        raise ItemError("no article text found (the page holds only boilerplate)")
    return doc


def pile_repeats(items: Iterable[RawItem | tuple[str | None, str | bytes]], max_bytes: int = MAX_BYTES
                 ) -> SiteRepeats:
    """The lines each site repeats across a pile of pages, RawItems or (url, text) pairs. Only
    flattened-text pages with an address count: HTML would have to be extracted twice (the slowest
    step of cleaning it), and trafilatura removes most of a site's furniture from HTML itself. Items
    that cannot be decoded are left to the main pass to report."""
    repeats = SiteRepeats()
    for item in items:
        if isinstance(item, tuple):
            item = RawItem(source="<input>", data=item[1], url=item[0])
        if item.url is None or item.form == "html":
            continue
        try:
            doc = make_document(item, max_bytes)
        except Exception:  # noqa: BLE001 - a bad item never stops a pile; the main pass reports it once
            continue
        if doc.format == "text":
            repeats.add(doc.url, doc.text)
    return repeats


def process_safely(item: RawItem, **options) -> Document:
    """`process`, with any unexpected failure turned into an ItemError: one hostile page must never
    stop a batch (ingest and analyze both go through here)."""
    try:
        return process(item, **options)
    except ItemError:
        raise
    except Exception as err:  # noqa: BLE001
        raise ItemError(f"internal error while processing: {type(err).__name__}: {err}") from err


def analyze(text_or_html: str | bytes, url: str | None = None, reference_date: date | str | None = None,
            *, title: str | None = None, published: str | None = None, outlet: str | None = None,
            site_repeats: SiteRepeats | None = None) -> Document:
    """Clean one page (flattened text or HTML, str or bytes) into a `Document`, without a workspace.
    `site_repeats` (`pile_repeats` of a pile the page belongs to) removes the lines its site repeats
    on other pages of the pile."""
    if isinstance(reference_date, str):
        reference_date = date.fromisoformat(reference_date)
    item = RawItem(source="<input>", data=text_or_html, url=url, title=title, published=published, outlet=outlet)
    doc = process(item, reference_date=reference_date, site_repeats=site_repeats)
    doc.path = None
    return doc
