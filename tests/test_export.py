"""Exports (JSON Lines, CSV, Parquet), ClaimReview JSON-LD, the HTML report and its timeline chart."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from typer.testing import CliRunner

from tabayyun import Workspace
from tabayyun.cli import app
from tabayyun.check import check
from tabayyun.export import FORMATS, RATINGS, VERDICT_WORDS, claim_review, iter_records, write_export
from tabayyun.export.writers import NESTED_COLUMNS, SCALAR_COLUMNS, csv_cell
from tabayyun.ingest import ingest
from tabayyun.report import render_report
from tabayyun.store import open_storage
from tabayyun.web.charts import timeline_svg

CHOLERA = "تفشي وباء الكوليرا في مرفأ الريحان"
RECORD_KEYS = {"id", "title", "outlet", "published", "url", "language", "format", "encoding", "paragraphs",
               "removed", "entities", "quotes", "citations", "times", "title_evidence", "outlet_evidence",
               "published_evidence", "language_evidence", "story", "duplicates", "stances"}
HOSTILE_TITLE = "<script>alert(1)</script> مصادر: تفشي وباء الكوليرا في مرفأ الريحان"
HOSTILE_IMG = "<img src=x onerror=alert(1)>"
# Written for this test: a page whose title and body carry markup, and one whose title is a formula.
HOSTILE_PAGE = (f"{HOSTILE_TITLE}\n\nمرفأ الريحان - أكدت مصادر طبية اليوم تفشي وباء الكوليرا في مرفأ الريحان"
                f" {HOSTILE_IMG} وسجلت المستشفيات عشرات الحالات الجديدة خلال يومين.\n\nوقال طبيب في"
                " المستشفى العام إن الحالات تتزايد يوماً بعد يوم وإن الطواقم الطبية تعمل بلا توقف لاحتواء المرض.\n")
FORMULA_TITLE = "=HYPERLINK(\"http://example.invalid\";\"انقر\") نشرة الطقس في دار الصفا"
FORMULA_PAGE = (f"{FORMULA_TITLE}\n\nدار الصفا - توقعت دائرة الأرصاد الجوية أن تشهد دار الصفا أجواء معتدلة"
                " خلال عطلة نهاية الأسبوع مع رياح خفيفة وفرص ضعيفة لهطول الأمطار على المرتفعات.\n\nونصحت"
                " الدائرة الصيادين بتوخي الحذر صباح السبت بسبب ارتفاع الموج في عرض البحر لساعات قليلة.\n")


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory, sample_dir, workspaces) -> str:
    path = workspaces.new(tmp_path_factory.mktemp("export"), "ws")
    storage = open_storage(path)
    ingest(storage, [str(sample_dir)], workers=1, embed=False)
    storage.close()
    return path


@pytest.fixture(scope="module")
def storage(sample_db):
    opened = open_storage(sample_db)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory, sample_db, workspaces) -> str:
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "pages").mkdir()
    (folder / "pages" / "evil.txt").write_text(HOSTILE_PAGE, encoding="utf-8")
    (folder / "pages" / "formula.txt").write_text(FORMULA_PAGE, encoding="utf-8")
    path = workspaces.copy(sample_db, folder)
    opened = open_storage(path)
    ingest(opened, [str(folder / "pages")], workers=1, embed=False)
    opened.close()
    return path


@pytest.fixture(scope="module")
def result(storage):
    return check(storage, CHOLERA, embeddings=False)


def file_ids(storage) -> dict[str, str]:
    """Sample file name -> stored document id."""
    return {Path(source).name: doc_id for doc_id, source in
            storage.conn.execute("SELECT doc_id, source FROM document_sources")}


def export_bytes(storage, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    write_export(storage, fmt, buffer, **options)
    return buffer.getvalue()


def test_jsonl_has_one_record_per_document_with_its_analysis(storage):
    data = export_bytes(storage, "jsonl", claim=CHOLERA, embeddings=False).decode("utf-8")
    assert "\\u06" not in data  # Arabic written as is, not as escapes
    records = [json.loads(line) for line in data.splitlines()]
    assert len(records) == storage.count()
    assert {r["id"] for r in records} == {row[0] for row in storage.conn.execute("SELECT id FROM documents")}
    for record in records:
        assert RECORD_KEYS <= set(record), RECORD_KEYS - set(record)
        assert "text" not in record  # the raw input stays in the workspace
        assert record["story"] is not None and record["paragraphs"]
    by_id, files = {r["id"]: r for r in records}, file_ids(storage)
    report = by_id[files["cholera_01_report_almarsad.txt"]]
    assert report["title_evidence"]["source"] and report["published"] == "2024-03-04"
    assert {"kind", "rule", "text"} <= set(report["removed"][0])
    assert {"speaker", "speaker_canonical", "cue", "cue_class", "content", "paragraph", "start", "end", "via"} \
        <= set(report["quotes"][0])
    assert {"text", "value", "granularity"} <= set(report["times"][0])
    assert [s["stance"] for s in report["stances"]] == ["agree"]
    denial = by_id[files["cholera_02_denial_alsahil_today.txt"]]["stances"][0]
    assert denial["claim"] == CHOLERA and denial["stance"] == "disagree"
    assert set(denial["scores"]) == {"agree", "disagree", "discuss", "unrelated"} and denial["rationale"]
    assert all(s["stance"] == "unrelated" for s in by_id[files["flights_01_report_rasif.txt"]]["stances"])
    original, copy = files["desal_00_original_nsa.html"], files["desal_01_copy_aldifaf_credited.txt"]
    assert copy in by_id[original]["duplicates"] and original in by_id[copy]["duplicates"]
    assert by_id[original]["story"] == by_id[copy]["story"] != report["story"]
    assert by_id[files["cholera_04_who_confirms_sawt_alwaha.txt"]]["duplicates"] == []


def test_records_stream_in_batches(storage):
    seen: list[int] = []

    class Counting:
        """The real storage, recording how many documents each batch loads."""

        def __getattr__(self, name):
            return getattr(storage, name)

        def analyses(self, ids):
            seen.append(len(ids))
            return storage.analyses(ids)

    records = list(iter_records(Counting(), batch=4))
    assert [r["id"] for r in records] == [r["id"] for r in iter_records(storage)]
    assert max(seen) == 4 and sum(seen) == storage.count()
    assert all(r["stances"] == [] for r in records)


def test_csv_reads_back_with_a_bom_and_json_cells(storage):
    data = export_bytes(storage, "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(rows) == storage.count()
    assert list(rows[0]) == list(SCALAR_COLUMNS + NESTED_COLUMNS)
    by_title = {row["title"]: row for row in rows}
    row = next(r for title, r in by_title.items() if title.startswith("وزير الصحة ينفي"))
    entities = json.loads(row["entities"])
    assert entities and {"text", "type", "canonical"} <= set(entities[0])
    assert json.loads(row["stances"]) == [] and json.loads(row["paragraphs"])


def test_csv_neutralises_formulas(hostile_db):
    assert [csv_cell(v) for v in ("=1+1", "+1", "-2", "@SUM(A1)", "\tx", "عادي", 3, None, ["=x"])] == \
        ["'=1+1", "'+1", "'-2", "'@SUM(A1)", "'\tx", "عادي", "3", "", '["=x"]']
    opened = open_storage(hostile_db)
    try:
        rows = list(csv.reader(io.StringIO(export_bytes(opened, "csv").decode("utf-8-sig"), newline="")))
    finally:
        opened.close()
    titles = [row[1] for row in rows[1:]]
    assert "'" + FORMULA_TITLE in titles and FORMULA_TITLE not in titles
    assert not [cell for row in rows for cell in row if cell[:1] in ("=", "+", "-", "@")]


def test_parquet_reads_back_with_nested_types(storage, tmp_path):
    path = tmp_path / "docs.parquet"
    with open(path, "wb") as handle:
        count = write_export(storage, "parquet", handle, claim=CHOLERA, embeddings=False, batch=4)
    table = pq.read_table(path)
    assert count == table.num_rows == storage.count()
    assert pq.ParquetFile(path).metadata.num_row_groups == -(-count // 4)
    entity = table.schema.field("entities").type
    assert pa.types.is_list(entity) and pa.types.is_struct(entity.value_type)
    assert pa.types.is_struct(table.schema.field("stances").type.value_type)
    rows = {row["id"]: row for row in table.to_pylist()}
    expected = {json.loads(line)["id"]: json.loads(line)
                for line in export_bytes(storage, "jsonl").decode("utf-8").splitlines()}
    for doc_id, record in expected.items():
        assert rows[doc_id]["entities"] == record["entities"]
        assert rows[doc_id]["quotes"] == record["quotes"]
        assert rows[doc_id]["duplicates"] == record["duplicates"]
    denial = rows[file_ids(storage)["cholera_02_denial_alsahil_today.txt"]]["stances"][0]
    assert denial["stance"] == "disagree" and dict(denial["scores"])["disagree"] > 0.5


def test_unknown_export_format_is_refused(storage):
    assert FORMATS == ("jsonl", "csv", "parquet")
    with pytest.raises(ValueError, match="xml"):
        write_export(storage, "xml", io.BytesIO())


def test_claim_review_has_every_required_field(result, storage):
    review = claim_review(result, author="مرصد التحقق", url="https://example.invalid/check/1")
    assert review["@context"] == "https://schema.org" and review["@type"] == "ClaimReview"
    assert review["claimReviewed"] == CHOLERA and review["url"] == "https://example.invalid/check/1"
    assert review["datePublished"] == date.today().isoformat()
    assert review["author"] == {"@type": "Organization", "name": "مرصد التحقق"}
    rating, label = review["reviewRating"], result.verdict.label
    assert rating["@type"] == "Rating" and (rating["worstRating"], rating["bestRating"]) == (1, 5)
    assert rating["ratingValue"] == RATINGS[label] and rating["alternateName"] == VERDICT_WORDS[label][0]
    assert VERDICT_WORDS[label][1] in rating["textualRating"]
    assert f"{result.verdict.confidence:.2f}" in rating["description"]
    item = review["itemReviewed"]
    assert item["@type"] == "Claim"
    decided = [a for a in result.assessments if a.stance.label in ("agree", "disagree")]
    assert len(item["appearance"]) == len(decided) >= 3
    for work, assessment in zip(item["appearance"], decided):
        assert work["headline"] == assessment.document.title
        assert work["description"].startswith(assessment.stance.label + ": ")
        assert work["description"][len(assessment.stance.label) + 2:] in {s.text for s in assessment.stance.rationale}
    first = item["firstAppearance"]
    assert first["datePublished"] == "2024-03-04" and first["publisher"]["name"] == "المرصد الأخضر"
    json.dumps(review)  # plain JSON


def test_claim_review_follows_the_verdict_as_of_a_date(storage):
    before = check(storage, CHOLERA, as_of="2024-03-06", embeddings=False)
    review = claim_review(before)
    assert before.verdict.label in ("false", "mixed")
    assert review["reviewRating"]["ratingValue"] == RATINGS[before.verdict.label] < 5
    assert review["datePublished"] == "2024-03-06" and "url" not in review
    assert all(w["datePublished"] <= "2024-03-06" for w in review["itemReviewed"]["appearance"])


def svg_of(html: str) -> str:
    found = re.search(r'<svg class="timeline-chart".*?</svg>', html, re.S)
    assert found, "no timeline chart"
    return found.group(0)


def test_report_is_one_self_contained_rtl_file(result):
    html = render_report(result, generated="2026-01-01 00:00 UTC")
    assert '<html lang="ar" dir="rtl">' in html and "@media print" in html
    assert CHOLERA in html and VERDICT_WORDS[result.verdict.label][0] in html
    assert f"{round(result.verdict.confidence * 100)}%" in html and "2026-01-01 00:00 UTC" in html
    assert "<script" not in html.lower() and "<link" not in html.lower() and "url(" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    ET.fromstring(svg_of(html))  # the chart is well-formed XML
    denial = next(a for a in result.assessments if a.stance.label == "disagree")
    assert denial.document.title in html and denial.stance.rationale[0].text.replace('"', "&#34;") in html
    assert html.index("مصادر تؤيد الادعاء") < html.index("مصادر تنفي الادعاء")


def test_hostile_page_is_escaped_in_the_report_and_chart(hostile_db):
    opened = open_storage(hostile_db)
    try:
        hostile = check(opened, CHOLERA, embeddings=False)
    finally:
        opened.close()
    evil = next(a for a in hostile.assessments if a.document.title == HOSTILE_TITLE)
    assert any("<img" in s.text for s in evil.stance.rationale), "the hostile sentence must be shown"
    html = render_report(hostile)
    assert "<script" not in html.lower() and "<img" not in html.lower() and "onerror=alert(1)>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    chart = svg_of(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in chart and "<script" not in chart
    ET.fromstring(chart)


def test_timeline_chart_markers_as_of_and_empty_state():
    items = [{"date": "2024-03-04", "doc_id": "a", "outlet": "المرصد", "stance": "agree", "gist": "تفشي <b>"},
             {"date": "2024-03-05T21:00:00+03:00", "doc_id": "b", "outlet": None, "stance": "disagree", "gist": "نفي"},
             {"date": "2024-03-05", "doc_id": "c", "outlet": "x", "stance": "discuss", "gist": "نقاش"},
             {"date": None, "doc_id": "d", "outlet": "y", "stance": "unrelated", "gist": "بلا تاريخ"}]
    svg = str(timeline_svg(items, as_of="2024-03-06"))
    root = ET.fromstring(svg)
    assert root.get("class") == "timeline-chart"
    markers = root.findall("{http://www.w3.org/2000/svg}g")
    assert [m.get("class") for m in markers] == ["marker stance-agree", "marker stance-disagree",
                                                 "marker stance-discuss", "marker stance-unrelated"]
    fills = [m.find("{http://www.w3.org/2000/svg}circle").get("fill") for m in markers]
    assert fills[0] != fills[1] != fills[2] and fills[3] == "#9e9e9e"
    assert "تفشي <b>" in markers[0].find("{http://www.w3.org/2000/svg}title").text and "&lt;b&gt;" in svg
    assert 'class="as-of"' in svg and "2024-03-06" in svg and "بلا تاريخ" in svg
    same_day = [m.find("{http://www.w3.org/2000/svg}circle") for m in markers[1:3]]
    assert same_day[0].get("cx") == same_day[1].get("cx") and same_day[0].get("cy") != same_day[1].get("cy")
    assert 'class="as-of"' not in str(timeline_svg(items))
    english = str(timeline_svg(items, as_of="2024-03-06", labels={"agree": "agrees", "as_of": "as of"}))
    assert re.search(r'text-anchor="end" direction="ltr"[^>]*>agrees<', english)  # ends before its dot
    assert re.search(r'text-anchor="start" direction="rtl"[^>]*>ينفي<', english)
    assert ">as of 2024-03-06<" in english and "\u2066" in svg  # the date isolated only inside Arabic
    empty = str(timeline_svg([], labels={"empty": "nothing <here>"}))
    assert 'class="timeline-chart"' in empty and "nothing &lt;here&gt;" in empty and "<circle" not in empty
    ET.fromstring(empty)


def test_timeline_chart_draws_story_events(sample_db):
    with Workspace(sample_db) as ws:
        events = ws.timeline(story=1)
    assert events and {"date", "kind", "doc_id"} <= set(events[0])
    svg = str(timeline_svg(events))
    assert svg.count("<circle") - svg.count("legend-dot") == len(events)
    assert "رُوي" in svg  # the reported events (a Monday-evening denial) are named in their titles
    ET.fromstring(svg)


def test_cli_export_and_report(cli, sample_db, tmp_path, workspaces):
    db = workspaces.copy(sample_db, tmp_path)
    lines = cli("export", "--format", "jsonl", "--db", db)
    assert lines.returncode == 0, lines.stderr
    assert len(lines.stdout.splitlines()) == 15 and json.loads(lines.stdout.splitlines()[0])["id"]
    made = cli("report", "--claim", CHOLERA, "--out", tmp_path / "r.html", "--as-of", "2024-03-06",
               "--no-embeddings", "--db", db)
    assert made.returncode == 0, made.stderr
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'dir="rtl"' in html and '<svg class="timeline-chart"' in html and 'class="as-of"' in html
    assert not list(tmp_path.glob("*.part"))


def test_cli_claimreview_and_parquet_in_process(sample_db, tmp_path, workspaces):
    db = workspaces.copy(sample_db, tmp_path)
    done = CliRunner().invoke(app, ["export", "-f", "claimreview", "--claim", CHOLERA, "--as-of", "2024-03-06",
                                    "--no-embeddings", "--db", str(db), "--out", str(tmp_path / "review.json")])
    assert done.exit_code == 0, done.output
    review = json.loads((tmp_path / "review.json").read_text(encoding="utf-8"))
    assert review["@type"] == "ClaimReview" and review["datePublished"] == "2024-03-06"
    done = CliRunner().invoke(app, ["export", "-f", "parquet", "--out", str(tmp_path / "d.parquet"), "--claim",
                                    CHOLERA, "--as-of", "2024-03-06", "--no-embeddings", "--db", str(db)])
    assert done.exit_code == 0, done.output
    assert pq.read_table(tmp_path / "d.parquet").num_rows == 15 and "exported 15 documents" in done.stderr
    assert not list(tmp_path.glob("*.part"))
    nowhere = tmp_path / "missing" / "d.csv"
    done = CliRunner().invoke(app, ["export", "-f", "csv", "--out", str(nowhere), "--db", str(db)])
    assert done.exit_code == 1 and done.stderr.startswith(f"error: cannot write {nowhere}") and not nowhere.exists()


# Each subprocess costs over a second of imports: the usage errors run in process, the missing
# workspace (exit 1) through the real command line.
@pytest.mark.parametrize("args, message", [
    (("export", "-f", "parquet"), "--out"),
    (("export", "-f", "claimreview"), "--claim"),
    (("export", "-f", "xml"), "unknown format"),
    (("export", "-f", "jsonl", "--claim", "  "), "claim is empty"),
    (("export", "-f", "jsonl", "--as-of", "2024-13-40"), "not a date"),
    (("report", "--claim", CHOLERA, "--out", "r.html", "--as-of", "yesterday"), "not a date"),
])
def test_cli_usage_errors_are_one_line(sample_db, tmp_path, monkeypatch, args, message, workspaces):
    monkeypatch.chdir(tmp_path)
    db = workspaces.copy(sample_db, tmp_path)
    done = CliRunner().invoke(app, [*args, "--db", str(db)])
    assert done.exit_code == 2
    assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr, done.stderr
    assert not done.stdout and not (tmp_path / "r.html").exists()


def test_cli_missing_workspace(cli, tmp_path, monkeypatch):
    expected = "error: no workspace at missing.db (run `tabayyun ingest` first)"
    done = cli("report", "--claim", CHOLERA, "--out", "r.html", "--db", "missing.db")
    assert (done.returncode, done.stderr.strip(), done.stdout) == (1, expected, "")
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(app, ["export", "-f", "csv", "--db", "missing.db"])
    assert (done.exit_code, done.stderr.strip(), done.stdout) == (1, expected, "")
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "missing.db").exists()
