"""Finding pages of the workbench: search with facets, and the claim page."""

from __future__ import annotations

import math
from collections import Counter
from datetime import date

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from tabayyun.web.app import API_PREFIX, WorkspaceStorage
from tabayyun.web.highlight import mark_snippet, rationale_passages
from tabayyun.web.pages_base import link, page_language, render, timeline_chart

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 10
MAX_QUERY = 1000
STANCES = ("agree", "disagree", "discuss", "unrelated")


def _day_or_none(value: str, name: str) -> str | None:
    """A YYYY-MM-DD date from a form field ('' means none); anything else is refused."""
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        raise HTTPException(400, f"{name} must be a date written YYYY-MM-DD") from None


def _story_id(value: str) -> int | None:
    if not value:
        return None
    if not value.isdigit():
        raise HTTPException(400, "story must be a story number")
    return int(value)


def _checked_text(value: str, name: str) -> str:
    if len(value) > MAX_QUERY:
        raise HTTPException(400, f"{name} is longer than {MAX_QUERY} characters")
    return value.strip()


def _stances(storage, claim: str, doc_ids: list[str]) -> dict[str, str]:
    """The stance of each of these documents to `claim`."""
    from tabayyun.check import assess

    documents = [doc for doc in (storage.get(doc_id) for doc_id in doc_ids) if doc is not None]
    return {item.document.id: item.stance.label for item in assess(claim, documents, storage.reliabilities())}


def _story_labels(storage, facet: list[tuple[str, int]]) -> dict[str, str]:
    labels = {}
    for value, _ in facet:
        rows = storage.story_rows(int(value))
        labels[value] = (rows[0]["label"] if rows else None) or value
    return labels


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, storage: WorkspaceStorage, q: str = "", outlet: str = "", since: str = "",
                until: str = "", entity: str = "", story: str = "", claim: str = "", stance: str = "",
                page: int = Query(1, ge=1, le=1000)) -> HTMLResponse:
    from tabayyun.search.facets import faceted_search

    q, claim = _checked_text(q, "q"), _checked_text(claim, "claim")
    filters = {"outlet": outlet or None, "since": _day_or_none(since, "since"), "until": _day_or_none(until, "until"),
               "entity": entity or None, "story": _story_id(story)}
    context = {"q": q, "claim": claim, "stance": stance if stance in STANCES else "", "filters": filters,
               "active": [key for key, value in filters.items() if value is not None], "page": page,
               "hits": [], "facets": {}, "total": 0, "pages": 0, "stance_facet": [], "story_labels": {}, "note": None}
    query = q or claim
    if query:
        found = faceted_search(storage, query, k=PAGE_SIZE, embeddings=True, offset=(page - 1) * PAGE_SIZE,
                               **filters)
        hits = found.result.hits
        stances = _stances(storage, claim, [hit.doc_id for hit in hits]) if claim else {}
        if context["stance"]:
            hits = [hit for hit in hits if stances.get(hit.doc_id) == context["stance"]]
        context.update(
            hits=[{"id": hit.doc_id, "title": hit.title, "outlet": hit.outlet, "published": hit.published,
                   "snippet": mark_snippet(hit.snippet, hit.marks), "stance": stances.get(hit.doc_id)} for hit in hits],
            facets=found.facets, total=found.total, pages=math.ceil(found.total / PAGE_SIZE),
            stance_facet=Counter(stances.values()).most_common(), note=found.result.note,
            story_labels=_story_labels(storage, found.facets.get("story", [])))
    return render(request, "search.html", **context)


def _groups(result) -> dict[str, list[dict]]:
    """The checked documents by stance, each with its rationale sentences shown in their paragraphs."""
    entries = result.to_dict()["documents"]
    groups: dict[str, list[dict]] = {label: [] for label in STANCES}
    for entry, item in zip(entries, result.assessments):
        entry["passages"] = rationale_passages(item.document, entry.get("rationale", []))
        groups.setdefault(entry["stance"], []).append(entry)
    return groups


@router.get("/claim", response_class=HTMLResponse)
def claim_page(request: Request, storage: WorkspaceStorage, text: str = "", as_of: str = "") -> HTMLResponse:
    from tabayyun.check import check

    text, cutoff = _checked_text(text, "text"), _day_or_none(as_of, "as_of")
    context: dict = {"claim": text, "as_of": cutoff or "", "result": None}
    if text:
        result = check(storage, text, as_of=cutoff, embeddings=True)
        data = result.to_dict()
        sources = data["verdict"].get("sources", {})
        context.update(
            result=data, groups=_groups(result), independent=sum(sources.values()),
            chart=timeline_chart(data["timeline"], page_language(request), as_of=cutoff),
            claimreview_url=link(f"{API_PREFIX}/claimreview", claim=text, as_of=cutoff),
            report_url=link(f"{API_PREFIX}/report", claim=text, as_of=cutoff),
            search_url=link("/search", q=text, claim=text))
    return render(request, "claim.html", **context)
