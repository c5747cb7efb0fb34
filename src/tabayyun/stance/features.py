"""What the stance model sees: a claim against each sentence of a document, then the document as a whole.

A sentence's relevance to the claim is the idf-weighted share of the claim's light stems it holds;
its signals (denial, a falsity word, hedging, negation that the claim lacks, a number or an opposite
word where the claim has another) count in proportion to that relevance, so a denial far from the
claim's subject says little. Every feature has a name, so a decision can be shown with its reasons.
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np

from tabayyun.arabic import light_stem, normalize_for_match, split_sentences

SENTENCE_FEATURES = (
    "coverage", "coverage_plain", "bigrams", "density", "similarity",
    "deny", "false", "hedge", "confirm", "negation_flip", "number_match", "number_clash", "opposite",
)
_TOP = 3
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_SHORT = 2  # stems this short (و، في) say nothing about the subject


@dataclass(frozen=True)
class Unit:
    """One sentence of a document: paragraph -1 is the title."""

    paragraph: int
    start: int
    end: int
    text: str


@dataclass
class Lexicon:
    words: dict[str, str]
    phrases: list[tuple[str, str]]
    opposites: dict[str, set[str]]


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    words, phrases, opposites = {}, [], {}
    folder = resources.files("tabayyun.resources")
    for line in folder.joinpath("stance_lexicon.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            term, kind = line.split("\t")
            if " " in term:
                phrases.append((f" {normalize_for_match(term)} ", kind))
            else:
                words[light_stem(term)] = kind
    for line in folder.joinpath("antonyms.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            a, b = (light_stem(w) for w in line.split("\t"))
            opposites.setdefault(a, set()).add(b)
            opposites.setdefault(b, set()).add(a)
    return Lexicon(words, phrases, opposites)


@dataclass
class Idf:
    """Inverse document frequency of light stems, learnt from the training corpus. Stems are hashed
    into IDF_BUCKETS buckets, so the shipped model holds numbers, not the corpus' vocabulary (a rare
    collision only blurs two words' weights)."""

    weights: dict[int, float]
    default: float

    def __call__(self, stem: str) -> float:
        return self.weights.get(_bucket(stem), self.default)

    @classmethod
    def fit(cls, documents: list[set[str]], min_df: int = 2) -> Idf:
        counts: dict[int, int] = {}
        for stems in documents:
            for bucket in {_bucket(stem) for stem in stems}:
                counts[bucket] = counts.get(bucket, 0) + 1
        n = len(documents) + 1
        weights = {b: round(math.log(n / (c + 1)) + 1, 3) for b, c in counts.items() if c >= min_df}
        return cls(weights, round(math.log(n) + 1, 3))


IDF_BUCKETS = 1 << 18


def _bucket(stem: str) -> int:
    return zlib.crc32(stem.encode("utf-8")) % IDF_BUCKETS


def stems_of(text: str) -> list[str]:
    return [light_stem(word) for word in _WORD.findall(normalize_for_match(text))]


_WORD = re.compile(r"[^\W_]+")
_SIGNAL_KINDS = ("negation", "deny", "false", "hedge", "confirm")


# A denial named after these is background, not the sentence's own claim: "خلافاً لنفي الوزارة",
# "بعد أيام من نفي", "رغم نفيها" report that someone denied, usually to contradict it.
_BACKGROUND = {light_stem(w) for w in ("خلافا", "رغم", "بعد", "عقب", "إثر", "اثر", "من", "متجاهلا")}


def _signals(stems: list[str], normalized: str) -> tuple[bool, ...]:
    lex = lexicon()
    kinds = {lex.words[s] for i, s in enumerate(stems) if s in lex.words
             and not (lex.words[s] == "deny" and i and stems[i - 1] in _BACKGROUND)}
    padded = f" {normalized} "
    kinds.update(kind for phrase, kind in lex.phrases if phrase in padded)
    return tuple(kind in kinds for kind in _SIGNAL_KINDS)


@dataclass
class UnitView:
    """What the features need from one sentence, whatever the claim: computed once per document."""

    unit: Unit
    stems: list[str]
    content: set[str]
    bigrams: set[tuple[str, str]]
    signals: tuple[bool, ...]
    numbers: set[str]


def view_units(units: list[Unit]) -> list[UnitView]:
    views = []
    for unit in units:
        normalized = normalize_for_match(unit.text)
        stems = [light_stem(word) for word in _WORD.findall(normalized)]
        content = [s for s in stems if len(s) > _SHORT]
        views.append(UnitView(unit, stems, set(content), set(zip(content, content[1:])),
                              _signals(stems, normalized), set(_NUMBER.findall(normalized))))
    return views


@dataclass
class Claim:
    text: str
    weights: dict[str, float]
    bigrams: set[tuple[str, str]]
    numbers: set[str]
    negated: bool
    hedged: bool
    opposites: set[str] = field(default_factory=set)

    @property
    def total(self) -> float:
        return sum(self.weights.values()) or 1.0


