"""Time expressions in Arabic news text, absolute and relative, resolved against an anchor date.

Absolute: "27 سبتمبر 2024", "27 أيلول 2024", "سبتمبر 2025" (a month), "عام 2014" (a year), numeric
dates, English dates, Hijri dates ("15 رمضان 1445 هـ", converted with the tabular calendar).
Relative, resolved against the article's publication date or a reference date: اليوم، أمس، أمس الأول،
غدا، a weekday with or without اليوم/أمس/الماضي/المقبل, a part of the day (فجر، صباح، ظهر، عصر،
مساء، ليلة), "سبتمبر المقبل", "الشهر الماضي", "الأسبوع المقبل", "منذ يومين", "قبل ثلاثة أيام",
and the vague "خلال الأيام والأسابيع القادمة" (an interval). Numbers that count things are not years.
"""

from __future__ import annotations

import math
import re
from datetime import date, timedelta

from tabayyun.arabic import normalize_with_offsets
from tabayyun.clean.dates import MONTHS, WEEKDAYS
from tabayyun.model import TimeExpr

_AR_WEEKDAYS = {k: v for k, v in WEEKDAYS.items() if not k.isascii()}
_WEEKDAY = "|".join(sorted(_AR_WEEKDAYS, key=len, reverse=True))
_MONTH = "|".join(sorted((re.escape(m) for m in MONTHS if len(m) > 3 or not m.isascii()), key=len, reverse=True))
_PART = r"(?:فجر|صباح|ظهر|عصر|مساء|ليله|ليل|منتصف ليل)"
_NUMBER_WORDS = {
    "يوم": 1, "يوما": 1, "يومين": 2, "اسبوع": 1, "اسبوعا": 1, "اسبوعين": 2, "شهر": 1, "شهرا": 1, "شهرين": 2,
    "عام": 1, "عاما": 1, "عامين": 2, "سنه": 1, "سنتين": 2, "ساعه": 1, "ساعتين": 2,
    "ثلاثه": 3, "ثلاث": 3, "اربعه": 4, "اربع": 4, "خمسه": 5, "خمس": 5, "سته": 6, "ست": 6, "سبعه": 7, "سبع": 7,
    "ثمانيه": 8, "ثماني": 8, "تسعه": 9, "تسع": 9, "عشره": 10, "عشر": 10,
}
_UNIT_DAYS = {"يوم": 1, "ايام": 1, "يوما": 1, "يومين": 1, "اسبوع": 7, "اسابيع": 7, "اسبوعا": 7, "اسبوعين": 7,
              "شهر": 30, "اشهر": 30, "شهور": 30, "شهرا": 30, "شهرين": 30, "عام": 365, "اعوام": 365, "عاما": 365,
              "عامين": 365, "سنه": 365, "سنوات": 365, "سنتين": 365}
_HIJRI_MONTHS = {
    "محرم": 1, "صفر": 2, "ربيع الاول": 3, "ربيع الاخر": 4, "ربيع الثاني": 4, "جمادي الاولي": 5,
    "جمادي الاول": 5, "جمادي الاخره": 6, "جمادي الثانيه": 6, "جمادي الاخر": 6, "رجب": 7, "شعبان": 8,
    "رمضان": 9, "شوال": 10, "ذو القعده": 11, "ذي القعده": 11, "ذو الحجه": 12, "ذي الحجه": 12,
}
_HIJRI = "|".join(sorted(_HIJRI_MONTHS, key=len, reverse=True))
_ORDINALS = {
    "الاول": 1, "الثاني": 2, "الثالث": 3, "الرابع": 4, "الخامس": 5, "السادس": 6, "السابع": 7, "الثامن": 8,
    "التاسع": 9, "العاشر": 10, "الحادي عشر": 11, "الثاني عشر": 12, "الثالث عشر": 13, "الرابع عشر": 14,
    "الخامس عشر": 15, "السادس عشر": 16, "السابع عشر": 17, "الثامن عشر": 18, "التاسع عشر": 19, "العشرين": 20,
    "الحادي والعشرين": 21, "الثاني والعشرين": 22, "الثالث والعشرين": 23, "الرابع والعشرين": 24,
    "الخامس والعشرين": 25, "السادس والعشرين": 26, "السابع والعشرين": 27, "الثامن والعشرين": 28,
    "التاسع والعشرين": 29, "الثلاثين": 30, "الحادي والثلاثين": 31,
}
_ORDINAL = "|".join(sorted(_ORDINALS, key=len, reverse=True))
_PLURAL_UNITS = {"الايام": 1, "الاسابيع": 7, "الاشهر": 30, "الشهور": 30, "السنوات": 365, "الاعوام": 365}
_COUNT_ADJECTIVES = {"الثلاثه": 3, "الاربعه": 4, "الخمسه": 5, "السته": 6, "السبعه": 7, "الثمانيه": 8, "التسعه": 9,
                     "العشره": 10, "الثلاث": 3, "الاربع": 4, "الخمس": 5, "الست": 6, "السبع": 7, "الثماني": 8,
                     "التسع": 9, "العشر": 10, "القليله": None}
