"""Named entities: an averaged-perceptron BIO tagger, gazetteers, title cues, within-article linking.

The tagger is a structured averaged perceptron decoded with first-order Viterbi over BIO tags (a
beam skips tags far below a token's best). Its features: the normalized word, its light stem, the
clitic-split base and proclitics, 1-4 character prefixes and suffixes of the base, a consonant/vowel
skeleton, the word shape, the neighbouring words (two each side) and their bases, gazetteer
membership of the base and of multi-word windows (B/I position in an entry), title cues (الرئيس،
وزير، المتحدث باسم ...) among the three previous words, the previous tag (alone and with the word),
and document features (what the same word is elsewhere in the article: see add_document_features).

Inference is pure Python: the features of a word at a given offset from the tagged position depend
only on that word, so their summed weights are cached per word and offset; tagging a token then adds
a handful of cached vectors. The shipped model (`models/ner/model.json.gz`) was trained on ANERcorp
by `tabayyun.train.ner.train_ner`; see its MODEL_CARD.md.

`find_entities(paragraphs)` runs on raw paragraph text and returns `Entity` spans with character
offsets, one `canonical` name per entity in the article and the `role` a title cue gives a person.
"""

from __future__ import annotations

import gzip
import json
import operator
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from tabayyun.arabic import light_stem, normalize_for_match, split_clitics, split_sentences, tokenize
from tabayyun.model import Entity

TYPES = ("PER", "LOC", "ORG", "MISC")
TAGS = ("O",) + tuple(f"{p}-{t}" for t in TYPES for p in ("B", "I"))
TAG_INDEX = {t: i for i, t in enumerate(TAGS)}
MODEL_RESOURCE = "models/ner/model.json.gz"
_BOS, _EOS = "<s>", "</s>"
_BARE_CLITICS = "وفبلك"
_ARABIC = re.compile("[\u0600-\u06ff]")
_LATIN = re.compile("[a-zA-Z]")
_DIGIT = re.compile("[0-9\u0660-\u0669]")
_INITIAL_TOKENS = {"اتش", "جي", "دي", "بي", "سي", "اف", "ال", "ام", "ان", "كيه", "تي", "في", "اس", "ار", "واي",
                   "زد", "جيه", "اي", "يو", "او", "كي", "ه", "د", "م", "ا", "ج", "ص", "ق", "ت", "ب", "ش", "ع", "ر"}


# Consonant/vowel skeleton of a word: Arabic words follow a few templates, transliterated foreign
# names (ألونسو، شوماخر) rarely do.
_CV = str.maketrans({**{c: "c" for c in "بتثجحخدذرزسشصضطظعغفقكلمنهةءئؤ"}, "ا": "v", "و": "v", "ي": "v", "ى": "v"})


# --- lexical features, cached per word type -------------------------------------------------------

@dataclass(frozen=True)
class Lex:
    """What the tagger knows of one word type, whatever its context."""

    norm: str
    base: str
    keys: tuple[str, ...]  # gazetteer keys: the base, and the base with a bare clitic letter stripped
    f0: tuple[str, ...]  # features of the word at the tagged position
    fm1: tuple[str, ...]  # ... as the previous word
    fp1: tuple[str, ...]  # ... as the next word
    fm2: tuple[str, ...]
    fp2: tuple[str, ...]


def _shape(norm: str) -> str:
    ar, la, di = bool(_ARABIC.search(norm)), bool(_LATIN.search(norm)), bool(_DIGIT.search(norm))
    if ar + la + di > 1:
        kind = "M"
    elif ar:
        kind = "A"
    elif la:
        kind = "L"
    elif di:
        kind = "D"
    elif norm in (_BOS, _EOS):
        kind = norm
    else:
        kind = "P"
    if "-" in norm and len(norm) > 1:
        kind += "-"
    n = len(norm)
    return kind + (str(n) if n < 8 else "8")


def soft_normalize(token: str) -> str:
    """normalize_for_match, except that a final alef maqsura stays: على (on) is not علي (Ali)."""
    if "ى" not in token:
        return normalize_for_match(token)
    return normalize_for_match(token.replace("ى", _KEEP)).replace(_KEEP, "ى")


_KEEP = "\ue000"


def token_keys(norm: str) -> tuple[str, ...]:
    """Gazetteer keys of a soft-normalized token: its clitic-split base, the base after stripping one
    bare clitic letter (لبغداد -> بغداد, ووليام -> وليام) where split_clitics kept it, and for a
    final ي also the ى spelling (texts write مصطفى as مصطفي, never على as علي)."""
    if not norm or not norm[0].isalnum():
        return ()
    base = split_clitics(norm)[1] if _ARABIC.match(norm) else norm
    keys = [base]
    if norm[0] in _BARE_CLITICS and len(norm) >= 4:
        other = split_clitics(norm[1:])[1]
        if other != base:
            keys.append(other)
    if norm != base and norm not in keys:
        keys.append(norm)
    for key in list(keys):
        if key.endswith("ي"):
            keys.append(key[:-1] + "ى")
    return tuple(keys)


