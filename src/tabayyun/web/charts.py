"""Inline SVG charts for pages and reports: no script, no network, every scraped string escaped.

`timeline_svg(items)` draws a claim's timeline (the `timeline` entries of `CheckResult.to_dict()`) or a
story's or entity's timeline (`Event.to_dict()` from `connect.timeline`): dates along the x axis, one
marker per item coloured by stance, items of one day stacked, undated items in a column of their own,
an optional `as_of` line. Each marker carries a `<title>` (date, stance, outlet, gist) that screen
readers and hover tooltips show. The result is `markupsafe.Markup`, safe to insert into an autoescaped
template as is: every text in it went through `markupsafe.escape` here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

STANCE_COLOURS = {"agree": "#2e7d32", "disagree": "#c62828", "discuss": "#f9a825"}
NEUTRAL_COLOUR = "#9e9e9e"
DEFAULT_LABELS = {
    "agree": "يؤيد",
    "disagree": "ينفي",
    "discuss": "يناقش",
    "unrelated": "غير متصل",
    "none": "بلا موقف",
    "undated": "بلا تاريخ",
    "as_of": "حتى",
    "empty": "لا أحداث في هذا الخط الزمني",
    "chart": "الخط الزمني",
    "published": "نُشر",
    "reported": "رُوي",
    "scheduled": "مُرتقب",
    "dated_inside": "يوم أرّخه المقال",
}

WIDTH = 720
_LEFT, _RIGHT = 48, 128     # the right margin holds the undated column
_UNDATED_X = WIDTH - 40
_TOP, _AXIS = 36, 44        # room for the legend above, the date ticks below
_STEP = 14                  # vertical distance between stacked markers
_RADIUS = 5
_MAX_STACK = 12             # markers drawn per column; the rest are counted as "+N"
_TICKS = 5
_HOLLOW_KINDS = ("reported", "scheduled")


@dataclass
class _Point:
    day: date | None
    item: dict


def _day(value: object) -> date | None:
    """The day of an ISO date or datetime (or YYYY-MM, taken as its first day); None if unreadable."""
    text = str(value or "")[:10]
    for candidate in (text, text[:7] + "-01"):
        try:
            return date.fromisoformat(candidate)
        except ValueError:
            continue
    return None


def _as_dict(item: object) -> dict:
    return item if isinstance(item, dict) else dict(vars(item))


def _stance(item: dict) -> str:
    stance = item.get("stance")
    return stance if stance in STANCE_COLOURS or stance == "unrelated" else "none"


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _ltr(text: str) -> str:
    """`text` isolated left to right inside a right-to-left label (a date keeps its order)."""
    return f"\u2066{text}\u2069"


def is_rtl(text: object) -> bool:
    """Whether a label reads right to left: it holds Arabic (or Hebrew, Syriac, Thaana) letters."""
    return any("\u0590" <= ch <= "\u08ff" or "\ufb1d" <= ch <= "\ufefc" for ch in str(text))


def _text(x: float, y: float, content: object, *, anchor: str = "middle", rtl: bool | None = None,
          css: str = "") -> str:
    # Arabic labels read right to left (their anchor "start" is their right end); dates and labels in
    # other languages left to right, so "2020-03-05" is never reordered.
    rtl = is_rtl(content) if rtl is None else rtl
    bidi = ' direction="rtl"' if rtl else ' direction="ltr" unicode-bidi="embed"'
    extra = f' class="{css}"' if css else ""
    return f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}"{bidi}{extra}>{escape(content)}</text>'


def _marker_title(item: dict, labels: dict) -> str:
    stance = _stance(item)
    parts = [str(item.get("date") or labels["undated"])[:10], labels.get(stance, stance)]
    if item.get("kind"):
        parts.append(labels.get(item["kind"], item["kind"]))
    if item.get("outlet"):
        parts.append(str(item["outlet"]))
    doc_id = item.get("doc_id") or item.get("document") or item.get("id")
    if doc_id:
        parts.append(str(doc_id))
    text = " — ".join(parts)
    gist = item.get("gist") or item.get("text") or item.get("title")
    return f"{text}: {gist}" if gist else text


def _marker(x: float, y: float, item: dict, labels: dict) -> str:
    stance = _stance(item)
    colour = STANCE_COLOURS.get(stance, NEUTRAL_COLOUR)
    # Events an article dates itself (reported, scheduled) are hollow: they did not happen on the
    # publication day, and the reader should see the difference at a glance.
    hollow = item.get("kind") in _HOLLOW_KINDS
    fill = "#ffffff" if hollow else colour
    return (f'<g class="marker stance-{escape(stance)}"><title>{escape(_marker_title(item, labels))}</title>'
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_RADIUS}" fill="{fill}" stroke="{colour}"'
            f' stroke-width="2"/></g>')


def _columns(points: list[_Point], first: date, span: int, plot_width: float) -> dict[float, list[dict]]:
    """Items grouped by the x position of their marker (days closer than a marker share a column)."""
    columns: dict[float, list[dict]] = {}
    for point in points:
        if point.day is None:
            x = _UNDATED_X
        else:
            raw = _LEFT + (point.day - first).days / span * plot_width
            x = round(raw / (2 * _RADIUS + 2)) * (2 * _RADIUS + 2)
        columns.setdefault(x, []).append(point.item)
    return columns


def _ticks(first: date, span: int, plot_width: float, baseline: float) -> list[str]:
    days = sorted({round(i * span / (_TICKS - 1)) for i in range(_TICKS)}) if span > 1 else [0, span]
    parts = []
    for offset in days:
        x = _LEFT + offset / span * plot_width
        label = date.fromordinal(first.toordinal() + offset).isoformat()
        parts.append(f'<line x1="{_num(x)}" y1="{_num(baseline)}" x2="{_num(x)}" y2="{_num(baseline + 5)}"'
                     f' stroke="#555"/>')
        parts.append(_text(x, baseline + 18, label, rtl=False, css="tick"))
    return parts


def _legend(labels: dict, hollow: bool) -> list[str]:
    parts, x = [], WIDTH - 12
    entries = [(stance, STANCE_COLOURS.get(stance, NEUTRAL_COLOUR))
               for stance in ("agree", "disagree", "discuss", "none")]
    for key, colour in entries + ([("dated_inside", "#ffffff")] if hollow else []):
        parts.append(f'<circle class="legend-dot" cx="{_num(x)}" cy="14" r="{_RADIUS}" fill="{colour}"'
                     f' stroke="{NEUTRAL_COLOUR}" stroke-width="{2 if colour == "#ffffff" else 0}"/>')
        label = labels.get(key, key)
        # The label ends just before its dot whichever way it reads.
        parts.append(_text(x - 9, 18, label, anchor="start" if is_rtl(label) else "end", css="legend"))
        x -= 96
    return parts


def _undated_zone(baseline: float, labels: dict) -> list[str]:
    divider = WIDTH - _RIGHT + 40
    return [f'<line class="undated-divider" x1="{divider}" y1="{_TOP}" x2="{divider}" y2="{_num(baseline + 8)}"'
            f' stroke="#bbb" stroke-dasharray="2 3"/>',
            _text(_UNDATED_X, baseline + 18, labels["undated"], css="tick")]


def _as_of_line(x: float, cutoff: date, baseline: float, labels: dict) -> list[str]:
    day = _ltr(cutoff.isoformat()) if is_rtl(labels["as_of"]) else cutoff.isoformat()
    return [f'<line class="as-of" x1="{_num(x)}" y1="{_TOP}" x2="{_num(x)}" y2="{_num(baseline)}"'
            f' stroke="#1565c0" stroke-dasharray="4 3"/>',
            _text(x, _TOP - 4, f"{labels['as_of']} {day}", css="as-of-label")]


def _svg(height: float, body: list[str], labels: dict, empty: bool = False) -> Markup:
    flag = ' data-empty="true"' if empty else ""
    return Markup(
        f'<svg class="timeline-chart" xmlns="http://www.w3.org/2000/svg" role="img"'
        f' viewBox="0 0 {WIDTH} {_num(height)}" width="100%" preserveAspectRatio="xMidYMid meet"'
        f' font-family="sans-serif" font-size="11"{flag}><title>{escape(labels["chart"])}</title>'
        + "".join(body) + "</svg>")


def timeline_svg(items: list[dict], as_of: str | None = None, labels: dict | None = None) -> Markup:
    """An inline SVG of these timeline items; `labels` overrides the (Arabic) words it shows."""
    labels = {**DEFAULT_LABELS, **(labels or {})}
    points = [_Point(_day(entry.get("date")), entry) for entry in map(_as_dict, items or [])]
    if not points:
        return _svg(60, [_text(WIDTH / 2, 36, labels["empty"], css="empty")], labels, empty=True)
    cutoff = _day(as_of) if as_of else None
    days = [p.day for p in points if p.day] + ([cutoff] if cutoff else [])
    first = min(days) if days else date.today()
    span = max(1, (max(days) - first).days) if days else 1
    plot_width = WIDTH - _LEFT - _RIGHT
    columns = _columns(points, first, span, plot_width)
    stack = min(_MAX_STACK, max(len(column) for column in columns.values()))
    baseline = _TOP + 12 + stack * _STEP
    body = _legend(labels, any(p.item.get("kind") in _HOLLOW_KINDS for p in points))
    body.append(f'<line class="axis" x1="{_LEFT}" y1="{_num(baseline)}" x2="{WIDTH - _RIGHT + 8}"'
                f' y2="{_num(baseline)}" stroke="#555"/>')
    if days:
        body += _ticks(first, span, plot_width, baseline)
    if any(p.day is None for p in points):
        body += _undated_zone(baseline, labels)
    if cutoff:
        body += _as_of_line(_LEFT + (cutoff - first).days / span * plot_width, cutoff, baseline, labels)
    for x, column in columns.items():
        for i, entry in enumerate(column[:_MAX_STACK]):
            body.append(_marker(x, baseline - _STEP / 2 - 2 - i * _STEP, entry, labels))
        if len(column) > _MAX_STACK:
            body.append(_text(x, _TOP + 4, f"+{len(column) - _MAX_STACK}", rtl=False, css="more"))
    return _svg(baseline + _AXIS, body, labels)
