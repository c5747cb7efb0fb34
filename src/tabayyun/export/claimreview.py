"""A claim's check as schema.org ClaimReview JSON-LD, the markup fact-checkers publish their
verdicts with (read by search engines and fact-check aggregators).

The rating scale is five points, following the common true-to-false ladder of fact-checkers (1 =
false ... 5 = true, best 5, worst 1). tabayyun's verdicts take three of its rungs: `false` 1, `mixed`
3 (the evidence conflicts) and `true` 5. `unverified` (too little independent evidence either way)
also gets 3: on a truth scale it is neither true nor false, and a reader of the number alone must
not take it for either; `alternateName` and `textualRating` (the words, Arabic and English) tell
mixed and unverified apart (`textualRating` is the field name of Google's Fact Check Tools API, for
tools that read that), and `description` carries the verdict's confidence and explanation.

`itemReviewed` is the claim, with one `appearance` (a CreativeWork) per document that agrees or
disagrees with it, each carrying its stance and best rationale sentence in `description`, and a
`firstAppearance`: the earliest dated document that asserts the claim, else the earliest dated one
that discusses or denies it. These are plain JSON values: whoever embeds them in a page escapes them
there (in a `<script type="application/ld+json">`, at least `<` as `\\u003c`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tabayyun.verdict import Assessment

BEST, WORST = 5, 1
RATINGS = {"false": 1, "mixed": 3, "unverified": 3, "true": 5}
VERDICT_WORDS = {  # label -> (Arabic, English)
    "true": ("صحيح", "true"),
    "false": ("زائف", "false"),
    "mixed": ("متضارب", "mixed"),
    "unverified": ("غير مؤكد", "unverified"),
}
STANCE_WORDS = {"agree": "يؤيد", "disagree": "ينفي", "discuss": "يناقش", "unrelated": "غير متصل"}


def _creative_work(item: Assessment) -> dict:
    doc, found = item.document, item.stance
    work: dict = {"@type": "CreativeWork"}
    if doc.url:
        work["url"] = doc.url
    if doc.title:
        work["headline"] = doc.title
    if doc.published:
        work["datePublished"] = doc.published
    if doc.outlet:
        work["publisher"] = {"@type": "Organization", "name": doc.outlet}
    best = max(found.rationale, key=lambda sentence: sentence.score, default=None)
    work["description"] = f"{found.label}: {best.text}" if best else found.label
    return work


def _first_appearance(assessments: list[Assessment]) -> Assessment | None:
    dated = sorted((a for a in assessments if a.document.published and a.stance.label != "unrelated"),
                   key=lambda a: (a.document.published, a.document.id))
    return next((a for a in dated if a.stance.label == "agree"), dated[0] if dated else None)


def review_rating(label: str, confidence: float, explanation: str) -> dict:
    arabic, english = VERDICT_WORDS.get(label, (label, label))
    return {"@type": "Rating", "ratingValue": RATINGS.get(label, RATINGS["unverified"]), "bestRating": BEST,
            "worstRating": WORST, "alternateName": arabic, "textualRating": f"{arabic} / {english}",
            "ratingExplanation": explanation,
            "description": f"confidence {confidence:.2f}; {explanation}"}


def claim_review(result, author: str = "tabayyun", url: str | None = None) -> dict:
    """ClaimReview JSON-LD for a `CheckResult` (see the module docstring for the rating scale)."""
    verdict = result.verdict
    item: dict = {"@type": "Claim",
                  "appearance": [_creative_work(a) for a in result.assessments
                                 if a.stance.label in ("agree", "disagree")]}
    first = _first_appearance(result.assessments)
    if first is not None:
        item["firstAppearance"] = _creative_work(first)
    review: dict = {"@context": "https://schema.org", "@type": "ClaimReview", "claimReviewed": result.claim}
    if url:
        review["url"] = url
    review.update({
        "datePublished": result.as_of or datetime.now(timezone.utc).date().isoformat(),
        "author": {"@type": "Organization", "name": author},
        "reviewRating": review_rating(verdict.label, verdict.confidence, verdict.explanation),
        "itemReviewed": item,
    })
    return review
