"""Title, outlet, publication date and language, each chosen from candidates by confidence and kept
with its evidence (which rule or field, the text, a note when the value may mislead)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from tabayyun.arabic import fold_digits, normalize_for_match
from tabayyun.clean.dates import find_date
from tabayyun.clean.datelines import match_dateline
from tabayyun.clean.flat import SITE_NAME_RULE, Segmentation
from tabayyun.clean.siterepeats import site_of
from tabayyun.model import Evidence
from tabayyun.registry import lookup

LANGUAGES = ("ar", "en", "fr", "fa", "ur", "ku", "tr")

_CREDIT_SPLIT = re.compile(r"\s*(?:\+|،|,|/|&|\s[-–]\s|\bو(?=\s*[\"«“]))\s*")
_GENERIC_SOURCES = {"وكالات", "ووكالات", "وكالات الانباء", "مواقع", "مواقع التواصل", "agencies", "wires"}
_AGENCY_NAME = re.compile(r"^(?:ال)?وكاله\s|للانباء|news agency|\bagency\b|press agency", re.I)
_COPYRIGHT = re.compile(
    r"(?:©|\(c\)|copyright|جميع الحقوق محفوظه|حقوق النشر محفوظه|الحقوق محفوظه)", re.I)
_COPYRIGHT_NOISE = re.compile(
    r"©|\(c\)|copyright|all rights reserved|جميع الحقوق محفوظه|حقوق النشر محفوظه|الحقوق محفوظه|\d{4}(?:\s*[-–]\s*\d{4})?"
    r"|(?<!\S)ل?(?:صحيفه|جريده|موقع|مجله|شبكه)\s", re.I)
_URL_DATE = re.compile(r"/(20\d\d|19\d\d)[/-](\d{1,2})[/-](\d{1,2})(?:/|$|[^\d])")


@dataclass
class Candidate:
    value: str
    evidence: Evidence


def choose(candidates: list[Candidate]) -> Candidate | None:
    """The most confident candidate; the first one wins a tie (candidates come in priority order)."""
    best: Candidate | None = None
    for candidate in candidates:
        if candidate.value and (best is None or candidate.evidence.confidence > best.evidence.confidence):
            best = candidate
    return best


def title_candidates(seg: Segmentation | None, hint: str | None, html_title: str | None,
                     paragraphs: list[str]) -> list[Candidate]:
    candidates = []
    if hint:
        candidates.append(Candidate(hint.strip(), Evidence("record field", hint.strip(), confidence=1.0)))
    if html_title:
        candidates.append(Candidate(html_title.strip(), Evidence("html metadata", html_title.strip(), confidence=0.9)))
    if seg is not None and seg.title_line is not None:
        candidates.append(Candidate(seg.title, Evidence(seg.title_rule, seg.title, line=seg.title_line, confidence=0.8)))
    if paragraphs:
        first = re.split(r"(?<=[.!?؟])\s", paragraphs[0], maxsplit=1)[0][:200]
        candidates.append(Candidate(first, Evidence("first sentence (no headline line found)", first, confidence=0.2)))
    return candidates


def outlet_candidates(seg: Segmentation | None, hint: str | None, sitename: str | None,
                      url: str | None, paragraphs: list[str]) -> list[Candidate]:
    candidates = []
    if hint:
        candidates.append(Candidate(hint, Evidence("record field", hint, confidence=1.0)))
    if sitename:
        candidates.append(Candidate(sitename, Evidence("html metadata (og:site_name)", sitename, confidence=0.9)))
    for paragraph in paragraphs[:3]:
        found = _dateline_outlets(paragraph)
        if found:
            candidates.extend(found)
            break
    if seg is not None:
        candidates.extend(_credit_outlets(seg))
    if seg is not None:
        candidates.extend(_copyright_outlets(seg))
    host = site_of(url)
    if host:
        candidates.append(Candidate(host, Evidence("url host", url, confidence=0.6)))
    if seg is not None:
        for index, rule in seg.rules.items():
            if rule == SITE_NAME_RULE:
                text = next(line.text for line in seg.lines if line.index == index)
                candidates.append(Candidate(text, Evidence("site name line", text, line=index, confidence=0.5)))
    return candidates


def _dateline_outlets(first_paragraph: str) -> list[Candidate]:
    match = match_dateline(first_paragraph)
    if not match:
        return []
    name = match.group(2).strip(" \"'«»“”")
    known = lookup(name)
    if known and known.kind == "agency":
        note = "the dateline names a wire agency: this is its copy, the publishing site may differ"
        return [Candidate(known.name, Evidence("dateline (agency)", match.group(0).strip(), line=None,
                                                confidence=0.4, note=note))]
    if known:
        return [Candidate(known.name, Evidence("dateline", match.group(0).strip(), confidence=0.8))]
    if _AGENCY_NAME.search(normalize_for_match(name)):
        return []
    note = "an unknown name in the dateline: the outlet, or an agency it copies"
    return [Candidate(name, Evidence("dateline", match.group(0).strip(), confidence=0.55, note=note))]


def _credit_outlets(seg: Segmentation) -> list[Candidate]:
    """In "المصدر: رويترز + RT" the wire agency is cited; the other name is the publishing outlet."""
    candidates = []
    for line in seg.lines:
        if seg.rules.get(line.index) != "source credit line":
            continue
        credited = line.text.split(":", 1)[-1] if ":" in line.text else line.text
        parts = [p.strip(" \"'«»“”") for p in _CREDIT_SPLIT.split(credited) if p.strip(" \"'«»“”")]
        for part in parts:
            known = lookup(part)
            key = normalize_for_match(part)
            if (known and known.kind == "agency") or key in _GENERIC_SOURCES or (not known and _AGENCY_NAME.search(key)):
                continue
            value = known.name if known else part
            confidence = 0.7 if len(parts) > 1 or known else 0.45
            candidates.append(Candidate(value, Evidence("credit line", line.text, line=line.index, confidence=confidence)))
    return candidates


def _copyright_outlets(seg: Segmentation) -> list[Candidate]:
    """"© الساحل اليوم 2024 - جميع الحقوق محفوظة": the copyright holder is the publisher."""
    candidates = []
    for line in seg.lines:
        if seg.labels.get(line.index) in ("body", "title") or line.words > 14 or not _COPYRIGHT.search(line.key):
            continue
        name = _COPYRIGHT_NOISE.sub(" ", normalize_for_match(line.text))
        words = name.replace("-", " ").replace("|", " ").split()
        if words:
            words[0] = normalize_for_match(_strip_lam(words[0]))
        name = " ".join(words).strip(" .،,")
        if 1 <= len(name.split()) <= 4:
            display = _original_span(line.text, name) or name
            candidates.append(Candidate(display, Evidence("copyright line", line.text, line=line.index, confidence=0.65)))
    return candidates


def _original_span(text: str, key: str) -> str | None:
    """The words of `text` whose normalized form is `key` (so the outlet keeps its real spelling)."""
    words = text.split()
    size = len(key.split())
    for start in range(len(words) - size + 1):
        chunk = " ".join(words[start:start + size])
        if normalize_for_match(chunk).strip(" .،,©") == key:
            return chunk.strip(" .،,©")
        stripped = _strip_lam(chunk)
        if normalize_for_match(stripped).strip(" .،,©") == key:
            return stripped.strip(" .،,©")
    return None


def _strip_lam(word: str) -> str:
    """The preposition ل glued to a name: "للمرصد" is "المرصد", "لصحيفة" is "صحيفة"."""
    if word.startswith("لل"):
        return "ا" + word[1:]
    return word[1:] if word.startswith("ل") else word


def choose_published(candidates: list[Candidate]) -> tuple[str | None, Evidence | None]:
    """A page-header date alone is not trusted as the publication date: it is reported, not used."""
    best = choose(candidates)
    if best is None:
        return None, None
    if best.evidence.source == "page header date":
        evidence = best.evidence
        evidence.note += "; not used as the publication date"
        return None, evidence
    return best.value, best.evidence


def published_candidates(seg: Segmentation | None, hint: str | None, html_date: str | None,
                         html_rule: str, url: str | None, paragraphs: list[str],
                         reference_date: date | None) -> list[Candidate]:
    latest = (reference_date or date.today()) + timedelta(days=1)
    candidates = []

    def add(found: date | None, evidence: Evidence) -> None:
        if found and found <= latest:
            candidates.append(Candidate(found.isoformat(), evidence))

    if hint:
        add(_parse_any(hint), Evidence("record field", hint, confidence=1.0))
    if html_date:
        add(date.fromisoformat(html_date), Evidence(html_rule, html_date,
                                                     confidence=0.9 if "metadata" in html_rule else 0.6))
    if seg is not None:
        for found, evidence in _date_lines(seg):
            add(found, evidence)
    if paragraphs:
        found = find_date(normalize_for_match(paragraphs[0][:160]))
        if found:
            add(found[0], Evidence("date at the start of the lead", found[1], confidence=0.6))
    if url:
        match = _URL_DATE.search(url)
        if match:
            try:
                add(date(int(match[1]), int(match[2]), int(match[3])), Evidence("date in the url", match[0], confidence=0.6))
            except ValueError:
                pass
    return candidates


def _date_lines(seg: Segmentation):
    """Dates on their own lines: beside the title they date the article; at the very top of the page,
    before any headline, they are usually the site's date bar, i.e. the day the page was crawled."""
    anchor = seg.title_line if seg.title_line is not None else (seg.body[0].index if seg.body else None)
    positions = {line.index: n for n, line in enumerate(seg.lines)}
    for line in seg.lines:
        if seg.labels.get(line.index) != "date_line":
            continue
        found = find_date(line.key)
        if not found:
            continue
        distance = abs(positions[line.index] - positions[anchor]) if anchor is not None else None
        if positions[line.index] <= 1 and (anchor is None or line.index < anchor) and (distance or 0) > 1:
            yield found[0], Evidence("page header date", line.text, line=line.index, confidence=0.25,
                                     note="a date at the top of the page, before the headline: probably the "
                                          "day the page was crawled, not the article's date")
        elif distance is not None and distance <= 3:
            yield found[0], Evidence("date line beside the title", line.text, line=line.index, confidence=0.75)
        else:
            yield found[0], Evidence("date line elsewhere on the page", line.text, line=line.index, confidence=0.35)


def _parse_any(value: str) -> date | None:
    value = fold_digits(value.strip())
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        found = find_date(normalize_for_match(value))
        return found[0] if found else None


@lru_cache(maxsize=1)
def _language_identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def detect_language(paragraphs: list[str], title: str | None) -> Candidate | None:
    sample = "\n".join(paragraphs)[:3000] or (title or "")
    if not sample.strip():
        return None
    language, probability = _language_identifier().classify(sample)
    return Candidate(language, Evidence("language identifier (py3langid, restricted to "
                                        + ", ".join(LANGUAGES) + ")", confidence=round(float(probability), 3)))
