"""Datelines: the "place (outlet) -" or "place - AGENCY" that opens a news paragraph."""

from __future__ import annotations

import re

from tabayyun.registry import lookup

# "أربيل (كوردستان 24)- ..." and "بغداد ( رويترز ) - ...": a place, then the outlet or agency.
_DATELINE = re.compile(r"^\s*([^\s()\-–—:][^()\n]{0,40}?)\s*\(\s*([^()\n]{2,40}?)\s*\)\s*[-–—:]")
# "دمشق - سانا", "القاهرة - أ ش أ": a place, a dash, then a short agency name.
_DASH_DATELINE = re.compile(r"^\s*([^\s\-–—:(][^\-–—:()\n]{0,25}?)\s*[-–—]\s*([^\-–—\n]{2,25}?)\s*[-–—:]?\s+\S")


def match_dateline(text: str) -> re.Match | None:
    """A dateline at the start of a paragraph: place (outlet) - ..., or place - AGENCY ..."""
    match = _DATELINE.match(text)
    if match:
        return match
    match = _DASH_DATELINE.match(text)
    return match if match and lookup(match.group(2).strip(" \"'«»“”")) else None