_LEX: dict[str, Lex] = {}


def lex(token: str) -> Lex:
    """The cached lexical record of a token (feature strings per offset)."""
    found = _LEX.get(token)
    if found is not None:
        return found
    if len(_LEX) > 300_000:
        _LEX.clear()
    if token in (_BOS, _EOS):
        norm = base = stem = proc = token
        keys: tuple[str, ...] = ()
    else:
        soft = soft_normalize(token) or token
        norm = soft.replace("ى", "ي")
        if _ARABIC.match(norm):
            proc, base = split_clitics(norm)
            stem = light_stem(token) or base
        else:
            proc, base, stem = "", norm, norm
        keys = token_keys(soft)
    shape = _shape(norm)
    words = gazetteers().words
    gw: list[str] = []
    for key in keys:
        for typ in words.get(key, ()):
            if typ not in gw:
                gw.append(typ)
    f0 = ["w=" + norm, "b=" + base, "s=" + stem, "p=" + proc, "sh=" + shape,
          "a1=" + base[:1], "a2=" + base[:2], "a3=" + base[:3],
          "z1=" + base[-1:], "z2=" + base[-2:], "z3=" + base[-3:], "a4=" + base[:4], "z4=" + base[-4:],
          "cv=" + base.translate(_CV)]
    f0.extend("gw=" + t for t in gw)
    if len(keys) > 1 and keys[1] != norm:
        f0.append("k2=" + keys[1])
    fm1 = ["w-1=" + norm, "b-1=" + base, "sh-1=" + shape, "z2-1=" + base[-2:]]
    fm1.extend("gw-1=" + t for t in gw)
    fp1 = ["w+1=" + norm, "b+1=" + base, "sh+1=" + shape, "z2+1=" + base[-2:]]
    fp1.extend("gw+1=" + t for t in gw)
    record = Lex(norm, base, keys, tuple(f0), tuple(fm1), tuple(fp1), ("b-2=" + base,), ("b+2=" + base,))
    _LEX[token] = record
    return record


# --- gazetteers and title cues --------------------------------------------------------------------

class Gazetteer:
    """Multi-word entries matched on token keys; longest match first, per type."""

    def __init__(self) -> None:
        self.first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        self.words: dict[str, tuple[str, ...]] = {}
        self.entries: dict[tuple[str, ...], str] = {}

    def add(self, phrase: str, typ: str) -> None:
        keys = tuple(k[0] for k in (token_keys(soft_normalize(t.text)) for t in tokenize(phrase)) if k)
        if not keys or keys in self.entries:
            return
        self.entries[keys] = typ
        self.first.setdefault(keys[0], []).append((keys, typ))
        for key in keys:
            types = self.words.get(key, ())
            if typ not in types:
                self.words[key] = types + (typ,)

    def finish(self) -> None:
        for options in self.first.values():
            options.sort(key=lambda o: -len(o[0]))

    def matches(self, token_keys_list: list[tuple[str, ...]]) -> list[tuple[int, int, str]]:
        """(start, end, type) of every entry found, longest first at each start; overlaps allowed
        across types, not within one."""
        found = []
        n = len(token_keys_list)
        busy: dict[str, int] = {}
        for i in range(n):
            keys = token_keys_list[i]
            if not keys:
                continue
            for key in keys:
                options = self.first.get(key)
                if not options:
                    continue
                for entry, typ in options:
                    length = len(entry)
                    if i + length > n or busy.get(typ, 0) > i:
                        continue
                    if all(entry[j] in token_keys_list[i + j] for j in range(1, length)):
                        found.append((i, i + length, typ))
                        busy[typ] = i + length
        return found


@dataclass
class Resources:
    gazetteer: Gazetteer
    cues: Gazetteer
    words: dict[str, tuple[str, ...]]
    misc_only: Gazetteer  # equipment and operations, matched on their own (source="gazetteer")
    full_words: frozenset[str]  # every word of every gazetteer entry, normalized (not clitic-split)
    cue_words: frozenset[str]  # the same for the title cues


def _resource_lines(name: str, sections: bool = False) -> list:
    """The entries of a resource list (one a line, `#` comments); with `sections`, (entry, header)
    pairs where header is the last "# --- ..." line above the entry."""
    text = resources.files("tabayyun").joinpath(f"resources/{name}").read_text(encoding="utf-8")
    lines = []
    header = ""
    for line in text.splitlines():
        if line.startswith("# ---"):
            header = line
        line = line.split("#", 1)[0].strip()
        if line:
            lines.append((line, header) if sections else line)
    return lines


