"""The sources an article cites: agencies and outlets in datelines, credit lines and attributions
("وفقا لما ذكرته الوكالة الفرنسية", "نقلا عن", "لوكالة رويترز", "المصدر: رويترز+RT", "(كوردستان 24)"),
normalized to registry ids (`resources/sources.tsv`), and the chain outlet <- agency <- speaker."""

from __future__ import annotations

import re

from tabayyun.arabic import normalize_with_offsets
from tabayyun.clean.datelines import match_dateline
from tabayyun.model import Citation, Document, Removed
from tabayyun.registry import KnownSource, longest_match, lookup

# Attribution phrases; the name follows (up to four words, quotes allowed).
_ATTRIBUTION = re.compile(
    r"(?<!\w)(?:نقلا عن|وفقا لما (?:ذكرته|اوردته|نقلته|افادت به)|وفقا ل|طبقا ل|بحسب ما (?:ذكرت|اوردت|نقلت)|بحسب|"
    r"حسب ما (?:ذكرت|اوردت)|لوكاله|لصحيفه|لقناه|لموقع|ل(?:ـ)?\s*(?=\")|[وف]?(?:ذكرت|اوردت|نقلت|افادت|قالت|اكدت)\s+(?=وكاله|\"))"
    r"\s*(?:وكاله\s+)?\"?"
)


def find_citations(doc: Document) -> list[Citation]:
    citations: list[Citation] = []
    for number, paragraph in enumerate(doc.paragraphs):
        if number < 3:
            dateline = match_dateline(paragraph)
            if dateline:
                name = dateline.group(2)
                known = lookup(name.strip(" \"'«»“”"))
                if known:
                    start = dateline.start(2) + len(name) - len(name.lstrip(" \"'«»“”"))
                    end = dateline.end(2) - (len(name) - len(name.rstrip(" \"'«»“”")))
                    citations.append(Citation(known.name, known.id, "dateline", number, start, end))
        citations.extend(_attributions(number, paragraph))
    for block in doc.removed:
        if block.kind == "credit":
            citations.extend(_credit(block))
    return _dedupe(citations)


def _attributions(number: int, paragraph: str) -> list[Citation]:
    key, offsets = normalize_with_offsets(paragraph)
    found = []
    for match in _ATTRIBUTION.finditer(key):
        named = _known_name_at(key, match.end())
        if named is None:
            continue
        known, length = named
        start = offsets[match.end()]
        end = offsets[match.end() + length - 1] + 1
        found.append(Citation(known.name, known.id, "attribution", number, start, end))
    return found


def _known_name_at(key: str, position: int) -> tuple[KnownSource, int] | None:
    """The longest registry name (up to four words) starting at `position` of a normalized text."""
    words = re.findall(r"[^\s\"،,.:()]+", key[position:position + 80])[:4]
    named = longest_match(words)
    if named is None:
        return None
    known, size = named
    return known, len(key[position:]) - len(key[position:].lstrip(' "')) + len(" ".join(words[:size]))


def _credit(block: Removed) -> list[Citation]:
    """"المصدر: "رويترز"+RT": every known name the credit line gives."""
    found = []
    text = block.text
    body = text.split(":", 1)[1] if ":" in text else text
    offset = len(text) - len(body)
    for part in re.finditer(r"[^+،,/&]+", body):
        name = part.group(0).strip(" \"'«»“”-–")
        known = lookup(name)
        if known:
            start = offset + part.start() + part.group(0).find(name)
            found.append(Citation(known.name, known.id, "credit", None, start, start + len(name)))
    return found


def _dedupe(citations: list[Citation]) -> list[Citation]:
    seen = set()
    unique = []
    for citation in citations:
        key = (citation.source_id, citation.kind, citation.paragraph, citation.start)
        if key not in seen:
            seen.add(key)
            unique.append(citation)
    return unique


def attach_chains(doc: Document) -> None:
    """Each quote's `via`: the publishing outlet, the agencies the whole article comes through
    (dateline, credit line), then those named in the quote's own sentence."""
    article = [doc.outlet] if doc.outlet else []
    for citation in doc.citations:
        if citation.kind in ("dateline", "credit") and citation.source not in article:
            article.append(citation.source)
    for quote in doc.quotes:
        chain = list(article)
        for name in quote.via:
            if name not in chain:
                chain.append(name)
        quote.via = chain
