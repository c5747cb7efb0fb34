"""Keeping a workspace current: `tabayyun reprocess` (stored pages cleaned and analysed again from their
raw input) and `tabayyun sites` (what the workspace has counted of each site)."""

from __future__ import annotations

import json
import sys
from datetime import date

import pytest

from tabayyun import Workspace
from tabayyun.ingest import ingest
from tabayyun.pipeline import ANALYSIS_LEVELS
from tabayyun.reprocess import reprocess
from tabayyun.store import open_storage

from conftest import kill_when


def _docs(storage) -> dict[str, object]:
    return {row["id"]: storage.get(row["id"]) for row in storage.list()}


def _count(storage, table: str) -> int:
    return storage.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_a_basic_workspace_becomes_a_full_one_and_a_second_run_changes_nothing(workspace_address, sample_dir):
    with Workspace(workspace_address("basic")) as ws:
        ws.ingest(sample_dir, workers=1, stages=ANALYSIS_LEVELS["basic"], embed=False)
        storage = ws.storage
        before = _docs(storage)
        signatures = storage.conn.execute("SELECT doc_id, signature FROM minhash_signatures ORDER BY doc_id").fetchall()
        pairs = storage.duplicate_pairs()
        assert _count(storage, "entities") == 0 and _count(storage, "quotes") == 0

        report = ws.reprocess(embed=False)            # two worker processes, the default
        assert (report.seen, report.changed, report.unchanged, report.failed) == (len(before), len(before), 0, 0)
        after = _docs(storage)
        assert _count(storage, "entities") > 50 and _count(storage, "quotes") > 20
        for doc_id, doc in after.items():
            old = before[doc_id]
            assert (doc.title, doc.paragraphs, doc.published, doc.path) == (old.title, old.paragraphs, old.published,
                                                                            old.path)
        # The text did not change, so neither did what was built on it alone.
        assert storage.conn.execute("SELECT doc_id, signature FROM minhash_signatures ORDER BY doc_id"
                                    ).fetchall() == signatures
        assert storage.duplicate_pairs() == pairs
        # Stories were placed again with the entities: every document in one, no story left empty.
        assert _count(storage, "story_members") == len(before)
        assert storage.conn.execute("SELECT count(*) FROM stories s WHERE NOT EXISTS"
                                    " (SELECT 1 FROM story_members m WHERE m.story_id = s.id)").fetchone()[0] == 0

        again = ws.reprocess(workers=1, embed=False)
        assert (again.changed, again.unchanged) == (0, len(before))
        assert {doc_id: doc.to_dict() for doc_id, doc in _docs(storage).items()} == \
               {doc_id: doc.to_dict() for doc_id, doc in after.items()}

        # Relative dates resolved against another day: the times change, the stories stay as they were.
        members = storage.conn.execute("SELECT doc_id, story_id FROM story_members ORDER BY doc_id").fetchall()
        moved = ws.reprocess(workers=1, embed=False, reference_date=date(2030, 1, 1))
        assert moved.changed > 0 and (moved.clustered, moved.stories_dropped, moved.signed) == (0, 0, 0)
        assert storage.conn.execute("SELECT doc_id, story_id FROM story_members ORDER BY doc_id").fetchall() == members
        assert any(t.anchor and t.anchor.startswith("2030") for doc in _docs(storage).values() for t in doc.times)


def test_lead_vectors_a_killed_run_dropped_are_made_again(workspace_address, sample_dir, monkeypatch):
    from tabayyun.search.embed import ENV, MODEL

    monkeypatch.delenv(ENV, raising=False)
    with Workspace(workspace_address("leads")) as ws:
        ws.ingest(sample_dir, workers=1)
        storage = ws.storage
        total = storage.lead_count(MODEL)
        assert total == len(storage.list())
        lost = storage.list()[0]["id"]
        with storage.conn:  # what a run killed between replacing a document and embedding its lead leaves
            storage.conn.execute("DELETE FROM lead_embeddings WHERE doc_id = ?", (lost,))
        report = ws.reprocess(workers=1)
        assert report.changed == 0 and report.embedded == 1
        assert storage.lead_count(MODEL) == total
        assert ws.reprocess(workers=1).embedded == 0


