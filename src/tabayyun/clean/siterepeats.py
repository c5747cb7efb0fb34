"""Lines a site repeats across its pages: furniture that one page alone cannot tell from prose.

A "most read" block, a newsletter pitch or a list of teasers is often written in full sentences, so
the line-based segmenter keeps it as body. Across a pile of pages from one site it gives itself
away: the same line stands on many pages whose articles differ, while an article's own paragraphs
stand on its own page (and its exact re-scrapes, which count once). So, per host, count the distinct
pages each long line appears on; a body line found on MIN_PAGES or more is the site's, not the
article's. Copies of a wire story on other sites never count: the count is per host. A workspace
keeps the counts (hashes only, `store.sitestore`), and each ingest adds its pile's pages to them
(`SiteRepeats.merged_with`): a site's furniture is learnt across ingests, not within one pile only.

Measured on the Baly et al. (2018) pages of bench/gold (`python bench/extraction.py`, the
`tabayyun+site` rows), with the counts taken over all 2,429 pages of that corpus: body-line F1
0.915 -> 0.942 on the 169 development pages of the time (precision 0.847 -> 0.894) and 0.906 ->
0.926 on the 48 held-out ones (0.831 -> 0.865), recall unchanged on both; on the 64 pages of the
blind held-out set drawn afterwards (25 November 2026), 0.866 -> 0.878. On SaudiNewsNet (31,030 articles from
some 15 sites; 4.0 s for the counting pass, `ingest.inputs_repeats`) it touches 405 articles
(439 without the MAX_SITE_PAGES cap), none emptied: a series' episode list repeated under each
episode, a columnist's "text us" line; agency datelines repeat too and are kept (see
`flat._drop_site_furniture`).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Mapping
from types import MappingProxyType
from typing import Protocol
from urllib.parse import urlparse

from tabayyun.arabic import normalize_for_match

MIN_PAGES = 3      # 2 cost body lines on the development pages (an article and one copy of it), 3 none
MIN_CHARS = 40     # shorter lines (menus, labels) are the segmenter's own business
# A site's furniture shows on any few hundred of its pages; counting more would only grow memory with
# the pile (a set of line hashes a page: some 2 KB). Pages past this many of one site are not counted.
MAX_SITE_PAGES = 2000
NO_LINES: Mapping[int, int] = MappingProxyType({})   # a page whose site repeats nothing


def site_of(url: str | None) -> str | None:
    """The host a page belongs to ("www." dropped), or None without an address."""
    host = urlparse(url).hostname if url else None
    if not host:
        return None
    return host.removeprefix("www.") or None


def key_hash(key: str) -> int:
    """A line's identity across pages: its match form (`Line.key`), hashed to 64 bits."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")


def _page_lines(text: str) -> frozenset[int]:
    return frozenset(key_hash(normalize_for_match(line)) for line in text.split("\n")
                     if len(line.strip()) >= MIN_CHARS)


def page_hash(lines: frozenset[int]) -> int:
    """A page's identity among its site's pages: the hash of its set of long lines."""
    packed = b"".join(line.to_bytes(8, "little") for line in sorted(lines))
    return int.from_bytes(hashlib.blake2b(packed, digest_size=8).digest(), "little")


class SiteCounts(Protocol):
    """Where a workspace keeps its sites' counted pages (`store.sitestore.SiteStore`)."""

    def add_site_pages(self, host: str, pages: dict[int, frozenset[int]], limit: int, min_pages: int
                       ) -> dict[int, int]: ...

    def site_lines_of(self, host: str, min_pages: int) -> dict[int, int]: ...

    def site_repeated_lines(self, min_pages: int) -> dict[str, dict[int, int]]: ...

    def site_page_counts(self) -> dict[str, int]: ...


class SiteRepeats:
    """Per host, how many distinct pages each long line stands on (identical pages count once)."""

    def __init__(self) -> None:
        self._pages: dict[str, set[frozenset[int]]] = defaultdict(set)
        self._repeated: dict[str, Mapping[int, int]] = {}
        # Sites whose repeated lines grew by this pile while the workspace held pages of them already
        # (`merged_with`): those pages were cleaned without the new lines (`tabayyun reprocess --site`).
        self.grown: list[str] = []

    def add(self, url: str | None, text: str) -> None:
        """Count one page: `text` as the segmenter will see it (flattened, one paragraph a line)."""
        host = site_of(url)
        if host is not None and len(self._pages[host]) < MAX_SITE_PAGES:
            self._pages[host].add(_page_lines(text))
            self._repeated.pop(host, None)

    def lines_for(self, url: str | None) -> Mapping[int, int]:
        """The lines the page's site repeats on MIN_PAGES or more distinct pages: hash -> how many."""
        host = site_of(url)
        return NO_LINES if host is None else self._lines_of(host)

    def _lines_of(self, host: str) -> Mapping[int, int]:
        if host not in self._repeated:
            counts = Counter(h for page in self._pages.get(host, ()) for h in page)
            # A plain dict, never changed once made: the frozen table is pickled to the workers.
            self._repeated[host] = {line: n for line, n in counts.items() if n >= MIN_PAGES}
        return self._repeated[host]

    def merged_with(self, store: SiteCounts) -> SiteRepeats:
        """The repeated lines of this pile's sites counted together with the pages a workspace counted
        in earlier ingests (`store`: `SQLiteStorage.add_site_pages`), frozen as `frozen` is. The
        pile's pages the workspace has not counted are added to it, up to MAX_SITE_PAGES a site; `grown`
        names the sites that had counted pages and now repeat lines they did not before."""
        out = SiteRepeats()
        counted = store.site_page_counts() if self._pages else {}
        for host, pages in self._pages.items():
            before = store.site_lines_of(host, MIN_PAGES) if host in counted else {}
            if lines := store.add_site_pages(host, {page_hash(page): page for page in pages if page},
                                             MAX_SITE_PAGES, MIN_PAGES):
                out._repeated[host] = lines
            if host in counted and lines.keys() - before.keys():
                out.grown.append(host)
        out.grown.sort()
        return out

    def hosts(self) -> set[str]:
        """The sites that repeat some line (in a frozen table: those it holds)."""
        return {host for host in {*self._pages, *self._repeated} if self._lines_of(host)}

    @classmethod
    def counted_in(cls, store: SiteCounts) -> SiteRepeats:
        """Every site's repeated lines as a workspace has counted them, frozen (`tabayyun reprocess`)."""
        out = cls()
        out._repeated = store.site_repeated_lines(MIN_PAGES)
        return out

    def frozen(self) -> SiteRepeats:
        """The repeated lines of the sites that have some (with the number of pages holding each),
        without the pages' line sets: what workers need, small to send them."""
        out = SiteRepeats()
        out._repeated = {host: lines for host in self._pages if (lines := self._lines_of(host))}
        return out