# An organisation entry that is a description ("الحكومة العراقية", "الجيش الإسرائيلي": a generic head
# and an adjective of nationality) is its own gazetteer type, ORGd: news annotation often leaves such
# phrases untagged, and the tagger should not trust them as much as a name (الأمم المتحدة).
_DESCRIPTIVE_HEADS = ("حكومة", "الحكومة", "وزارة", "الوزارة", "جيش", "الجيش", "قوات", "القوات", "برلمان",
                      "البرلمان", "مجلس", "رئاسة", "الخارجية", "الداخلية", "الدفاع", "الشرطة", "البحرية",
                      "سلاح", "المخابرات", "الحرس")


_NAMED_ADJECTIVES = {"الدولي", "الدوليه", "الاوروبي", "الاوروبيه", "الخليجي", "العربيه", "الاسلامي", "الديمقراطيه",
                     "الوطني", "الشعبي", "الاتحاديه", "الفيدرالي", "المركزيه", "الثوري", "الحر"}


@lru_cache(maxsize=1)
def _descriptive_heads() -> frozenset[str]:
    return frozenset(token_keys(soft_normalize(h))[0] for h in _DESCRIPTIVE_HEADS)


def _is_descriptive(phrase: str) -> bool:
    words = [soft_normalize(t.text) for t in tokenize(phrase) if t.is_word]
    heads = _descriptive_heads()
    last = words[-1] if words else ""
    return (len(words) >= 2 and token_keys(words[0])[0] in heads and last not in _NAMED_ADJECTIVES
            and (last.endswith("ي") or last.endswith("يه")))


@lru_cache(maxsize=1)
def gazetteers() -> Resources:
    gaz, misc = Gazetteer(), Gazetteer()
    for typ in TYPES:
        for line, section in _resource_lines(f"gazetteer_{typ.lower()}.txt", sections=True):
            gaz.add(line, "ORGd" if typ == "ORG" and _is_descriptive(line) else typ)
            if typ == "MISC" and "tagger only" not in section:
                misc.add(line, typ)
    cues = Gazetteer()
    cue_lines = _resource_lines("title_cues.txt")
    for line in cue_lines:
        cues.add(line, "CUE")
    for g in (gaz, cues, misc):
        g.finish()
    full_words = frozenset(normalize_for_match(t.text) for typ in TYPES
                           for line in _resource_lines(f"gazetteer_{typ.lower()}.txt") for t in tokenize(line))
    cue_words = frozenset(normalize_for_match(t.text) for line in cue_lines for t in tokenize(line))
    return Resources(gaz, cues, gaz.words, misc, full_words, cue_words)


# --- sentence features ----------------------------------------------------------------------------

@dataclass
class SentenceContext:
    """What the tagger reads of one sentence: lexical records (padded: index i+2 is token i), the
    position features of each token, the title cues found, and the facts about each token that
    other sentences of the document may use (`flags`)."""

    lexes: list[Lex]
    pos: list[list[str]]
    cues: list[tuple[int, int, str]]
    flags: list[tuple[str, ...]]


# Function words that never carry document features.
_FUNCTION_WORDS = {
    "في", "من", "الي", "علي", "على", "عن", "مع", "ان", "او", "ثم", "قد", "لا", "لم", "لن", "ما", "هذا", "هذه", "ذلك",
    "تلك", "التي", "الذي", "الذين", "كان", "كانت", "بعد", "قبل", "بين", "حتي", "حتى", "عند", "منذ", "خلال", "ضد",
    "انه", "انها", "وقال", "قال", "وان", "فان", "كما", "لكن", "هو", "هي", "هم", "امس", "اليوم", "يوم", "عام",
}


def sentence_context(tokens: list[str]) -> SentenceContext:
    """The tagger's view of one sentence (see SentenceContext)."""
    lexes = [lex(_BOS), lex(_BOS)] + [lex(t) for t in tokens] + [lex(_EOS), lex(_EOS)]
    n = len(tokens)
    keys = [x.keys for x in lexes[2:-2]]
    res = gazetteers()
    pos: list[list[str]] = [[] for _ in range(n)]
    flags: list[list[str]] = [[] for _ in range(n)]
    given = set()
    for start, end, typ in res.gazetteer.matches(keys):
        for j in range(start, end):
            flags[j].append("g" + typ)
        if end - start == 1:
            pos[start].append("g1=" + typ)
            if typ == "PER":
                given.add(start)
            if start > 0:
                pos[start - 1].append("g1+1=" + typ)
            if start + 1 < n:
                pos[start + 1].append("g1-1=" + typ)
        else:
            pos[start].append("gB=" + typ)
            for j in range(start + 1, end):
                pos[j].append("gI=" + typ)
            if start > 0:
                pos[start - 1].append("gB+1=" + typ)
            if end < n:
                pos[end].append("gE-1=" + typ)
    for i in given:
        if i + 1 < n and i + 1 not in given:
            flags[i + 1].append("N")
    cues = res.cues.matches(keys)
    for start, end, _ in cues:
        for j in range(start, end):
            pos[j].append("cue0")
        for d in (1, 2, 3):
            if end - 1 + d < n:
                pos[end - 1 + d].append(f"cue{d}")
                if d < 3:
                    flags[end - 1 + d].append(f"C{d}")
    return SentenceContext(lexes, pos, cues, [tuple(f) for f in flags])


