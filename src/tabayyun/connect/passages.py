"""Shared passages between two articles: the maximal runs of consecutive normalized words (at least
`min_words`) that a paragraph of each contains, such as a quoted letter reused in two articles.

Words are the `\\w+` runs of `normalize_with_offsets(paragraph)` (so diacritics, tatweel, letter
variants and digit forms do not matter), each mapped back to its span in the ORIGINAL paragraph. The
`min_words`-grams of one side are indexed in a dict; each matching gram on the other side that does
not continue a match one word earlier starts a passage, extended greedily word by word: linear in the
two lengths plus the size of the answer (a gram repeated more than `MAX_REPEATS` times on one side,
boilerplate, is skipped).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass

from tabayyun.arabic import normalize_with_offsets
from tabayyun.model import Document

MAX_REPEATS = 50
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class SharedPassage:
    """`text` is the passage as side a writes it (`a_start`/`a_end` offsets in
    `doc_a.paragraphs[a_paragraph]`, likewise for b); `words` how many normalized words it spans."""

    a_paragraph: int
    a_start: int
    a_end: int
    b_paragraph: int
    b_start: int
    b_end: int
    text: str
    words: int

    def to_dict(self) -> dict:
        return {"a": {"paragraph": self.a_paragraph, "start": self.a_start, "end": self.a_end},
                "b": {"paragraph": self.b_paragraph, "start": self.b_start, "end": self.b_end},
                "text": self.text, "words": self.words}


def _is_mark(char: str) -> bool:
    return char == "\u0640" or unicodedata.category(char) in ("Mn", "Me", "Cf")


def words_with_spans(paragraphs: list[str]) -> list[tuple[str, int, int, int]]:
    """(normalized word, paragraph index, start, end) of every word, the span in the original text
    (trailing diacritics and tatweel included)."""
    found = []
    for index, paragraph in enumerate(paragraphs):
        key, offsets = normalize_with_offsets(paragraph)
        for match in _WORD.finditer(key):
            start, end = offsets[match.start()], offsets[match.end() - 1] + 1
            while end < len(paragraph) and _is_mark(paragraph[end]):
                end += 1
            found.append((match.group(0), index, start, end))
    return found


def _grams(words: list[tuple[str, int, int, int]], size: int):
    """(position, gram) of every window of `size` words inside one paragraph."""
    for i in range(len(words) - size + 1):
        if words[i][1] == words[i + size - 1][1]:
            yield i, tuple(w[0] for w in words[i:i + size])


def shared_passages(doc_a: Document, doc_b: Document, min_words: int = 8) -> list[SharedPassage]:
    """The maximal runs of at least `min_words` normalized words both documents' paragraphs contain, in
    the order of doc_a (then doc_b); each run stays inside one paragraph on each side."""
    if min_words < 1:
        raise ValueError("min_words must be at least 1")
    return _passages(doc_a, words_with_spans(doc_a.paragraphs), words_with_spans(doc_b.paragraphs), min_words)


def passages_among(docs: list[Document], skip: set[frozenset[str]] = frozenset(),
                   min_words: int = 8) -> list[dict]:
    """The shared passages of every two of `docs` (in their order) that share any, pairs in `skip`
    ({id, id}: copies, which share everything) left out: [{"a": id, "b": id, "passages": [...]}]."""
    words = [words_with_spans(doc.paragraphs) for doc in docs]
    found = []
    for i, j in itertools.combinations(range(len(docs)), 2):
        if frozenset((docs[i].id, docs[j].id)) in skip:
            continue
        passages = _passages(docs[i], words[i], words[j], min_words)
        if passages:
            found.append({"a": docs[i].id, "b": docs[j].id, "passages": [p.to_dict() for p in passages]})
    return found


def _passages(doc_a: Document, wa: list, wb: list, min_words: int) -> list[SharedPassage]:
    index: dict[tuple[str, ...], list[int]] = {}
    for j, gram in _grams(wb, min_words):
        index.setdefault(gram, []).append(j)
    passages = []
    for i, gram in _grams(wa, min_words):
        positions = index.get(gram)
        if not positions or len(positions) > MAX_REPEATS:
            continue
        for j in positions:
            if (i > 0 and j > 0 and wa[i - 1][0] == wb[j - 1][0]
                    and wa[i - 1][1] == wa[i][1] and wb[j - 1][1] == wb[j][1]):
                continue                                    # not a start: the run began earlier
            length = min_words
            while (i + length < len(wa) and j + length < len(wb) and wa[i + length][0] == wb[j + length][0]
                   and wa[i + length][1] == wa[i][1] and wb[j + length][1] == wb[j][1]):
                length += 1
            first_a, last_a, first_b, last_b = wa[i], wa[i + length - 1], wb[j], wb[j + length - 1]
            passages.append(SharedPassage(
                first_a[1], first_a[2], last_a[3], first_b[1], first_b[2], last_b[3],
                doc_a.paragraphs[first_a[1]][first_a[2]:last_a[3]], length))
    return passages