# A keyword may carry a glued conjunction or preposition (وأمس، وبعد): the span starts after it.
_B = r"(?<!\w)[وفبلك]?"
_MONTH_PAIR = rf"(?P<m>{_MONTH})(?:\s*[/(-]\s*(?:{_MONTH})\s*\)?)?"
_E = r"(?![\w])"
_FUTURE = r"(?:المقبل|المقبله|القادم|القادمه|الجاي)"
_PAST = r"(?:الماضي|الماضيه|المنصرم|المنصرمه|الفايت|السابق)"


def _rx(pattern: str) -> re.Pattern:
    return re.compile(_B + "(?P<span>" + pattern + ")" + _E)


# Order matters: longer, more specific patterns first; a character is claimed by the first match.
_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("hijri", _rx(rf"(?P<d>\d{{1,2}})\s+(?P<hm>{_HIJRI})\s+(?P<y>1[34]\d\d)\s*(?:هـ|ه|هجري|هجريه)?")),
    ("dmy", _rx(rf"(?P<d>\d{{1,2}})\s*(?:من\s+)?(?:شهر\s+)?(?P<m>{_MONTH})(?:\s*[/(-]?\s*(?:{_MONTH})\s*\)?)?\s*[,،]?\s*(?:(?:من\s+)?(?:عام|العام|سنه)\s+)?(?P<y>(?:19|20)\d\d)")),
    ("mdy", _rx(rf"(?P<m>{_MONTH})\s+(?P<d>\d{{1,2}})\s*,?\s*(?P<y>(?:19|20)\d\d)")),
    ("iso", _rx(r"(?P<y>(?:19|20)\d\d)-(?P<mn>\d{1,2})-(?P<d>\d{1,2})")),
    ("numeric", _rx(r"(?P<d>\d{1,2})\s*/\s*(?P<mn>\d{1,2})\s*/\s*(?P<y>(?:19|20)\d\d)")),
    ("my", _rx(rf"(?:شهر\s+)?(?P<m>{_MONTH})(?:\s*[/(-]?\s*(?:{_MONTH})\s*\)?)?\s*[,،]?\s*(?:(?:من\s+)?(?:عام|العام)\s+)?(?P<y>(?:19|20)\d\d)")),
    ("ordinal", _rx(rf"(?P<ord>{_ORDINAL})\s+من\s+(?:(?:شهر\s+)?{_MONTH_PAIR}(?:\s+(?P<dir>{_FUTURE}|{_PAST}))?(?:\s*[,،]?\s*(?:عام\s+)?(?P<y>(?:19|20)\d\d))?|(?P<same>الشهر\s+(?:نفسه|ذاته|الجاري|الحالي)))")),
    ("month_rel", _rx(rf"(?:شهر\s+)?{_MONTH_PAIR}\s+(?P<dir>{_FUTURE}|{_PAST})")),
    ("span_rel", _rx(rf"(?P<unit>الايام|الاسابيع|الاشهر|الشهور|السنوات|الاعوام)\s+(?P<n>الثلاثه|الاربعه|الخمسه|السته|السبعه|الثمانيه|التسعه|العشره|الثلاث|الاربع|الخمس|الست|السبع|الثماني|التسع|العشر)\s+(?P<dir>{_FUTURE}|{_PAST})")),
    ("edge", _rx(rf"(?P<edge>اواخر|نهايه|مطلع|بدايه|اوايل|منتصف)\s+(?:(?:شهر\s+)?{_MONTH_PAIR}|(?P<year_word>العام|السنه)(?!\s+(?:19|20)\d\d))")),
    ("named_month", _rx(rf"شهر\s+{_MONTH_PAIR}")),
    ("unit_rel", _rx(rf"(?P<unit>الشهر|الاسبوع|العام|السنه)\s+(?P<dir>{_FUTURE}|{_PAST}|الحالي|الجاري)")),
    ("ago", _rx(rf"(?P<dir>منذ|قبل|بعد|خلال)\s+(?:(?P<n>\d+|[^\s\d]+)\s+)?(?P<unit>ايام|يوما|يومين|يوم|اسابيع|اسبوعين|اسبوعا|اسبوع|اشهر|شهور|شهرين|شهرا|شهر|اعوام|عامين|عاما|سنوات|سنتين)(?!\s+(?:من|على|{_MONTH})(?!\w))")),
    ("vague", _rx(rf"(?:خلال\s+)?(?:ال)?ايام\s+و(?:ال)?اسابيع\s+(?P<dir>{_FUTURE})")),
    ("day_rel", _rx(rf"(?:(?P<part>{_PART})\s+)?(?:يوم\s+)?(?P<rel>امس الاول|اول امس|اول من امس|بعد غد|امس|البارحه|اليوم|الليله|غدا)(?:\s+(?:يوم\s+)?(?P<wd>{_WEEKDAY}))?")),
    ("weekday", _rx(rf"(?:(?P<part>{_PART})\s+)?(?:يوم\s+)?(?P<wd>{_WEEKDAY})(?:\s+(?P<dir>{_FUTURE}|{_PAST}))?")),
    ("year", _rx(r"(?:عام|العام|سنه|السنه|منذ|مطلع|اواخر|نهايه|بدايه)\s+(?P<y>(?:19|20)\d\d)(?!\s*(?:\d|جندي|عسكري|شخص|قتيل|مقاتل|دولار))")),
]