def _doc_key(record: Lex) -> str | None:
    base = record.base
    if len(base) < 3 or record.norm in _FUNCTION_WORDS or not base[0].isalpha():
        return None
    return base


def add_document_features(contexts: list[SentenceContext], window: int | None = None) -> None:
    """Add to each token the facts seen about the same word elsewhere in the document (the other
    sentences, or those within `window` sentences): "d=gPER" (it is part of a person-gazetteer
    match elsewhere), "d=N" (it follows a given name elsewhere), "d=C1" (a title cue stands right
    before it elsewhere) ... A name written in full once ("فرناندو ألونسو") helps its bare mentions."""
    per_sentence = []
    for ctx in contexts:
        items = []
        for i, flags in enumerate(ctx.flags):
            if flags:
                key = _doc_key(ctx.lexes[i + 2])
                if key:
                    items.extend((key, f) for f in set(flags))
        per_sentence.append(items)
    counts: dict[tuple[str, str], int] = {}

    def add(items, delta):
        for item in items:
            counts[item] = counts.get(item, 0) + delta

    if window is None:
        for items in per_sentence:
            add(items, 1)
    lo = hi = 0
    kinds = ("gPER", "gLOC", "gORG", "gORGd", "gMISC", "N", "C1", "C2")
    for number, ctx in enumerate(contexts):
        if window is not None:
            while hi < len(contexts) and hi <= number + window:
                add(per_sentence[hi], 1)
                hi += 1
            while lo < number - window:
                add(per_sentence[lo], -1)
                lo += 1
        if not counts:
            continue
        for i, flags in enumerate(ctx.flags):
            key = _doc_key(ctx.lexes[i + 2])
            if not key:
                continue
            for kind in kinds:
                c = counts.get((key, kind))
                if c and c - (kind in flags) > 0:
                    ctx.pos[i].append("d=" + kind)


# --- the tagger -----------------------------------------------------------------------------------

def _allowed() -> list[tuple[int, ...]]:
    """For each previous tag, the tags allowed next: I-X only after B-X or I-X."""
    table = []
    for prev in TAGS:
        ok = []
        for i, tag in enumerate(TAGS):
            if tag.startswith("I-") and prev[2:] != tag[2:]:
                continue
            ok.append(i)
        table.append(tuple(ok))
    return table


ALLOWED = _allowed()


PREV_OK = [tuple(p for p in range(len(TAGS)) if c in ALLOWED[p]) for c in range(len(TAGS))]
_NEG = float("-inf")
# Tags whose emission score is this far below a token's best are not considered there (see viterbi).
BEAM_MARGIN = 45.0


def viterbi(emissions: list[list[float]], trans: list[list[float]],
            extra: list[dict[int, list[float]] | None], margin: float | None = None) -> list[int]:
    """Best tag sequence under emission scores, a tag-bigram matrix `trans[prev][cur]`, and per
    position extra transition rows `extra[i][prev][cur]`; the tag before the sentence is O; I-X
    only after B-X or I-X. With `margin`, only the tags whose emission is within `margin` of the
    position's best are considered there (a beam: far faster, nearly always the same path)."""
    n = len(TAGS)
    everything = range(n)
    prev_tags = (0,)
    prev_scores = [0.0]
    backs = []
    for i, e in enumerate(emissions):
        if margin is None:
            cands = everything
        else:
            floor = max(e) - margin
            cands = [c for c in everything if e[c] >= floor]
        x = extra[i]
        tags, scores, back = [], [], []
        for c in cands:
            best, arg = _NEG, -1
            allowed = PREV_OK[c]
            for k, p in enumerate(prev_tags):
                if p not in allowed:
                    continue
                s = prev_scores[k] + trans[p][c]
                if x:
                    row = x.get(p)
                    if row is not None:
                        s += row[c]
                if s > best:
                    best, arg = s, k
            if arg >= 0:
                tags.append(c)
                scores.append(best + e[c])
                back.append(arg)
        if not tags:  # only I- tags were near the top, none of them possible here: open a span
            return viterbi(emissions, trans, extra, None)
        backs.append((tags, back))
        prev_tags, prev_scores = tags, scores
    k = prev_scores.index(max(prev_scores))
    path = []
    for tags, back in reversed(backs):
        path.append(tags[k])
        k = back[k]
    path.reverse()
    return path


