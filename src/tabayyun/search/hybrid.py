"""Hybrid search: the full-text ranking (stems, bm25) and the semantic ranking (e5 similarity of leads
and candidate paragraphs) fused with reciprocal rank fusion.

A document found only by meaning, with no word in common with the query, still comes up through
its lead vector; with embeddings off the result is the full-text ranking and `note` says why.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from tabayyun.search.embed import Embedder
from tabayyun.search.fulltext import DocMatch, fulltext_search, snippet
from tabayyun.search.semantic import SemanticMatch, semantic_ranking

RRF_K = 60              # the usual reciprocal-rank-fusion constant: 1 / (RRF_K + rank)
CANDIDATES = 50         # documents taken from each side before fusion
PARAGRAPHS = 6          # full-text candidate paragraphs embedded (lazily, cached) per query


@dataclass
class Hit:
    """One document found. `score` is the fused score (higher is better); the ranks say where each
    side placed it (None: not found by that side). `paragraph` is the best paragraph (-1: the title),
    `snippet` a stretch of it with the matched words between [ and ] (plain text: escape it),
    `marks` their offsets in the snippet."""

    doc_id: str
    score: float
    fulltext_rank: int | None
    semantic_rank: int | None
    paragraph: int
    snippet: str
    marks: list[tuple[int, int]] = field(default_factory=list)
    title: str | None = None
    outlet: str | None = None
    published: str | None = None
    similarity: float | None = None


@dataclass
class SearchResult:
    query: str
    mode: str                    # 'hybrid' or 'fulltext'
    note: str | None
    hits: list[Hit]
    terms: list[str] = field(default_factory=list)
    embedding: dict[str, Any] = field(default_factory=dict)   # hits, misses, seconds of this search
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"query": self.query, "mode": self.mode, "note": self.note,
                "hits": [_hit_dict(hit) for hit in self.hits]}


def _hit_dict(hit: Hit) -> dict:
    # Plain fields read directly: dataclasses.asdict deep-copies every hit, a tenth of an API search.
    return {"id": hit.doc_id, "title": hit.title, "outlet": hit.outlet, "published": hit.published,
            "score": round(hit.score, 6), "fulltext_rank": hit.fulltext_rank, "semantic_rank": hit.semantic_rank,
            "paragraph": hit.paragraph, "snippet": hit.snippet}


def _embedder(storage, embeddings: bool | Embedder | None) -> Embedder:
    if isinstance(embeddings, Embedder):
        return embeddings
    return Embedder(storage, enabled=bool(embeddings))


def fuse(fulltext: list[DocMatch], semantic: list[SemanticMatch]) -> list[tuple[str, float]]:
    """Reciprocal rank fusion of the two rankings: (doc_id, score), best first."""
    scores: dict[str, float] = {}
    for ranking in (fulltext, semantic):
        for match in ranking:
            scores[match.doc_id] = scores.get(match.doc_id, 0.0) + 1.0 / (RRF_K + match.rank)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def _semantic(storage, embedder: Embedder, query: str, fulltext: list[DocMatch],
              candidates: int, paragraphs: int) -> tuple[list[SemanticMatch], str | None]:
    """The semantic ranking, or nothing and a note when embeddings are off or fail."""
    if not embedder.enabled:
        return [], f"embeddings off: {embedder.reason}; full-text search only"
    scored = sorted((-score, match.doc_id, idx) for match in fulltext for idx, score in match.units if idx >= 0)
    units = [(doc_id, idx) for _, doc_id, idx in scored[:paragraphs]]
    try:
        matches = semantic_ranking(storage, embedder, query, units, candidates)
    except Exception as exc:  # noqa: BLE001 - search goes on with the full-text side
        embedder.reason = f"embedding failed ({type(exc).__name__}: {exc})"
        return [], f"embeddings off: {embedder.reason}; full-text search only"
    total = storage.count()
    missing = storage.count_without_lead(embedder.model) if total > storage.lead_count(embedder.model) else 0
    if missing > 0:
        return matches, (f"{missing} of {total} documents have no lead vector (ingested with --no-embed):"
                         " they are found by meaning only through their full-text paragraphs")
    return matches, None


@dataclass
class Ranking:
    """What a search found before its hits are built: the fused ranking (doc_id, score), best first,
    each side's matches by document, and the cost so far. Hits (with their snippets, the costly part)
    are built by `to_result` for the documents shown only."""

    query: str
    mode: str
    note: str | None
    fused: list[tuple[str, float]]
    fulltext: dict[str, DocMatch]
    semantic: dict[str, SemanticMatch]
    terms: list[str]
    embedding: dict[str, Any]
    started: float

    def to_result(self, storage, shown: list[tuple[str, float]] | None = None) -> SearchResult:
        """The SearchResult with hits for `shown` (a part of `fused`; default: all of it)."""
        hits = _hits(storage, self.fused if shown is None else shown, self.fulltext, self.semantic, self.terms)
        return SearchResult(self.query, self.mode, self.note, hits, self.terms, self.embedding,
                            time.perf_counter() - self.started)


def rank(storage, query: str, k: int = 20, embeddings: bool | Embedder | None = True,
         candidates: int = CANDIDATES, paragraphs: int = PARAGRAPHS) -> Ranking:
    """The ranking behind `search`, without hits: see `search` for the arguments."""
    started = time.perf_counter()
    embedder = _embedder(storage, embeddings)
    before = embedder.stats.as_dict()
    fulltext, terms, window_note = fulltext_search(storage, query, limit=max(candidates, k))
    semantic, note = [], None
    if query and query.strip():
        semantic, note = _semantic(storage, embedder, query, fulltext, candidates, paragraphs)
    else:
        note = "empty query"
    note = "; ".join(part for part in (note, window_note) if part) or None
    after = embedder.stats.as_dict()
    return Ranking(query, "hybrid" if embedder.enabled else "fulltext", note, fuse(fulltext, semantic)[:k],
                   {m.doc_id: m for m in fulltext}, {m.doc_id: m for m in semantic}, terms,
                   {key: after[key] - before[key] for key in after}, started)


def search(storage, query: str, k: int = 20, embeddings: bool | Embedder | None = True,
           candidates: int = CANDIDATES, paragraphs: int = PARAGRAPHS) -> SearchResult:
    """The `k` documents that best match `query`. `embeddings`: True (an Embedder over the workspace
    cache), an Embedder, or False/None for full-text only. `candidates` documents are taken from each
    side; the `paragraphs` best full-text paragraphs are also embedded and scored."""
    return rank(storage, query, k, embeddings, candidates, paragraphs).to_result(storage)


def _hits(storage, fused: list[tuple[str, float]], fulltext: dict[str, DocMatch],
          semantic: dict[str, SemanticMatch], terms: list[str]) -> list[Hit]:
    """Hits with their metadata and a snippet of the best paragraph (full-text's, else semantic's)."""
    best = {}
    for doc_id, _ in fused:
        text_match, meaning = fulltext.get(doc_id), semantic.get(doc_id)
        if text_match is not None and text_match.paragraph >= 0:
            best[doc_id] = text_match.paragraph
        elif meaning is not None and meaning.paragraph >= 0:
            best[doc_id] = meaning.paragraph
        else:
            best[doc_id] = 0 if text_match is None else text_match.paragraph
    texts = storage.unit_texts(list(best.items()))
    summaries = storage.summaries([doc_id for doc_id, _ in fused])
    hits = []
    for doc_id, score in fused:
        idx = best[doc_id] if (doc_id, best[doc_id]) in texts else -1
        text = texts.get((doc_id, idx)) or (summaries.get(doc_id, {}).get("title") or "")
        shown, marks = snippet(text, terms)
        meaning = semantic.get(doc_id)
        hits.append(Hit(doc_id, score, fulltext[doc_id].rank if doc_id in fulltext else None,
                        meaning.rank if meaning else None, idx, shown, marks,
                        similarity=round(meaning.score, 4) if meaning else None, **summaries.get(doc_id, {})))
    return hits
