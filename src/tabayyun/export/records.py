"""One export record per document, streamed from the workspace in batches."""

from __future__ import annotations

from collections.abc import Iterator

DEFAULT_BATCH = 200


def _id_batches(storage, batch: int) -> Iterator[list[str]]:
    """Document ids in ingestion order, `batch` at a time. Keyset paging on rowid: each page is one
    indexed range scan, where OFFSET paging would rescan every earlier row."""
    last = 0
    while True:
        rows = storage.conn.execute(
            "SELECT rowid, id FROM documents WHERE rowid > ? ORDER BY rowid LIMIT ?", (last, batch)).fetchall()
        if not rows:
            return
        last = rows[-1][0]
        yield [doc_id for _, doc_id in rows]


def claim_stances(storage, claim: str, as_of: str | None = None, embeddings: bool = True) -> dict[str, list[dict]]:
    """doc id -> [{claim, stance, scores, rationale}] for every document the claim's check retrieved."""
    from tabayyun.check import check

    result = check(storage, claim, as_of=as_of, embeddings=embeddings)
    return {item.document.id: [{"claim": claim, "stance": item.stance.label, "scores": dict(item.stance.scores),
                                "rationale": [vars(sentence) for sentence in item.stance.rationale]}]
            for item in result.assessments}


def iter_records(storage, claim: str | None = None, as_of: str | None = None, embeddings: bool = True,
                 batch: int = DEFAULT_BATCH) -> Iterator[dict]:
    """One dict per document, in ingestion order: `Document.to_dict()` (analysis, metadata evidence;
    not the raw input) plus `story` (its story id or None), `duplicates` (ids of its near-duplicates)
    and `stances` (its stance on `claim`, checked once as of `as_of`, when the check retrieved it;
    else []). Only `batch` documents are held at a time."""
    stances = claim_stances(storage, claim, as_of, embeddings) if claim else {}
    for ids in _id_batches(storage, max(1, batch)):
        documents = storage.analyses(ids)
        facets = storage.facet_values(ids)
        for doc_id in ids:
            doc = documents.get(doc_id)
            if doc is None:  # deleted between the two queries
                continue
            record = doc.to_dict()
            record["story"] = facets.get(doc_id, {}).get("story")
            record["duplicates"] = sorted(storage.duplicates_of(doc_id))
            record["stances"] = stances.get(doc_id, [])
            yield record
