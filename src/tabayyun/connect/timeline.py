"""Timelines: the dated sequence of what was reported about a story, an entity or a claim.

`timeline(documents)` gives one event per document at its publication date (kind "published"), plus
the events the articles themselves date: a time expression resolved to a full day other than the
publication date, in a sentence that holds a quote, a reporting verb or a word for a happening
(HAPPENING_NOUNS and HAPPENING_VERBS: a killing, a strike, a vote, a visit, a withdrawal...), places
that sentence on that day (an article published on Tuesday about Monday evening's denial puts the
denial on Monday): kind "reported" for a day before publication, "scheduled" for one after it. Every
event links to its evidence: the time expression (paragraph, offsets, text) and how it was resolved
(its anchor), or for a publication event, the publication date's own evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from tabayyun.arabic import normalize_for_match
from tabayyun.arabic.sentences import split_sentences
from tabayyun.model import Document

GIST = 160
# What happened, besides who said what: an article recalls the strike or the vote that its statements
# answer (the 2020 seeds date the killing of the Quds Force commander "فجر الجمعة" in a sentence with
# no reporting verb). Nouns take clitics and plural or possessive endings; verbs are whole words, so
# that "زار" does not match inside "وزارة".
HAPPENING_NOUNS = ("مقتل", "اغتيال", "ضربة", "غارة", "هجوم", "انفجار", "تفجير", "تصويت", "اجتماع", "زيارة",
                   "توقيع", "انسحاب", "اشتباك", "قصف", "اعتقال", "انتخابات", "استقالة")
HAPPENING_VERBS = ("قتل", "قتلت", "صوت", "صوتت", "زار", "زارت", "وصل", "وصلت", "اجتمع", "اجتمعت", "انسحب",
                   "انسحبت", "استقال", "استقالت", "اعتقل", "اعتقلت", "قصف", "قصفت", "وقع", "وقعت")


@dataclass
class Event:
    date: str | None
    doc_id: str
    outlet: str | None
    kind: str  # published, reported, scheduled
    gist: str
    evidence: dict = field(default_factory=dict)
    stance: str | None = None

    def to_dict(self) -> dict:
        data = {"date": self.date, "doc_id": self.doc_id, "outlet": self.outlet, "kind": self.kind,
                "gist": self.gist, "evidence": dict(self.evidence)}
        if self.stance is not None:
            data["stance"] = self.stance
        return data


def one_line(text: str | None, limit: int = GIST) -> str:
    """`text` on one line, cut to `limit` characters (with an ellipsis)."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reports_or_happens(sentence: str) -> bool:
    """Whether the sentence holds a reporting verb or names a happening."""
    from tabayyun.understand.quotes import _cues

    key = normalize_for_match(sentence)
    return _cues()[1].search(key) is not None or _happening_pattern().search(key) is not None


@lru_cache(maxsize=1)
def _happening_pattern() -> re.Pattern:
    def alternatives(words, noun: bool) -> str:
        forms = []
        for word in map(normalize_for_match, words):
            if noun and word.endswith("ه"):      # ta marbuta: ضربة, الضربات
                forms.append(re.escape(word[:-1]) + "(?:ه|ات)")
            else:
                forms.append(re.escape(word) + ("(?:ات|ه|ها|هم)?" if noun else ""))
        return "|".join(sorted(set(forms), key=len, reverse=True))

    return re.compile(rf"(?<!\w)(?:[وف]?(?:[بلك]|ال|بال|لل)?(?:{alternatives(HAPPENING_NOUNS, True)})"
                      rf"|[وف]?(?:{alternatives(HAPPENING_VERBS, False)}))(?!\w)")


def _published_event(doc: Document) -> Event:
    day = doc.published[:10] if doc.published else None
    found = doc.published_evidence
    evidence = {"paragraph": None, "start": None, "end": None, "text": found.text if found else "",
                "anchor": None, "resolved": f"publication date ({found.source})" if found and day else
                "no publication date"}
    return Event(day, doc.id, doc.outlet, "published", one_line(doc.title or (doc.paragraphs or [""])[0]), evidence)


