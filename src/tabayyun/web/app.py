"""The FastAPI application: the workspace connection pool, the write token, upload limits and errors.

`create_app(db)` builds the app; `api.py` holds the REST routes under /api/v1, `pages.py` the HTML
workbench. Both take the workspace from `WorkspaceStorage` (a pooled connection, one request at a
time) and guard writes with `require_token`.
"""

from __future__ import annotations

import hmac
import os
import queue
from contextlib import asynccontextmanager, contextmanager
from importlib import resources
from typing import Annotated, Iterator

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from tabayyun.pipeline import MAX_BYTES
from tabayyun.store import SQLiteStorage, open_storage, resolve_db

API_PREFIX = "/api/v1"
# A request body may carry a few pages at the pipeline's per-item limit, not more.
MAX_REQUEST_BYTES = 4 * MAX_BYTES
POOL_SIZE = 4


class StoragePool:
    """Writable connections to one workspace, each used by one request at a time. The first one opens
    (and migrates) the workspace when the app starts, so a bad path fails at once."""

    def __init__(self, db: str, size: int = POOL_SIZE):
        self.db = db
        self._idle: queue.LifoQueue[SQLiteStorage] = queue.LifoQueue()
        self._all: list[SQLiteStorage] = []
        self._size = size
        self._release(self._open())

    def _open(self) -> SQLiteStorage:
        storage = open_storage(self.db, shared=True)
        self._all.append(storage)
        return storage

    def _release(self, storage: SQLiteStorage) -> None:
        self._idle.put(storage)

    @contextmanager
    def storage(self) -> Iterator[SQLiteStorage]:
        try:
            storage = self._idle.get_nowait()
        except queue.Empty:
            storage = self._open() if len(self._all) < self._size else self._idle.get(timeout=60)
        try:
            yield storage
        finally:
            self._release(storage)

    def close(self) -> None:
        """Close every connection; the pool opens new ones if used again (a test client may run the
        app's lifespan, and so this, around each request)."""
        while not self._idle.empty():
            self._idle.get_nowait()
        for storage in self._all:
            storage.close()
        self._all.clear()


def _storage(request: Request) -> Iterator[SQLiteStorage]:
    with request.app.state.pool.storage() as storage:
        yield storage


WorkspaceStorage = Annotated[SQLiteStorage, Depends(_storage)]


def require_token(request: Request) -> None:
    """Writes need the token when one is set: `Authorization: Bearer TOKEN` or `X-Tabayyun-Token`."""
    expected = request.app.state.token
    if not expected:
        return
    given = request.headers.get("x-tabayyun-token", "")
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        given = auth[7:].strip()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(401, "this workspace needs a token for writes (Authorization: Bearer TOKEN)")


WriteAccess = Depends(require_token)


def is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def error_response(request: Request, status: int, message: str, details: object = None) -> Response:
    """API errors are JSON {"error": {"status", "message", "details"?}}; pages get an HTML error page."""
    if is_api(request):
        body: dict = {"status": status, "message": message}
        if details is not None:
            body["details"] = details
        return JSONResponse({"error": body}, status_code=status)
    from tabayyun.web.pages import render_error

    return render_error(request, status, message)


def _validation_details(exc: RequestValidationError) -> list[dict]:
    return [{"where": ".".join(str(part) for part in e.get("loc", ())), "problem": e.get("msg", "")}
            for e in exc.errors()]


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        response = error_response(request, exc.status_code, str(exc.detail))
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        return error_response(request, 422, "invalid request", _validation_details(exc))

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception):
        return error_response(request, 500, f"internal error: {type(exc).__name__}")


class BodyLimit:
    """Refuses request bodies over `limit` bytes with 413: at once from Content-Length, and while
    reading for bodies sent without it (chunked), so no route ever holds more than the limit."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            status, message = (400, "invalid Content-Length header") if not length.isdigit() else (
                413, f"request body over the limit of {self.limit:,} bytes")
            return await error_response(request, status, message)(scope, receive, send)
        received = 0

        async def counted():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                # An HTTPException passes through FastAPI's body parsing to the error handlers.
                raise StarletteHTTPException(413, f"request body over the limit of {self.limit:,} bytes")
            return message

        await self.app(scope, counted, send)


def create_app(db: str | None = None, token: str | None = None, max_request_bytes: int = MAX_REQUEST_BYTES) -> FastAPI:
    """The workbench and API over the workspace `db` (default: $TABAYYUN_DB or ./tabayyun.db). `token`
    (default: $TABAYYUN_TOKEN) is then required for every write."""
    from tabayyun import __version__
    from tabayyun.web import api, pages
    from tabayyun.web.jobs import JobManager

    pool = StoragePool(resolve_db(db))
    jobs = JobManager()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        jobs.close()
        pool.close()

    app = FastAPI(title="tabayyun", version=__version__, docs_url=f"{API_PREFIX}/docs",
                  openapi_url=f"{API_PREFIX}/openapi.json", redoc_url=None, lifespan=lifespan,
                  description="tabayyun (تبيّن): an Arabic-first claim-verification workbench.")
    app.state.pool = pool
    app.state.jobs = jobs
    app.state.token = token if token is not None else (os.environ.get("TABAYYUN_TOKEN") or None)
    app.state.max_request_bytes = max_request_bytes
    _install_error_handlers(app)
    app.add_middleware(BodyLimit, limit=max_request_bytes)
    app.mount("/static", StaticFiles(directory=str(resources.files("tabayyun.web").joinpath("static"))),
              name="static")
    for router in api.routers():
        app.include_router(router)
    app.include_router(pages.router)
    return app
