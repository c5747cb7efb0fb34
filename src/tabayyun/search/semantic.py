"""Semantic side of search: lead vectors (title and first paragraph) embedded at ingest, scored for
every document with one matrix product; full-text candidate paragraphs embedded lazily.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from tabayyun.model import Document
from tabayyun.search.embed import Embedder, decode_matrix

# A lead is the title and the start of the first paragraph, what a news article says it is about:
# about 53 e5 tokens. The embedding cost grows with the length (1.4 ms a token on one core): 300
# characters cost 120 ms a lead, 200 about 85, and embedding is nearly all of an ingest's CPU. At 200
# the stories of bench/connect.py's sample score as well as at 300. The whole of SaudiNewsNet with
# the full analysis (bench/connect.py --limit 100000 --embeddings --analysis full) at 200, 180 and 160
# characters: 31.5, 27.9 and 26.7 minutes on 2 cores (the goal is 30), stories BCubed F1 0.881, 0.854
# and 0.841 (the goal is 0.85); duplicates the same. At 180 again after a fix to entity tagging: 29.0
# minutes, 0.865 (docs/scaling.md).
LEAD_CHARS = 180
# A long backfill keeps what it has done: vectors and links are committed every this many leads.
LEADS_PER_COMMIT = 256
# Candidate paragraphs are cut to this many characters before they are embedded.
PARAGRAPH_CHARS = 400
# A semantic match scores within MARGIN of the best one and LIFT above the median lead (computed
# when there are at least BASELINE_MIN_DOCS leads); see `semantic_ranking`.
MARGIN = 0.035
LIFT = 0.015
BASELINE_MIN_DOCS = 5


class SemanticStore(Protocol):
    def leads(self, doc_ids: list[str] | None = None,
              without_model: str | None = None) -> list[tuple[str, str, str]]: ...

    def cache_embeddings(self, rows: list, leads: list[tuple[str, str, str]] = ()) -> None: ...

    def lead_vectors(self, model: str) -> list[tuple[str, int, bytes]]: ...

    def unit_texts(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int], str]: ...


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    space = text.rfind(" ", 0, limit)
    return text[:space if space > limit // 2 else limit]


def lead_text(title: str | None, first_paragraph: str | None) -> str:
    """The text embedded for a document at ingest: its title, then its first paragraph, cut to LEAD_CHARS."""
    return _cut("\n".join(part for part in (title, first_paragraph) if part), LEAD_CHARS)


def embed_leads(storage: SemanticStore, docs: Iterable[Document] | None, embedder: Embedder,
                doc_ids: list[str] | None = None) -> int:
    """Embed the leads of `docs` into the cache and link them to their documents; with `docs` None,
    the leads of the stored documents (all, or those in `doc_ids`) that have no lead vector for the
    embedder's model yet. Returns how many documents got a lead vector; nothing when the embedder is off."""
    if not embedder.enabled:
        return 0
    if docs is None:
        rows = storage.leads(doc_ids, without_model=embedder.model)
    else:
        rows = [(doc.id, doc.title or "", doc.paragraphs[0] if doc.paragraphs else "") for doc in docs]
    items = [(doc_id, lead_text(title, first)) for doc_id, title, first in rows]
    items = [(doc_id, text) for doc_id, text in items if text.strip()]
    for start in range(0, len(items), LEADS_PER_COMMIT):
        chunk = items[start:start + LEADS_PER_COMMIT]
        embedder.passages([text for _, text in chunk])
        storage.cache_embeddings([], leads=[(doc_id, embedder.model, embedder.key(text)) for doc_id, text in chunk])
    return len(items)


@dataclass
class SemanticMatch:
    """One document by meaning: its rank (1 = best), cosine similarity, and the paragraph that was
    closest (-1 when only the lead was scored: the lead is the title and paragraph 0)."""

    doc_id: str
    rank: int
    score: float
    paragraph: int


def lead_scores(storage: SemanticStore, embedder: Embedder, query_vector: np.ndarray,
                top: int) -> tuple[dict[str, float], float | None]:
    """Cosine similarity of the query to every document's lead vector: the `top` best as
    {doc_id: score}, and the median over all documents (None below BASELINE_MIN_DOCS)."""
    groups: dict[int, list[tuple[str, int, bytes]]] = {}
    for row in storage.lead_vectors(embedder.model):
        if row[1] == query_vector.shape[0]:
            groups.setdefault(len(row[2]), []).append(row)
    if not groups:
        return {}, None
    doc_ids = [doc_id for group in groups.values() for doc_id, _, _ in group]
    scores = np.concatenate([decode_matrix(group[0][1], [blob for _, _, blob in group]) @ query_vector
                             for group in groups.values()])
    median = float(np.median(scores)) if len(scores) >= BASELINE_MIN_DOCS else None
    order = np.argsort(-scores, kind="stable")[:top]
    return {doc_ids[i]: float(scores[i]) for i in order}, median


def paragraph_scores(storage: SemanticStore, embedder: Embedder, query_vector: np.ndarray,
                     units: list[tuple[str, int]]) -> dict[tuple[str, int], float]:
    """Cosine similarity of the query to the given paragraphs (embedded now unless cached)."""
    texts = storage.unit_texts([unit for unit in units if unit[1] >= 0])
    keys = [unit for unit in dict.fromkeys(units) if texts.get(unit, "").strip()]
    if not keys:
        return {}
    vectors = embedder.passages([_cut(texts[unit], PARAGRAPH_CHARS) for unit in keys])
    return {unit: float(score) for unit, score in zip(keys, vectors @ query_vector)}


def semantic_ranking(storage: SemanticStore, embedder: Embedder, query: str, units: list[tuple[str, int]],
                     limit: int, margin: float = MARGIN, lift: float = LIFT) -> list[SemanticMatch]:
    """Documents ranked by their best similarity to `query` (lead or candidate paragraph), at most
    `limit`. e5 similarities are compressed (unrelated texts score about 0.8), so a document is kept
    only within `margin` of the best one and `lift` above the median lead (the corpus baseline):
    a query that nothing is about yields no semantic match rather than the least unrelated ones."""
    query_vector = embedder.query(query)
    leads, median = lead_scores(storage, embedder, query_vector, limit)
    best: dict[str, tuple[float, int]] = {doc_id: (score, -1) for doc_id, score in leads.items()}
    for (doc_id, idx), score in paragraph_scores(storage, embedder, query_vector, units).items():
        if score > best.get(doc_id, (-2.0, -1))[0]:
            best[doc_id] = (score, idx)
    ranked = sorted(best.items(), key=lambda item: (-item[1][0], item[0]))
    if not ranked:
        return []
    floor = ranked[0][1][0] - margin
    if median is not None:
        floor = max(floor, median + lift)
    return [SemanticMatch(doc_id, rank, score, idx)
            for rank, (doc_id, (score, idx)) in enumerate(ranked[:limit], 1) if score >= floor]
