"""What kind of page an address points to: an article, or a listing of many (tag, section, archive,
home, search, forum profile). A listing holds no single article, whatever its prose looks like."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlparse

from tabayyun.arabic import normalize_for_match

_LISTING_SEGMENTS = {
    "tag", "tags", "category", "categories", "section", "sections", "topic", "topics", "author", "authors",
    "search", "frontpage", "most-read", "profile", "members", "feed", "rss", "vb", "threads", "forum",
    "forums", "showthread.php",
}
_FULL_DATE = re.compile(r"^(?:\d{1,2}[.-]\d{1,2}[.-]\d{4}|\d{4}[.-]\d{1,2}[.-]\d{1,2})$")
_BLOG_ARCHIVE = re.compile(r"^(?:19|20)\d\d_\d\d(?:_\d\d)?_archive$")   # Blogger: /2012_01_01_archive.html
_LISTING_QUERY = re.compile(r"(?:^|[&;])(?:page|paged|start|date|month|year|s|q|search|tag|cat)=|action=profile|showposts", re.I)


# Headlines of news digests: a round-up of many unrelated items is not one article.
_DIGEST_WORDS = [
    "موجز", "حصاد اليوم", "حصاد الاسبوع", "ابرز الاحداث", "ابرز الاخبار", "اهم الاخبار", "مرصد الاعلام",
    "جوله الصحافه", "جوله في الصحف", "جوله الصحف", "عناوين الصحف", "الصحافه اليوم", "نشره الاخبار",
    "الاحداث التفصيليه", "الاحداث التصيليه", "الاحداث اليوميه", "يوميات الثوره", "من اخبار", "اخبار متفرقه",
    "تطورات الساعه", "احداث اليوم", "اخبار اليوم", "التطورات الميدانيه", "ابرز التطورات", "تقرير يومي",
    "press review", "news roundup", "digest",
]


DIGEST_WORDS = [normalize_for_match(w) for w in _DIGEST_WORDS]
_DAY_EVENTS = re.compile(r"(?<!\w)احداث (?:يوم )?(?:ال)?(?:احد|اثنين|ثلاثاء|اربعاء|خميس|جمعه|سبت)(?!\w)")


def digest_reason(headline: str | None, url: str | None) -> str | None:
    """Why the headline or the address names a news digest, or None."""
    texts = [normalize_for_match(headline or "")]
    if url:
        texts.append(normalize_for_match(unquote(urlparse(url).path).replace("-", " ").replace("_", " ")))
    for text in texts:
        if _DAY_EVENTS.search(text):
            return "a news digest (the events of a day)"
        for words in DIGEST_WORDS:
            if re.search(rf"(?<!\w){re.escape(words)}(?!\w)", text):
                return f"a news digest ('{words}')"
    return None


def _date_path_tail(segments: list[str], folder: bool) -> bool:
    """/2012/, /2012/04/ or /2012/04/15/ with nothing after: a date archive. A year alone must be a
    folder (`folder`: the path ends with "/"): /1983 is as likely article number 1983."""
    for start, segment in enumerate(segments):
        if re.fullmatch(r"(?:19|20)\d\d", segment):
            rest = segments[start + 1:]
            return (folder or bool(rest)) and len(rest) <= 2 and all(s.isdigit() and 1 <= int(s) <= 31 for s in rest)
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
    if ("page" in segments and segments[-1].isdigit()) or re.fullmatch(r"page-?\d+", segments[-1] if segments else ""):
        return "a paged listing"
    if segments and (_FULL_DATE.match(segments[-1]) or _date_path_tail(segments, parsed.path.endswith("/"))
                     or _BLOG_ARCHIVE.match(segments[-1])):
        return "a date archive"
    if "forum" in " ".join(segments) and "profile" in query + " ".join(segments):
        return "a forum profile"
    return None