_TRIGGER_WORDS = (
    list(MONTHS) + list(_AR_WEEKDAYS) + list(_HIJRI_MONTHS)
    + list(_ORDINALS) + list(_PLURAL_UNITS)
    + "اليوم امس البارحه الليله غدا اول بعد منذ قبل خلال الشهر الاسبوع العام السنه عام سنه مطلع اواخر نهايه "
      "بدايه اوايل شهر يوم ايام الايام فجر صباح ظهر عصر مساء ليله ليل منتصف".split()
)
# One cheap scan finds where an expression may start; the patterns are tried only there.
_TRIGGER = re.compile(
    r"(?<!\w)[وفبلك]?(?:\d|(?:" + "|".join(sorted(map(re.escape, set(_TRIGGER_WORDS)), key=len, reverse=True))
    + r")(?!\w))"
)


def find_times(paragraphs: list[str], anchor: date | None) -> list[TimeExpr]:
    found: list[TimeExpr] = []
    for number, paragraph in enumerate(paragraphs):
        key, offsets = normalize_with_offsets(paragraph)
        claimed_until = 0
        for trigger in _TRIGGER.finditer(key):
            if trigger.start() < claimed_until:
                continue
            for kind, pattern in _PATTERNS:
                match = pattern.match(key, trigger.start())
                if match is None:
                    continue
                resolved = _RESOLVERS[kind](match, anchor)
                if resolved is None:
                    continue
                value, granularity, relative = resolved
                start = offsets[match.start("span")]
                end = _past_marks(paragraph, offsets[match.end() - 1] + 1)
                while end > start and paragraph[end - 1].isspace():
                    end -= 1
                found.append(TimeExpr(paragraph[start:end], value, granularity,
                                      anchor.isoformat() if relative and anchor else None, number, start, end))
                claimed_until = match.end()
                break
    return found


