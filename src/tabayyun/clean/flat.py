"""Segmenting flattened page text into title, body paragraphs and labelled boilerplate blocks.

The method, in the spirit of jusText but line-based and tuned for Arabic news pages:
1. each line gets context-free features and boilerplate patterns (`clean.lines`);
2. lines are graded `good` (prose: long enough and dense in function words), `near`, `short` or
   `bad` (a boilerplate pattern matched);
3. `near` and `short` lines take the grade of their neighbourhood;
4. blocks opened by a "related news" or "comments" heading after the article started are removed;
5. the title is the headline line before the body (a repeated line is a strong hint), its copies are
   `repeated_title`, and every other removed line gets a kind from its pattern or its position.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from tabayyun.arabic import normalize_for_match
from tabayyun.clean.cohesion import select_article
from tabayyun.clean.datelines import match_dateline
from tabayyun.clean.dates import find_date
from tabayyun.clean.pagetype import digest_reason, listing_reason
from tabayyun.clean.siterepeats import MIN_PAGES, NO_LINES, key_hash
from tabayyun.clean.lines import (
    Line,
    furniture_score,
    has_item_boundary,
    has_truncation,
    heading_kind,
    is_bullet,
    is_forum_page,
    read_line,
    starts_with_signature,
)
from tabayyun.model import Removed

GOOD, NEAR, SHORT, BAD = "good", "near", "short", "bad"
TEASER_SHARE = 0.4  # share of prose lines cut short by "..." that makes a page a teaser list when its prose
# does not hold together either
TEASER_LIST_SHARE = 0.7  # and that makes it one whatever its prose: an article does not cut most of its
# paragraphs short (an agency's tag page of snippets, each "... published on <date>", all on one subject)


@dataclass
class Segmentation:
    lines: list[Line]
    labels: dict[int, str]
    rules: dict[int, str]
    title_line: int | None = None
    title_rule: str = ""
    body: list[Line] = field(default_factory=list)

    @property
    def title(self) -> str | None:
        if self.title_line is None:
            return None
        return next(line.text for line in self.lines if line.index == self.title_line)

    def removed_blocks(self) -> list[Removed]:
        """Consecutive removed lines of one kind become one block."""
        blocks: list[Removed] = []
        previous_kind = None  # the label of the previous non-empty line: a block never spans another kind
        for line in self.lines:
            kind = self.labels[line.index]
            adjacent, previous_kind = previous_kind == kind, kind
            if kind in ("body", "title"):
                continue
            last = blocks[-1] if blocks else None
            if last and last.kind == kind and adjacent:
                last.text += "\n" + line.text
                last.lines = (last.lines[0], line.index)
            else:
                blocks.append(Removed(line.text, kind, self.rules.get(line.index, ""), (line.index, line.index)))
        return blocks


def segment(text: str, title_hint: str | None = None, url: str | None = None,
            site_lines: Mapping[int, int] = NO_LINES) -> Segmentation:
    """`site_lines`: the lines the page's site repeats on other pages (`SiteRepeats.lines_for`: the
    hash of a line's match form, `siterepeats.key_hash`, to the number of the site's pages holding
    it); body lines among them are removed as the site's furniture."""
    lines = [line for i, raw in enumerate(text.split("\n")) if (line := read_line(i, raw))]
    grades = _grade(lines)
    seg = Segmentation(lines=lines, labels={}, rules={})
    _find_title(seg, grades, title_hint)
    _smooth(lines, grades)
    for line, grade in zip(lines, grades):
        if line.index in seg.labels:
            continue
        if grade == GOOD:
            seg.labels[line.index] = "body"
        elif line.pattern:
            seg.labels[line.index], seg.rules[line.index] = line.pattern, line.pattern_rule
    _close_trailing_blocks(lines, seg.labels, seg.rules)
    _end_at_signature(seg)
    _drop_repeated_paragraphs(lines, seg.labels, seg.rules)
    _drop_trailing_furniture(seg)
    _keep_main_article(seg)
    _drop_forum_posts(seg)
    _drop_listing_page(seg, url)
    _drop_site_furniture(seg, site_lines)
    _label_leftovers(seg)
    seg.body = [line for line in lines if seg.labels[line.index] == "body"]
    return seg