class NerModel:
    """Averaged-perceptron weights: feature -> one weight per tag (a tuple of len(TAGS) floats)."""

    def __init__(self, weights: dict[str, tuple[float, ...]], meta: dict | None = None) -> None:
        self.weights = weights
        self.meta = meta or {}
        self.n = len(TAGS)
        self._caches: list[dict[str, list[float]]] = [{}, {}, {}, {}, {}]
        self._rows: dict[str, dict[int, tuple[float, ...]] | None] = {}
        zero = (0.0,) * self.n
        self.trans = [weights.get("t1=" + TAGS[p], zero) for p in range(self.n)]
        self._zero = zero
        self.margin: float | None = BEAM_MARGIN
        # Subtracted from the O score of every token: trades precision for recall (tuned on a
        # development part of the training data; see train_ner).
        self.o_penalty = float(self.meta.get("o_penalty", 0.0))

    def clear_caches(self) -> None:
        for cache in self._caches:
            cache.clear()
        self._rows.clear()

    def _sum(self, feats) -> list[float]:
        get = self.weights.get
        vec = self._zero
        add = operator.add
        for f in feats:
            w = get(f)
            if w is not None:
                vec = tuple(map(add, vec, w))
        return vec

    def _vec(self, slot: int, record: Lex):
        cache = self._caches[slot]
        vec = cache.get(record.norm)
        if vec is None:
            if len(cache) > 200_000:
                cache.clear()
            feats = (record.f0, record.fm1, record.fp1, record.fm2, record.fp2)[slot]
            vec = cache[record.norm] = self._sum(feats)
        return vec

    def _transition_rows(self, base: str):
        rows = self._rows.get(base, 0)
        if rows == 0:
            if len(self._rows) > 200_000:
                self._rows.clear()
            get = self.weights.get
            rows = {}
            for p, tag in enumerate(TAGS):
                w = get("t1b=" + tag + "|" + base)
                if w is not None:
                    rows[p] = w
            rows = self._rows[base] = rows or None
        return rows

    def tag(self, tokens: list[str]) -> list[str]:
        """Tags of one sentence on its own."""
        if not tokens:
            return []
        ctx = sentence_context(tokens)
        return [TAGS[i] for i in self.tag_indices(ctx.lexes, ctx.pos)]

    def tag_document(self, sentences: list[list[str]], window: int | None = None) -> list[list[str]]:
        """Tags of a document's sentences, with the document features (see add_document_features)."""
        contexts = [sentence_context(tokens) for tokens in sentences]
        add_document_features(contexts, window)
        return [[TAGS[i] for i in self.tag_indices(c.lexes, c.pos)] if c.pos else [] for c in contexts]

    def tag_indices(self, lexes: list[Lex], pos: list[list[str]]) -> list[int]:
        get = self.weights.get
        vec = self._vec
        rows = self._transition_rows
        add = operator.add
        emissions = []
        extra = []
        bias = get("bias", self._zero)
        penalty = self.o_penalty
        for i in range(len(pos)):
            j = i + 2
            here = lexes[j]
            scores = list(map(add, map(add, map(add, vec(0, here), vec(1, lexes[j - 1])),
                                       map(add, vec(2, lexes[j + 1]), vec(3, lexes[j - 2]))),
                              map(add, vec(4, lexes[j + 2]), bias)))
            for f in pos[i]:
                w = get(f)
                if w is not None:
                    scores = list(map(add, scores, w))
            scores[0] -= penalty
            emissions.append(scores)
            extra.append(rows(here.base))
        return viterbi(emissions, self.trans, extra, self.margin)


def token_features(lexes: list[Lex], pos: list[list[str]], i: int) -> list[str]:
    """Every tag-independent feature of token i (training uses this; inference the cached sums)."""
    j = i + 2
    return ["bias", *lexes[j].f0, *lexes[j - 1].fm1, *lexes[j + 1].fp1, *lexes[j - 2].fm2, *lexes[j + 2].fp2,
            *pos[i]]


def transition_features(prev: int, record: Lex) -> tuple[str, str]:
    """The features of the tag transition into a token, scored at the token's tag."""
    return "t1=" + TAGS[prev], "t1b=" + TAGS[prev] + "|" + record.base