def _past_marks(text: str, end: int) -> int:
    """Extend a span over the diacritics and tatweel that normalization dropped (غداً, هـ)."""
    while end < len(text) and ("\u064b" <= text[end] <= "\u065f" or text[end] == "\u0640"):
        end += 1
    return end


def _month(name: str) -> int:
    return MONTHS[name]


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _absolute_day(match, anchor):
    groups = match.groupdict()
    month = int(groups["mn"]) if groups.get("mn") else _month(groups["m"])
    found = _safe_date(int(groups["y"]), month, int(groups["d"]))
    return (found.isoformat(), "day", False) if found else None


def _month_year(match, anchor):
    return f"{int(match['y']):04d}-{_month(match['m']):02d}", "month", False


def _hijri(match, anchor):
    gregorian = hijri_to_gregorian(int(match["y"]), _HIJRI_MONTHS[match["hm"]], int(match["d"]))
    return (gregorian.isoformat(), "day", False) if gregorian else None


def _year(match, anchor):
    return match["y"], "year", False


def _month_relative(match, anchor):
    """سبتمبر المقبل، أيلول الماضي; also "شهر أغسطس" (no direction: the anchor's year)."""
    if anchor is None:
        return None, "month", True
    month = _month(match["m"])
    direction = match.groupdict().get("dir")
    return f"{_year_of_month(month, anchor, direction):04d}-{month:02d}", "month", True


def _unit_relative(match, anchor):
    unit, direction = match["unit"], match["dir"]
    step = 1 if re.match(_FUTURE, direction) else -1 if re.match(_PAST, direction) else 0
    if anchor is None:
        return None, {"الشهر": "month", "الاسبوع": "week"}.get(unit, "year"), True
    if unit == "الشهر":
        month_index = anchor.year * 12 + anchor.month - 1 + step
        return f"{month_index // 12:04d}-{month_index % 12 + 1:02d}", "month", True
    if unit == "الاسبوع":
        monday = anchor - timedelta(days=anchor.weekday()) + timedelta(weeks=step)
        return f"{monday.isoformat()}/{(monday + timedelta(days=6)).isoformat()}", "week", True
    return f"{anchor.year + step:04d}", "year", True


def _ago(match, anchor):
    unit = match["unit"]
    count_word = match["n"]
    count = 1
    if count_word:
        count = int(count_word) if count_word.isdigit() else _NUMBER_WORDS.get(count_word)
        if count is None:
            return None
    elif unit in _NUMBER_WORDS:
        count = _NUMBER_WORDS[unit]
    elif unit in ("ايام", "اسابيع", "اشهر", "شهور", "اعوام", "سنوات"):
        return None, "interval", True  # "منذ أيام": a time reference too vague to place
    direction = match["dir"]
    days = count * _UNIT_DAYS[unit]
    granularity = "day" if _UNIT_DAYS[unit] == 1 else "month" if _UNIT_DAYS[unit] == 30 else (
        "week" if _UNIT_DAYS[unit] == 7 else "year")
    if anchor is None:
        return None, granularity, True
    if days > 365 * 200:
        return None  # "قبل 3000 عام": history, not a date this tool can place
    if direction in ("منذ", "قبل"):
        target = anchor - timedelta(days=days)
    elif direction == "بعد":
        target = anchor + timedelta(days=days)
    else:  # خلال: the coming span
        return f"{anchor.isoformat()}/{(anchor + timedelta(days=days)).isoformat()}", "interval", True
    return _at_granularity(target, granularity), granularity, True


def _at_granularity(day: date, granularity: str) -> str:
    if granularity == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if granularity == "year":
        return f"{day.year:04d}"
    return day.isoformat()


