"""Entity mentions in an article: spans from tags, clitics at their edges, roles from title cues,
and the linking that gives all mentions of one entity one canonical name. See `ner.py`."""


import re
from dataclasses import dataclass

from tabayyun.arabic import normalize_for_match
from tabayyun.understand.ner_features import ARABIC_LETTER, BARE_CLITICS, INITIAL_TOKENS, gazetteers

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
class Mention:
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


def without_initial_dots(toks) -> list[int]:
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
    return key in INITIAL_TOKENS or (len(key) == 1 and key.isalpha())


_EQUIPMENT = re.compile(r"^(?:[A-Z]{1,3}-?\d{1,3}[A-Z]?|S-\d{3})$")


def equipment(toks, spans) -> list[tuple[int, int, str]]:
    """Latin model designations (CH-47, AH-64, F-16, MQ-9) not already inside a span."""
    taken = set()
    for s, e, _ in spans:
        taken.update(range(s, e))
    out = []
    for i, tok in enumerate(toks):
        text = tok.text
        if text[:1] in BARE_CLITICS and _EQUIPMENT.match(text[1:]):
            text = text[1:]
        if i not in taken and "-" in text and _EQUIPMENT.match(text):
            out.append((i, i + 1, "GAZ"))
    return out


def plausible(toks, span) -> bool:
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
    if not ARABIC_LETTER.match(key):
        return word, key
    for cluster in _ARTICLE_CLUSTERS:
        if key.startswith(cluster) and len(key) - len(cluster) >= 2:
            rest = _cut(word, len(cluster))
            return "ال" + rest, "ال" + normalize_for_match(rest)  # للولايات -> الولايات too
    for n in (1, 2):
        if len(key) - n >= 3 and all(c in BARE_CLITICS for c in key[:n]) and key[n:] in known:
            rest = _cut(word, n)
            return rest, normalize_for_match(rest)
    return word, key


def clean_words(mentions: list[Mention]) -> None:
    known = set(gazetteers().full_words)
    for m in mentions:
        known.update(normalize_for_match(w) for w in m.raw[1:])
        if m.raw and m.raw[0][:1] not in BARE_CLITICS:
            known.add(normalize_for_match(m.raw[0]))
    for m in mentions:
        m.words, m.keys = [], []
        for k, word in enumerate(m.raw):
            display, key = _strip_clitics(word, known) if k == 0 else (word, normalize_for_match(word))
            m.words.append(display)
            m.keys.append(key)


def role_of(offset, toks, lexes, start, cue_ends, spans, paragraph) -> str | None:
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


def _person_key(m: Mention) -> tuple[str, ...]:
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


def _person_display(m: Mention) -> str:
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


def link(mentions: list[Mention]) -> None:
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
