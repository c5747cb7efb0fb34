"""Syndication in a group of copies: which appeared first, which credit an agency, which reuse the
text without credit; every statement with its evidence.

First: the earliest `published` date; documents dated the same day are ordered by whether the outlet
is itself an agency (a wire is where copies come from), then the confidence of the date evidence,
then a time of day found in the date evidence or a removed date line, and the tie is reported. When
no document is dated there is no first.

Credit: a citation whose source the registry (`tabayyun.registry.lookup`) knows as an agency, or any
`credit`/`dateline` citation; failing those, a wire dateline opening the first paragraph ("PLACE
(ABBR) -") or a credit line among the removed boilerplate ("المصدر: وكالة ...", "نقلا عن ...").
The first document is the original, so it is never listed as reusing text without credit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tabayyun.arabic import normalize_for_match
from tabayyun.clean.datelines import match_dateline
from tabayyun.model import Document
from tabayyun.registry import lookup

_CREDIT_LINE = re.compile(r"^\s*(?:المصدر|مصدر الخبر|نقلا عن|نقلاً عن|عن|بالتعاون مع|source|via)\s*[:：]?\s*(.{2,80}?)"
                          r"\s*(?:[|،,\-–—]|$)", re.IGNORECASE)
_TIME = re.compile(r"(\d{1,2}):(\d{2})\s*(م|مساء|ص|صباحا|pm|am)?", re.IGNORECASE)


@dataclass
class Syndication:
    """`first` the id of the earliest copy (None when none is dated), `tied` the others published the
    same day, `undated` those without a date; `credited`/`uncredited` ids; `evidence[id]` the date
    ("published", "date") and the credits ("credit": [{source, source_id, kind, text}]) of each."""

    first: str | None
    first_note: str
    tied: list[str] = field(default_factory=list)
    undated: list[str] = field(default_factory=list)
    credited: list[str] = field(default_factory=list)
    uncredited: list[str] = field(default_factory=list)
    evidence: dict[str, dict] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"first": self.first, "first_note": self.first_note, "tied": self.tied, "undated": self.undated,
                "credited": self.credited, "uncredited": self.uncredited, "evidence": self.evidence}


def _is_agency_name(name: str | None) -> bool:
    if not name:
        return False
    known = lookup(name)
    return (known is not None and known.kind == "agency") or normalize_for_match(name).startswith("وكاله ")


def _time_of_day(doc: Document) -> str | None:
    texts = [doc.published_evidence.text] if doc.published_evidence else []
    texts += [r.text for r in doc.removed if r.kind == "date_line"]
    for text in texts:
        match = _TIME.search(text or "")
        if match:
            hour, minute = int(match.group(1)), int(match.group(2))
            if (match.group(3) or "").lower() in ("م", "مساء", "pm") and hour < 12:
                hour += 12
            if hour < 24 and minute < 60:
                return f"{hour:02d}:{minute:02d}"
    return None


def credits(doc: Document) -> list[dict]:
    """The agency credits of a document: {source, source_id, kind, text} each, `text` the words the
    article credits it with."""
    found = []
    for citation in doc.citations:
        known = lookup(citation.source)
        if (known and known.kind == "agency") or citation.kind in ("credit", "dateline"):
            if citation.paragraph is not None and citation.paragraph < len(doc.paragraphs):
                text = doc.paragraphs[citation.paragraph][citation.start:citation.end]
            else:
                text = citation.source
            found.append({"source": citation.source, "source_id": citation.source_id or (known.id if known else None),
                          "kind": citation.kind, "text": text})
    if found:
        return found
    if doc.paragraphs:
        match = match_dateline(doc.paragraphs[0])
        if match:
            known = lookup(match.group(2))
            found.append({"source": match.group(2).strip(), "source_id": known.id if known else None,
                          "kind": "dateline", "text": match.group(0).strip()})
    for block in doc.removed:
        if block.kind not in ("credit", "other", "date_line"):
            continue
        for line in block.text.splitlines():
            match = _CREDIT_LINE.match(line)
            if match and (block.kind == "credit" or _is_agency_name(match.group(1))):
                known = lookup(match.group(1))
                found.append({"source": match.group(1).strip(), "source_id": known.id if known else None,
                              "kind": "credit", "text": line.strip()})
    return found


def syndication(documents: list[Document]) -> Syndication:
    """Which of a group of copies appeared first, which credit an agency, which reuse the text without."""
    evidence: dict[str, dict] = {}
    for doc in documents:
        date_ev = doc.published_evidence
        evidence[doc.id] = {
            "published": doc.published,
            "date": (f"{date_ev.text} ({date_ev.source}, confidence {date_ev.confidence:.2f})"
                     if date_ev else None),
            "time": _time_of_day(doc) if doc.published else None,
            "credit": credits(doc),
        }
    dated = [d for d in documents if d.published]
    undated = [d.id for d in documents if not d.published]

    def key(doc: Document):
        confidence = doc.published_evidence.confidence if doc.published_evidence else 0.0
        return (doc.published, not _is_agency_name(doc.outlet), -confidence,
                evidence[doc.id]["time"] or "99:99", doc.id)

    if dated:
        ordered = sorted(dated, key=key)
        first = ordered[0]
        tied = [d.id for d in ordered[1:] if d.published == first.published]
        note = f"earliest publication date {first.published}"
        if evidence[first.id]["date"]:
            note += f" from {evidence[first.id]['date']}"
        if tied:
            note += (f"; {len(tied)} other(s) dated the same day, ordered by agency outlet, date confidence"
                     " and time of day")
        if undated:
            note += f"; {len(undated)} undated, could be earlier"
        first_id = first.id
    else:
        first_id, tied, note = None, [], "no document of the group is dated"
    credited = [d.id for d in documents if evidence[d.id]["credit"]]
    uncredited = [d.id for d in documents if not evidence[d.id]["credit"] and d.id != first_id]
    return Syndication(first_id, note, tied, undated, credited, uncredited, evidence)