def test_a_story_a_document_left_is_labelled_and_dated_by_the_members_it_keeps(workspace_address, sample_dir):
    with Workspace(workspace_address("stories")) as ws:
        ws.ingest(sample_dir, workers=1, embed=False)
        storage = ws.storage
        members: dict[int, list[str]] = {}
        for story_id, doc_id in storage.conn.execute("SELECT story_id, doc_id FROM story_members").fetchall():
            members.setdefault(story_id, []).append(doc_id)
        story = next(row for row in storage.story_rows() if len(members[row["id"]]) >= 3)
        leaving = story["label_doc"]
        changed = storage.get(leaving)
        changed.title = "عنوان آخر تماما عن مهرجان الزهور في الربيع"   # what stories are made of changed
        dropped, fewer = storage.replace_documents([changed])
        assert (dropped, fewer) == (0, [story["id"]])
        assert storage.story_rows(story["id"])[0]["label_doc"] == leaving      # stale until refreshed
        assert storage.refresh_stories(fewer + [10**6]) == 1                   # a story that is gone is skipped
        fresh = storage.story_rows(story["id"])[0]
        kept = [storage.get(d) for d in members[story["id"]] if d != leaving]
        assert fresh["label_doc"] in {d.id for d in kept}
        days = sorted(d.published[:10] for d in kept if d.published)
        assert (fresh["first"], fresh["last"]) == (days[0], days[-1])


def test_pages_stored_before_their_site_showed_its_furniture_are_cleaned_again(workspace_address, site_pile,
                                                                                tmp_path):
    files = [site_pile.write(tmp_path / f"page{n}.jsonl", [page]) for n, page in enumerate(site_pile.pages)]
    storage = open_storage(workspace_address("incremental"))
    try:
        for path in files:
            ingest(storage, [str(path)], workers=1, embed=False)
        docs = {doc.url: doc for doc in _docs(storage).values()}
        assert [site_pile.furniture in docs[url].paragraphs for url, _ in site_pile.pages] == [True, True, False]
        first = docs[site_pile.pages[0][0]].id
        signature = storage.conn.execute("SELECT signature FROM minhash_signatures WHERE doc_id = ?",
                                         (first,)).fetchone()

        assert reprocess(storage, workers=1, embed=False, sites=["other.example.org"]).seen == 0
        report = reprocess(storage, embed=False, sites=["www.News.example.org"])
        assert (report.changed, report.unchanged) == (2, 1)
        docs = {doc.url: doc for doc in _docs(storage).values()}
        assert all(site_pile.furniture not in docs[url].paragraphs and docs[url].paragraphs
                   for url, _ in site_pile.pages)
        [removed] = [block for block in docs[site_pile.pages[0][0]].removed if block.text == site_pile.furniture]
        assert "repeated on 3 pages of this site" in removed.rule
        # The clean text changed: the document was signed again, searchable by its new text only.
        assert storage.conn.execute("SELECT signature FROM minhash_signatures WHERE doc_id = ?",
                                    (first,)).fetchone() not in (None, signature)
        terms = " ".join(row[0] for row in storage.conn.execute("SELECT terms FROM search_units WHERE doc_id = ?",
                                                                 (first,)))
        assert "الحصاد" not in terms and terms
        assert report.signed == 2      # their story keys (title, lead, entity names) are those of before
        assert _count(storage, "story_members") == 3
    finally:
        storage.close()