def _is_good(line: Line) -> bool:
    if line.words >= 40:
        return line.density >= 0.05
    if line.words >= 12:
        if line.ends_sentence:
            return line.density >= 0.08
        return line.density >= (0.12 if line.words >= 20 else 0.22)
    if line.words >= 6:
        return line.density >= 0.2 and line.ends_sentence
    return False


def _grade(lines: list[Line]) -> list[str]:
    grades = []
    for previous, line in zip([None, *lines], lines):
        if (previous is not None and previous.pattern == "caption" and previous.words <= 2
                and not line.pattern and not line.ends_sentence and line.words <= 25):
            # "(صورة)" on its own line announces that the next line is the photo's caption
            line.pattern, line.pattern_rule = "caption", "caption under a photo marker"
        if line.pattern:
            grades.append(BAD)
        elif _is_good(line):
            grades.append(GOOD)
        elif line.words <= 3 or is_bullet(line.text):
            grades.append(SHORT)
        else:
            grades.append(NEAR)
    return grades


def _smooth(lines: list[Line], grades: list[str]) -> None:
    """Near and short lines join the body only when the body surrounds them.

    Left to right, so a line promoted to the body counts as body for the lines after it."""
    _promote(grades, (SHORT, NEAR), lambda i, before, after: grades[i] == NEAR and (
        (before == GOOD and after == GOOD)
        or (GOOD in (before, after) and not (not lines[i].ends_sentence and lines[i].density < 0.1))))
    _promote(grades, (SHORT,), lambda i, before, after: grades[i] == SHORT and lines[i].words >= 2
             and not is_bullet(lines[i].text) and before == GOOD and after == GOOD)


def _promote(grades: list[str], skip: tuple[str, ...], rule) -> None:
    """Set grades[i] to GOOD where `rule(i, before, after)` holds; `before`/`after` are the nearest
    grades on each side that are not in `skip` (None at the page's edges). Linear time."""
    after: list[str | None] = [None] * len(grades)
    following = None
    for i in range(len(grades) - 1, -1, -1):
        after[i] = following
        if grades[i] not in skip:
            following = grades[i]
    before = None
    for i in range(len(grades)):
        if rule(i, before, after[i]):
            grades[i] = GOOD
        if grades[i] not in skip:
            before = grades[i]


def _close_trailing_blocks(lines: list[Line], labels: dict[int, str], rules: dict[int, str]) -> None:
    """A related-news or comments heading after the article started removes what follows it.

    A comments block runs to the end of the page; a related block ends where two prose lines in a
    row show the article going on (some sites put "read also" links mid-article)."""
    started = False
    block: str | None = None
    prose_run = 0
    for line in lines:
        label = labels.get(line.index)
        heading = heading_kind(line.key) if line.words <= 6 else None
        if heading and started:
            block, prose_run = heading, 0
            labels[line.index], rules[line.index] = heading, f"{heading} heading"
            continue
        if label == "body":
            started = True
        if block is None:
            continue
        if block == "related" and label == "body" and line.ends_sentence and line.words >= 12:
            prose_run += 1
            if prose_run >= 2:
                block = None
                continue
        else:
            prose_run = 0
        labels[line.index] = block
        rules[line.index] = f"inside {block} block"
    _reopen_related_prose(lines, labels, rules)


def _end_at_signature(seg: Segmentation) -> None:
    """The editors' initials and the agencies ("م . أ . م / أ . ح ( أ ف ب )"), which some sites put right
    after the last paragraph, end the article: what follows is a photo gallery or another item."""
    ended = started = False
    for line in seg.lines:
        if seg.labels.get(line.index) != "body":
            continue
        if ended:
            seg.labels[line.index], seg.rules[line.index] = "other", "after the credit that ends the article"
        elif started and starts_with_signature(line.text):
            ended = True
            seg.labels[line.index], seg.rules[line.index] = "credit", "editors' initials and agency credit"
        started = True


