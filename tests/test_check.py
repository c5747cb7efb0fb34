"""Checking claims against a workspace: retrieval, stances with rationale, verdicts over time, sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tabayyun
from tabayyun import Workspace
from tabayyun.stance import RationaleSentence, StanceResult
from tabayyun.verdict import Assessment, aggregate, decide, default_reliability

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
CHOLERA = "تفشي وباء الكوليرا في مرفأ الريحان"


@pytest.fixture(scope="module")
def sample_ws(tmp_path_factory, sample_dir, workspaces):
    ws = Workspace(workspaces.new(tmp_path_factory.mktemp("check"), "ws"))
    ws.ingest(sample_dir, workers=1)
    yield ws
    ws.close()


def by_file(ws, manifest) -> dict[str, str]:
    """Sample file name -> stored document id."""
    ids = {}
    for row in ws.storage.conn.execute("SELECT doc_id, source FROM document_sources"):
        ids[Path(row[1]).name] = row[0]
    return {entry["file"]: ids[entry["file"]] for entry in manifest}


def test_sample_claim_stances_and_rationale(sample_ws, manifest):
    result = sample_ws.check(CHOLERA, embeddings=False)
    stances = {a.document.id: a.stance for a in result.assessments}
    files = by_file(sample_ws, manifest)
    assert stances[files["cholera_01_report_almarsad.txt"]].label == "agree"
    for denial in ("cholera_02_denial_alsahil_today.txt", "cholera_03_denial_alsunbula.html"):
        found = stances[files[denial]]
        assert found.label == "disagree"
        assert any("ينفي" in s.text or "نفى" in s.text or "شائعات" in s.text for s in found.rationale), found.rationale
    assert stances[files["desal_00_original_nsa.html"]].label == "unrelated"
    assert result.retrieval["mode"] == "fulltext" and "off" in result.retrieval["note"]


def test_rationale_offsets_index_the_stored_paragraphs(sample_ws):
    for item in sample_ws.check(CHOLERA, embeddings=False).assessments:
        for sentence in item.stance.rationale:
            source = item.document.title if sentence.paragraph == -1 else item.document.paragraphs[sentence.paragraph]
            assert source[sentence.start:sentence.end] == sentence.text


def test_verdict_changes_as_of_the_date(sample_ws):
    first = sample_ws.check(CHOLERA, as_of="2024-03-04", embeddings=False)
    after_denials = sample_ws.check(CHOLERA, as_of="2024-03-06", embeddings=False)
    assert [a.document.published for a in first.assessments if a.stance.label != "unrelated"] == ["2024-03-04"]
    assert first.verdict.label in ("unverified", "true")
    assert after_denials.verdict.label in ("false", "mixed")
    assert first.verdict.label != after_denials.verdict.label
    assert all(a.document.published <= "2024-03-06" for a in after_denials.assessments)
    dates = [t.date for t in after_denials.verdict.timeline]
    assert dates == sorted(dates)


def _assessment(doc_id: str, text: str, label: str, outlet: str | None = "صحيفة", published="2024-01-01"):
    doc = tabayyun.Document(id=doc_id, text=text, format="text", paragraphs=[text], outlet=outlet,
                            published=published)
    scores = {"agree": 0.0, "disagree": 0.0, "discuss": 0.0, "unrelated": 0.0, label: 1.0}
    rationale = [RationaleSentence(0, 0, len(text), text, 1.0)]
    return Assessment(doc, StanceResult(label, scores, rationale), reliability=0.65)


WIRE = "أعلنت الحكومة اليوم افتتاح محطة جديدة لتحلية المياه في الساحل بطاقة كبيرة تكفي مئة ألف نسمة من السكان."


def test_copies_of_one_story_count_as_one_source():
    copies = [_assessment(f"c{i}", WIRE + f" المصدر {i}.", "agree", outlet=f"موقع {i}") for i in range(4)]
    denial = _assessment("d", "نفت الحكومة افتتاح أي محطة لتحلية المياه في الساحل هذا العام.", "disagree")
    verdict = aggregate(copies + [denial])
    assert verdict.sources["agree"] == 1 and verdict.sources["disagree"] == 1
    assert len({c.source_key for c in copies}) == 1
    assert verdict.label == "mixed"
    independent = [_assessment(f"i{i}", f"تقرير مستقل رقم {i} عن موضوع آخر تماما بكلمات مختلفة {i * 7}.", "agree")
                   for i in range(4)]
    assert aggregate(independent + [denial]).label == "true"


def test_reliability_weighs_sources():
    strong = _assessment("a", "خبر أول عن الحدث", "agree")
    weak = _assessment("b", "نفي مختلف للحدث نفسه", "disagree")
    strong.reliability, weak.reliability = 0.9, 0.2
    assert aggregate([strong, weak]).label == "true"
    strong.reliability, weak.reliability = 0.2, 0.9
    assert aggregate([strong, weak]).label == "false"
    assert default_reliability("Reuters") > default_reliability("موقع مجهول") > default_reliability(None)


def test_decide_thresholds():
    assert decide(0.1, 0.1)[0] == "unverified"
    assert decide(2.0, 0.1)[0] == "true"
    assert decide(0.1, 2.0)[0] == "false"
    assert decide(1.0, 1.0)[0] == "mixed"
    assert decide(5.0, 0.0)[1] > decide(1.0, 0.0)[1]


def test_undated_documents_are_left_out_as_of_a_date():
    dated = _assessment("a", "خبر مؤرخ", "agree")
    undated = _assessment("b", "خبر بلا تاريخ", "disagree", published=None)
    verdict = aggregate([dated, undated], as_of="2024-02-01")
    assert verdict.sources["disagree"] == 0
    assert "1 undated" in verdict.explanation


def test_python_verify_on_documents():
    docs = [tabayyun.analyze("نفت وزارة الصحة تفشي وباء الكوليرا في مرفأ الريحان ووصفت الأنباء بالشائعات.\n\n"
                             "وقال الوزير إن الوضع الصحي مستقر.", published="2024-03-05")]
    verdict = tabayyun.verify(CHOLERA, docs)
    assert verdict.label in ("false", "unverified")
    assert verdict.timeline and verdict.timeline[0].stance == "disagree"


def test_cli_check_json_and_text(cli, tmp_path, sample_dir, workspace_address):
    db = workspace_address("ws")
    assert cli("ingest", sample_dir, "--db", db).returncode == 0
    result = cli("check", CHOLERA, "--db", db, "--format", "json", "--top", "8", "--as-of", "2024-03-06")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"claim", "as_of", "verdict", "documents", "timeline"}
    assert set(data["verdict"]) >= {"label", "confidence", "explanation"}
    first = data["documents"][0]
    assert set(first) >= {"id", "title", "outlet", "published", "stance", "scores", "rationale"}
    assert set(first["rationale"][0]) == {"paragraph", "start", "end", "text", "score", "speaker", "cue_class"}
    assert {"date", "outlet", "stance", "gist"} <= set(data["timeline"][0])
    text = cli("check", CHOLERA, "--db", db, "--top", "5")
    assert text.returncode == 0 and "verdict:" in text.stdout and "timeline:" in text.stdout
    assert cli("check", CHOLERA, "--db", db, "--as-of", "yesterday").returncode == 2
    assert cli("check", CHOLERA, "--db", tmp_path / "missing.db").returncode == 1


def test_cli_sources_defaults_and_edits(cli, tmp_path, sample_dir, workspace_address):
    db = workspace_address("ws")
    cli("ingest", sample_dir, "--db", db)
    listed = json.loads(cli("sources", "--db", db, "--format", "json").stdout)
    outlets = {row["outlet"]: row for row in listed}
    assert outlets and all(row["set_by"] == "default" for row in listed)
    name = next(iter(outlets))
    edited = cli("sources", "--db", db, "--set", f"{name}=0.15", "--note", "retracted twice", "--format", "json")
    assert edited.returncode == 0, edited.stderr
    row = next(r for r in json.loads(edited.stdout) if r["outlet"] == name)
    assert row == {**row, "reliability": 0.15, "set_by": "user"}
    assert cli("sources", "--db", db, "--set", f"{name}=7").returncode == 2
    with Workspace(db) as ws:
        assert ws.storage.reliabilities()[name] == 0.15


@pytest.mark.skipif(not SEEDS.exists(), reason="../shared/seeds is not present (the user's five example pages)")
def test_seed_pages(tmp_path, workspace_address):
    with Workspace(workspace_address("seeds")) as ws:
        ws.ingest(SEEDS, workers=1)
        told = ws.check("الجيش الأمريكي أبلغ العراق رسمياً بانسحاب قواته", embeddings=False)
        stances = {a.document.title: a.stance for a in told.assessments}
        pentagon = next(s for t, s in stances.items() if "تنفي وجود خطط" in (t or ""))
        coalition = next(s for t, s in stances.items() if "التحالف الدولي يطرح" in (t or ""))
        assert pentagon.label == "disagree" and coalition.label == "disagree"
        assert any("نفى" in s.text for s in pentagon.rationale)
        denial = next(s for s in pentagon.rationale if "نفى" in s.text)
        assert denial.cue_class == "deny" and "إسبر" in denial.speaker
        assert any("عدم وجود أي خطط للانسحاب" in s.text for s in coalition.rationale)
        talks = ws.check("واشنطن تبلغ بغداد استعدادها لبدء محادثات لإنهاء مهمة التحالف الدولي في العراق",
                         embeddings=False)
        reuters = next(a for a in talks.assessments if "رويترز" in (a.document.title or ""))
        assert reuters.stance.label == "agree"
