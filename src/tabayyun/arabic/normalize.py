"""Normalization of Arabic text for matching (never for display: the original text is always kept).

`normalize_for_match` gives a lossy key; `normalize_with_offsets` gives the same key together with,
for every character of it, the index of the original character it came from, so that anything
found in normalized text can be pointed at in the original.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_LETTERS = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي", "ک": "ك", "ی": "ي"}
_QUOTES = {"«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "‟": '"', "‘": "'", "’": "'", "‚": "'"}
# Diacritics (harakat, shadda, sukun, superscript alef), tatweel, and the invisible bidi/zero-width marks
# that scraped pages are full of.
_DROP = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u00ad]")
# Every kind of space is a plain space, so both normalization paths agree (أمس\xa0الأول).
_SPACES = {ch: " " for ch in "\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"}
# Every one-to-one character folding above, applied by one regular expression: it scans in C and
# calls back only where a character changes, about 2x faster than str.translate (a dict lookup per
# character) on Arabic text, with the same result (SaudiNewsNet lines, 2026-11-25).
_FOLDS = {**_LETTERS, **_QUOTES, **_SPACES, **{chr(k): chr(v) for k, v in _DIGITS.items()}}
_FOLDABLE = re.compile("[" + re.escape("".join(_FOLDS)) + "]")
_SPACE = re.compile(r"\s+")


def _fold(text: str) -> str:
    """Letters, quotes, spaces and digits folded one character for one (offsets are kept)."""
    return _FOLDABLE.sub(lambda match: _FOLDS[match.group()], text)


def fold_digits(text: str) -> str:
    """Arabic-Indic and Persian digits to ASCII digits (same length, so offsets are kept)."""
    return text.translate(_DIGITS)


def normalize_for_match(text: str) -> str:
    """A lossy key for comparing strings: letters unified, marks stripped, spaces collapsed, lowercased."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = _fold(_DROP.sub("", text))
    return _SPACE.sub(" ", text).strip().lower()


_PRESENTATION_FORMS = re.compile("[\ufb50-\ufdff\ufe70-\ufefe\uff00-\uffef]")
_DROP_OR_SPACE = re.compile(_DROP.pattern + "+|\\s{2,}|[\t\n\r\f\v]")


@lru_cache(maxsize=4096)
def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """The `normalize_for_match` key of `text` (without the final strip) and, per key character, the
    index in `text` it comes from. Runs of whitespace become one space. Cached: the times, quotes
    and citations stages all read the same paragraphs (callers must not modify the offsets)."""
    if not _PRESENTATION_FORMS.search(text):
        mapped = _fold(text).lower()
        if len(mapped) == len(text):
            return _drop_with_offsets(mapped)
    return _normalize_each_char(text)


def _drop_with_offsets(mapped: str) -> tuple[str, list[int]]:
    """Fast path: characters map one to one, so only dropped marks and whitespace runs move offsets."""
    parts: list[str] = []
    offsets: list[int] = []
    position = 0
    for match in _DROP_OR_SPACE.finditer(mapped):
        parts.append(mapped[position:match.start()])
        offsets.extend(range(position, match.start()))
        if match.group(0)[0].isspace():
            if not (parts and parts[-1].endswith(" ")) and not (position == match.start() and offsets and
                                                              mapped[offsets[-1]].isspace()):
                parts.append(" ")
                offsets.append(match.start())
        position = match.end()
    parts.append(mapped[position:])
    offsets.extend(range(position, len(mapped)))
    key = "".join(parts)
    if "  " in key:  # a space next to a run that collapsed; rare, take the careful path
        return _normalize_each_char(mapped)
    return key, offsets


def _normalize_each_char(text: str) -> tuple[str, list[int]]:
    out: list[str] = []
    offsets: list[int] = []
    previous_space = False
    for index, char in enumerate(text):
        if _DROP.match(char):
            continue
        folded = unicodedata.normalize("NFKC", char) if not char.isascii() else char
        for piece in folded:
            piece = _fold(piece).lower()
            if piece.isspace():
                if previous_space:
                    continue
                piece, previous_space = " ", True
            else:
                previous_space = False
            out.append(piece)
            offsets.append(index)
    return "".join(out), offsets
