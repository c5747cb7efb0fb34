"""The data model: typed dataclasses that every stage reads and extends.

A `Document` flows through the pipeline; each stage fills its own fields and never rewrites another
stage's. Every produced value carries its evidence (where it came from, the span, a confidence) so a
fact-checker can see why.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cache
from typing import Any

REMOVED_KINDS = (
    "menu",
    "ticker",
    "masthead",
    "related",
    "caption",
    "credit",
    "comments",
    "repeated_title",
    "date_line",
    "other",
)


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


class _PlainFields:
    """`to_dict` for a dataclass whose fields hold plain values: one shallow dict. (`dataclasses.asdict`
    deep-copies value by value, some 300 calls an article: it was the largest cost of the process that
    stores an ingest's documents.)"""

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _field_names(type(self))}


@dataclass
class Evidence(_PlainFields):
    """Why a metadata value was chosen: the rule or field, the text it came from, how sure we are."""

    source: str
    text: str = ""
    line: int | None = None
    confidence: float = 1.0
    note: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Evidence | None:
        if not data:
            return None
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


@dataclass
class Removed(_PlainFields):
    """A block of boilerplate taken out of the page, kept so nothing is silently lost.

    `lines` is the inclusive range of line numbers in the cleaned input (`Document.text` for flattened
    pages, the extracted text for HTML) or None when the block came from HTML markup directly.
    """

    text: str
    kind: str
    rule: str = ""
    lines: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["lines"] = list(self.lines) if self.lines else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Removed:
        lines = data.get("lines")
        return cls(
            text=data["text"],
            kind=data["kind"],
            rule=data.get("rule", ""),
            lines=tuple(lines) if lines else None,
        )


@dataclass
class Entity(_PlainFields):
    """A named-entity mention: `type` is PER, ORG, LOC or MISC; `canonical` the name all mentions of
    the same entity share ("إسبر" -> "مارك إسبر"); `role` the title the text gives a person, if any.
    `start`/`end` are character offsets into `paragraphs[paragraph]`."""

    text: str
    type: str
    canonical: str
    paragraph: int
    start: int
    end: int
    role: str | None = None
    source: str = "model"  # what found it: model, gazetteer, title cue


@dataclass
class Quote(_PlainFields):
    """Who said what: `content` (offsets `start`/`end` in `paragraphs[paragraph]`) attributed to a
    speaker through a cue verb of class assert, deny, confirm, report, refuse_comment or warn. `via`
    names the outlets or agencies the quote is reported through (Reuters, AFP ...). `evidence` says how
    the speaker was found (explicit, before the verb, continuation of the previous speaker)."""

    speaker: str | None
    speaker_canonical: str | None
    speaker_kind: str  # person, organization, anonymous, document, unknown
    cue: str
    cue_class: str
    content: str
    direct: bool
    paragraph: int
    start: int
    end: int
    via: list[str] = field(default_factory=list)
    cue_start: int = 0
    speaker_start: int | None = None
    speaker_end: int | None = None
    evidence: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["via"] = list(self.via)
        return data


@dataclass
class Citation(_PlainFields):
    """A source the article cites: an agency or outlet (`source_id` from the registry when known).
    `kind`: dateline, credit, attribution (نقلا عن، وفقا لـ، لوكالة ...), quote_via. `paragraph` is
    None for a credit line among the removed boilerplate (then `start`/`end` index that block's text)."""

    source: str
    source_id: str | None
    kind: str
    paragraph: int | None
    start: int
    end: int


@dataclass
class TimeExpr(_PlainFields):
    """A time expression: `value` is an ISO date, YYYY-MM, YYYY, or START/END for an interval;
    `anchor` is the date a relative expression was resolved against (None for absolute ones)."""

    text: str
    value: str | None
    granularity: str  # day, week, month, year, interval
    anchor: str | None
    paragraph: int
    start: int
    end: int


@dataclass
class Document:
    """One article: its input, clean text and metadata, each value with its evidence."""

    id: str
    text: str
    format: str = "text"
    path: str | None = None
    url: str | None = None
    encoding: str | None = None
    title: str | None = None
    title_evidence: Evidence | None = None
    outlet: str | None = None
    outlet_evidence: Evidence | None = None
    published: str | None = None
    published_evidence: Evidence | None = None
    language: str | None = None
    language_evidence: Evidence | None = None
    paragraphs: list[str] = field(default_factory=list)
    removed: list[Removed] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    times: list[TimeExpr] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)

    def to_dict(self, include_text: bool = False) -> dict[str, Any]:
        """The JSON object `tabayyun analyze` prints; later stages add keys to it."""
        data: dict[str, Any] = {
            "id": self.id,
            "path": self.path,
            "url": self.url,
            "format": self.format,
            "encoding": self.encoding,
            "title": self.title,
            "title_evidence": _evidence_dict(self.title_evidence),
            "outlet": self.outlet,
            "outlet_evidence": _evidence_dict(self.outlet_evidence),
            "published": self.published,
            "published_evidence": _evidence_dict(self.published_evidence),
            "language": self.language,
            "language_evidence": _evidence_dict(self.language_evidence),
            "paragraphs": list(self.paragraphs),
            "removed": [r.to_dict() for r in self.removed],
            "entities": [e.to_dict() for e in self.entities],
            "times": [t.to_dict() for t in self.times],
            "quotes": [q.to_dict() for q in self.quotes],
            "citations": [c.to_dict() for c in self.citations],
        }
        if include_text:
            data["text"] = self.text
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        return cls(
            id=data["id"],
            text=data.get("text", ""),
            format=data.get("format", "text"),
            path=data.get("path"),
            url=data.get("url"),
            encoding=data.get("encoding"),
            title=data.get("title"),
            title_evidence=Evidence.from_dict(data.get("title_evidence")),
            outlet=data.get("outlet"),
            outlet_evidence=Evidence.from_dict(data.get("outlet_evidence")),
            published=data.get("published"),
            published_evidence=Evidence.from_dict(data.get("published_evidence")),
            language=data.get("language"),
            language_evidence=Evidence.from_dict(data.get("language_evidence")),
            paragraphs=list(data.get("paragraphs", [])),
            removed=[Removed.from_dict(r) for r in data.get("removed", [])],
            entities=[Entity(**e) for e in data.get("entities", [])],
            times=[TimeExpr(**t) for t in data.get("times", [])],
            quotes=[Quote(**q) for q in data.get("quotes", [])],
            citations=[Citation(**c) for c in data.get("citations", [])],
        )


def _evidence_dict(evidence: Evidence | None) -> dict[str, Any] | None:
    return evidence.to_dict() if evidence else None