def save_model(weights: dict[str, dict[int, float]], path: str | Path, meta: dict, scale: int = 1000) -> int:
    """Write weights (feature -> {tag index: weight}) as gzipped JSON with integer weights; returns bytes."""
    packed = {}
    for feat, row in weights.items():
        flat = []
        for k, w in sorted(row.items()):
            q = round(w * scale)
            if q:
                flat.extend((k, q))
        if flat:
            packed[feat] = flat
    data = {"format": "tabayyun-ner-perceptron", "version": 1, "tags": list(TAGS), "scale": scale,
            "meta": meta, "weights": packed}
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb", compresslevel=9) as fh:
        fh.write(raw)
    return path.stat().st_size


def _read_model(stream) -> NerModel:
    data = json.loads(gzip.decompress(stream).decode("utf-8"))
    if data.get("tags") != list(TAGS):
        raise ValueError("NER model tags do not match this version of tabayyun")
    return NerModel(dense_weights(data["weights"], float(data.get("scale", 1))), data.get("meta", {}))


def dense_weights(sparse: dict, scale: float = 1.0) -> dict[str, tuple[float, ...]]:
    """feature -> flat [tag, weight, tag, weight...] (or {tag: weight}) to feature -> weight per tag."""
    n = len(TAGS)
    out = {}
    for feat, flat in sparse.items():
        row = [0.0] * n
        items = flat.items() if isinstance(flat, dict) else zip(flat[0::2], flat[1::2])
        for k, w in items:
            row[int(k)] = w / scale
        out[feat] = tuple(row)
    return out


@lru_cache(maxsize=4)
def load_model(path: str | Path | None = None) -> NerModel:
    """The NER model at `path`, or the one shipped in the package; cached."""
    if path is None:
        raw = resources.files("tabayyun").joinpath(MODEL_RESOURCE).read_bytes()
    else:
        raw = Path(path).read_bytes()
    return _read_model(raw)


def tag_tokens(tokens: list[str], model: NerModel | None = None) -> list[str]:
    """BIO tags (B-PER, I-LOC, ..., O) of one sentence's tokens."""
    return (model or load_model()).tag(list(tokens))


def bio_spans(tags: list[str]) -> list[tuple[int, int, str]]:
    """(start, end, type) token spans of BIO tags, conlleval style: an I-X that does not continue an
    X span starts a new one."""
    spans = []
    start, typ = None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, kind = tag.partition("-")
        if kind == "PERS":
            kind = "PER"
        continues = prefix == "I" and kind == typ
        if start is not None and not continues:
            spans.append((start, i, typ))
            start, typ = None, None
        if prefix in ("B", "I") and not continues:
            start, typ = i, kind
    return spans


# --- entities in an article -----------------------------------------------------------------------

# Words that end a title before a name only if nothing else does: verbs and clause words.
_STOP_ROLE = {"ان", "انه", "انها", "بان", "قال", "وقال", "اكد", "واكد", "اعلن", "واعلن", "ذكر", "وذكر", "اضاف",
              "واضاف", "اشار", "واشار", "الذي", "التي", "و", "او", "ثم", "لكن", "بينما", "فيما", "حيث", "مع",
              "بعد", "قبل", "عن", "علي", "على", "الي", "الى", "من", "كان", "كانت", "وكان", "وكانت", "يقول", "ويقول"}
_ROLE_WINDOW = 8
# Name suffixes ignored when linking mentions: سيلي is وليام سيلي الثالث.
_GENERATIONAL = {"الثالث", "الثاني", "الرابع", "الاول", "الابن", "الاب", "جونيور", "الصغير", "الكبير", "الاكبر"}
_ARTICLE_CLUSTERS = ("وبال", "فبال", "وكال", "ولل", "فلل", "وال", "فال", "بال", "كال", "لل")


@dataclass
class _Mention:
    paragraph: int
    start: int
    end: int
    type: str
    source: str
    raw: list[str]  # the word tokens of the span, as written
    words: list[str] = None  # the same, first one without its clitics (display)
    keys: list[str] = None  # normalized words
    role: str | None = None
    canonical: str = ""


