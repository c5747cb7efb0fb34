"""The REST API under /api/v1: thin routes over the library; see `tabayyun.web.app` for the pool,
the write token and errors. Reads live here; ingest in `api_ingest.py`, claims and exports in
`api_check.py`, the request and response shapes in `api_models.py`."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request

from tabayyun.web.api_models import (DocumentOut, DocumentPage, DuplicateGroup, EntityOut, Health, JobOut,
                                     QuoteOut, ReliabilityIn, SearchOut, SiteOut, SourceOut, StoryDetail, StoryOut,
                                     TimelineOut, TopicOut, errors)
from tabayyun.web.app import API_PREFIX, WorkspaceStorage, WriteAccess

router = APIRouter(prefix=API_PREFIX, tags=["api"], responses=errors(422))

# Bounds keep every number inside what SQLite and the search pool accept.
MAX_OFFSET = 1_000_000
MAX_STORY_ID = 2**31
StoryId = Path(ge=0, le=MAX_STORY_ID, description="A story id, as /stories lists them.")


def routers() -> list[APIRouter]:
    """Every router of the API, for `create_app`."""
    from tabayyun.web import api_check, api_ingest

    return [router, api_ingest.router, api_ingest.upkeep_router, api_check.router]


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


@router.get("/health", response_model=Health)
def health(storage: WorkspaceStorage) -> dict:
    """The server is up; the workspace's schema version and number of documents."""
    return {"status": "ok", "documents": storage.count(), "schema_version": storage.schema_version}


@router.get("/jobs/{job_id}", response_model=JobOut, responses=errors(404))
def get_job(request: Request, job_id: str) -> dict:
    """A background job (ingest or claim check): its state (queued, running, done, failed), progress
    {done, total, ...} and, once done, its result. The server keeps the last 200 jobs in memory."""
    job = request.app.state.jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"no job {job_id!r} (jobs are kept in memory: a restarted server forgets them)")
    return job.to_dict()


@router.get("/documents", response_model=DocumentPage)
def list_documents(storage: WorkspaceStorage,
                   limit: int = Query(50, ge=1, le=500, description="Page size."),
                   offset: int = Query(0, ge=0, le=MAX_OFFSET, description="Skip this many."),
                   outlet: str | None = Query(None, description="Only this outlet."),
                   since: date | None = Query(None, description="Published on or after this day."),
                   until: date | None = Query(None, description="Published on or before this day.")) -> dict:
    """The workspace's documents, newest publication first, with the total matching the filters."""
    filters = {"outlet": outlet or None, "since": _day(since), "until": _day(until)}
    return {"total": storage.count_documents(**filters), "limit": limit, "offset": offset,
            "items": storage.list(limit=limit, offset=offset, **filters)}


@router.get("/documents/{doc_id}", response_model=DocumentOut, responses=errors(404))
def get_document(storage: WorkspaceStorage, doc_id: str,
                 raw: bool = Query(False, description="Include the raw input as `text`.")) -> dict:
    """One document with its analysis (entities, quotes, citations, dates, removed boilerplate), the
    story it belongs to and its near-duplicates. `doc_id` may be a unique prefix."""
    doc = storage.get(doc_id) if doc_id.strip() else None
    if doc is None:
        raise HTTPException(404, f"no document {doc_id!r}")
    return {**doc.to_dict(include_text=raw), "story": storage.story_of(doc.id),
            "duplicates": storage.duplicates_of(doc.id)}


@router.get("/search", response_model=SearchOut)
def search(storage: WorkspaceStorage,
           q: str = Query(..., min_length=1, max_length=1000, description="Words or a sentence."),
           k: int = Query(20, ge=1, le=100, description="Hits per page."),
           offset: int = Query(0, ge=0, le=1000, description="Skip this many hits."),
           outlet: str | None = None, since: date | None = None, until: date | None = None,
           entity: str | None = Query(None, description="Only documents naming this entity (canonical name)."),
           story: int | None = Query(None, ge=0, le=MAX_STORY_ID, description="Only documents of this story."),
           embeddings: bool = Query(True, description="Add semantic similarity when the embedder is available.")
           ) -> dict:
    """Hybrid search (full text and meaning) with facets (outlet, year, entity, story). Each hit's
    `snippet` is plain text (escape it) with `marks`: [start, end) offsets of the matched words."""
    from tabayyun.search.facets import faceted_search

    found = faceted_search(storage, q, k=k, embeddings=embeddings, offset=offset, outlet=outlet or None,
                           since=_day(since), until=_day(until), entity=entity or None, story=story)
    data = found.to_dict()
    for hit_dict, hit in zip(data["hits"], found.result.hits):
        hit_dict["marks"] = [list(mark) for mark in hit.marks]
    return data


@router.get("/entities", response_model=list[EntityOut])
def entities(storage: WorkspaceStorage,
             type: Literal["PER", "ORG", "LOC", "MISC"] | None = Query(None, description="Entity type."),
             q: str | None = Query(None, description="Only entities whose name or an alias contains this."),
             limit: int = Query(50, ge=1, le=500)) -> list[dict]:
    """Entities across the workspace, most mentioned first: canonical name, type, aliases, roles and
    how many documents name them."""
    from tabayyun.arabic.normalize import normalize_for_match
    from tabayyun.understand.entities import group_mentions

    groups = group_mentions(storage.entity_mentions(type))
    wanted = normalize_for_match(q) if q else ""
    if wanted:
        groups = [g for g in groups if any(wanted in normalize_for_match(name)
                                           for name in [g["canonical"], *g["aliases"]])]
    return groups[:limit]


