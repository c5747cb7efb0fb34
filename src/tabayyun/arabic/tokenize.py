"""Tokens with offsets, attached clitics, and a light stem for search.

Arabic glues conjunctions, prepositions and the article to the word: والانسحاب is و + ال + انسحاب.
Search and entity matching want the base; the original span is always kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from tabayyun.arabic.normalize import normalize_for_match

# Arabic diacritics and Quranic marks are not word characters to `re`: without them in the class a
# word written with a shadda or a damma (يتوقّعون، تُعد) fell apart into fragments.
_MARKS = "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed"
_WORD_CHARS = rf"(?:[^\W_]+[{_MARKS}]*)+"
_TOKEN = re.compile(rf"{_WORD_CHARS}(?:[-'.]{_WORD_CHARS})*|[^\w\s]", re.UNICODE)
# Proclitic clusters, longest first; each with the least base length left after stripping it.
_ARTICLE_CLUSTERS = ("وبال", "وكال", "فبال", "وال", "فال", "بال", "كال", "ولل", "فلل", "لل", "ال")
_CONJUNCTIONS = ("و", "ف")
_PREPOSITIONS = ("ب", "ل", "ك")


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int

    @property
    def is_word(self) -> bool:
        return self.text[0].isalnum()


def tokenize(text: str) -> list[Token]:
    """Words (letters and digits, with inner hyphens, apostrophes and dots) and single punctuation marks."""
    return [Token(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def words(text: str) -> list[str]:
    """The words of `tokenize`, without offsets or punctuation (cheaper where only they are wanted)."""
    return [word for word in _TOKEN.findall(text) if word[0].isalnum()]


def split_clitics(word: str) -> tuple[str, str]:
    """(proclitics, base) of a normalized word: والانسحاب -> (وال, انسحاب), للقوات -> (لل, قوات).

    Conservative: a cluster is stripped only when a plausible base (3+ letters) remains, and a bare
    ب/ل/ك only before the alef that begins most verbal nouns (لانسحاب), so names like بغداد stay whole."""
    for cluster in _ARTICLE_CLUSTERS:
        if word.startswith(cluster) and len(word) - len(cluster) >= 3:
            base = word[len(cluster):]
            return (cluster[:-1] + "ال" if cluster.endswith("لل") else cluster), base
    prefix = ""
    if word[:1] in _CONJUNCTIONS and len(word) >= 5:
        prefix, word = word[0], word[1:]
        for cluster in _ARTICLE_CLUSTERS:
            if word.startswith(cluster) and len(word) - len(cluster) >= 3:
                return prefix + cluster, word[len(cluster):]
    if word[:1] in _PREPOSITIONS and word[1:2] == "ا" and len(word) >= 5:
        return prefix + word[0], word[1:]
    return prefix, word


@lru_cache(maxsize=1)
def _snowball():
    import Stemmer

    return Stemmer.Stemmer("arabic")


def _stem_base(base: str) -> str:
    # Snowball's Arabic stemmer also strips a bare ب, ف or ل from some words and not from others
    # (بغداد -> غداد but ببغداد -> بغداد); behind an article it only removes the article and the
    # suffixes, which is the part wanted here: the clitics are already handled above.
    stem = _snowball().stemWord("ال" + base)
    return stem[2:] if stem.startswith("ال") and len(stem) > 3 else stem


@lru_cache(maxsize=200_000)
def light_stem(word: str) -> str:
    """The search key of one word: normalized, clitics split off, then Snowball's suffix stemming."""
    key = normalize_for_match(word)
    if not key or not any("\u0600" <= ch <= "\u06ff" for ch in key):
        return key
    return _stem_base(split_clitics(key)[1])


def stem_variants(word: str) -> set[str]:
    """The light stem, plus the stem without a bare ب/ل/ك/ف/و the conservative split kept (لبغداد
    also as بغداد): a full-text index holding both finds names behind a preposition."""
    key = normalize_for_match(word)
    variants = {light_stem(word)}
    _, base = split_clitics(key)
    if base[:1] in "بلكفو" and len(base) >= 5:
        variants.add(_stem_base(split_clitics(base[1:])[1]))
    return variants


def stem_text(text: str) -> str:
    """Space-joined light stems of every word: what a full-text index of Arabic should hold."""
    return " ".join(light_stem(word) for word in words(text))
