"""A claim's check as one self-contained HTML report: Arabic, right to left, printable.

Everything the report needs is inside the file (inline CSS, the timeline as inline SVG): no script,
no font, image or style sheet fetched from anywhere, so it can be mailed, archived or printed as is.
It is rendered by the one autoescaped Jinja2 environment: every scraped string (titles, outlets,
rationale sentences, URLs) is escaped; only the chart, built and escaped by `web.charts`, is markup.
"""

from __future__ import annotations

from datetime import datetime, timezone

from tabayyun import __version__
from tabayyun.export.claimreview import STANCE_WORDS, VERDICT_WORDS
from tabayyun.verdict import Assessment
from tabayyun.web.charts import timeline_svg
from tabayyun.web.templating import environment

STANCE_ORDER = ("agree", "disagree", "discuss", "unrelated")
GROUP_TITLES = {
    "agree": "مصادر تؤيد الادعاء",
    "disagree": "مصادر تنفي الادعاء",
    "discuss": "مصادر تتناول الادعاء دون حسم",
    "unrelated": "مصادر استُرجعت ولا تتصل بالادعاء",
}


def _document_view(item: Assessment) -> dict:
    doc, found = item.document, item.stance
    return {"id": doc.id, "title": doc.title, "outlet": doc.outlet, "published": doc.published, "url": doc.url,
            "reliability": item.reliability, "scores": found.scores,
            "rationale": [vars(sentence) for sentence in found.rationale]}


def stance_groups(assessments: list[Assessment]) -> list[dict]:
    """The documents by stance (agree, disagree, discuss, unrelated), empty groups left out."""
    groups = []
    for stance in STANCE_ORDER:
        members = [_document_view(a) for a in assessments if a.stance.label == stance]
        if members:
            groups.append({"stance": stance, "title": GROUP_TITLES[stance], "word": STANCE_WORDS[stance],
                           "documents": members})
    return groups


def render_report(result, generated: str | None = None) -> str:
    """The HTML report of a `CheckResult`; `generated` (default: now, UTC) is printed in its footer."""
    verdict = result.verdict
    timeline = result.to_dict()["timeline"]
    return environment().get_template("report.html").render(
        claim=result.claim,
        as_of=result.as_of,
        verdict=verdict,
        words=VERDICT_WORDS.get(verdict.label, (verdict.label, verdict.label)),
        groups=stance_groups(result.assessments),
        chart=timeline_svg(timeline, as_of=result.as_of),
        retrieval=result.retrieval,
        generated=generated or datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
    )
