"""HTML pages: trafilatura finds the main text and metadata, htmldate the date; everything the page
showed that did not make it into the article is kept as labelled removed blocks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import lxml.html
import trafilatura
from htmldate import find_date as htmldate_find_date

from tabayyun.arabic import normalize_for_match
from tabayyun.clean.lines import read_line
from tabayyun.model import Removed

_LEAF_TAGS = {
    "p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "figcaption", "caption", "td", "th", "dt", "dd",
    "blockquote", "pre", "a", "span", "div", "button", "label", "time", "address", "small", "strong", "em", "b",
}
_DROP_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "head", "form")
# Hints in tag names, classes and ids that say what a part of the page is, checked innermost first.
_CONTEXT_HINTS = [
    (re.compile(r"comment|disqus|reply|replies|تعليق"), "comments"),
    (re.compile(r"ticker|breaking|urgent|marquee|newsbar|news-bar|عاجل"), "ticker"),
    (re.compile(r"caption|figcaption|figure|photo-credit"), "caption"),
    (re.compile(r"related|more-news|most|popular|read-?also|recommend|sidebar|widget|aside|trending|latest"), "related"),
    (re.compile(r"breadcrumb|\bnav\b|navbar|menu|navigation"), "menu"),
    (re.compile(r"masthead|logo|brand|site-title|\bheader\b"), "masthead"),
    (re.compile(r"\bdate\b|\btime\b|timestamp|published"), "date_line"),
    (re.compile(r"share|social|footer|copyright|newsletter|subscribe|cookie|author|byline|tags"), "other"),
]
_TAG_KINDS = {"nav": "menu", "menu": "menu", "header": "masthead", "footer": "other", "aside": "related",
              "figcaption": "caption", "figure": "caption", "time": "date_line"}


@dataclass
class HtmlExtraction:
    text: str
    title: str | None = None
    sitename: str | None = None
    date: str | None = None
    date_rule: str = ""
    removed: list[Removed] = field(default_factory=list)


def extract_html(page: str, url: str | None = None) -> HtmlExtraction:
    result = trafilatura.bare_extraction(
        page, url=url, with_metadata=True, include_comments=False, include_tables=True
    )
    text = (getattr(result, "text", None) or "") if result is not None else ""
    extraction = HtmlExtraction(
        text=text,
        title=getattr(result, "title", None) if result is not None else None,
        sitename=getattr(result, "sitename", None) if result is not None else None,
    )
    extraction.date, extraction.date_rule = _page_date(page, url)
    kept = {normalize_for_match(line) for line in text.split("\n") if line.strip()}
    if extraction.title:
        kept.add(normalize_for_match(extraction.title))
    extraction.removed = _removed_markup(page, kept)
    return extraction


def _page_date(page: str, url: str | None) -> tuple[str | None, str]:
    try:
        found = htmldate_find_date(page, url=url, original_date=True, extensive_search=False)
        if found:
            return found, "htmldate: page metadata"
        found = htmldate_find_date(page, url=url, original_date=True, extensive_search=True)
        if found:
            return found, "htmldate: extensive search of the page"
    except (ValueError, TypeError):
        pass
    return None, ""


def _removed_markup(page: str, kept: set[str]) -> list[Removed]:
    """Text blocks of the page that are not in the article, each labelled by where it stood."""
    try:
        root = lxml.html.fromstring(page)
    except (ValueError, lxml.etree.ParserError):
        return []
    for bad in root.iter(*_DROP_TAGS):
        bad.drop_tree()
    kept_text = "\n".join(kept)
    removed: list[Removed] = []
    seen: set[str] = set()
    for element in root.iter():
        if not isinstance(element.tag, str) or element.tag not in _LEAF_TAGS:
            continue
        if any(isinstance(child.tag, str) and child.tag in _LEAF_TAGS for child in element):
            continue
        text = " ".join(element.text_content().split())
        key = normalize_for_match(text)
        if not key or key in seen or key in kept or (len(key) > 15 and key in kept_text):
            continue
        seen.add(key)
        kind, rule = _kind_from_context(element, text)
        removed.append(Removed(text=text, kind=kind, rule=rule))
    return removed


def _kind_from_context(element, text: str) -> tuple[str, str]:
    line = read_line(0, text)
    if line and line.pattern:
        return line.pattern, line.pattern_rule
    node = element
    while node is not None and isinstance(node.tag, str):
        if node.tag in _TAG_KINDS:
            return _TAG_KINDS[node.tag], f"inside <{node.tag}>"
        hints = f"{node.get('class', '')} {node.get('id', '')} {node.get('role', '')}".lower()
        for pattern, kind in _CONTEXT_HINTS:
            if hints.strip() and pattern.search(hints):
                return kind, f"inside an element marked '{pattern.search(hints).group(0)}'"
        node = node.getparent()
    return "other", "outside the main text"