def _ordinal_day(match, anchor):
    day = _ORDINALS[match["ord"]]
    if match["same"]:
        if anchor is None:
            return None, "day", True
        found = _safe_date(anchor.year, anchor.month, day)
        return (found.isoformat(), "day", True) if found else None
    month = _month(match["m"])
    if match["y"]:
        found = _safe_date(int(match["y"]), month, day)
        return (found.isoformat(), "day", False) if found else None
    if anchor is None:
        return None, "day", True
    year = _year_of_month(month, anchor, match["dir"])
    found = _safe_date(year, month, day)
    return (found.isoformat(), "day", True) if found else None


def _year_of_month(month: int, anchor: date, direction: str | None) -> int:
    """The year a month name without one refers to: the coming one after المقبل, the last one after
    الماضي, else the anchor's year."""
    if direction and re.fullmatch(_FUTURE, direction):
        return anchor.year + (1 if month <= anchor.month else 0)
    if direction and re.fullmatch(_PAST, direction):
        return anchor.year - (1 if month >= anchor.month else 0)
    return anchor.year


def _span_relative(match, anchor):
    if anchor is None:
        return None, "interval", True
    days = _COUNT_ADJECTIVES[match["n"]] * _PLURAL_UNITS[match["unit"]]
    if match["unit"] in ("السنوات", "الاعوام"):
        other = _safe_date(anchor.year + (1 if re.fullmatch(_FUTURE, match["dir"]) else -1) * days // 365,
                           anchor.month, min(anchor.day, 28))
    else:
        other = anchor + timedelta(days=days if re.fullmatch(_FUTURE, match["dir"]) else -days)
    first, last = sorted((anchor, other))
    return f"{first.isoformat()}/{last.isoformat()}", "interval", True


def _edge(match, anchor):
    if match["year_word"]:
        return (f"{anchor.year:04d}", "year", True) if anchor else (None, "year", True)
    return _month_relative(match, anchor)


def _vague(match, anchor):
    if anchor is None:
        return None, "interval", True
    return f"{anchor.isoformat()}/{(anchor + timedelta(weeks=4)).isoformat()}", "interval", True


_DAY_OFFSETS = {"اليوم": 0, "الليله": 0, "امس": -1, "البارحه": -1, "امس الاول": -2, "اول امس": -2,
                "اول من امس": -2, "غدا": 1, "بعد غد": 2}


def _day_relative(match, anchor):
    if anchor is None:
        return None, "day", True
    target = anchor + timedelta(days=_DAY_OFFSETS[match["rel"]])
    return target.isoformat(), "day", True


def _weekday(match, anchor):
    if anchor is None:
        return None, "day", True
    weekday = _AR_WEEKDAYS[match["wd"]]
    direction = match["dir"] or ""
    if re.fullmatch(_FUTURE, direction):
        delta = (weekday - anchor.weekday()) % 7 or 7
    elif re.fullmatch(_PAST, direction):
        delta = -((anchor.weekday() - weekday) % 7 or 7)
    else:  # news report in the past tense: the latest such day, today included
        delta = -((anchor.weekday() - weekday) % 7)
    return (anchor + timedelta(days=delta)).isoformat(), "day", True


_RESOLVERS = {
    "hijri": _hijri, "dmy": _absolute_day, "mdy": _absolute_day, "iso": _absolute_day, "numeric": _absolute_day,
    "my": _month_year, "month_rel": _month_relative, "ordinal": _ordinal_day, "span_rel": _span_relative,
    "edge": _edge, "named_month": _month_relative, "unit_rel": _unit_relative, "ago": _ago, "vague": _vague,
    "day_rel": _day_relative, "weekday": _weekday, "year": _year,
}


def hijri_to_gregorian(year: int, month: int, day: int) -> date | None:
    """The tabular (arithmetic) Islamic calendar: within a day or two of the observed calendars."""
    if not (1 <= month <= 12 and 1 <= day <= 30):
        return None
    julian_day = day + math.ceil(29.5 * (month - 1)) + (year - 1) * 354 + (3 + 11 * year) // 30 + 1948439
    return date.fromordinal(julian_day - 1721425)
