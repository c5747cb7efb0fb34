"""The shapes of the REST API's requests and responses, for validation and the OpenAPI schema.

Response models name the fields clients rely on and let the library's other keys through
(`extra="allow"`), so a new key in an analysis reaches clients without a change here.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorDetail(BaseModel):
    status: int
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    """Every error: {"error": {"status", "message", "details"?}}."""

    error: ErrorDetail


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, all with the one error body."""
    return {status: {"model": ErrorBody} for status in statuses}


def json_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The same for routes answering HTML or a file, whose errors are still JSON (with `model`, FastAPI
    would document them in the route's own media type)."""
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    return {status: {"description": "An error.", "content": content} for status in statuses}


class Health(Open):
    status: str
    documents: int
    schema_version: int


class JobOut(Open):
    id: str
    kind: str
    state: Literal["queued", "running", "done", "failed"]
    progress: dict[str, Any]
    result: Any = None
    error: str | None = None
    created: str
    started: str | None = None
    finished: str | None = None


class JobAccepted(Open):
    job: JobOut
    status_url: str


class FailureOut(Open):
    source: str
    message: str


class IngestReportOut(Open):
    stored: int
    duplicates: int
    failed: int
    failures: list[FailureOut]
    sites_grown: list[str] = Field([], description="Sites that now repeat lines their earlier pages still hold "
                                                   "(POST /reprocess?site= cleans those again).")


class ReprocessReportOut(Open):
    seen: int
    changed: int
    unchanged: int
    failed: int
    failures: list[FailureOut]


class UpkeepRunOut(Open):
    task: str
    options: dict[str, Any]
    done_through: str | None
    started_at: str
    updated_at: str


class UnfinishedOut(Open):
    unfinished: UpkeepRunOut | None


class SiteOut(Open):
    host: str
    pages: int
    repeated_lines: int


class RecordIn(BaseModel):
    """One article as JSON: `text` (plain) or `html`, with what is known about it."""

    text: str | None = None
    html: str | None = None
    url: str | None = None
    title: str | None = None
    published: str | None = None
    outlet: str | None = None

    @model_validator(mode="after")
    def _has_content(self) -> RecordIn:
        if not ((self.text or "").strip() or (self.html or "").strip()):
            raise ValueError("a record needs a non-empty 'text' or 'html'")
        return self


class UrlsIn(BaseModel):
    urls: list[str] = Field(min_length=1, max_length=500)

    @field_validator("urls")
    @classmethod
    def _http_only(cls, urls: list[str]) -> list[str]:
        bad = [u for u in urls if not u.strip().lower().startswith(("http://", "https://"))]
        if bad:
            raise ValueError(f"only http(s) URLs can be fetched: {bad[0][:100]!r}")
        return [u.strip() for u in urls]


class DocumentSummary(Open):
    id: str
    title: str | None = None
    outlet: str | None = None
    published: str | None = None


class DocumentPage(Open):
    total: int
    limit: int
    offset: int
    items: list[DocumentSummary]


class DocumentOut(Open):
    id: str
    title: str | None = None
    outlet: str | None = None
    published: str | None = None
    paragraphs: list[str]
    story: int | None = None
    duplicates: list[str]


class SearchHit(Open):
    id: str
    title: str | None = None
    outlet: str | None = None
    published: str | None = None
    score: float
    snippet: str
    marks: list[tuple[int, int]]


class FacetValue(Open):
    value: str
    count: int


class SearchOut(Open):
    query: str
    mode: str
    note: str | None = None
    hits: list[SearchHit]
    total: int
    filters: dict[str, Any]
    facets: dict[str, list[FacetValue]]


class EntityOut(Open):
    canonical: str
    type: str
    aliases: list[str]
    roles: list[str]
    documents: int
    mentions: int


class QuoteOut(Open):
    doc_id: str
    speaker: str | None = None
    cue: str
    cue_class: str
    content: str
    direct: bool


class StoryOut(Open):
    id: int
    label: str | None = None
    first: str | None = None
    last: str | None = None
    size: int
    entities: list[str]
    outlets: list[str]


class StoryDetail(StoryOut):
    documents: list[dict[str, Any]]


class TopicStory(Open):
    id: int
    label: str | None = None
    first: str | None = None
    last: str | None = None
    size: int


class TopicOut(Open):
    id: int
    label: str | None = None
    first: str | None = None
    last: str | None = None
    size: int
    stories: list[TopicStory]
    links: list[dict[str, Any]]


class TimelineEvent(Open):
    date: str | None = None
    doc_id: str
    outlet: str | None = None
    kind: str
    gist: str


class TimelineOut(Open):
    story: int | None = None
    topic: int | None = None
    entity: str | None = None
    claim: str | None = None
    events: list[TimelineEvent]


class DuplicateGroup(Open):
    documents: list[dict[str, Any]]
    pairs: list[dict[str, Any]]


class SourceOut(Open):
    outlet: str
    documents: int
    reliability: float
    set_by: Literal["user", "default"]
    note: str | None = None


class ReliabilityIn(BaseModel):
    reliability: float = Field(ge=0, le=1, description="How far the outlet is trusted, 0 (not at all) to 1.")
    note: str | None = Field(None, max_length=2000, description="Why (kept with the value).")


class CheckIn(BaseModel):
    claim: str = Field(min_length=1, max_length=2000, description="The claim to check, in Arabic (or English).")
    as_of: date | None = Field(None, description="Judge with what was published by this day only.")
    top: int = Field(20, ge=1, le=100, description="How many documents to retrieve and judge.")
    embeddings: bool = Field(True, description="Use semantic retrieval when the embedder is available.")
    mode: Literal["auto", "sync", "job"] = Field(
        "auto", description="sync: answer now; job: 202 with a job to poll; auto: sync for small workspaces.")

    @field_validator("claim")
    @classmethod
    def _not_blank(cls, claim: str) -> str:
        if not claim.strip():
            raise ValueError("the claim is empty")
        return claim.strip()


class CheckOut(Open):
    claim: str
    as_of: str | None = None
    verdict: dict[str, Any]
    documents: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    retrieval: dict[str, Any]