def document_events(doc: Document) -> list[Event]:
    """The events of one document: its publication, then those its dated reporting sentences place."""
    events = [_published_event(doc)]
    published = doc.published[:10] if doc.published else None
    seen: set[tuple[str, int, int]] = set()
    sentences: dict[int, list] = {}
    for expr in doc.times:
        if expr.granularity != "day" or not expr.value or len(expr.value) != 10 or expr.value == published:
            continue
        if not 0 <= expr.paragraph < len(doc.paragraphs):
            continue
        paragraph = doc.paragraphs[expr.paragraph]
        spans = sentences.setdefault(expr.paragraph, split_sentences(paragraph))
        sentence = next((s for s in spans if s.start <= expr.start < s.end), None)
        if sentence is None or (expr.value, expr.paragraph, sentence.start) in seen:
            continue
        quoted = any(q.paragraph == expr.paragraph and q.start < sentence.end and q.end > sentence.start
                     for q in doc.quotes)
        if not quoted and not _reports_or_happens(sentence.text):
            continue
        seen.add((expr.value, expr.paragraph, sentence.start))
        kind = "scheduled" if published and expr.value > published else "reported"
        resolved = f"relative to {expr.anchor}" if expr.anchor else "absolute date"
        evidence = {"paragraph": expr.paragraph, "start": expr.start, "end": expr.end, "text": expr.text,
                    "anchor": expr.anchor, "resolved": resolved}
        events.append(Event(expr.value, doc.id, doc.outlet, kind, one_line(sentence.text), evidence))
    return events


def _order(event: Event) -> tuple:
    position = event.evidence.get("paragraph")
    return (event.date is None, event.date or "", event.kind == "published", event.doc_id,
            -1 if position is None else position, event.evidence.get("start") or 0)


def timeline(documents: list[Document], stances: dict[str, str] | None = None) -> list[Event]:
    """The events of these documents by date (undated last); `stances` (doc id -> stance) is carried
    onto each event of a document when given."""
    events = [event for doc in documents for event in document_events(doc)]
    if stances:
        for event in events:
            event.stance = stances.get(event.doc_id)
    return sorted(events, key=_order)


def _documents_naming(storage, name: str) -> list[str]:
    wanted = normalize_for_match(name)
    return sorted({doc_id for doc_id, canonical, text in storage.entity_names()
                   if wanted and (wanted in normalize_for_match(canonical or "") or wanted in normalize_for_match(text))})


def select_timeline(storage, story: int | None = None, entity: str | None = None, claim: str | None = None,
                    embeddings: bool = False, topic: int | None = None) -> list[Event] | None:
    """The timeline of one story, of a topic (its stories together), of the documents naming an entity
    (canonical name or mention, normalized substring), or of the documents about a claim (those not
    judged unrelated, each event with the document's stance). Exactly one of them; None when the story
    or topic does not exist."""
    if sum(x is not None for x in (story, entity, claim, topic)) != 1:
        raise ValueError("give exactly one of story, topic, entity or claim")
    stances = None
    if topic is not None:
        from tabayyun.connect.stories import get_story
        from tabayyun.connect.topics import list_topics

        found = next((t for t in list_topics(storage, embeddings=embeddings) if t["id"] == int(topic)), None)
        if found is None:
            return None
        ids = [doc["id"] for s in found["stories"] for doc in get_story(storage, s["id"])["documents"]]
    elif story is not None:
        from tabayyun.connect.stories import get_story

        storage.cluster_missing()
        found = get_story(storage, int(story))
        if found is None:
            return None
        ids = [doc["id"] for doc in found["documents"]]
    elif entity is not None:
        ids = _documents_naming(storage, entity)
    else:
        from tabayyun.check import check

        result = check(storage, claim, embeddings=embeddings)
        related = [a for a in result.assessments if a.stance.label != "unrelated"]
        stances = {a.document.id: a.stance.label for a in related}
        return timeline([a.document for a in related], stances)
    return timeline([doc for doc in (storage.get(doc_id) for doc_id in ids) if doc is not None])
