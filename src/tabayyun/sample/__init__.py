"""The built-in sample corpus: Arabic news pages written for tabayyun (fictional stories)."""

from __future__ import annotations

from pathlib import Path


def sample_path() -> Path:
    """The folder holding the sample pages and their MANIFEST.json."""
    return Path(__file__).resolve().parent


def sample_files() -> list[Path]:
    """Every sample page, in a stable order."""
    return sorted(p for p in sample_path().iterdir() if p.suffix in (".txt", ".html"))
