"""Reading pages of the workbench: the article view, stories and entities."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from tabayyun.model import Document
from tabayyun.web.app import WorkspaceStorage
from tabayyun.web.highlight import highlighted_document, safe_link_url
from tabayyun.web.i18n import translate_or
from tabayyun.web.pages_base import page_language, render, timeline_chart

router = APIRouter(include_in_schema=False)

# Shared passages are computed per pair when the page is shown: a few copies, a few passages each.
MAX_DUPLICATES = 10
MAX_PASSAGES = 5
EVIDENCE_FIELDS = ("title", "outlet", "published", "language")
# The stories page summarizes the newest ones only (each summary reads its documents and entities).
STORIES_SHOWN = 200


def _metadata_evidence(doc: Document) -> list[dict]:
    rows = []
    for name in EVIDENCE_FIELDS:
        evidence = getattr(doc, f"{name}_evidence")
        rows.append({"field": name, "value": getattr(doc, name), "evidence": evidence})
    return rows


def _duplicates(storage, doc: Document) -> list[dict]:
    """The stored near-duplicates of `doc` with the passages they share with it."""
    from tabayyun.connect.passages import shared_passages

    entries = []
    for other_id in storage.duplicates_of(doc.id)[:MAX_DUPLICATES]:
        other = storage.get(other_id)
        if other is None:
            continue
        passages = shared_passages(doc, other)[:MAX_PASSAGES]
        entries.append({"id": other.id, "title": other.title, "outlet": other.outlet,
                        "published": other.published, "passages": [p.to_dict() for p in passages]})
    return entries


def _story_of(storage, doc_id: str) -> dict | None:
    story_id = storage.facet_values([doc_id]).get(doc_id, {}).get("story")
    if story_id is None:
        return None
    rows = storage.story_rows(story_id)
    return rows[0] if rows else None


@router.get("/documents/{doc_id}", response_class=HTMLResponse)
def document_page(request: Request, doc_id: str, storage: WorkspaceStorage) -> HTMLResponse:
    doc = storage.get(doc_id)
    if doc is None:
        raise HTTPException(404, "no document with this id")
    lang = page_language(request)
    title, paragraphs = highlighted_document(doc, lambda key, fallback: translate_or(key, lang, fallback))
    storage.sign_missing()
    return render(request, "document.html", doc=doc, title_html=title, paragraphs=paragraphs,
                  url_link=safe_link_url(doc.url), evidence=_metadata_evidence(doc),
                  duplicates=_duplicates(storage, doc), story=_story_of(storage, doc.id))


@router.get("/stories", response_class=HTMLResponse)
def stories_page(request: Request, storage: WorkspaceStorage) -> HTMLResponse:
    from tabayyun.connect.stories import list_stories

    storage.cluster_missing()
    return render(request, "stories.html", stories=list_stories(storage, limit=STORIES_SHOWN),
                  total=storage.workspace_counts()["stories"])


@router.get("/stories/{story_id}", response_class=HTMLResponse)
def story_page(request: Request, story_id: int, storage: WorkspaceStorage) -> HTMLResponse:
    from tabayyun.connect.stories import get_story
    from tabayyun.connect.timeline import select_timeline

    storage.cluster_missing()
    story = get_story(storage, story_id, passages=True)
    if story is None:
        raise HTTPException(404, "no story with this id")
    events = [event.to_dict() for event in select_timeline(storage, story=story_id) or []]
    return render(request, "story.html", story=story, events=events,
                  chart=timeline_chart(events, page_language(request)))


def _entity_profile(storage, name: str) -> dict | None:
    mentions = storage.entity_mentions_of(name)
    if not mentions:
        return None
    counts = Counter(m["doc_id"] for m in mentions)
    summaries = storage.summaries(list(counts))
    documents = [{"id": doc_id, "mentions": count, **summaries.get(doc_id, {})} for doc_id, count in counts.items()]
    documents.sort(key=lambda d: d.get("published") or "", reverse=True)
    return {
        "name": name,
        "type": Counter(m["type"] for m in mentions).most_common(1)[0][0],
        "aliases": sorted({m["text"] for m in mentions} - {name}),
        "roles": sorted({m["role"] for m in mentions if m["role"]}),
        "documents": documents,
    }


@router.get("/entities/{name:path}", response_class=HTMLResponse)
def entity_page(request: Request, name: str, storage: WorkspaceStorage) -> HTMLResponse:
    from tabayyun.connect.timeline import select_timeline

    profile = _entity_profile(storage, name)
    if profile is None:
        raise HTTPException(404, "no entity with this name")
    events = [event.to_dict() for event in select_timeline(storage, entity=name) or []]
    return render(request, "entity.html", entity=profile, quotes=storage.speaker_quotes(name), events=events,
                  chart=timeline_chart(events, page_language(request)))
