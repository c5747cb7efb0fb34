"""A claim's verdict from the stances of the documents about it: true, false, mixed or unverified.

Each document's agree and disagree probabilities count with its outlet's reliability. Copies count
once: documents sharing half their word 5-grams (`connect.duplicates`), or that rest on the same
credited agency, form one independent source whose weight is the best of its members'. Documents judged
unrelated do not count. `as_of` keeps only what was published by then (undated documents are then
left out, and the explanation says so).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from tabayyun.connect.duplicates import compare, shingles
from tabayyun.connect.timeline import one_line
from tabayyun.model import Document
from tabayyun.registry import lookup
from tabayyun.stance import StanceResult

DEFAULT_RELIABILITY = {"agency": 0.8, "outlet": 0.65, None: 0.5}
MIN_EVIDENCE = 0.6   # summed weight of agreeing and disagreeing sources needed for any verdict
CLEAR_SHARE = 0.7    # share of that weight one side needs for true or false
# Containment of shingles: looser than a near-duplicate, since a rewrite resting on half of a wire
# story is no new source.
_COPY_OVERLAP = 0.5
_GIST = 160


@dataclass
class Assessment:
    """One document's part in a verdict."""

    document: Document
    stance: StanceResult
    reliability: float = 0.5
    source_key: str = ""  # documents with the same key are one independent source

    @property
    def date(self) -> str | None:
        return self.document.published

    @property
    def gist(self) -> str:
        return one_line(self.stance.rationale[0].text if self.stance.rationale else self.document.title, _GIST)


@dataclass
class TimelineItem:
    date: str | None
    doc_id: str
    outlet: str | None
    stance: str
    gist: str


@dataclass
class Verdict:
    label: str
    confidence: float
    explanation: str
    as_of: str | None = None
    support: float = 0.0
    refute: float = 0.0
    sources: dict[str, int] = field(default_factory=dict)
    timeline: list[TimelineItem] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"label": self.label, "confidence": self.confidence, "explanation": self.explanation,
                "as_of": self.as_of, "support": self.support, "refute": self.refute, "sources": self.sources,
                "timeline": [vars(t) for t in self.timeline]}


def default_reliability(outlet: str | None) -> float:
    known = lookup(outlet) if outlet else None
    return DEFAULT_RELIABILITY[known.kind if known else (None if not outlet else "outlet")]


def source_rows(storage) -> list[dict]:
    """Every outlet of the workspace with its documents and reliability (set by a user, with its note,
    else the default of its kind), then outlets a user rated that have no document yet."""
    edited = storage.reliability_rows()
    rows = [{"outlet": outlet, "documents": count,
             "reliability": edited[outlet]["reliability"] if outlet in edited else default_reliability(outlet),
             "set_by": "user" if outlet in edited else "default", "note": edited.get(outlet, {}).get("note")}
            for outlet, count in storage.outlets()]
    known = {row["outlet"] for row in rows}
    return rows + [{"outlet": outlet, "documents": 0, "set_by": "user", **values}
                   for outlet, values in edited.items() if outlet not in known]


def independent_sources(assessments: list[Assessment]) -> None:
    """Set each assessment's source_key: copies and reports resting on one credited agency share one."""
    hashes = [shingles(a.document.paragraphs) for a in assessments]
    keys: list[str] = []
    for i, item in enumerate(assessments):
        key = f"doc:{item.document.id}"
        for j in range(i):
            if compare(hashes[i], hashes[j])[1] >= _COPY_OVERLAP:
                key = keys[j]
                break
        else:
            agency = _credited_agency(item)
            key = f"agency:{agency}" if agency else key
        keys.append(key)
        item.source_key = key


def _credited_agency(item: Assessment) -> str | None:
    """The agency a document credits in a rationale paragraph (a rewritten wire is not independent)."""
    paragraphs = {r.paragraph for r in item.stance.rationale}
    for citation in item.document.citations:
        known = lookup(citation.source_id) if citation.source_id else None
        if known and known.kind == "agency" and (
                citation.kind in ("dateline", "credit") or citation.paragraph in paragraphs):
            return known.id
    return None


def aggregate(assessments: list[Assessment], as_of: str | None = None) -> Verdict:
    """Aggregate assessments (already holding stances and reliabilities) into a verdict."""
    dated_out = 0
    if as_of:
        kept = [a for a in assessments if a.date and a.date[:10] <= as_of]
        dated_out = sum(1 for a in assessments if not a.date)
        assessments = kept
    independent_sources(assessments)
    groups: dict[str, list[Assessment]] = {}
    # Documents judged unrelated say nothing about the claim: their small agree and disagree
    # probabilities, summed over many retrieved pages, would otherwise drown the real evidence.
    for item in assessments:
        if item.stance.label != "unrelated":
            groups.setdefault(item.source_key, []).append(item)
    support = refute = 0.0
    counts = {"agree": 0, "disagree": 0, "discuss": 0}
    for members in groups.values():
        weight = max(m.reliability for m in members)
        agree = sum(m.stance.scores.get("agree", 0.0) for m in members) / len(members)
        disagree = sum(m.stance.scores.get("disagree", 0.0) for m in members) / len(members)
        support += weight * agree
        refute += weight * disagree
        labels = {m.stance.label for m in members}
        for label in counts:
            counts[label] += label in labels
    label, confidence = decide(support, refute)
    timeline = sorted((TimelineItem(a.date, a.document.id, a.document.outlet, a.stance.label, a.gist)
                       for a in assessments if a.stance.label != "unrelated"),
                      key=lambda t: (t.date is None, t.date or "", t.doc_id))
    return Verdict(label, confidence, _explain(label, counts, len(groups), len(assessments), dated_out, as_of),
                   as_of, round(support, 3), round(refute, 3), counts, timeline)


def decide(support: float, refute: float) -> tuple[str, float]:
    mass = support + refute
    if mass < MIN_EVIDENCE:
        return "unverified", round(1 - mass / MIN_EVIDENCE * 0.5, 3)
    share = support / mass
    strength = 1 - math.exp(-mass)
    if share >= CLEAR_SHARE:
        return "true", round(strength * share, 3)
    if share <= 1 - CLEAR_SHARE:
        return "false", round(strength * (1 - share), 3)
    return "mixed", round(strength * (1 - abs(share - 0.5) * 2), 3)


def _explain(label: str, counts: dict[str, int], groups: int, documents: int, dated_out: int,
             as_of: str | None) -> str:
    parts = [f"{label}: {_count(documents, 'document')} from {_count(groups, 'independent source')}; "
             f"{counts['agree']} agree, {counts['disagree']} disagree, {counts['discuss']} only discuss it"]
    if as_of:
        parts.append(f"as of {as_of}")
    if dated_out:
        parts.append(f"{_count(dated_out, 'undated document')} left out")
    return "; ".join(parts) + "."


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
