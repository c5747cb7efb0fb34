"""The HTML workbench: server-rendered pages, Arabic first and right to left."""

from __future__ import annotations

import html

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)


def render_error(request: Request, status: int, message: str) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><html lang=ar dir=rtl><title>{status}</title>"
                        f"<p>{html.escape(message)}</p></html>", status_code=status)
