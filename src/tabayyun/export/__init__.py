"""Exports of a workspace: every document with its analysis as JSON Lines, CSV or Parquet, and a
claim's check as schema.org ClaimReview JSON-LD.

`iter_records(storage)` streams one dict per document (its `Document.to_dict()` without the raw input,
plus its story, its near-duplicates and, when a claim is given, its stance on that claim);
`write_export(storage, fmt, out)` writes them; `claim_review(result)` describes a `CheckResult`.
"""

from tabayyun.export.claimreview import RATINGS, VERDICT_WORDS, claim_review
from tabayyun.export.records import iter_records
from tabayyun.export.writers import FORMATS, write_export

__all__ = ["FORMATS", "RATINGS", "VERDICT_WORDS", "claim_review", "iter_records", "write_export"]
