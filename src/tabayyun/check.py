"""Checking a claim against a workspace: retrieve → stance of each document with rationale → verdict.

`check(storage, claim)` retrieves the `top` documents (hybrid search, or full text when embeddings are
off, and says so), decides each one's stance, weighs them by outlet reliability and independence,
and keeps only what was published by `as_of` when given. Nothing is hidden: every document carries
its stance scores, the features that pushed it and its rationale sentences.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tabayyun.model import Document
from tabayyun.search.embed import Embedder
from tabayyun.search.hybrid import search
from tabayyun.stance import StanceModel, StanceResult, load_stance_model, stance
from tabayyun.verdict import Assessment, Verdict, aggregate, default_reliability

DEFAULT_TOP = 20


@dataclass
class CheckResult:
    claim: str
    as_of: str | None
    verdict: Verdict
    assessments: list[Assessment]
    retrieval: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "claim": self.claim,
            "as_of": self.as_of,
            "verdict": {k: v for k, v in self.verdict.to_dict().items() if k != "timeline"},
            "documents": [document_entry(a) for a in self.assessments],
            "timeline": [vars(t) for t in self.verdict.timeline],
            "retrieval": self.retrieval,
        }


def document_entry(item: Assessment) -> dict:
    doc = item.document
    return {"id": doc.id, "title": doc.title, "outlet": doc.outlet, "published": doc.published,
            "reliability": item.reliability, "source_key": item.source_key, **item.stance.to_dict(),
            "stance": item.stance.label}


Progress = Callable[[int, int], None]


def assess(claim: str, documents: list[Document], reliability: dict[str, float] | None = None,
           model: StanceModel | None = None, embedder=None, on_progress: Progress | None = None) -> list[Assessment]:
    """Stance of each document with its outlet's reliability (the workspace table, else the default);
    `on_progress(done, total)` is called after each document."""
    reliability = reliability or {}
    items = []
    for doc in documents:
        result: StanceResult = stance(claim, doc, model=model, embedder=embedder)
        weight = reliability.get(doc.outlet or "", default_reliability(doc.outlet))
        items.append(Assessment(doc, result, weight))
        if on_progress:
            on_progress(len(items), len(documents))
    return items


def verify(claim: str, documents: list[Document], as_of: str | None = None,
           reliability: dict[str, float] | None = None, embedder=None) -> Verdict:
    """The verdict on a claim from these documents (stances decided here), as of a date if given."""
    model = load_stance_model()
    return aggregate(assess(claim, documents, reliability, model, embedder), as_of)


def check(storage, claim: str, as_of: str | None = None, top: int = DEFAULT_TOP,
          embeddings: bool = True, model: StanceModel | None = None,
          on_progress: Progress | None = None) -> CheckResult:
    """`on_progress(done, total)` follows the stance decisions, one per retrieved document."""
    started = time.perf_counter()
    embedder = Embedder(storage, enabled=embeddings)
    found = search(storage, claim, k=top * 2 if as_of else top, embeddings=embedder)
    documents = [doc for doc in (storage.get(hit.doc_id) for hit in found.hits) if doc is not None]
    if as_of:
        # Undated documents go on to the verdict, which leaves them out and says how many.
        documents = [d for d in documents if not d.published or d.published[:10] <= as_of][:top]
    model = model or load_stance_model()
    items = assess(claim, documents, storage.reliabilities(), model, embedder, on_progress)
    verdict = aggregate(items, as_of)
    if as_of:
        items = [a for a in items if a.date]
    order = {"agree": 0, "disagree": 1, "discuss": 2, "unrelated": 3}
    items.sort(key=lambda a: (order[a.stance.label], -max(a.stance.scores.values())))
    retrieval = {"mode": found.mode, "note": found.note, "retrieved": len(found.hits),
                 "embedding": embedder.stats.as_dict(), "seconds": round(time.perf_counter() - started, 3)}
    return CheckResult(claim, as_of, verdict, items, retrieval)
