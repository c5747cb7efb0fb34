"""Sentence splitting for Arabic news paragraphs, with offsets.

Splits after . ! ? ؟ ; ؛ … (and the closing quotes or brackets that follow them) when whitespace or
the end follows, but not inside a quotation (a quoted statement of several sentences stays whole,
so a quote and its speaker remain in one sentence), not after initials (وليام إتش. سيلي, د.) and not
inside numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_END = set(".!?؟;؛…")
_CLOSERS = set("\"'”’»)]")
_OPEN_QUOTES = {"«": "»", "“": "”", "„": "”"}
# Letter names used as initials in transliterated names, and common abbreviations before a dot.
_INITIALS = {
    "إتش", "اتش", "جي", "دي", "بي", "سي", "إف", "اف", "إل", "ال", "إم", "ام", "إن", "ان", "كيه", "تي", "في",
    "إس", "اس", "آر", "ار", "واي", "زد", "د", "م", "أ", "ا", "ج", "ص", "ق", "هـ", "ت", "ب", "ش", "ع",
}
_LONG_QUOTE = 400  # a quotation longer than this is split like running text


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


def split_sentences(text: str) -> list[Sentence]:
    spans = []
    start = 0
    for boundary in _boundaries(text):
        _add(text, start, boundary, spans)
        start = boundary
    _add(text, start, len(text), spans)
    return spans


def _add(text: str, start: int, end: int, spans: list[Sentence]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append(Sentence(start, end, text[start:end]))


def _boundaries(text: str):
    closing: list[str] = []
    quote_start = 0
    straight_open = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _OPEN_QUOTES:
            closing.append(_OPEN_QUOTES[ch])
            quote_start = i
        elif closing and ch == closing[-1]:
            closing.pop()
        elif ch == '"':
            straight_open = not straight_open
            quote_start = i if straight_open else quote_start
        inside = (closing or straight_open) and i - quote_start < _LONG_QUOTE
        if ch in _END and not inside and _is_boundary(text, i):
            j = i + 1
            while j < n and (text[j] in _END or text[j] in _CLOSERS):
                if text[j] == '"':
                    straight_open = not straight_open
                j += 1
            if j >= n or text[j].isspace():
                yield j
            i = j
            continue
        i += 1


def _is_boundary(text: str, i: int) -> bool:
    if text[i] != ".":
        return True
    if i + 1 < len(text) and text[i + 1].isdigit() and i > 0 and text[i - 1].isdigit():
        return False
    word = re.search(r"(\w+)$", text[max(0, i - 12):i])
    if word and (word.group(1) in _INITIALS or (len(word.group(1)) == 1 and word.group(1).isupper())):
        return False
    return True
