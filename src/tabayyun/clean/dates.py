"""Dates written on pages: Gregorian month names in every Arabic series and in English, numeric forms.

Inputs are keys from `normalize_for_match` (lowercased, alef/ya/ta marbuta unified, ASCII digits).
"""

from __future__ import annotations

import re
from datetime import date

MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    [
        "يناير|كانون الثاني|جانفي|january|jan",
        "فبراير|فبرير|شباط|فيفري|february|feb",
        "مارس|اذار|march|mar",
        "ابريل|نيسان|افريل|april|apr",
        "مايو|ايار|ماي|may",
        "يونيو|يونيه|حزيران|جوان|june|jun",
        "يوليو|يوليه|تموز|جويليه|جويلية|july|jul",
        "اغسطس|اغسطوس|اب|اوت|august|aug",
        "سبتمبر|ايلول|september|sep|sept",
        "اكتوبر|تشرين الاول|october|oct",
        "نوفمبر|تشرين الثاني|november|nov",
        "ديسمبر|كانون الاول|december|dec",
    ],
    start=1,
):
    for _name in _names.split("|"):
        MONTHS[_name] = _number

WEEKDAYS = {
    "الاثنين": 0, "الاتنين": 0, "الثلاثاء": 1, "الاربعاء": 2, "الخميس": 3, "الجمعه": 4, "السبت": 5,
    "الاحد": 6, "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6, "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
}

_MONTH_ALT = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))
_M = rf"(?<![\w])(?P<month>{_MONTH_ALT})(?![\w])"
_SECOND_MONTH = rf"(?:\s*[-/(]?\s*(?:{_MONTH_ALT})\s*\)?)?"
_PATTERNS = [
    re.compile(rf"(?<!\d)(?P<day>\d{{1,2}})\s*(?:من\s+)?(?:شهر\s+)?{_M}{_SECOND_MONTH}\s*[,،]?\s*(?:عام\s+|سنه\s+)?(?P<year>\d{{4}})(?!\d)"),
    re.compile(rf"{_M}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s*[,،]?\s*(?P<year>\d{{4}})(?!\d)"),
    re.compile(r"(?<!\d)(?P<year>\d{4})\s*[-/.]\s*(?P<month>\d{1,2})\s*[-/.]\s*(?P<day>\d{1,2})(?!\d)"),
    re.compile(r"(?<!\d)(?P<day>\d{1,2})\s*[-/.]\s*(?P<month>\d{1,2})\s*[-/.]\s*(?P<year>\d{4})(?!\d)"),
]

_DATE_NOISE = re.compile(
    rf"(?<![\w])(?:{_MONTH_ALT}|{'|'.join(WEEKDAYS)}|الموافق|هـ|ه|م|ص|am|pm|gmt|utc|بتوقيت|مكه|غرينتش"
    r"|نشر|نشر في|منشور|تاريخ|تاريخ النشر|اخر تحديث|تحديث|محدث|updated|published|posted|on|at"
    r"|في|يوم|الساعه|ساعه|ساعات|دقيقه|دقائق|منذ|قبل|عام|سنه|شهر)(?![\w])"
)
_STRIP_NOISE = re.compile(r"[\d\s,،:/.\-–|•·()\[\]]+")


def find_date(key: str) -> tuple[date, str] | None:
    """The first plausible calendar date in a normalized string, with the matched text."""
    for pattern in _PATTERNS:
        for match in pattern.finditer(key):
            parsed = _to_date(match)
            if parsed:
                return parsed, match.group(0)
    return None


def is_date_only(key: str) -> bool:
    """True for lines such as "• tuesday, 17 february 2026" or "الثلاثاء 12 مارس 2024 - 10:32"."""
    if not re.search(r"\d", key):
        return False
    rest = _STRIP_NOISE.sub("", _DATE_NOISE.sub(" ", key))
    if rest:
        return False
    return bool(find_date(key)) or bool(re.search(r"\d{1,2}:\d{2}", key))


def _to_date(match: re.Match) -> date | None:
    month = match.group("month")
    month_number = int(month) if month.isdigit() else MONTHS.get(month)
    try:
        year = int(match.group("year"))
        if not 1990 <= year <= 2100 or not month_number:
            return None
        return date(year, month_number, int(match.group("day")))
    except ValueError:
        return None