def find_entities(paragraphs: list[str], model: NerModel | None = None) -> list[Entity]:
    """Entities in an article's paragraphs, with offsets, one canonical name per entity, and roles.

    Each paragraph is split into sentences and tokenized; the tagger reads the whole article (a name
    written in full once helps its bare mentions); equipment and operations from the MISC gazetteer
    (CH-47, عملية العزم الصلب) are added with source="gazetteer" where the tagger found nothing.
    `text`, `start` and `end` are the span as written (clitics included: "وواشنطن"); `canonical`
    drops the clitics."""
    model = model or load_model()
    res = gazetteers()
    units = []
    for number, paragraph in enumerate(paragraphs):
        for sentence in split_sentences(paragraph):
            toks = tokenize(sentence.text)
            if toks:
                kept = _without_initial_dots(toks)
                units.append((number, sentence.start, toks, kept,
                              sentence_context([toks[k].text for k in kept])))
    add_document_features([u[4] for u in units])
    mentions: list[_Mention] = []
    for number, offset, all_toks, kept, ctx in units:
        toks = [all_toks[k] for k in kept]
        tags = model.tag_indices(ctx.lexes, ctx.pos)
        spans = [s for s in bio_spans([TAGS[k] for k in tags]) if _plausible(toks, s)]
        keys = [x.keys for x in ctx.lexes[2:-2]]
        for start, end, _ in res.misc_only.matches(keys):
            if any(s <= start and end <= e and e - s > end - start for s, e, _ in spans):
                continue  # inside a longer name the tagger found
            spans = [s for s in spans if s[1] <= start or s[0] >= end]
            spans.append((start, end, "GAZ"))
        spans.extend(_equipment(toks, spans))
        spans.sort()
        cue_ends = {end: start for start, end, _ in ctx.cues}
        for start, end, typ in spans:
            source = "model"
            if typ == "GAZ":
                typ, source = "MISC", "gazetteer"
            first, last = toks[start], toks[end - 1]
            raw = [t.text for t in all_toks[kept[start]:kept[end - 1] + 1] if t.is_word]
            mention = _Mention(number, offset + first.start, offset + last.end, typ, source, raw)
            if typ == "PER":
                mention.role = _role(offset, toks, ctx.lexes, start, cue_ends, spans, paragraphs[number])
            mentions.append(mention)
    _clean_words(mentions)
    _link(mentions)
    return [Entity(text=paragraphs[m.paragraph][m.start:m.end], type=m.type, canonical=m.canonical,
                   paragraph=m.paragraph, start=m.start, end=m.end, role=m.role, source=m.source)
            for m in mentions]


def _without_initial_dots(toks) -> list[int]:
    """Indices of the tokens to tag: the dot after an initial inside a name ("وليام إتش. سيلي") is
    left out, so the tagger sees one name, not a sentence end."""
    kept = []
    for k, tok in enumerate(toks):
        if (tok.text == "." and 0 < k < len(toks) - 1 and toks[k - 1].end == tok.start
                and toks[k + 1].is_word and _is_initial(normalize_for_match(toks[k - 1].text))):
            continue
        kept.append(k)
    return kept


def _is_initial(key: str) -> bool:
    key = key.strip(".")
    return key in _INITIAL_TOKENS or (len(key) == 1 and key.isalpha())


_EQUIPMENT = re.compile(r"^(?:[A-Z]{1,3}-?\d{1,3}[A-Z]?|S-\d{3})$")


def _equipment(toks, spans) -> list[tuple[int, int, str]]:
    """Latin model designations (CH-47, AH-64, F-16, MQ-9) not already inside a span."""
    taken = set()
    for s, e, _ in spans:
        taken.update(range(s, e))
    out = []
    for i, tok in enumerate(toks):
        text = tok.text
        if text[:1] in _BARE_CLITICS and _EQUIPMENT.match(text[1:]):
            text = text[1:]
        if i not in taken and "-" in text and _EQUIPMENT.match(text):
            out.append((i, i + 1, "GAZ"))
    return out


def _plausible(toks, span) -> bool:
    start, end, _ = span
    return any(t.text[0].isalnum() for t in toks[start:end])


def _cut(word: str, count: int) -> str:
    """`word` without the characters that make its first `count` normalized characters."""
    seen = 0
    for index, ch in enumerate(word):
        if seen == count:
            return word[index:].lstrip("ـ")
        if normalize_for_match(ch):
            seen += 1
    return ""


def _strip_clitics(word: str, known: set[str]) -> tuple[str, str]:
    """(display, key) of a mention's first word without its proclitics: والعراق -> العراق,
    للولايات -> الولايات; a bare و/ب/ل/ف/ك only when the rest is a word the gazetteers or the
    article's other mentions know (وواشنطن -> واشنطن, لإسبر -> إسبر, but وليام stays)."""
    key = normalize_for_match(word)
    if not _ARABIC.match(key):
        return word, key
    for cluster in _ARTICLE_CLUSTERS:
        if key.startswith(cluster) and len(key) - len(cluster) >= 2:
            rest = _cut(word, len(cluster))
            return "ال" + rest, "ال" + normalize_for_match(rest)  # للولايات -> الولايات too
    for n in (1, 2):
        if len(key) - n >= 3 and all(c in _BARE_CLITICS for c in key[:n]) and key[n:] in known:
            rest = _cut(word, n)
            return rest, normalize_for_match(rest)
    return word, key