def _reopen_related_prose(lines: list[Line], labels: dict[int, str], rules: dict[int, str]) -> None:
    """The first prose line that ended a related block belongs to the article, not to the block."""
    for previous, line in zip(lines, lines[1:]):
        if (
            labels.get(previous.index) == "related"
            and rules.get(previous.index) == "inside related block"
            and labels.get(line.index) == "body"
            and previous.ends_sentence
            and previous.words >= 12
        ):
            labels[previous.index] = "body"
            rules.pop(previous.index, None)


def _drop_repeated_paragraphs(lines: list[Line], labels: dict[int, str], rules: dict[int, str]) -> None:
    """Pages that show the article twice (print view, AMP copy) keep the first copy only."""
    seen: set[str] = set()
    for line in lines:
        if labels.get(line.index) != "body":
            continue
        if line.key in seen and line.words >= 6:
            labels[line.index], rules[line.index] = "other", "repeated copy of an earlier paragraph"
        seen.add(line.key)


def _drop_trailing_furniture(seg: Segmentation) -> None:
    """Long run-together footer lines (comment forms, follow-us bars, disclaimers) end many pages."""
    body = [line for line in seg.lines if seg.labels.get(line.index) == "body"]
    for line in reversed(body):
        if furniture_score(line.key) >= 2:
            seg.labels[line.index], seg.rules[line.index] = "other", "page furniture after the article"
        else:
            break


def _drop_listing_page(seg: Segmentation, url: str | None) -> None:
    headline = seg.title
    if headline is None and seg.lines:
        headline = " ".join(seg.lines[0].text.split()[:15])
    reason = listing_reason(url) or digest_reason(headline, url)
    if reason is None:
        return
    for line in seg.lines:
        if seg.labels.get(line.index) == "body":
            seg.labels[line.index], seg.rules[line.index] = "other", f"listing page by its address ({reason})"


def _drop_site_furniture(seg: Segmentation, site_lines: Mapping[int, int]) -> None:
    """Body lines the site repeats on other pages go, unless they hold a date: an agency's dateline
    ("الرياض 26 شوال 1436 هـ الموافق 11 أغسطس 2015 م واس") stands on every story it filed that day, and
    it is the article's (its date and its source)."""
    if not site_lines:
        return
    for line in seg.lines:
        if seg.labels.get(line.index) != "body":
            continue
        pages = site_lines.get(key_hash(line.key))
        if pages and find_date(line.key) is None:
            seg.labels[line.index] = "other"
            seg.rules[line.index] = (f"repeated on {pages} pages of this site ({MIN_PAGES} or more): the site's, "
                                     "not the article's")


def _drop_forum_posts(seg: Segmentation) -> None:
    """Forum and profile pages (their chrome names posts, members, sign-in) hold user posts, not news."""
    if not is_forum_page([line.key for line in seg.lines[:5]]):
        return
    for line in seg.lines:
        if seg.labels.get(line.index) == "body":
            seg.labels[line.index], seg.rules[line.index] = "comments", "forum page: user posts, not an article"


def _keep_main_article(seg: Segmentation) -> None:
    body = [line for line in seg.lines if seg.labels.get(line.index) == "body"]
    title = next((line for line in seg.lines if line.index == seg.title_line), None)
    breaks = set()
    position = {line.index: n for n, line in enumerate(seg.lines)}
    for n, line in enumerate(body[1:], start=1):
        between = seg.lines[position[body[n - 1].index] + 1: position[line.index]]
        if any(_title_shaped(other) and seg.labels.get(other.index) != "repeated_title" for other in between):
            breaks.add(n)
        if has_item_boundary(body[n - 1].key) or match_dateline(line.text):
            breaks.add(n)
    truncated = sum(has_truncation(line.key) for line in body)
    many = len(body) >= 5
    if many and truncated >= TEASER_LIST_SHARE * len(body):
        keep, rule = set(), "a list of teasers cut short, no single article"
    else:
        keep, rule = select_article(body, title, breaks, many and truncated >= TEASER_SHARE * len(body))
    for line in body:
        if line.index not in keep:
            seg.labels[line.index], seg.rules[line.index] = "other", rule


