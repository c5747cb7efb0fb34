"""`tabayyun serve`: the REST API and web workbench over a workspace, on loopback by default."""

from __future__ import annotations

from typing import Optional

import typer

from tabayyun.cli_output import DbOption, _text, display_db, err, out


def serve(db: Optional[str] = DbOption,
          host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (default: loopback only)."),
          port: int = typer.Option(8000, "--port", help="Port to listen on."),
          token: Optional[str] = typer.Option(None, "--token", envvar="TABAYYUN_TOKEN",
                                              help="Require this token for every write (default: $TABAYYUN_TOKEN).")) -> None:
    """Serve the web workbench (/) and the REST API (/api/v1, schema at /api/v1/openapi.json)."""
    import uvicorn

    from tabayyun.web import create_app

    try:
        web_app = create_app(db, token=token)
    except Exception as exc:  # noqa: BLE001
        err.print(_text(f"error: cannot open workspace {display_db(db)}: {exc}"), soft_wrap=True)
        raise typer.Exit(1) from None
    if host not in ("127.0.0.1", "localhost", "::1") and not token:
        err.print(_text(f"warning: serving on {host} without a token: anyone who can reach it can write"))
    out.print(_text(f"tabayyun serving {display_db(db)} at http://{host}:{port}/ (API: /api/v1)"))
    uvicorn.run(web_app, host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    app.command()(serve)
