"""Which prose on a page is the article: lexical cohesion between lines.

Prose-like lines are not all the article: archive pages, forum profiles, tag pages and "latest news"
streams are made of many unrelated items. An article's sentences are chained by shared words (names,
places, the topic), while unrelated items are not. So:
1. each prose line gets a set of content stems;
2. a run of lines chained to one another (each shares stems with one of the few lines before it) is
   an item; consecutive items that share vocabulary are merged;
3. the main item is the one the headline anchors, else the largest; items cohesive with it stay;
4. when no item dominates a page of many items, the page holds no single article.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from tabayyun.clean.lines import FUNCTION_WORDS, Line

_PREFIXES = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ف", "ب", "ل")
_SUFFIXES = ("ات", "ون", "ين", "ان", "يه", "ها", "هم", "ه", "ي")
_TOKEN = re.compile(r"[^\W\d_]{3,}")
LOOKBACK = 5
MERGE = 0.12  # similarity above which neighbouring items are one
KEEP = 0.1  # similarity to the main item above which another item belongs to the article
MERGE_ACROSS_HEADLINE = 0.3
MANY_ITEMS = 4
MAIN_SHARE = 0.5
STREAM_ITEMS = 10
STREAM_SHARE = 0.3


def stems(line: Line) -> set[str]:
    out = set()
    for token in _TOKEN.findall(line.key):
        if token in FUNCTION_WORDS:
            continue
        for prefix in _PREFIXES:
            if token.startswith(prefix) and len(token) - len(prefix) >= 3:
                token = token[len(prefix):]
                break
        for suffix in _SUFFIXES:
            if token.endswith(suffix) and len(token) - len(suffix) >= 3:
                token = token[: -len(suffix)]
                break
        out.add(token)
    return out


def _similarity(a: Counter, b: Counter) -> float:
    shared = sum(min(a[k], b[k]) for k in a.keys() & b.keys())
    return shared / math.sqrt(sum(a.values()) * sum(b.values())) if a and b else 0.0


def select_article(body: list[Line], title: Line | None, breaks: set[int] = frozenset(),
                   teasers: bool = False) -> tuple[set[int], str]:
    """Line indexes of `body` that are the article, and the rule when lines were dropped.

    `breaks` are positions in `body` preceded on the page by a headline-shaped line that is not body:
    a likely start of another item. `teasers` says many lines are cut short with "...", as teaser
    lists are: then a page whose prose does not hold together is a listing."""
    if len(body) < 4:
        return {line.index for line in body}, ""
    line_stems = [stems(line) for line in body]
    common: set[str] = set()
    items = _chain_items(line_stems, common, breaks)
    items = _merge_cohesive(items, line_stems, common, breaks)
    sections = _sections(items, breaks)
    bags = [Counter(s for i in section for s in line_stems[i] - common) for section in sections]
    words = [sum(body[i].words for i in section) for section in sections]
    main = _main_item(sections, bags, words, title, common)
    anchored = title is not None and bool(stems(title) & set().union(*(line_stems[i] for i in items[0])))
    if _is_listing(body, items, sections, words, main, anchored, teasers):
        return set(), "page of many separate items, no single article"
    keep = set(sections[main])
    for n, section in enumerate(sections):
        if n != main and _similarity(bags[n], bags[main]) >= KEEP:
            keep.update(section)
    return {body[i].index for i in keep}, "a separate item on the page, not this article"


def _sections(items: list[list[int]], breaks: set[int]) -> list[list[int]]:
    """Items run together as one flow of prose unless a headline line stands between them."""
    sections = [list(items[0])]
    for item in items[1:]:
        if item[0] in breaks:
            sections.append(list(item))
        else:
            sections[-1].extend(item)
    return sections


def _is_listing(body: list[Line], items, sections, words, main: int, anchored: bool, teasers: bool) -> bool:
    """Many separate items and none of them the bulk of the page.

    Items are separate when headlines stand between them (sections), or when the prose never chains
    for long: a stream of short unrelated runs that no headline anchors."""
    total = sum(words)
    if len(sections) >= MANY_ITEMS and words[main] < MAIN_SHARE * total:
        return True
    largest = max(sum(body[i].words for i in item) for item in items)
    if teasers and not anchored and len(items) >= 2:
        return largest < MAIN_SHARE * total
    if anchored or len(items) < STREAM_ITEMS:
        return False
    return largest < STREAM_SHARE * total


def _chain_items(line_stems: list[set[str]], common: set[str], breaks: set[int]) -> list[list[int]]:
    items: list[list[int]] = [[0]]
    for i in range(1, len(line_stems)):
        window = set().union(*(line_stems[j] for j in range(max(0, i - LOOKBACK), i))) - common
        if i not in breaks and (line_stems[i] - common) & window:
            items[-1].append(i)
        else:
            items.append([i])
    return items


def _merge_cohesive(items: list[list[int]], line_stems: list[set[str]], common: set[str],
                    breaks: set[int]) -> list[list[int]]:
    """A break in the chain is not a new item when the lines around it share vocabulary."""
    merged = [items[0]]
    for item in items[1:]:
        previous = Counter(s for i in merged[-1] for s in line_stems[i] - common)
        current = Counter(s for i in item for s in line_stems[i] - common)
        if _similarity(previous, current) >= (MERGE_ACROSS_HEADLINE if item[0] in breaks else MERGE):
            merged[-1] = merged[-1] + item
        else:
            merged.append(item)
    return merged


def _main_item(items, bags, words, title: Line | None, common: set[str]) -> int:
    if title is not None:
        title_bag = Counter(stems(title) - common)
        scores = [_similarity(title_bag, bag) * math.log(1 + w) for bag, w in zip(bags, words)]
        if max(scores) > 0:
            return max(range(len(items)), key=lambda n: scores[n])
    return max(range(len(items)), key=lambda n: words[n])