def test_a_run_can_start_after_the_document_an_interrupted_one_named(workspace_address, sample_dir, cli):
    db = workspace_address("resume")
    with Workspace(db) as ws:
        ws.ingest(sample_dir, workers=1, stages=ANALYSIS_LEVELS["basic"], embed=False)
        order = [doc.id for _, doc in ws.storage.stored_documents(0, 100)]
        report = ws.reprocess(workers=1, embed=False, after=order[4])
        assert (report.seen, report.changed, report.done_through) == (len(order) - 5, len(order) - 5, order[-1])
        with_quotes = {row[0] for row in ws.storage.conn.execute("SELECT DISTINCT doc_id FROM quotes")}
        assert with_quotes and not with_quotes & set(order[:5])       # the first five were left alone
        with pytest.raises(ValueError, match="no stored document"):
            ws.reprocess(workers=1, embed=False, after="0000000000000000")
    run = cli("reprocess", "--db", db, "--no-embed", "--after", "nope")
    assert run.returncode == 1 and "error: no stored document 'nope'" in run.stderr


def test_an_interrupted_run_has_committed_what_it_names_and_goes_on_from_there(workspace_address, sample_dir):
    """Stopped (Ctrl-C) after its first batch, with two worker processes: the pool closes, the first
    batch is stored, and a run started after the document it names does the rest."""
    with Workspace(workspace_address("interrupted")) as ws:
        ws.ingest(sample_dir, workers=1, stages=ANALYSIS_LEVELS["basic"], embed=False)
        order = [doc.id for _, doc in ws.storage.stored_documents(0, 100)]
        reports = []

        def stop_after_first_batch(report):
            reports.append(report)
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            ws.reprocess(workers=2, embed=False, batch_size=5, on_progress=stop_after_first_batch)
        assert reports[0].done_through == order[4] and reports[0].changed == 5
        with_quotes = {row[0] for row in ws.storage.conn.execute("SELECT DISTINCT doc_id FROM quotes")}
        assert with_quotes <= set(order[:5]) and with_quotes
        rest = ws.reprocess(workers=2, embed=False, after=reports[0].done_through)
        assert (rest.seen, rest.changed) == (len(order) - 5, len(order) - 5)
        assert ws.reprocess(workers=1, embed=False).changed == 0


def test_the_hints_of_a_json_record_survive_and_a_failing_page_keeps_its_analysis(workspace_address, tmp_path,
                                                                                 monkeypatch):
    record = {"text": "نص الخبر الأول عن افتتاح المعرض الدولي للكتاب في العاصمة بمشاركة واسعة من دور النشر العربية.\n"
                      "وقال المنظمون إن المعرض يستمر عشرة أيام ويستقبل الزوار يوميا من الصباح حتى المساء.",
              "title": "عنوان من السجل", "published": "2024-03-05", "outlet": "صحيفة السجل"}
    path = tmp_path / "records.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    storage = open_storage(workspace_address("records"))
    try:
        ingest(storage, [str(path)], workers=1, embed=False, stages=ANALYSIS_LEVELS["basic"])
        report = reprocess(storage, workers=1, embed=False)
        [doc] = _docs(storage).values()
        assert report.changed == 1 and doc.quotes        # basic -> full: the organisers' statement
        assert (doc.title, doc.published, doc.outlet) == ("عنوان من السجل", "2024-03-05", "صحيفة السجل")
        assert doc.published_evidence.source == "record field"

        import tabayyun.pipeline as pipeline

        def broken(doc, ctx):
            raise RuntimeError("tagger exploded\nsecond line")

        monkeypatch.setitem(pipeline.STAGES, "entities", broken)
        stored = doc.to_dict()
        report = reprocess(storage, workers=1, embed=False)
        assert (report.failed, report.changed, report.exit_code) == (1, 0, 2)
        [failure] = report.failures
        assert "tagger exploded" in failure.message and "kept as it was" in failure.message
        assert next(iter(_docs(storage).values())).to_dict() == stored
    finally:
        storage.close()


def test_the_reprocess_command_prints_what_changed(cli, workspace_address, sample_dir):
    db = workspace_address("cli")
    assert cli("ingest", str(sample_dir), "--db", db, "--analysis", "basic", "--no-embed").returncode == 0
    run = cli("reprocess", "--db", db, "--no-embed")
    assert run.returncode == 0, run.stderr
    assert " changed, 0 unchanged, 0 failed" in run.stderr and "placed in stories" in run.stderr
    again = cli("reprocess", "--db", db, "--no-embed", "--workers", "1")
    assert again.returncode == 0 and " 0 changed," in again.stderr
    assert cli("reprocess", "--db", db, "--analysis", "everything").returncode == 2
    assert "0 read" in cli("reprocess", "--db", db, "--site", "nowhere.example").stderr