@router.get("/quotes", response_model=list[QuoteOut])
def quotes(storage: WorkspaceStorage,
           speaker: str | None = Query(None, description="Speaker (or canonical speaker) contains this."),
           cue_class: str | None = Query(None, description="assert, deny, confirm, report, refuse_comment or warn."),
           limit: int = Query(100, ge=1, le=500)) -> list[dict]:
    """Quotes across the workspace (who said what, through which verb), newest document first."""
    return storage.quotes(speaker=speaker or None, cue_class=cue_class or None, limit=limit)


@router.get("/stories", response_model=list[StoryOut])
def stories(storage: WorkspaceStorage,
            entity: str | None = Query(None, description="Only stories whose documents name this entity."),
            since: date | None = Query(None, description="Only stories still running on or after this day."),
            limit: int = Query(100, ge=1, le=1000, description="At most this many, the latest first.")
            ) -> list[dict]:
    """Stories (events), latest first: label, date span, size, top entities and outlets."""
    from tabayyun.connect.stories import list_stories

    storage.cluster_missing()
    return list_stories(storage, entity=entity or None, since=_day(since), limit=limit)


@router.get("/stories/{story_id}", response_model=StoryDetail, responses=errors(404))
def get_story(storage: WorkspaceStorage, story_id: int = StoryId,
              passages: bool = Query(False, description="Also the passages its documents share, with offsets.")
              ) -> dict:
    """One story with its documents by date, each with the scores it joined with."""
    from tabayyun.connect.stories import get_story as find_story

    storage.cluster_missing()
    found = find_story(storage, story_id, passages=passages)
    if found is None:
        raise HTTPException(404, f"no story {story_id}")
    return found


@router.get("/topics", response_model=list[TopicOut])
def topics(storage: WorkspaceStorage,
           min_stories: int = Query(1, ge=1, le=1000, description="Only topics of at least this many stories.")
           ) -> list[dict]:
    """Topics: stories on one long-running subject grouped, largest first; each link between two
    stories with its similarity scores and shared entities."""
    from tabayyun.connect.topics import list_topics

    return list_topics(storage, min_stories=min_stories)


@router.get("/timeline", response_model=TimelineOut, responses=errors(404))
def timeline(storage: WorkspaceStorage,
             story: int | None = Query(None, ge=0, le=MAX_STORY_ID),
             topic: int | None = Query(None, ge=0, le=MAX_STORY_ID),
             entity: str | None = Query(None, min_length=1, max_length=200),
             claim: str | None = Query(None, min_length=1, max_length=2000),
             embeddings: bool = Query(False, description="Semantic retrieval for a claim's documents.")) -> dict:
    """The dated events of a story, of a topic, of the documents naming an entity, or of the documents
    about a claim (with each document's stance). Give exactly one of story, topic, entity and claim."""
    from tabayyun.connect.timeline import select_timeline

    if sum(value is not None for value in (story, topic, entity, claim)) != 1:
        raise HTTPException(422, "give exactly one of story, topic, entity or claim")
    events = select_timeline(storage, story=story, entity=entity, claim=claim, embeddings=embeddings, topic=topic)
    if events is None:
        raise HTTPException(404, f"no topic {topic}" if topic is not None else f"no story {story}")
    return {"story": story, "topic": topic, "entity": entity, "claim": claim,
            "events": [event.to_dict() for event in events]}


@router.get("/duplicates", response_model=list[DuplicateGroup])
def duplicates(storage: WorkspaceStorage,
               passages: bool = Query(False, description="List each pair's shared passages with offsets.")
               ) -> list[dict]:
    """Groups of near-duplicate documents, largest first, with who published first and who credited
    whom (syndication)."""
    from tabayyun.connect.duplicates import duplicate_groups

    storage.sign_missing()
    return duplicate_groups(storage, passages=passages)


@router.get("/sites", response_model=list[SiteOut])
def sites(storage: WorkspaceStorage) -> list[dict]:
    """The sites whose pages the workspace has counted: pages counted, and how many lines each repeats
    on 3 or more of them (removed from its pages as the site's furniture)."""
    from tabayyun.clean.siterepeats import MIN_PAGES

    return [{"host": host, "pages": pages, "repeated_lines": lines}
            for host, pages, lines in storage.site_summaries(MIN_PAGES)]


@router.get("/sources", response_model=list[SourceOut])
def sources(storage: WorkspaceStorage) -> list[dict]:
    """The outlets of the workspace and how far each is trusted when claims are checked."""
    from tabayyun.verdict import source_rows

    return source_rows(storage)


@router.put("/sources/{outlet}", response_model=SourceOut, dependencies=[WriteAccess],
            responses=errors(400, 401, 413))
def set_source(storage: WorkspaceStorage, body: ReliabilityIn,
               outlet: str = Path(min_length=1, max_length=200)) -> dict:
    """Set how far an outlet is trusted (0 to 1), with a note saying why. Needs the token when set."""
    if not outlet.strip():
        raise HTTPException(422, "the outlet name is empty")
    from tabayyun.verdict import source_rows

    storage.set_reliability(outlet.strip(), body.reliability, body.note)
    return next(row for row in source_rows(storage) if row["outlet"] == outlet.strip())
