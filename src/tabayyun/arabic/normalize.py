"""Normalization of Arabic text for matching (never for display: the original text is always kept)."""

from __future__ import annotations

import re
import unicodedata

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"})
# Diacritics (harakat, shadda, sukun, superscript alef), tatweel, and the invisible bidi/zero-width marks
# that scraped pages are full of.
_STRIP = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_QUOTES = str.maketrans({"«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})
_SPACE = re.compile(r"\s+")


def fold_digits(text: str) -> str:
    """Arabic-Indic and Persian digits to ASCII digits (same length, so offsets are kept)."""
    return text.translate(_DIGITS)


def normalize_for_match(text: str) -> str:
    """A lossy key for comparing strings: letters unified, marks stripped, spaces collapsed, lowercased."""
    text = unicodedata.normalize("NFKC", text) if not text.isascii() else text
    text = _STRIP.sub("", text).translate(_LETTERS).translate(_DIGITS).translate(_QUOTES)
    return _SPACE.sub(" ", text).strip().lower()
