"""Quotes and their speakers: direct («...», "...", "قال: ...") and indirect (قال إن، أكد أن، نفى ...).

For each reporting verb (`resources/cues.tsv`) in a paragraph:
1. the content marker after it: an opening quote, a colon, or إن/أن/بأن (أشار إلى أن); verbs that take
   an object (نفى وجود خطط، أكد صحة الرسالة) have the rest of the sentence as content;
2. the speaker is what stands between the verb and the marker, less time words, "for the press"
   recipients (لصحفيين، لـ"رويترز") and the like; else the subject before the verb (كان X أكد); else,
   for a verb or participle with no subject (وأضاف، مضيفاً، وقالت), the previous speaker of the same
   gender;
3. the outlets a quote comes through (لوكالة رويترز، نقلا عن، وفقا لـ) are its `via`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from tabayyun.arabic import normalize_for_match, normalize_with_offsets, split_sentences
from tabayyun.model import Entity, Quote
from tabayyun.registry import longest_match, lookup
from tabayyun.understand.times import find_times

_OPEN_CLOSE = {"«": "»", "“": "”", "„": "”", '"': '"', "”": "”", "‘": "’"}
_CONJUNCTION = re.compile(r"(?<!\w)(?:(?:الي|علي|من)\s+)?ب?ان(?:ه|ها|هم|هن|نا|ني)?(?!\w)")
_DOCUMENT_HEADS = {"رساله", "الرساله", "بيان", "البيان", "وثيقه", "الوثيقه", "تقرير", "التقرير", "قرار", "القرار",
                   "اتفاق", "الاتفاق", "نص", "مذكره", "المذكره", "خطاب", "الخطاب", "الصحيفه", "صحيفه"}
_ANONYMOUS_HEADS = {"مصدر", "مصادر", "مسوول", "مسوولون", "مسوولين", "مصدرا", "ضابط", "دبلوماسي", "دبلوماسيون",
                    "شاهد", "شهود", "ناشط", "ناشطون", "نشطاء", "مقربون", "جنرال", "خبير", "خبراء",
                    "احد", "مسوولا", "ممرض", "ممرضه", "طبيب", "طبيبه", "وكيل", "وكيلا", "موظف", "موظفه", "عامل",
                    "سايق", "مواطن", "مواطنون", "مواطنين", "ساكن", "سكان", "تاجر", "تجار", "مختصون", "محللون",
                    "مراقبون", "مسافر", "مسافرون", "مصدرا"}
_ANONYMOUS_MAX_WORDS = 6  # "مصدر أمني عراقي رفيع": an unnamed source is described in a few words
_ORGANIZATION_HEADS = {"وزاره", "الوزاره", "الحكومه", "حكومه", "التحالف", "السفاره", "سفاره", "الشركه", "شركه",
                       "المنظمه", "منظمه", "الجيش", "جيش", "البنتاغون", "الخارجيه", "الداخليه", "مكتب", "المكتب",
                       "هيئه", "الهيئه", "وكاله", "الوكاله", "قياده", "القياده", "مجلس", "المجلس", "البرلمان",
                       "الرئاسه", "اداره", "الاداره", "البيت", "حزب", "الحزب", "حركه", "الحركه", "قوات", "القوات"}
# Words after the verb that are not the speaker: time words, "also", "in a statement", recipients.
_ADJUNCT = re.compile(
    r"(?<!\w)(?:ايضا|كذلك|بدوره|بدورها|من جهته|من جهتها|قايلا|قايله|"
    r"في (?:تصريح|تصريحات|بيان|مؤتمر|حديث|مقابله|لقاء|كلمه|رساله|تغريده|منشور)|خلال|اثناء|عبر|امام|ردا|"
    r"(?:مساء|صباح|فجر|ظهر|عصر|ليله)?\s*(?:اليوم|امس|البارحه|الليله|غدا|يوم)|"
    r"ل(?:ل)?(?:صحفيين|صحافيين|الصحفيين|الصحافيين|صحفي|الصحفي|وسائل|الصحافه|الاعلام|وكاله|صحيفه|قناه|موقع|تلفزيون)|"
    r"ل(?:ـ)?\s*\")"
)
_VIA = re.compile(
    r"(?:لوكاله|لصحيفه|لقناه|لموقع|لتلفزيون|نقلا عن|وفقا لما (?:ذكرته|اوردته|نقلته)|وفقا ل|بحسب ما (?:ذكرت|اوردت)|"
    r"بحسب|حسب ما (?:ذكرت|اوردت)|حسب|ل(?:ـ)?\s*(?=\"))\s*(?:وكاله\s+)?\"?(?P<name>[^\s\"،,.:]+(?:\s+[^\s\"،,.:]+){0,2})"
)
_SUBJECT_OPENERS = re.compile(r"^(?:و?كان(?:ت)?|من جهته|من جهتها|فيما|بينما|في حين|غير ان|الا ان|و)\s+")
_REFUSAL_OBJECT = re.compile(r"(?:\s+\S+){0,5}?\s+(?P<object>(?:عن\s+)?(?:التعليق|الخوض|الادلاء|الرد|الكشف))(?!\w)")
_MAX_SPEAKER_WORDS = 22
_MAX_DOCUMENT_SPEAKER_WORDS = 30  # "وتنص هذه الرسالة التي وقعها ... على:" names its document at length
_DEMONSTRATIVES = {"هذه", "هذا", "تلك", "ذلك", "هولاء"}


@dataclass(frozen=True)
class Cue:
    form: str
    cue_class: str
    gender: str
    continuation: bool


@lru_cache(maxsize=1)
def _cues() -> tuple[dict[str, Cue], re.Pattern]:
    table = {}
    text = resources.files("tabayyun").joinpath("resources/cues.tsv").read_text(encoding="utf-8")
    for row in text.splitlines():
        if row.strip() and not row.startswith("#"):
            form, cue_class, gender, continuation = row.split("\t")
            table[normalize_for_match(form)] = Cue(form, cue_class, gender, continuation == "c")
    alternation = "|".join(sorted(map(re.escape, table), key=len, reverse=True))
    return table, re.compile(rf"(?<!\w)[وف]?(?P<cue>{alternation})(?!\w)")


def find_quotes(paragraphs: list[str], entities: list[Entity] | None = None) -> list[Quote]:
    quotes: list[Quote] = []
    speakers = _SpeakerMemory()
    for number, paragraph in enumerate(paragraphs):
        mentions = [e for e in entities or [] if e.paragraph == number]
        for quote in _paragraph_quotes(number, paragraph, mentions, speakers):
            quotes.append(quote)
    return quotes


class _SpeakerMemory:
    """The last explicit speaker of each gender, for verbs and participles that name none."""

    def __init__(self) -> None:
        self.last: dict[str, tuple[str, str | None, str]] = {}

    def remember(self, gender: str, speaker: str, canonical: str | None, kind: str) -> None:
        self.last[gender] = (speaker, canonical, kind)
        self.last["-"] = (speaker, canonical, kind)

    def recall(self, gender: str) -> tuple[str, str | None, str] | None:
        latest = self.last.get("-")
        if latest and latest[2] == "document":
            return latest  # a letter or statement is continued with either gender (وأضاف، وأضافت)
        return self.last.get(gender) or (latest if gender == "-" else None)


def _paragraph_quotes(number: int, paragraph: str, mentions: list[Entity], speakers: _SpeakerMemory):
    table, pattern = _cues()
    key, offsets = normalize_with_offsets(paragraph)
    sentences = split_sentences(paragraph)
    taken_until = -1
    for match in pattern.finditer(key):
        cue_start = offsets[match.start("cue")]
        cue_end = offsets[match.end("cue") - 1] + 1
        if cue_start < taken_until:
            continue  # a verb inside a quotation already taken
        cue = table[match.group("cue")]
        sentence = next((s for s in sentences if s.start <= cue_start < s.end), None)
        if sentence is None:
            continue
        if cue.cue_class == "refuse":
            refusal = _REFUSAL_OBJECT.match(key, match.end("cue"))
            if refusal is None:
                continue  # رفض القرار: a refusal of something, not of commenting
            cue = Cue(cue.form, "refuse_comment", cue.gender, False)
            found = _refusal_topic(paragraph, offsets[refusal.start("object")], sentence.end)
        elif cue.cue_class == "refuse_comment":
            found = _refusal_topic(paragraph, cue_end, sentence.end)
        else:
            found = _content_after(paragraph, cue, cue_end, sentence.end)
        if found is None:
            continue
        marker_start, content_start, content_end, direct = found
        speaker_span = _speaker_after(paragraph, cue_end, marker_start)
        evidence = "speaker after the verb"
        if speaker_span is None and not cue.continuation:
            speaker_span = _speaker_before(paragraph, sentence.start, cue_start)
            evidence = "subject before the verb"
        speaker = paragraph[speaker_span[0]:speaker_span[1]] if speaker_span else None
        via = _via(paragraph[sentence.start:sentence.end])
        speaker, via = _split_reporter(speaker, via)
        if speaker:
            canonical, kind = _speaker_identity(speaker, speaker_span, mentions, cue)
            speakers.remember(cue.gender, speaker, canonical, kind)
        else:
            remembered = speakers.recall(cue.gender)
            if remembered is None:
                continue
            speaker, canonical, kind = remembered
            speaker_span, evidence = None, "continuation: the previous speaker of the same gender"
        if not direct and paragraph[content_start:content_start + 1] in _OPEN_CLOSE:
            closed = _close_quote(paragraph, content_start)
            if closed and closed < content_end:  # قال إن "...": the quotation itself
                content_start, content_end, direct = content_start + 1, closed, True
        while content_start < content_end and paragraph[content_start].isspace():
            content_start += 1
        while content_end > content_start and paragraph[content_end - 1].isspace():
            content_end -= 1
        content = paragraph[content_start:content_end]
        if len(content.split()) < 2:
            continue
        yield Quote(
            speaker=speaker, speaker_canonical=canonical, speaker_kind=kind, cue=paragraph[cue_start:cue_end],
            cue_class=cue.cue_class, content=content, direct=direct, paragraph=number, start=content_start,
            end=content_end, via=via, cue_start=cue_start,
            speaker_start=speaker_span[0] if speaker_span else None,
            speaker_end=speaker_span[1] if speaker_span else None, evidence=evidence,
        )
        taken_until = content_end


def _refusal_topic(paragraph: str, cue_end: int, sentence_end: int):
    """رفض الخوض في التفاصيل بشأن الرسالة، مشيراً ...: what was not commented on, to the comma."""
    end = sentence_end
    for i in range(cue_end, sentence_end):
        if paragraph[i] in "،,؛;":
            end = i
            break
    return cue_end, cue_end, _strip_end(paragraph, cue_end, end), False


def _content_after(paragraph: str, cue: Cue, cue_end: int, sentence_end: int):
    """(marker start, content start, content end, direct) or None."""
    window = paragraph[cue_end:sentence_end]
    limit = _MAX_DOCUMENT_SPEAKER_WORDS if cue.form in ("تنص", "ينص", "جاء في") else _MAX_SPEAKER_WORDS
    words_seen = 0
    i = 0
    while i < len(window):
        ch = window[i]
        absolute = cue_end + i
        if ch == ":" or (ch == "ع" and normalize_for_match(window[i:i + 4]) == "علي:"):
            if ch != ":":
                i += 3
                absolute = cue_end + i
            rest = window[i + 1:].lstrip()
            offset = len(window) - len(rest)
            if rest[:1] in _OPEN_CLOSE:
                closed = _close_quote(paragraph, cue_end + offset)
                if closed:
                    return absolute, cue_end + offset + 1, closed, True
            end = _unquoted_end(paragraph, cue_end + offset, sentence_end)
            return absolute, cue_end + offset, end, True
        if ch in _OPEN_CLOSE:
            closed = _close_quote(paragraph, absolute)
            if closed and len(paragraph[absolute + 1:closed].split()) > 3:
                return absolute, absolute + 1, closed, True
            if closed:  # a quoted name inside the speaker ("البنتاغون"): step over it
                i = closed - cue_end + 1
                continue
        if ch in "،," and _cue_follows(window[i + 1:]):
            break  # "، مشيراً إلى أن": the next statement starts here, not this one's content
        if ch.isspace():
            words_seen += 1
            if words_seen > limit:
                break
            conjunction = _CONJUNCTION.match(normalize_for_match(window[i + 1:i + 12]) + " ")
            if conjunction is None and cue.form in ("كشف", "كشفت"):
                conjunction = re.match(r"عن(?!\w)", normalize_for_match(window[i + 1:i + 4]))
            if conjunction and (_conjunction_here(window, i + 1) or conjunction.group(0) == "عن"):
                start = absolute + 1
                content_start = _skip_words(paragraph, start, conjunction.group(0))
                return start, content_start, _content_end(paragraph, content_start, sentence_end), False
        i += 1
    if cue.cue_class in ("deny", "confirm", "warn", "refuse_comment"):
        return _object_content(paragraph, cue_end, sentence_end)
    return None


_PRONOUN_SUBJECT = re.compile(r"\s*(?:هو الآخر|هي الأخرى|هو الاخر|هي الاخرى|بدوره|بدورها)\s+")


def _object_content(paragraph: str, cue_end: int, sentence_end: int):
    """نفى الوزير مساء أمس وجود خطط: the speaker, a time phrase, then what is denied or confirmed.

    Returns a marker at the end of the speaker (the time phrase) and the content after it; a verb
    followed by "هو الآخر" has its subject before it (the marker is then the verb's end)."""
    rest = paragraph[cue_end:sentence_end]
    pronoun = _PRONOUN_SUBJECT.match(rest)
    if pronoun:
        start = cue_end + pronoun.end()
        return cue_end, start, _strip_end(paragraph, start, sentence_end), False
    times = [t for t in find_times([rest], None) if len(rest[:t.start].split()) <= 8]
    comma = re.search(r"[،,]", rest)
    if comma and 1 <= len(rest[:comma.start()].split()) <= 8 and (not times or comma.start() < times[0].start):
        speaker_end = cue_end + _appositive_end(rest)
        content_start = _skip_time_phrase(paragraph, speaker_end, sentence_end)
        return speaker_end, content_start, _content_end(paragraph, content_start, sentence_end), False
    if not times:
        return None
    content_start = _skip_time_phrase(paragraph, cue_end + times[0].start, sentence_end)
    return cue_end + times[0].start, content_start, _content_end(paragraph, content_start, sentence_end), False


def _skip_time_phrase(paragraph: str, start: int, end: int) -> int:
    """From a comma or a time phrase after the speaker to where the content starts:
    "نفت الشركة، مساء اليوم الاثنين، الأنباء" -> "الأنباء"."""
    while True:
        while start < end and paragraph[start] in " ،,":
            start += 1
        window = paragraph[start:end]
        skip = len(window) - len(window.removeprefix("في ").removeprefix("يوم "))
        leading = [t for t in find_times([window[skip:]], None) if t.start == 0]
        if not leading:
            return start
        start += skip + leading[0].end


def _cue_follows(text: str) -> bool:
    table, _ = _cues()
    words = normalize_for_match(text[:16]).split()
    word = words[0] if words else ""
    return word in table or (word[:1] in "وف" and word[1:] in table)


def _conjunction_here(window: str, position: int) -> bool:
    word = window[position:].split(maxsplit=1)
    return bool(word) and normalize_for_match(word[0]).lstrip("ب") in ("ان", "انه", "انها", "انهم", "اننا", "انني",
                                                                       "الي", "علي", "من")


def _skip_words(paragraph: str, start: int, matched_key: str) -> int:
    """Move past the conjunction words (أن، إلى أن) in the original text."""
    for _ in matched_key.split():
        while start < len(paragraph) and paragraph[start].isspace():
            start += 1
        while start < len(paragraph) and not paragraph[start].isspace():
            start += 1
    while start < len(paragraph) and paragraph[start].isspace():
        start += 1
    return start


def _content_end(paragraph: str, start: int, sentence_end: int) -> int:
    """Indirect speech runs to the end of the sentence, or to "، مضيفاً ..." where the next one starts."""
    table, pattern = _cues()
    for comma in re.finditer(r"[،,]\s*", paragraph[start:sentence_end]):
        following = normalize_for_match(paragraph[start + comma.end():start + comma.end() + 14]).split()
        word = following[0] if following else ""
        cue = table.get(word) or (table.get(word[1:]) if word[:1] in "وف" else None)
        if cue and (cue.continuation or word[:1] in "وف"):
            return _strip_end(paragraph, start, start + comma.start())
    return _strip_end(paragraph, start, sentence_end)


_ANY_QUOTE = set("«»“”„\"")


def _close_quote(paragraph: str, opening: int) -> int | None:
    """The quotation mark that closes the one at `opening`. Arabic pages mix the glyphs and their
    direction freely (”...“, »...«, "...”), so any double quotation mark closes."""
    for i in range(opening + 1, min(len(paragraph), opening + 1500)):
        if paragraph[i] in _ANY_QUOTE:
            return i
    return None


def _unquoted_end(paragraph: str, start: int, sentence_end: int) -> int:
    """A colon without quotation marks: to the end of the sentence, or to a stray closing quote."""
    for i in range(start, sentence_end):
        if paragraph[i] in "”»":
            return i
    return _strip_end(paragraph, start, sentence_end)


def _strip_end(paragraph: str, start: int, end: int) -> int:
    while end > start and (paragraph[end - 1].isspace() or paragraph[end - 1] in ".،,؛;"):
        end -= 1
    return end


def _speaker_after(paragraph: str, cue_end: int, marker_start: int) -> tuple[int, int] | None:
    region = paragraph[cue_end:marker_start]
    key, offsets = normalize_with_offsets(region)
    cut = _ADJUNCT.search(key)
    end_key = cut.start() if cut else len(key)
    end_key = min(end_key, _appositive_end(key))
    while end_key > 0 and not key[end_key - 1].isalnum() and key[end_key - 1] != '"':
        end_key -= 1
    start_key = 0
    while start_key < end_key and not key[start_key].isalnum() and key[start_key] != '"':
        start_key += 1
    if end_key - start_key < 2:
        return None
    start = cue_end + offsets[start_key]
    end = cue_end + offsets[end_key - 1] + 1
    end = _cut_recipient(paragraph, start, end)
    if end - start < 2:
        return None
    return (start, end) if len(paragraph[start:end].split()) <= _MAX_DOCUMENT_SPEAKER_WORDS else None


def _appositive_end(key: str) -> int:
    """"وزير الصحة، منير الخطابي، إن": a short name between commas belongs to the speaker;
    "المصادر، التي طلبت عدم الكشف عن هويتها، إن": a clause between commas does not.
    Works on normalized or original text alike (the commas and relative pronouns are the same)."""
    commas = [m.start() for m in re.finditer(r"[،,]", key)]
    if not commas or commas[0] == 0:
        return len(key)
    if len(commas) == 1 and 1 <= len(key[commas[0] + 1:].split()) <= 4 and not key.rstrip().endswith(("،", ",")):
        tail = key[commas[0] + 1:].split()
        if tail[0] not in ("التي", "الذي", "الذين", "اللذين", "اللتين", "وهو", "وهي"):
            return len(key.rstrip())  # the region ends at the second comma: the name is its tail
    if len(commas) >= 2:
        inner = key[commas[0] + 1:commas[1]].split()
        if 1 <= len(inner) <= 4 and inner[0] not in ("التي", "الذي", "الذين", "اللذين", "اللتين", "وهو", "وهي"):
            return commas[1]
    return commas[0]


def _cut_recipient(paragraph: str, start: int, end: int) -> int:
    """"مصادر مطلعة لكوردستان 24": the speaker ends before the outlet it spoke to."""
    position = start
    for word in paragraph[start:end].split():
        position = paragraph.index(word, position)
        if word.startswith("ل") and len(word) > 2:
            rest = paragraph[position + 1:end].lstrip("ـ\"« ")
            if longest_match(rest.split()[:3]):
                return _strip_end(paragraph, start, position)
        position += len(word)
    return end


def _speaker_before(paragraph: str, sentence_start: int, cue_start: int) -> tuple[int, int] | None:
    """"وكان وزير الدفاع مارك إسبر أكد": the subject written before the verb, after any opener."""
    region = paragraph[sentence_start:cue_start]
    stripped = _SUBJECT_OPENERS.sub("", normalize_for_match(region)).strip(" وف،,")
    keep = len(stripped.split())
    if not 1 <= keep <= 8:
        return None
    words = list(re.finditer(r"\S+", region))
    first, last = words[len(words) - keep], words[-1]
    return sentence_start + first.start(), sentence_start + last.end()


def _via(sentence: str) -> list[str]:
    found = []
    key = normalize_for_match(sentence)
    for match in _VIA.finditer(key):
        named = longest_match(match.group("name").split())
        if named and named[0].name not in found:
            found.append(named[0].name)
    return found


def _split_reporter(speaker: str | None, via: list[str]) -> tuple[str | None, list[str]]:
    """"وكالة فرانس برس عن ممثل المنظمة": the agency reports, the representative speaks."""
    if not speaker:
        return speaker, via
    key = normalize_for_match(speaker)
    for marker in (" نقلا عن ", " عن "):
        if marker in f" {key} ":
            reporter, _, actual = speaker.partition(marker.strip() if marker.strip() in speaker else "عن")
            known = lookup(reporter.strip(" \"«»"))
            if known and known.name not in via:
                via = [known.name, *via]
            actual = re.sub(r"\s*(?:قوله|قولها|قولهم)\s*$", "", actual.strip())
            return (actual or speaker), via
    return speaker, via


def _speaker_identity(speaker: str, span, mentions: list[Entity], cue: Cue) -> tuple[str | None, str]:
    inside = [e for e in mentions if span and span[0] <= e.start and e.end <= span[1]]
    people = [e for e in inside if e.type == "PER"]
    organizations = [e for e in inside if e.type == "ORG"]
    words = [w for w in normalize_for_match(speaker).replace('"', " ").split() if w not in _DEMONSTRATIVES]
    head = words[0] if words else ""
    bare_head = head[2:] if head.startswith("ال") else head
    known = lookup(speaker.strip(" \"«»"))
    if head in _DOCUMENT_HEADS or bare_head in _DOCUMENT_HEADS or cue.form in ("جاء في", "تنص", "ينص"):
        return normalize_for_match(speaker), "document"  # "الرسالة التي وقعها العميد ...": the letter speaks
    if people:
        return people[-1].canonical, "person"
    if (head in _ANONYMOUS_HEADS or bare_head in _ANONYMOUS_HEADS) and len(words) <= _ANONYMOUS_MAX_WORDS:
        return None, "anonymous"
    if known:
        return known.name, "organization"
    if organizations:
        return organizations[-1].canonical, "organization"
    if head in _ORGANIZATION_HEADS:
        return normalize_for_match(speaker), "organization"
    return normalize_for_match(speaker), "person"
