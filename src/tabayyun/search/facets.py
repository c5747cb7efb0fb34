"""Search with facets: the hits of a hybrid search narrowed by outlet, date range, entity and story,
with the count of each facet value among the hits before narrowing (so a user sees what else there is).

    found = faceted_search(storage, "انسحاب القوات", outlet="رويترز", since="2024-01-01")
    found.result.hits, found.facets["outlet"]   # [(value, count), ...] most frequent first
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from tabayyun.search.hybrid import SearchResult, rank

FACETS = ("outlet", "year", "entity", "story")
# Facets are counted over a wider pool than the page shown, so narrowing finds more than the first page.
POOL = 100


@dataclass
class Filters:
    outlet: str | None = None
    since: str | None = None
    until: str | None = None
    entity: str | None = None
    story: int | None = None

    def active(self) -> dict:
        return {k: v for k, v in vars(self).items() if v not in (None, "")}

    def admits(self, values: dict) -> bool:
        published = (values.get("published") or "")[:10]
        if self.outlet and values.get("outlet") != self.outlet:
            return False
        if self.since and (not published or published < self.since):
            return False
        if self.until and (not published or published > self.until):
            return False
        if self.entity and self.entity not in {name for name, _ in values.get("entities", [])}:
            return False
        return not (self.story is not None and values.get("story") != self.story)


@dataclass
class FacetedResult:
    result: SearchResult
    filters: Filters
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    total: int = 0  # hits in the pool that pass the filters

    def to_dict(self) -> dict:
        return {**self.result.to_dict(), "filters": self.filters.active(), "total": self.total,
                "facets": {name: [{"value": v, "count": c} for v, c in values] for name, values in self.facets.items()}}


def count_facets(values: list[dict], top: int = 10) -> dict[str, list[tuple[str, int]]]:
    counts: dict[str, Counter] = {name: Counter() for name in FACETS}
    for item in values:
        if item.get("outlet"):
            counts["outlet"][item["outlet"]] += 1
        if item.get("published"):
            counts["year"][item["published"][:4]] += 1
        if item.get("story") is not None:
            counts["story"][str(item["story"])] += 1
        for name in {name for name, _ in item.get("entities", [])}:
            counts["entity"][name] += 1
    return {name: counter.most_common(top) for name, counter in counts.items()}


def faceted_search(storage, query: str, k: int = 20, embeddings=True, offset: int = 0,
                   filters: Filters | None = None, **narrowing) -> FacetedResult:
    """The hits for `query` passing `filters` (or the same as keywords), `offset`..`offset + k`."""
    filters = filters or Filters(**narrowing)
    ranking = rank(storage, query, k=max(POOL, offset + k), embeddings=embeddings)
    values = storage.facet_values([doc_id for doc_id, _ in ranking.fused])
    pool = [values.get(doc_id, {}) for doc_id, _ in ranking.fused]
    kept = [ranked for ranked, value in zip(ranking.fused, pool) if filters.admits(value)]
    # Snippets cost most of a search: only the page shown gets them, not the whole pool.
    return FacetedResult(ranking.to_result(storage, kept[offset:offset + k]), filters, count_facets(pool), len(kept))
