"""Features of the named-entity tagger: lexical records per word type, gazetteers and title cues
(the project's own lists in `resources/`), sentence and document features. See `ner.py`."""


import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from tabayyun.arabic import light_stem, normalize_for_match, split_clitics, tokenize, words
from tabayyun.understand.wordclusters import shipped_clusters

TYPES = ("PER", "LOC", "ORG", "MISC")
TAGS = ("O",) + tuple(f"{p}-{t}" for t in TYPES for p in ("B", "I"))
TAG_INDEX = {t: i for i, t in enumerate(TAGS)}
MODEL_RESOURCE = "models/ner/model.json.gz"
_BOS, _EOS = "<s>", "</s>"
BARE_CLITICS = "وفبلك"
ARABIC_LETTER = re.compile("[\u0600-\u06ff]")
_LATIN = re.compile("[a-zA-Z]")
_DIGIT = re.compile("[0-9\u0660-\u0669]")
INITIAL_TOKENS = {"اتش", "جي", "دي", "بي", "سي", "اف", "ال", "ام", "ان", "كيه", "تي", "في", "اس", "ار", "واي",
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
    # The token itself: what the tagger caches the summed weights by. Not `norm`, which one word type
    # can share with another of other features (على, "on", and علي, the name Ali).
    token: str = ""


def _shape(norm: str) -> str:
    ar, la, di = bool(ARABIC_LETTER.search(norm)), bool(_LATIN.search(norm)), bool(_DIGIT.search(norm))
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
    base = split_clitics(norm)[1] if ARABIC_LETTER.match(norm) else norm
    keys = [base]
    if norm[0] in BARE_CLITICS and len(norm) >= 4:
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


def clear_lexical_cache() -> None:
    """Forget every cached word record (to measure speed on unseen text)."""
    _LEX.clear()


def _word_parts(token: str) -> tuple[str, str, str, str]:
    """(soft-normalized, normalized, proclitics, base) of a token."""
    soft = soft_normalize(token) or token
    norm = soft.replace("ى", "ي")
    proc, base = split_clitics(norm) if ARABIC_LETTER.match(norm) else ("", norm)
    return soft, norm, proc, base


def word_base(token: str) -> str:
    """The key the tagger knows a word by (normalized, clitics split off): the key of its word
    clusters."""
    return _word_parts(token)[3]


@lru_cache(maxsize=4096)
def _cluster_features(clusters: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """The features of a word's clusters at the tagged position, at -1, +1, -2 and +2: every
    granularity up to one word away, the middle one two words away."""
    return (tuple(f"c{k}={c}" for k, c in enumerate(clusters)),
            tuple(f"c{k}-1={c}" for k, c in enumerate(clusters[:3])),
            tuple(f"c{k}+1={c}" for k, c in enumerate(clusters[:3])),
            ("c1-2=" + clusters[1],), ("c1+2=" + clusters[1],))


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
        soft, norm, proc, base = _word_parts(token)
        stem = (light_stem(token) or base) if ARABIC_LETTER.match(norm) else norm
        keys = token_keys(soft)
    shape = _shape(norm)
    gazetteer_words = gazetteers().words
    gw: list[str] = []
    for key in keys:
        for typ in gazetteer_words.get(key, ()):
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
    fm2, fp2 = ["b-2=" + base], ["b+2=" + base]
    clusters = shipped_clusters().lookup(base)
    if len(clusters) >= 3:
        c0, cm1, cp1, cm2, cp2 = _cluster_features(clusters)
        f0.extend(c0)
        fm1.extend(cm1)
        fp1.extend(cp1)
        fm2.extend(cm2)
        fp2.extend(cp2)
    record = Lex(norm, base, keys, tuple(f0), tuple(fm1), tuple(fp1), tuple(fm2), tuple(fp2), token)
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
    keys = [soft_normalize(word) for word in words(phrase)]
    heads = _descriptive_heads()
    last = keys[-1] if keys else ""
    return (len(keys) >= 2 and token_keys(keys[0])[0] in heads and last not in _NAMED_ADJECTIVES
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