def _clean_words(mentions: list[_Mention]) -> None:
    known = set(gazetteers().full_words)
    for m in mentions:
        known.update(normalize_for_match(w) for w in m.raw[1:])
        if m.raw and m.raw[0][:1] not in _BARE_CLITICS:
            known.add(normalize_for_match(m.raw[0]))
    for m in mentions:
        m.words, m.keys = [], []
        for k, word in enumerate(m.raw):
            display, key = _strip_clitics(word, known) if k == 0 else (word, normalize_for_match(word))
            m.words.append(display)
            m.keys.append(key)


def _role(offset, toks, lexes, start, cue_ends, spans, paragraph) -> str | None:
    """The title before a person: from the farthest cue within the window up to the name, across
    organisations and places ("المتحدث باسم التحالف الدولي") but not across a verb, a clause word,
    punctuation (a hyphen excepted) or another person."""
    other_person = {j for s, e, t in spans if t == "PER" and e <= start for j in range(s, e)}
    best = None
    j = start - 1
    while j >= 0 and start - j <= _ROLE_WINDOW:
        tok = toks[j]
        if not tok.is_word and tok.text not in "-–":
            break
        if j in other_person or lexes[j + 2].norm in _STOP_ROLE:
            break
        if (j + 1) in cue_ends:
            best = cue_ends[j + 1]
        j -= 1
    if best is None:
        return None
    first = toks[best]
    display, _ = _strip_clitics(first.text, gazetteers().cue_words)
    begin = offset + first.end - len(display)
    end = offset + toks[start - 1].end
    return paragraph[begin:end].strip(" -–") or None


def _person_key(m: _Mention) -> tuple[str, ...]:
    """Normalized words of a person mention, without initials and doubled words."""
    out = []
    for key in m.keys:
        if _is_initial(key):
            continue
        key = key.strip(".")
        if out and out[-1] == key:  # "مايلز مايلز كاجينز": a doubled word is a typo
            continue
        out.append(key)
    return tuple(out)


def _person_display(m: _Mention) -> str:
    out, last = [], None
    for word, key in zip(m.words, m.keys):
        if _is_initial(key):
            continue
        key = key.strip(".")
        if key == last:
            continue
        out.append(word.rstrip("."))
        last = key
    return " ".join(out)


def _match_key(key: tuple[str, ...]) -> tuple[str, ...]:
    while len(key) > 1 and key[-1] in _GENERATIONAL:
        key = key[:-1]
    return key


def _link(mentions: list[_Mention]) -> None:
    """One canonical per entity. A person's is the longest full name in the article that has the
    mention as its last word(s) or its first word (initials and suffixes like الثالث aside); any
    other entity's is its normalized form, or that of a longer mention that only adds adjectives
    ("الولايات المتحده" -> "الولايات المتحده الامريكيه")."""
    people = [m for m in mentions if m.type == "PER"]
    display: dict[tuple[str, ...], str] = {}
    for m in people:
        key = _person_key(m)
        if key and key not in display:
            display[key] = _person_display(m)
    by_match: dict[tuple[str, ...], tuple[str, ...]] = {}
    for key in display:  # one representative full key per match key: the longest
        mk = _match_key(key)
        if mk not in by_match or len(key) > len(by_match[mk]):
            by_match[mk] = key
    owner: dict[tuple[str, ...], tuple[str, ...]] = {}
    for key in display:
        mk = _match_key(key)
        best = mk
        for other in by_match:
            if len(other) <= len(best) or len(other) < 2:
                continue
            n = len(mk)
            if other[-n:] == mk or other[:n] == mk:
                best = other
        owner[key] = by_match[best] if best in by_match else key
    roles: dict[tuple[str, ...], str] = {}
    for m in people:
        key = _person_key(m)
        target = owner.get(key, key)
        m.canonical = display.get(target) or " ".join(m.words)
        if m.role and target not in roles:
            roles[target] = m.role
    for m in people:
        key = _person_key(m)
        target = owner.get(key, key)
        if not m.role and target in roles:
            m.role = roles[target]
    others: dict[str, list[tuple[str, ...]]] = {}
    for m in mentions:
        if m.type != "PER":
            others.setdefault(m.type, []).append(tuple(m.keys))
    for m in mentions:
        if m.type == "PER":
            continue
        key = tuple(m.keys)
        best = key
        for other in others[m.type]:
            if len(other) > len(best) and other[:len(key)] == key and all(_adjective(w) for w in other[len(key):]):
                best = other
        m.canonical = " ".join(best)


def _adjective(word: str) -> bool:
    """A nisba adjective (الامريكيه, العراقي): what may follow a name without changing the entity."""
    return word.startswith("ال") and (word.endswith("ي") or word.endswith("يه")) and len(word) > 4
