"""Ingest routes of the REST API: uploaded files, JSON records and URLs (pages or feeds), and the stored
pages cleaned and analysed again (`/reprocess`).

Each becomes a job on the server's one worker thread (writes are serialised there), running
`tabayyun.ingest.ingest` in-process (workers=1: a threaded server must not fork). The route answers
202 with the job to poll, or with `?wait=true` the report itself.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from tabayyun.ingest import IngestReport, ingest
from tabayyun.pipeline import ANALYSIS_LEVELS
from tabayyun.reprocess import RUN_TASK, ReprocessReport, reprocess
from tabayyun.web.api_models import (IngestReportOut, JobAccepted, RecordIn, ReprocessReportOut, UnfinishedOut,
                                     UrlsIn, errors)
from tabayyun.web.app import API_PREFIX, WriteAccess
from tabayyun.web.jobs import FAILED, Job

router = APIRouter(prefix=f"{API_PREFIX}/ingest", tags=["ingest"], dependencies=[WriteAccess],
                   responses={**errors(400, 401, 413, 422, 500),
                              200: {"model": IngestReportOut, "description": "With wait=true: the report."},
                              202: {"model": JobAccepted, "description": "The job to poll."}})

upkeep_router = APIRouter(prefix=API_PREFIX, tags=["ingest"], dependencies=[WriteAccess],
                          responses=errors(401, 422, 500))

WAIT = Query(False, description="Run now and answer with the report instead of a job.")
EMBED = Query(True, description="Embed each new document's lead for semantic search (when available).")
MAX_FILES = 500
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(filename: str | None, number: int) -> str:
    """A file name that cannot leave its folder, numbered so that two uploads never collide, keeping
    the extension the readers go by (.html, .jsonl, .warc.gz, .zip ...)."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = base.rpartition(".") if "." in base else (base, "", "")
    if stem.lower().endswith(".warc") and suffix.lower() == "gz":
        stem, suffix = stem[:-5], "warc.gz"
    stem = _UNSAFE.sub("_", stem).strip("._")[-100:] or "upload"
    suffix = _UNSAFE.sub("", suffix.lower())[:10]
    return f"{number:04d}_{stem}" + (f".{suffix}" if dot and suffix else "")


def report_dict(report: IngestReport, folder: str | None = None) -> dict:
    """The report as JSON; sources inside the upload folder are named by their uploaded file."""
    def shown(source: str) -> str:
        return source.replace(f"{folder}/", "", 1) if folder else source

    return {"stored": report.stored, "duplicates": report.duplicates, "failed": report.failed,
            "failures": [{"source": shown(f.source), "message": f.message} for f in report.failures],
            "embedded": report.embedded, "duplicate_pairs": report.duplicate_pairs, "clustered": report.clustered,
            "sites_grown": report.sites_grown}


def _ingest_job(request: Request, paths: list[str], folder: str | None, embed: bool,
                total: int | None) -> Callable[[Job], dict]:
    pool = request.app.state.pool

    def run(job: Job) -> dict:
        job.report(done=0, total=total, stored=0, duplicates=0, failed=0)

        def progress(report: IngestReport) -> None:
            job.report(done=report.stored + report.duplicates + report.failed, stored=report.stored,
                       duplicates=report.duplicates, failed=report.failed)

        try:
            with pool.storage() as storage:
                report = ingest(storage, paths, workers=1, embed=embed, on_progress=progress)
            progress(report)
            return report_dict(report, folder)
        finally:
            if folder:
                shutil.rmtree(folder, ignore_errors=True)

    return run


def _start(request: Request, run: Callable[[Job], dict], wait: bool, kind: str = "ingest") -> JSONResponse:
    job = request.app.state.jobs.submit(kind, run)
    if not wait:
        return JSONResponse({"job": job.to_dict(), "status_url": f"{API_PREFIX}/jobs/{job.id}"}, status_code=202)
    job.wait()
    if job.state == FAILED:
        raise HTTPException(500, f"{kind} failed: {job.error}")
    return JSONResponse(job.result)