def claim_view(text: str, idf: Idf) -> Claim:
    stems = [s for s in stems_of(text) if len(s) > _SHORT]
    signals = dict(zip(_SIGNAL_KINDS, _signals(stems_of(text), normalize_for_match(text))))
    lex = lexicon()
    opposites = set().union(*(lex.opposites.get(s, set()) for s in stems)) - set(stems) if stems else set()
    return Claim(
        text=text,
        weights={s: idf(s) for s in stems},
        bigrams=set(zip(stems, stems[1:])),
        numbers=set(_NUMBER.findall(normalize_for_match(text))),
        negated=signals["negation"] or signals["deny"],
        hedged=signals["hedge"],
        opposites=opposites,
    )


def units_of(paragraphs: list[str], title: str | None = None) -> list[Unit]:
    units = [Unit(-1, 0, len(title), title)] if title else []
    for index, paragraph in enumerate(paragraphs):
        units.extend(Unit(index, s.start, s.end, s.text) for s in split_sentences(paragraph) if s.text.strip())
    return units


def sentence_features(claim: Claim, view: UnitView, similarity: float = 0.0) -> list[float]:
    """One row of SENTENCE_FEATURES for one sentence."""
    matched = [s for s in claim.weights if s in view.content]
    negation, deny, false, hedge, confirm = view.signals
    number_match = bool(claim.numbers & view.numbers)
    return [
        sum(claim.weights[s] for s in matched) / claim.total,
        len(matched) / max(1, len(claim.weights)),
        len(claim.bigrams & view.bigrams) / max(1, len(claim.bigrams)),
        len(matched) / max(4, len(view.content)),
        similarity, deny, false, hedge, confirm, negation != claim.negated, number_match,
        bool(claim.numbers) and bool(view.numbers) and not number_match, bool(claim.opposites & view.content),
    ]


DOCUMENT_FEATURES = (
    "top_coverage", "top_plain", "top_bigrams", "top_density", "top_similarity", "mean3_coverage",
    "mean3_similarity", "title_coverage", "title_similarity", "share_covered_half", "share_covered_third",
    "log_sentences", "document_coverage", "lead_coverage", "paragraph_coverage", "paragraph_bigrams",
    *(f"top3_{name}" for name in SENTENCE_FEATURES[5:]),
    *(f"any_{name}" for name in ("deny", "false", "hedge")),
    "claim_negated", "claim_hedged",
)


def relevance(rows: np.ndarray) -> np.ndarray:
    """How much each sentence is about the claim: coverage, lifted by embedding similarity when known."""
    coverage, bigrams, similarity = rows[:, 0], rows[:, 2], rows[:, 4]
    semantic = np.clip((similarity - 0.8) * 5, 0, 1)
    return 0.6 * coverage + 0.2 * bigrams + 0.2 * np.maximum(semantic, coverage)


def _coverage(claim: Claim, stems: set[str]) -> float:
    return sum(w for s, w in claim.weights.items() if s in stems) / claim.total


def featurize(claim: Claim, views: list[UnitView], similarities: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """(sentence rows, document vector) of a document's sentences against a claim."""
    sims = similarities if similarities is not None else np.zeros(len(views))
    rows = np.array([sentence_features(claim, v, float(sim)) for v, sim in zip(views, sims)], dtype=np.float32)
    rows = rows.reshape(len(views), len(SENTENCE_FEATURES))
    everything = set().union(*(v.content for v in views))
    body = [v.content for v in views if v.unit.paragraph >= 0]
    lead = set().union(*body[:3])
    is_title = np.array([v.unit.paragraph < 0 for v in views], dtype=bool)
    paragraphs: dict[int, list[UnitView]] = {}
    for view in views:
        paragraphs.setdefault(view.unit.paragraph, []).append(view)
    best = max(paragraphs.values(), key=lambda vs: _coverage(claim, set().union(*(v.content for v in vs))),
               default=[])
    best_bigrams = set().union(*(v.bigrams for v in best)) if best else set()
    extra = (_coverage(claim, everything), _coverage(claim, lead),
             _coverage(claim, set().union(*(v.content for v in best))) if best else 0.0,
             len(claim.bigrams & best_bigrams) / max(1, len(claim.bigrams)))
    return rows, document_features(claim, rows, is_title, extra)


def document_features(claim: Claim, rows: np.ndarray, is_title: np.ndarray,
                      extra: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0)) -> np.ndarray:
    """Aggregate sentence rows (n x SENTENCE_FEATURES) into one DOCUMENT_FEATURES vector."""
    if len(rows) == 0:
        return np.zeros(len(DOCUMENT_FEATURES), dtype=np.float32)
    rel = relevance(rows)
    order = np.argsort(-rel, kind="stable")
    top, top3 = rows[order[0]], rows[order[:_TOP]]
    weights = rel[order[:_TOP]][:, None]
    title = rows[is_title].max(axis=0) if is_title.any() else np.zeros(rows.shape[1], dtype=np.float32)
    related = rel >= 0.3
    signals = (top3[:, 5:] * weights).max(axis=0)
    anywhere = [float((rows[:, col] * related).max()) for col in (5, 6, 7)]
    return np.array([
        top[0], top[1], top[2], top[3], top[4], top3[:, 0].mean(), top3[:, 4].mean(), title[0], title[4],
        float((rows[:, 0] >= 0.5).mean()), float((rows[:, 0] >= 0.33).mean()), math.log1p(len(rows)), *extra,
        *signals, *anywhere, float(claim.negated), float(claim.hedged),
    ], dtype=np.float32)
