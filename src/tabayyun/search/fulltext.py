"""Full-text side of search: index terms (light stems), safe FTS5 queries, bm25 ranking, snippets.

The index holds, for every word, its light stem and the stem without a leading preposition the
conservative clitic split kept (`stem_variants`), so انسحاب, الانسحاب, لانسحاب and والانسحاب share
one term and لبغداد is also found as بغداد. Queries go through the same function: every query word
becomes a quoted FTS5 string, so nothing a user types (quotes, `*`, `NEAR(`, `OR`, `-`) is ever
read as query syntax.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from tabayyun.arabic.normalize import normalize_for_match
from tabayyun.arabic.tokenize import _TOKEN, light_stem, split_clitics, stem_variants, tokenize, words

# Function words that would match nearly every paragraph (normalized: أ/إ -> ا, ى -> ي, ة -> ه).
STOP_WORDS = frozenset("""
في من الي علي عن مع ان او ام ثم حتي لا لم لن ما ماذا لماذا كيف هل قد لقد كان كانت يكون تكون هو هي هم هن
انا نحن انت انتم هذا هذه ذلك تلك هؤلاء هناك هنا الذي التي الذين اللذين اللتين اللواتي كل بعض غير بين عند
عندما اذا لكن انه انها بان بانه ايضا منذ خلال بعد قبل حول ضد نحو لدي له لها لهم به بها فيه فيها منه منها
عليه عليها اليه الا اي يا وقد وفي ومن وان وهو وهي وكان وما ولا وقال قال قالت ان لان كما مثل دون اما
the of and or in on at to a an is are was were be for by with from as that this it not
""".split())
MIN_TERM_CHARS = 2
# How many matching units (paragraphs and titles) are read for one query, per requested document.
UNITS_PER_DOCUMENT = 8
# A title match weighs this much more than the same match in a paragraph.
TITLE_BOOST = 1.5
# A document's score is its best unit's plus this share of the next two.
OTHER_UNITS_WEIGHT = 0.3
MARK_OPEN, MARK_CLOSE = "[", "]"


# At most this many matching units are ranked for one query: the most recently indexed ones. Below it
# the ranking is exact; above it (a common word in a million articles) ranking them all would cost
# seconds, so older matches are left out and the result's note says so.
RANKED_UNITS = 10_000


class FulltextStore(Protocol):
    def fulltext_floor(self, expression: str, window: int) -> int | None: ...

    def fulltext_units(self, expression: str, limit: int, floor: int | None = None) -> list[tuple[str, int, float]]: ...


@lru_cache(maxsize=200_000)
def word_terms(word: str) -> tuple[str, ...]:
    """The index terms of one word: its light stem and stem variants, without empty ones. Behind an
    article no preposition can follow (بالكوليرا, never البكوليرا), so a word whose article was
    split off keeps its light stem alone: الكوليرا is not also indexed as ليرا."""
    if "ال" in split_clitics(normalize_for_match(word))[0]:
        return tuple(term for term in (light_stem(word),) if term)
    return tuple(sorted(term for term in stem_variants(word) if term))


@lru_cache(maxsize=200_000)
def _is_stop_word(word: str) -> bool:
    key = normalize_for_match(word)
    return key in STOP_WORDS or split_clitics(key)[1] in STOP_WORDS


def index_text(text: str | None) -> str:
    """What the full-text index holds for a title or paragraph: the terms of every word that is not
    a stop word, space-joined."""
    if not text:
        return ""
    return " ".join(" ".join(word_terms(word)) for word in words(text) if not _is_stop_word(word))


def document_index(title: str | None, paragraphs: list[str]) -> list[str]:
    """The full-text index rows of a document: `index_text` of its title, then of each paragraph.
    Workers compute them, so the workspace's single writer only inserts them."""
    return [index_text(title)] + [index_text(text) for text in paragraphs]


def query_terms(query: str) -> list[str]:
    """The distinct index terms of a free-text query, in query order: stop words and terms shorter
    than two characters dropped."""
    terms: dict[str, None] = {}
    for token in tokenize(query or ""):
        if not token.is_word or _is_stop_word(token.text):
            continue
        for term in word_terms(token.text):
            if len(term) >= MIN_TERM_CHARS:
                terms.setdefault(term, None)
    return list(terms)


