"""The built-in sample corpus: Arabic news pages written for tabayyun (fictional stories)."""

from __future__ import annotations

import json
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def sample_path() -> Path:
    """The folder of sample pages: `tabayyun ingest` it, or read single pages from it."""
    return _HERE / "pages"


def sample_files() -> list[Path]:
    """Every sample page, in a stable order."""
    return sorted(p for p in sample_path().iterdir() if p.suffix in (".txt", ".html"))


def sample_manifest() -> list[dict]:
    """What each page is: file, form, encoding, story, title, outlet, published, syndicated_from."""
    return json.loads((_HERE / "MANIFEST.json").read_text(encoding="utf-8"))
