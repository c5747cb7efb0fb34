"""The HTML workbench: server-rendered pages, Arabic first and right to left.

This module holds the home, ingest and error pages and gathers the others: `pages_documents`
(article, story and entity pages) and `pages_search` (search and claim pages). Shared helpers are in
`pages_base`, highlighted text in `highlight`, interface strings in `i18n`.
"""

from __future__ import annotations

import html

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tabayyun.web import pages_documents, pages_search
from tabayyun.web.app import API_PREFIX, WorkspaceStorage
from tabayyun.web.pages_base import render

NEWEST_STORIES = 8
RECENT_FAILURES = 5

router = APIRouter(include_in_schema=False)
router.include_router(pages_documents.router)
router.include_router(pages_search.router)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, storage: WorkspaceStorage) -> HTMLResponse:
    from tabayyun.connect.stories import list_stories

    storage.cluster_missing()
    stories = list_stories(storage, limit=NEWEST_STORIES)
    return render(request, "home.html", counts=storage.workspace_counts(), stories=stories,
                  failures=storage.failures()[-RECENT_FAILURES:])


@router.get("/ingest", response_class=HTMLResponse)
def ingest_page(request: Request, storage: WorkspaceStorage) -> HTMLResponse:
    from tabayyun.reprocess import RUN_TASK

    return render(request, "ingest.html", api=API_PREFIX, unfinished=storage.unfinished_run(RUN_TASK))


def render_error(request: Request, status: int, message: str) -> HTMLResponse:
    """The error page in the workbench's layout; `message` is shown as text."""
    try:
        return render(request, "error.html", status=status, error_status=status, message=message)
    except Exception:  # the error page must not fail in turn: a bare page, still escaped
        return HTMLResponse(f"<!doctype html><html lang=ar dir=rtl><title>{status}</title>"
                            f"<p>{html.escape(message)}</p></html>", status_code=status)
