"""The REST API under /api/v1: thin routes over the library; see `tabayyun.web.app` for the pool,
the write token and errors."""

from __future__ import annotations

from fastapi import APIRouter

from tabayyun.web.app import API_PREFIX, WorkspaceStorage

router = APIRouter(prefix=API_PREFIX, tags=["api"])


@router.get("/health")
def health(storage: WorkspaceStorage) -> dict:
    """The server is up; the workspace's schema version and number of documents."""
    return {"status": "ok", "documents": storage.count(), "schema_version": storage.schema_version}
