"""What kind of page an address points to: an article, or a listing of many (tag, section, archive,
home, search, forum profile). A listing holds no single article, whatever its prose looks like."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlparse

_LISTING_SEGMENTS = {
    "tag", "tags", "category", "categories", "section", "sections", "topic", "topics", "author", "authors",
    "search", "frontpage", "latest", "most-read", "profile", "members", "feed", "rss",
}
_FULL_DATE = re.compile(r"^(?:\d{1,2}[.-]\d{1,2}[.-]\d{4}|\d{4}[.-]\d{1,2}[.-]\d{1,2})$")
_LISTING_QUERY = re.compile(r"(?:^|[&;])(?:page|paged|date|s|q|search|tag|cat)=|action=profile|showposts", re.I)


def _date_path_tail(segments: list[str]) -> bool:
    """/2012/, /2012/04/ or /2012/04/15/ with nothing after: a date archive."""
    for start, segment in enumerate(segments):
        if re.fullmatch(r"(?:19|20)\d\d", segment):
            rest = segments[start + 1:]
            return len(rest) <= 2 and all(s.isdigit() and 1 <= int(s) <= 31 for s in rest)
    return False


def listing_reason(url: str | None) -> str | None:
    """Why the address looks like a listing page, or None when it may be an article."""
    if not url:
        return None
    parsed = urlparse(url)
    segments = [s for s in unquote(parsed.path).lower().split("/") if s]
    if segments and "." in segments[-1] and segments[-1].rsplit(".", 1)[-1] in ("html", "htm", "php", "aspx", "asp"):
        stem = segments[-1].rsplit(".", 1)[0]
        segments = segments[:-1] + ([stem] if stem not in ("index", "default") else [])
    query = parsed.query
    if not segments and not query:
        return "the site's home page"
    if query and _LISTING_QUERY.search(query) and not re.search(r"(?:^|[&;])(?:p|id|article|story|nid)=\d", query):
        return "a paged, dated or search listing"
    listing = _LISTING_SEGMENTS.intersection(segments[:-1] if len(segments) > 1 else segments)
    if listing or (segments and segments[-1] in _LISTING_SEGMENTS):
        return f"a {sorted(listing or {segments[-1]})[0]} page"
    if "page" in segments and segments[-1].isdigit():
        return "a paged listing"
    if segments and (_FULL_DATE.match(segments[-1]) or _date_path_tail(segments)):
        return "a date archive"
    if "forum" in " ".join(segments) and "profile" in query + " ".join(segments):
        return "a forum profile"
    return None
