"""Normalization of Arabic text for matching (never for display: the original text is always kept).

`normalize_for_match` gives a lossy key; `normalize_with_offsets` gives the same key together with,
for every character of it, the index of the original character it came from, so that anything
found in normalized text can be pointed at in the original.
"""

from __future__ import annotations

import re
import unicodedata

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_LETTERS = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي", "ک": "ك", "ی": "ي"}
_QUOTES = {"«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "‟": '"', "‘": "'", "’": "'", "‚": "'"}
# Diacritics (harakat, shadda, sukun, superscript alef), tatweel, and the invisible bidi/zero-width marks
# that scraped pages are full of.
_DROP = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u00ad]")
_TABLE = str.maketrans({**_LETTERS, **_QUOTES})
_SPACE = re.compile(r"\s+")


def fold_digits(text: str) -> str:
    """Arabic-Indic and Persian digits to ASCII digits (same length, so offsets are kept)."""
    return text.translate(_DIGITS)


def normalize_for_match(text: str) -> str:
    """A lossy key for comparing strings: letters unified, marks stripped, spaces collapsed, lowercased."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = _DROP.sub("", text).translate(_TABLE).translate(_DIGITS)
    return _SPACE.sub(" ", text).strip().lower()


def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """The `normalize_for_match` key of `text` (without the final strip) and, per key character, the
    index in `text` it comes from. Runs of whitespace become one space."""
    out: list[str] = []
    offsets: list[int] = []
    previous_space = False
    for index, char in enumerate(text):
        if _DROP.match(char):
            continue
        folded = unicodedata.normalize("NFKC", char) if not char.isascii() else char
        for piece in folded:
            piece = piece.translate(_TABLE).translate(_DIGITS).lower()
            if piece.isspace():
                if previous_space:
                    continue
                piece, previous_space = " ", True
            else:
                previous_space = False
            out.append(piece)
            offsets.append(index)
    return "".join(out), offsets
