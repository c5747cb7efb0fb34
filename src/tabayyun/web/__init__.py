"""The web layer: a REST API under /api/v1 and an Arabic, right-to-left workbench, both thin over the
library (`tabayyun.web.app.create_app`). Served by `tabayyun serve`."""

from tabayyun.web.app import create_app

__all__ = ["create_app"]
