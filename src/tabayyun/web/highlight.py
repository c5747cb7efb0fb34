"""Highlighted text for the workbench: spans over a paragraph (entities, quotes, times, citations,
rationale sentences, search marks) turned into escaped HTML.

Spans may overlap: the text is cut at every span boundary and each piece is wrapped in the spans that
cover it, outermost (earliest, longest) first, so overlapping spans nest instead of breaking the
markup. Every piece of text and every attribute value is escaped with markupsafe; only the tags built
here are markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable
from urllib.parse import quote

from markupsafe import Markup, escape

from tabayyun.model import Document
from tabayyun.search.fulltext import MARK_CLOSE, MARK_OPEN

TITLE_PARAGRAPH = -1


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    classes: tuple[str, ...]
    title: str | None = None
    href: str | None = None  # a path inside the workbench, never a scraped URL


def _open_tag(span: Span, linked: bool) -> Markup:
    title = Markup(' title="{}"').format(span.title) if span.title else Markup("")
    if linked:
        return Markup('<a class="{}" href="{}"{}>').format(" ".join(span.classes), span.href, title)
    return Markup('<span class="{}"{}>').format(" ".join(span.classes), title)


def _wrap(piece: str, covering: list[Span]) -> Markup:
    """`piece` inside the spans covering it; only the outermost linked span becomes a link (no
    link inside a link)."""
    opened, closing = [], []
    linked_yet = False
    for span in covering:
        linked = bool(span.href) and not linked_yet
        linked_yet = linked_yet or linked
        opened.append(_open_tag(span, linked))
        closing.append(Markup("</a>") if linked else Markup("</span>"))
    return Markup("").join(opened) + escape(piece) + Markup("").join(reversed(closing))


def render_spans(text: str, spans: list[Span]) -> Markup:
    """`text` escaped, with each span's piece wrapped in its tag; spans outside the text are clipped."""
    size = len(text)
    kept = [s for s in spans if 0 <= s.start < s.end and s.start < size]
    cuts = sorted({0, size, *(s.start for s in kept), *(min(s.end, size) for s in kept)})
    ordered = sorted(kept, key=lambda s: (s.start, -s.end))
    pieces = []
    for left, right in zip(cuts, cuts[1:]):
        covering = [s for s in ordered if s.start <= left and s.end >= right]
        pieces.append(_wrap(text[left:right], covering))
    return Markup("").join(pieces)


def mark_snippet(snippet: str, marks: list[tuple[int, int]]) -> Markup:
    """A search snippet with its matched words in <mark> (from the hit's `marks` offsets), the
    bracket characters the snippet puts around them dropped and everything else escaped."""
    pieces, position = [], 0
    for start, end in sorted(marks):
        if start < position or end > len(snippet):
            continue
        before_end = start - len(MARK_OPEN) if snippet[:start].endswith(MARK_OPEN) else start
        pieces.append(escape(snippet[position:max(before_end, position)]))
        pieces.append(Markup("<mark>{}</mark>").format(snippet[start:end]))
        position = end + len(MARK_CLOSE) if snippet.startswith(MARK_CLOSE, end) else end
    pieces.append(escape(snippet[position:]))
    return Markup("").join(pieces)


def entity_path(name: str) -> str:
    return "/entities/" + quote(name, safe="")


Label = Callable[[str, str], str]  # (key, fallback) -> interface words


def document_spans(doc: Document, label: Label) -> dict[int, list[Span]]:
    """The highlight spans of a document by paragraph index (-1: the title)."""
    spans: dict[int, list[Span]] = {}

    def add(paragraph: int | None, span: Span) -> None:
        if paragraph is not None:
            spans.setdefault(paragraph, []).append(span)

    for e in doc.entities:
        kind = label(f"entity_{e.type}", e.type)
        title = f"{e.canonical} · {kind}" + (f" · {e.role}" if e.role else "")
        add(e.paragraph, Span(e.start, e.end, ("ent", f"ent-{e.type.lower()}"), title, entity_path(e.canonical)))
    for q in doc.quotes:
        cue = label(f"cue_{q.cue_class}", q.cue_class)
        speaker = q.speaker_canonical or q.speaker or label("unknown_speaker", "")
        add(q.paragraph, Span(q.start, q.end, ("quote", f"cue-{q.cue_class}"), f"{speaker} · {cue} ({q.cue})"))
        if q.cue_start is not None and q.cue:
            add(q.paragraph, Span(q.cue_start, q.cue_start + len(q.cue), ("cue", f"cue-{q.cue_class}"), cue))
        if q.speaker_start is not None and q.speaker_end is not None:
            add(q.paragraph, Span(q.speaker_start, q.speaker_end, ("speaker",), label("speaker", "")))
    for t in doc.times:
        resolved = t.value or "?"
        add(t.paragraph, Span(t.start, t.end, ("time",), f"{resolved} ({t.granularity})"))
    for c in doc.citations:
        add(c.paragraph, Span(c.start, c.end, ("cite",), c.source + (f" ({c.source_id})" if c.source_id else "")))
    return spans


def highlighted_document(doc: Document, label: Label) -> tuple[Markup, list[Markup]]:
    """The title and the clean paragraphs of `doc`, highlighted."""
    spans = document_spans(doc, label)
    title = render_spans(doc.title or "", spans.get(TITLE_PARAGRAPH, []))
    return title, [render_spans(text, spans.get(i, [])) for i, text in enumerate(doc.paragraphs)]


def rationale_passages(doc: Document, rationale: list[dict]) -> list[Markup]:
    """Each rationale sentence shown inside its paragraph (or the title), the sentence highlighted."""
    passages = []
    for sentence in rationale:
        index = sentence.get("paragraph", 0)
        text = doc.title or "" if index == TITLE_PARAGRAPH else (
            doc.paragraphs[index] if 0 <= index < len(doc.paragraphs) else "")
        title = f"{sentence.get('score', '')}"
        if sentence.get("speaker"):
            title += f" · {sentence['speaker']}"
        classes = ("rationale",) + ((f"cue-{sentence['cue_class']}",) if sentence.get("cue_class") else ())
        passages.append(render_spans(text, [Span(sentence["start"], sentence["end"], classes, title)]))
    return passages


def safe_link_url(url: str | None) -> str | None:
    """The URL when it is http(s) (fit for a link), else None (show it as text only)."""
    if not url:
        return None
    scheme = url.strip().split(":", 1)[0].lower()
    return url.strip() if scheme in ("http", "https") and "://" in url else None