@router.post("/files", response_model=None)
def ingest_files(request: Request,
                 files: list[UploadFile] = File(..., description="Pages (.html, .txt), records (.json, .jsonl), "
                                                                 "archives (.warc, .warc.gz, .zip)."),
                 wait: bool = WAIT, embed: bool = EMBED) -> JSONResponse:
    """Upload one or more files to ingest. Needs the token when set."""
    if not files:
        raise HTTPException(400, "no files uploaded")
    if len(files) > MAX_FILES:
        raise HTTPException(400, f"too many files: {len(files)} (at most {MAX_FILES} at once)")
    folder = tempfile.mkdtemp(prefix="tabayyun-upload-")
    try:
        _save_uploads(files, Path(folder), request.app.state.max_request_bytes)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return _start(request, _ingest_job(request, [folder], folder, embed, None), wait)


def _save_uploads(files: list[UploadFile], folder: Path, limit: int) -> None:
    written = 0
    for number, upload in enumerate(files, start=1):
        target = folder / safe_name(upload.filename, number)
        with target.open("wb") as out:
            while chunk := upload.file.read(1 << 20):
                written += len(chunk)
                if written > limit:
                    raise HTTPException(413, f"upload over the limit of {limit:,} bytes")
                out.write(chunk)
        if target.stat().st_size == 0:
            raise HTTPException(400, f"empty upload: {upload.filename or 'a file without a name'}")


@router.post("/records", response_model=None)
def ingest_records(request: Request, records: list[RecordIn], wait: bool = WAIT, embed: bool = EMBED) -> JSONResponse:
    """Ingest articles given as JSON records {text | html, url, title, published, outlet}. Needs the
    token when set."""
    if not records:
        raise HTTPException(400, "no records given")
    folder = tempfile.mkdtemp(prefix="tabayyun-records-")
    path = Path(folder) / "records.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record.model_dump(exclude_none=True), ensure_ascii=False) + "\n")
    return _start(request, _ingest_job(request, [str(path)], folder, embed, len(records)), wait)


@router.post("/urls", response_model=None)
def ingest_urls(request: Request, body: UrlsIn, wait: bool = WAIT, embed: bool = EMBED) -> JSONResponse:
    """Fetch pages (or the pages an RSS/Atom feed links to) and ingest them. Needs the token when set."""
    return _start(request, _ingest_job(request, body.urls, None, embed, None), wait)


@upkeep_router.post("/reprocess", response_model=None,
                    responses={**errors(409),
                               200: {"model": ReprocessReportOut, "description": "With wait=true: the report."},
                               202: {"model": JobAccepted, "description": "The job to poll."}})
def reprocess_stored(request: Request,
                     analysis: Literal["full", "basic"] = Query("full", description="full, or basic (clean text "
                                                                                    "and metadata only)."),
                     site: list[str] = Query([], max_length=50, description="Only the pages of these sites "
                                                                           "(hosts as /sites lists them)."),
                     resume: bool = Query(False, description="Go on with the workspace's unfinished run, with its "
                                                             "own options (409 when there is none)."),
                     wait: bool = WAIT, embed: bool = EMBED) -> JSONResponse:
    """Clean and analyse every stored page again from its raw input; documents whose result changed are
    replaced (`tabayyun reprocess`). Needs the token when set."""
    pool = request.app.state.pool
    if resume:
        with pool.storage() as storage:
            if storage.unfinished_run(RUN_TASK) is None:
                raise HTTPException(409, "no unfinished reprocess run to resume")

    def run(job: Job) -> dict:
        def progress(report: ReprocessReport) -> None:
            job.report(done=report.seen, changed=report.changed, failed=report.failed)

        with pool.storage() as storage:
            if resume and storage.unfinished_run(RUN_TASK) is None:
                report = ReprocessReport()    # a job queued before this one finished the run
            else:
                report = reprocess(storage, stages=ANALYSIS_LEVELS[analysis], workers=1, embed=embed,
                                   sites=[s for s in site if s.strip()] or None, resume=resume,
                                   on_progress=progress)
        progress(report)
        return report.to_dict()

    return _start(request, run, wait, kind="reprocess")


@upkeep_router.get("/reprocess", response_model=UnfinishedOut)
def unfinished_reprocess(request: Request) -> dict:
    """The workspace's unfinished reprocess run ({task, options, done_through, started_at, updated_at}),
    or null under `unfinished` when there is none."""
    with request.app.state.pool.storage() as storage:
        return {"unfinished": storage.unfinished_run(RUN_TASK)}