def _find_title(seg: Segmentation, grades: list[str], title_hint: str | None) -> None:
    """Pick the headline before grading spreads: a title must never be swallowed into the body."""
    lines = seg.lines
    counts = Counter(line.key for line in lines if line.words >= 3)
    candidate: Line | None = None
    if title_hint:
        hint = normalize_for_match(title_hint)
        hint_words = len(hint.split())
        candidate = next(
            (line for line in lines if line.key == hint or (hint and hint in line.key and line.words <= hint_words + 6)),
            None,
        )
        seg.title_rule = "line matching the page's declared title"
    if candidate is None:
        candidate, seg.title_rule = _title_before(lines, grades, counts)
    if candidate is None:
        return
    seg.title_line = candidate.index
    for i, line in enumerate(lines):
        if line.key == candidate.key:
            title = line.index == candidate.index
            seg.labels[line.index] = "title" if title else "repeated_title"
            seg.rules[line.index] = seg.title_rule if title else "copy of the title"
            grades[i] = BAD


def _title_before(lines: list[Line], grades: list[str], counts: Counter) -> tuple[Line | None, str]:
    """The headline: the nearest title-shaped line before the body, preferring one the page repeats."""
    first_body = next(
        (i for i, (line, grade) in enumerate(zip(lines, grades)) if grade == GOOD and counts[line.key] < 2),
        None,
    )
    end = first_body if first_body is not None else len(lines)
    window = [line for line in lines[:end] if _title_shaped(line)]
    repeated = [line for line in window if counts[line.key] >= 2]
    if repeated:
        key = repeated[-1].key if first_body is not None else repeated[0].key
        return next(line for line in lines if line.key == key), "repeated headline before the body"
    if first_body is not None:
        near = [line for line in window if line.index >= lines[max(0, first_body - 4)].index]
        if near:
            return near[-1], "headline-shaped line just before the body"
    return None, ""


def _title_shaped(line: Line) -> bool:
    return (
        line.pattern is None
        and 3 <= line.words <= 30
        and not is_bullet(line.text)
        and not line.text.rstrip().endswith((".", ":", "؟", "?", "!"))
    )


SITE_NAME_RULE = "site name at the top or end of the page or beside the title"


def _site_name_shaped(line: Line) -> bool:
    return 1 <= line.words <= 3 and not line.ends_sentence and not is_bullet(line.text) and line.pattern is None


def _label_leftovers(seg: Segmentation) -> None:
    """Lines no rule claimed get a kind from where they stand."""
    lines, labels, rules = seg.lines, seg.labels, seg.rules
    body_indexes = [line.index for line in lines if labels.get(line.index) == "body"]
    first_body = body_indexes[0] if body_indexes else None
    last_body = body_indexes[-1] if body_indexes else None
    previous: Line | None = None
    for line in lines:
        if line.index in labels:
            previous = line
            continue
        kind, rule = "other", "outside the article"
        after_role = previous is not None and rules.get(previous.index) == "masthead role"
        after_header = previous is not None and labels.get(previous.index) in ("title", "repeated_title", "masthead")
        if after_role and line.words <= 4:
            kind, rule = "masthead", "name under a masthead role"
        elif _site_name_shaped(line) and (
            after_header or line.index <= lines[min(2, len(lines) - 1)].index or line.index >= lines[-3].index
        ):
            kind, rule = "masthead", SITE_NAME_RULE
        elif is_bullet(line.text) or line.words <= 3:
            kind, rule = "menu", "short navigation line"
        elif last_body is not None and line.index > last_body and not line.ends_sentence:
            kind, rule = "related", "headline list after the article"
        elif first_body is not None and line.index < first_body and line.words <= 12:
            kind, rule = "menu", "headline or link before the article"
        labels[line.index], rules[line.index] = kind, rule
        previous = line