def test_ingest_says_which_sites_to_reprocess(cli, workspace_address, site_pile, tmp_path):
    db = workspace_address("hint")
    first = site_pile.write(tmp_path / "first.jsonl", site_pile.pages[:2])
    last = site_pile.write(tmp_path / "last.jsonl", site_pile.pages[2:])
    assert "note:" not in cli("ingest", str(first), "--db", db, "--no-embed").stderr
    hinted = cli("ingest", str(last), "--db", db, "--no-embed")
    assert hinted.returncode == 0
    assert "note: news.example.org now repeats lines that its pages stored earlier still hold" in hinted.stderr
    assert "reprocess --site" in hinted.stderr
    assert "2 changed" in cli("reprocess", "--db", db, "--no-embed", "--site", "news.example.org").stderr


def test_the_sites_command_lists_what_the_workspace_counted(cli, workspace_address, site_pile):
    db = workspace_address("sites")
    assert cli("ingest", str(site_pile.path), "--db", db, "--no-site-repeats", "--no-embed").returncode == 0
    empty = cli("sites", "--db", db)
    assert empty.returncode == 0 and "no site counted yet" in empty.stdout
    counted = cli("reprocess", "--db", db, "--no-embed")     # counts the stored pages first, then cleans them
    assert counted.returncode == 0 and "3 read: 3 changed" in counted.stderr
    listed = cli("sites", "--db", db, "--format", "json")
    assert json.loads(listed.stdout) == [{"host": "news.example.org", "pages": 3, "repeated_lines": 1}]
    table = cli("sites", "--db", db)
    assert "news.example.org" in table.stdout and "3+" in table.stdout


def test_a_killed_run_is_resumed_from_what_the_workspace_recorded(tmp_path, articles, cli_env, workspace_address,
                                                                   workspaces, cli):
    total = 400
    articles.write(tmp_path / "corpus", total)
    db = workspace_address("killed")
    stored = cli("ingest", tmp_path / "corpus", "--db", db, "--analysis", "basic", "--no-embed")
    assert stored.returncode == 0, stored.stderr
    command = [sys.executable, "-m", "tabayyun.cli", "reprocess", "--db", db, "--workers", "1", "--batch-size",
               "20", "--no-embed", "--reference-date", "2030-01-01"]
    kill_when(command, cli_env, tmp_path,
              lambda: any(row[0] for row in workspaces.query(db, "SELECT done_through FROM upkeep_runs")), "reprocess")
    [(through, options)] = workspaces.query(db, "SELECT done_through, options FROM upkeep_runs")
    assert json.loads(options)["reference_date"] == "2030-01-01"

    resumed = cli("reprocess", "--db", db, "--resume", "--workers", "1", "--no-embed")
    assert resumed.returncode == 0, resumed.stderr
    read = int(resumed.stderr.split(" read:")[0].split()[-1])
    assert 0 < read < total                                    # it went on after `through`, not from the start
    assert workspaces.query(db, "SELECT count(*) FROM upkeep_runs") == [(0,)]
    # Every page now carries the full analysis, with relative dates resolved against the killed run's date.
    with Workspace(db) as ws:
        docs = [ws.get(row["id"]) for row in ws.list(limit=total)]
        assert len(docs) == total and all(doc.entities for doc in docs)
        anchors = [t.anchor for doc in docs for t in doc.times if t.anchor]
        assert anchors and all(anchor.startswith("2030-01-01") for anchor in anchors)
        assert ws.storage.document_rowid(through) is not None
    again = cli("reprocess", "--db", db, "--resume", "--no-embed")
    assert again.returncode == 1 and again.stderr.strip() == "error: no unfinished reprocess run to resume"