def match_expression(terms: list[str]) -> str:
    """An FTS5 MATCH expression that ORs the terms, each a quoted string ("" inside is doubled)."""
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)


@dataclass
class DocMatch:
    """One document the full-text index found: its rank (1 = best), its score (from the bm25 of its
    best units, higher is better), the best matching body paragraph (-1 when only the title matched),
    and every matching unit as (idx, score), best first."""

    doc_id: str
    rank: int
    score: float
    paragraph: int
    units: list[tuple[int, float]] = field(default_factory=list)


def fulltext_search(storage: FulltextStore, query: str,
                    limit: int = 50) -> tuple[list[DocMatch], list[str], str | None]:
    """Documents matching any term of `query`, best first (at most `limit`), the query terms, and a
    note when only the RANKED_UNITS most recently indexed matching units were ranked."""
    terms = query_terms(query)
    if not terms:
        return [], terms, None
    expression = match_expression(terms)
    floor = storage.fulltext_floor(expression, RANKED_UNITS)
    rows = storage.fulltext_units(expression, limit * UNITS_PER_DOCUMENT, floor)
    note = None if floor is None else (
        f"more than {RANKED_UNITS:,} passages match: the {RANKED_UNITS:,} most recently stored were ranked")
    by_doc: dict[str, list[tuple[int, float]]] = {}
    for doc_id, idx, bm25 in rows:
        score = -bm25 * (TITLE_BOOST if idx < 0 else 1.0)
        by_doc.setdefault(doc_id, []).append((idx, score))
    ranked = []
    for doc_id, units in by_doc.items():
        units.sort(key=lambda unit: -unit[1])
        # The best unit decides; the next ones add a little (a story told in title and body beats one mention).
        score = units[0][1] + OTHER_UNITS_WEIGHT * sum(unit_score for _, unit_score in units[1:3])
        ranked.append((-score, -len(units), doc_id, units))
    ranked.sort()  # doc ids are unique: the unit lists are never compared
    # Only the documents returned become DocMatch objects (a wide query reads hundreds more).
    return [DocMatch(doc_id, rank, -negated, next((idx for idx, _ in units if idx >= 0), -1), units)
            for rank, (negated, _, doc_id, units) in enumerate(ranked[:limit], 1)], terms, note


def _window(text: str, spans: list[tuple[int, int]], width: int) -> tuple[int, int]:
    """A stretch of about `width` characters starting a little before the first span, cut at spaces."""
    if len(text) <= width:
        return 0, len(text)
    first = spans[0][0] if spans else 0
    start = max(0, first - width // 4)
    if start > 0:
        space = text.find(" ", start, first)
        start = space + 1 if space >= 0 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    return start, end


def _matching_spans(text: str, wanted: set[str]) -> Iterator[tuple[int, int]]:
    """(start, end) of each word of `text` sharing a term with `wanted`, in order, found lazily: the
    words of `tokenize`, without building a Token for every word of a long paragraph."""
    for match in _TOKEN.finditer(text):
        word = match.group()
        if word[0].isalnum() and wanted.intersection(word_terms(word)):
            yield match.span()


def snippet(text: str, terms: list[str] | set[str], width: int = 240) -> tuple[str, list[tuple[int, int]]]:
    """A stretch of `text` around its first matching word, every word sharing a term with `terms`
    between MARK_OPEN and MARK_CLOSE; returns the snippet (plain text: escape it before display)
    and the offsets of the marked words in it."""
    found = _matching_spans(text, set(terms))
    first = next(found, None)
    spans = [] if first is None else [first]
    start, end = _window(text, spans, width)
    # Snippets are most of a search's time: the words after the window are never read.
    for span in found:
        if span[0] >= end:
            break
        spans.append(span)
    parts = ["…"] if start > 0 else []
    marks: list[tuple[int, int]] = []
    length = len(parts[0]) if parts else 0
    position = start
    for span_start, span_end in spans:
        if span_start < start or span_end > end:
            continue
        parts += [text[position:span_start], MARK_OPEN]
        length += span_start - position + len(MARK_OPEN)
        marks.append((length, length + span_end - span_start))
        parts += [text[span_start:span_end], MARK_CLOSE]
        length += span_end - span_start + len(MARK_CLOSE)
        position = span_end
    parts.append(text[position:end])
    if end < len(text):
        parts.append("…")
    return "".join(parts), marks
