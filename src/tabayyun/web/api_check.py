"""Claim routes of the REST API: the check itself (answered at once for small workspaces, a job with
progress for large ones) and the exports: documents as JSON Lines / CSV / Parquet, a claim as
ClaimReview JSON-LD or as a self-contained HTML report."""

from __future__ import annotations

import tempfile
from datetime import date
from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from starlette.background import BackgroundTask

from tabayyun.web.api_models import CheckIn, CheckOut, JobAccepted, errors, json_errors
from tabayyun.web.app import API_PREFIX, WorkspaceStorage
from tabayyun.web.jobs import Job

router = APIRouter(prefix=API_PREFIX, tags=["claims"], responses=errors(422))

# Up to this many documents a check answers within the request; above, `auto` makes it a job.
SYNC_LIMIT = 2000
MEDIA_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8",
               "parquet": "application/vnd.apache.parquet"}
Claim = Query(..., min_length=1, max_length=2000, description="The claim, as for POST /check.")
AsOf = Query(None, description="Judge with what was published by this day only.")


def _claim(text: str) -> str:
    if not text.strip():
        raise HTTPException(422, "the claim is empty")
    return text.strip()


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


@router.post("/check", response_model=CheckOut,
             responses={**errors(400, 413), 202: {"model": JobAccepted, "description": "A job to poll."}})
def check_claim(request: Request, storage: WorkspaceStorage, body: CheckIn):
    """Check a claim: retrieve the documents about it, decide each one's stance with its rationale
    sentences, weigh them by reliability and independence, and give a verdict with a timeline.
    mode=auto answers at once up to 2000 documents, else gives a job with progress {done, total}."""
    from tabayyun.check import check

    options = {"as_of": _day(body.as_of), "top": body.top, "embeddings": body.embeddings}
    if body.mode == "sync" or (body.mode == "auto" and storage.count() <= SYNC_LIMIT):
        return check(storage, body.claim, **options).to_dict()
    pool = request.app.state.pool

    def run(job: Job) -> dict:
        job.report(done=0, total=None)
        with pool.storage() as job_storage:
            result = check(job_storage, body.claim, **options,
                           on_progress=lambda done, total: job.report(done=done, total=total))
        return result.to_dict()

    job = request.app.state.jobs.submit("check", run)
    return JSONResponse({"job": job.to_dict(), "status_url": f"{API_PREFIX}/jobs/{job.id}"}, status_code=202)


@router.get("/export", response_class=StreamingResponse,
            responses={**json_errors(422), 200: {"description": "The export file.",
                             "content": {t.split(";")[0]: {} for t in MEDIA_TYPES.values()}}})
def export(storage: WorkspaceStorage, format: Literal["jsonl", "csv", "parquet"] = Query("jsonl"),
           claim: str | None = Query(None, max_length=2000, description="Add each document's stance on this claim."),
           as_of: date | None = AsOf,
           embeddings: bool = Query(False, description="Semantic retrieval for the claim.")) -> StreamingResponse:
    """Every document with its analysis (entities, quotes, dates, citations, story, duplicates and,
    with a claim, its stance), as a download: one JSON object per line, CSV (nested fields as JSON,
    formula-like cells neutralised) or Parquet."""
    from tabayyun.export import write_export

    spool = tempfile.TemporaryFile()
    try:
        write_export(storage, format, spool, claim=_claim(claim) if claim is not None else None,
                     as_of=_day(as_of), embeddings=embeddings)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    name = f"tabayyun-export.{format}"
    return StreamingResponse(iter(lambda: spool.read(1 << 16), b""), media_type=MEDIA_TYPES[format],
                             headers={"Content-Disposition": f'attachment; filename="{name}"'},
                             background=BackgroundTask(spool.close))


class JSONLDResponse(JSONResponse):
    media_type = "application/ld+json"


@router.get("/claimreview", response_class=JSONLDResponse,
            responses={**json_errors(422), 200: {"description": "schema.org ClaimReview JSON-LD."}})
def claimreview(storage: WorkspaceStorage, claim: str = Claim, as_of: date | None = AsOf,
                embeddings: bool = Query(False, description="Semantic retrieval for the claim.")) -> JSONLDResponse:
    """The check of a claim as schema.org ClaimReview JSON-LD (rating, appearances, first appearance)."""
    from tabayyun.check import check
    from tabayyun.export import claim_review

    result = check(storage, _claim(claim), as_of=_day(as_of), embeddings=embeddings)
    return JSONLDResponse(claim_review(result),
                          headers={"Content-Disposition": 'attachment; filename="claimreview.jsonld"'})


@router.get("/report", response_class=HTMLResponse,
            responses={**json_errors(422), 200: {"description": "A self-contained HTML report."}})
def report(storage: WorkspaceStorage, claim: str = Claim, as_of: date | None = AsOf,
           embeddings: bool = Query(False, description="Semantic retrieval for the claim.")) -> HTMLResponse:
    """The check of a claim as one printable, right-to-left HTML page: verdict, evidence and timeline."""
    from tabayyun.check import check
    from tabayyun.report import render_report

    result = check(storage, _claim(claim), as_of=_day(as_of), embeddings=embeddings)
    return HTMLResponse(render_report(result))
