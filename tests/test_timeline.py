"""Timelines: publication events and the dated reporting sentences inside articles (the minister's
denial of Monday evening, reported on Tuesday, lands on Monday), their order and evidence, and the
`timeline` command for a story, an entity and a claim."""

from __future__ import annotations

import json

import pytest

import tabayyun
from tabayyun.connect.timeline import one_line, timeline
from tabayyun.model import Document, Evidence, Quote, TimeExpr


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory, sample_dir, workspaces) -> str:
    path = workspaces.new(tmp_path_factory.mktemp("timeline"), "sample")
    with tabayyun.Workspace(path) as ws:
        ws.ingest(sample_dir, workers=1)
    return path


@pytest.fixture
def workspace(sample_db, tmp_path, workspaces):
    copy = workspaces.copy(sample_db, tmp_path)
    with tabayyun.Workspace(copy) as ws:
        yield ws


def _cholera(ws) -> int:
    return next(s["id"] for s in ws.stories() if "الكوليرا" in (s["label"] or ""))


def _in_order(events: list[dict]) -> bool:
    dates = [e["date"] for e in events]
    dated = [d for d in dates if d]
    return dated == sorted(dated) and dates[len(dated):] == [None] * (len(dates) - len(dated))


def test_denial_of_monday_evening_lands_on_monday(workspace):
    events = workspace.timeline(story=_cholera(workspace))
    assert _in_order(events)
    denial = next(e for e in events if e["evidence"]["text"] == "مساء أمس الاثنين")
    assert denial["date"] == "2024-03-04" and denial["kind"] == "reported"
    assert denial["evidence"]["anchor"] == "2024-03-05" and denial["evidence"]["paragraph"] == 0
    published = next(e for e in events if e["doc_id"] == denial["doc_id"] and e["kind"] == "published")
    assert published["date"] == "2024-03-05"
    assert "نفى" in denial["gist"] and "\n" not in denial["gist"] and len(denial["gist"]) <= 160
    doc = workspace.get(denial["doc_id"])
    evidence = denial["evidence"]
    assert doc.paragraphs[evidence["paragraph"]][evidence["start"]:evidence["end"]] == "مساء أمس الاثنين"
    # One publication event per document of the story, the undated one last.
    assert sum(e["kind"] == "published" for e in events) == 6
    assert events[-1]["date"] is None and events[-1]["kind"] == "published"
    assert all(set(e) >= {"date", "doc_id", "outlet", "kind", "gist", "evidence"} for e in events)
    assert all(set(e["evidence"]) >= {"paragraph", "start", "end", "text", "anchor"} for e in events)


def test_statements_and_happenings_on_other_days_become_events():
    """A dated sentence becomes an event when it holds a quote, a reporting verb or a happening (the
    visit); the weather does not."""
    text = "عنوان"
    doc = Document(id="d1", text=text, title="عنوان الخبر", outlet="س", published="2024-03-05",
                   published_evidence=Evidence("meta", "2024-03-05"),
                   paragraphs=["نفى الوزير مساء أمس الاثنين الأنباء. وزار المدينة مساء أمس الاثنين أيضاً. "
                               "وافتتح اليوم الثلاثاء معرضاً.",
                               "وهطلت الأمطار أمس الاثنين."])
    doc.times = [TimeExpr("مساء أمس الاثنين", "2024-03-04", "day", "2024-03-05", 0, 11, 27),
                 TimeExpr("مساء أمس الاثنين", "2024-03-04", "day", "2024-03-05", 0, 51, 67),
                 TimeExpr("اليوم الثلاثاء", "2024-03-05", "day", "2024-03-05", 0, 84, 98),
                 TimeExpr("أمس الاثنين", "2024-03-04", "day", "2024-03-05", 1, 14, 25),
                 TimeExpr("مارس", "2024-03", "month", "2024-03-05", 1, 0, 4)]
    undated = Document(id="d0", text=text, title="بلا تاريخ", paragraphs=["خبر"])
    later = Document(id="d2", text=text, title="متابعة", published="2024-03-06", paragraphs=["خبر"],
                     quotes=[Quote("الوزير", "الوزير", "person", "قال", "assert", "شيء", False, 0, 0, 3)])
    events = timeline([undated, later, doc])
    assert [(e.date, e.doc_id, e.kind) for e in events] == [
        ("2024-03-04", "d1", "reported"), ("2024-03-04", "d1", "reported"), ("2024-03-05", "d1", "published"),
        ("2024-03-06", "d2", "published"), (None, "d0", "published")]
    assert events[0].gist == "نفى الوزير مساء أمس الاثنين الأنباء."
    assert events[1].gist == "وزار المدينة مساء أمس الاثنين أيضاً."
    assert events[0].evidence["start"] == 11 and events[0].evidence["resolved"] == "relative to 2024-03-05"
    assert one_line("a\nb " * 100).count("\n") == 0 and len(one_line("x" * 500)) == 160


def test_cli_timeline_story_entity_and_claim(workspace, cli):
    story = _cholera(workspace)
    path = workspace.path
    workspace.close()
    shown = cli("timeline", "--story", story, "--db", path, "--format", "json")
    assert shown.returncode == 0, shown.stderr
    events = json.loads(shown.stdout)["timeline"]
    assert _in_order(events) and any(e["date"] == "2024-03-04" and e["kind"] == "reported" for e in events)

    named = cli("timeline", "--entity", "خطوط النورس", "--db", path, "--format", "json")
    assert named.returncode == 0, named.stderr
    events = json.loads(named.stdout)["timeline"]
    assert _in_order(events) and 1 <= sum(e["kind"] == "published" for e in events) <= 4
    assert all(e["date"] is None or e["date"].startswith("2025") for e in events)

    claimed = cli("timeline", "--claim", "وزير الصحة ينفي تسجيل إصابات بالكوليرا في مرفأ الريحان",
                  "--db", path, "--format", "json")
    assert claimed.returncode == 0, claimed.stderr
    events = json.loads(claimed.stdout)["timeline"]
    assert events and _in_order(events)
    assert all(e["stance"] in ("agree", "disagree", "discuss") for e in events)
    assert any(e["evidence"]["text"] == "مساء أمس الاثنين" and e["date"] == "2024-03-04" for e in events)

    text = cli("timeline", "--story", story, "--db", path)
    assert text.returncode == 0 and "2024-03-04  reported" in text.stdout and "مساء أمس الاثنين" in text.stdout
    assert cli("timeline", "--story", "999", "--db", path).returncode == 1
    assert cli("timeline", "--db", path).returncode != 0
