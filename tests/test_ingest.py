"""Batch ingestion into a workspace: counts, duplicates, failures, and surviving a killed run."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time

import pytest

from tabayyun import Workspace
from tabayyun.ingest import IngestReport, ingest
from tabayyun.pipeline import document_id
from tabayyun.sample import sample_files
from tabayyun.sources.decode import decode_bytes
from tabayyun.store import SQLiteStorage, open_storage

from conftest import kill_when


def db_ids(address: str) -> list[str]:
    """The stored document ids in ingestion order, read through a connection of its own."""
    storage = open_storage(address, readonly=True)
    try:
        return [row[0] for row in storage.conn.execute("SELECT id FROM documents ORDER BY rowid")]
    finally:
        storage.close()


def test_sample_pages_are_all_stored_then_all_duplicates(workspace_address, manifest):
    pages = sample_files()
    assert sorted(p.name for p in pages) == sorted(e["file"] for e in manifest)
    db = workspace_address("w")
    with Workspace(db) as ws:
        first = ws.ingest(*pages)
        assert (first.stored, first.duplicates, first.failed) == (len(manifest), 0, 0)
        assert first.exit_code == 0
        assert len(ws) == len(manifest) == 15
        second = ws.ingest(*pages, workers=1)
        assert (second.stored, second.duplicates, second.failed) == (0, len(manifest), 0)
        assert len(ws) == 15
    expected = {document_id(decode_bytes(p.read_bytes())[0].lstrip("\ufeff")) for p in pages}
    assert set(db_ids(db)) == expected


def test_sample_folder_ingests_without_failures(workspace_address, sample_dir, manifest):
    with Workspace(workspace_address("w")) as ws:
        report = ws.ingest(sample_dir)
        assert report.stored == len(manifest) == len(ws)
        assert report.failed == 0, [f"{f.source}: {f.message}" for f in report.failures[:2]]


def test_same_content_in_two_encodings_is_stored_once(tmp_path, sample_dir, workspace_address, workspaces):
    text = (sample_dir / "desal_01_copy_aldifaf_credited.txt").read_text(encoding="utf-8")
    (tmp_path / "in").mkdir()
    utf8, legacy = tmp_path / "in" / "a_utf8.txt", tmp_path / "in" / "b_cp1256.txt"
    utf8.write_bytes(text.encode("utf-8"))
    legacy.write_bytes(text.replace("\n", "\r\n").encode("cp1256"))
    assert utf8.read_bytes() != legacy.read_bytes()
    db = workspace_address("w")
    with Workspace(db) as ws:
        report = ws.ingest(tmp_path / "in", workers=1)
        assert (report.stored, report.duplicates, report.failed) == (1, 1, 0)
        [doc_id] = db_ids(db)
        assert doc_id == document_id(text)
        doc = ws.get(doc_id)
        assert doc.encoding == "utf-8" and doc.path == str(utf8)  # the first one read wins
    sources = {row[0] for row in workspaces.query(db, "SELECT source FROM document_sources WHERE doc_id = ?",
                                                  (doc_id,))}
    assert sources == {str(utf8), str(legacy)}


def test_duplicate_from_a_later_run_records_its_source(tmp_path, articles, workspace_address):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(articles.text(1).encode("utf-8"))
    b.write_bytes(articles.text(1).encode("cp1256"))
    with Workspace(workspace_address("w")) as ws:
        ws.ingest(a, workers=1)
        report = ws.ingest(b, workers=1)
        assert (report.stored, report.duplicates) == (0, 1)
        rows = ws.storage.conn.execute("SELECT source FROM document_sources").fetchall()
    assert {r[0] for r in rows} == {str(a), str(b)}


def _bad_batch(tmp_path, articles) -> tuple[list[str], list[str], set[str]]:
    """Good files and one of each bad kind; returns (paths, good ids, sources expected to fail)."""
    folder = tmp_path / "batch"
    good = articles.write(folder / "good", 5)
    bad = {
        "empty.txt": b"",
        "blank.txt": b"  \n\n\t  \n",
        "junk.txt": bytes((i * 37 + 11) % 256 for i in range(3000)),
        "photo.png": b"\x89PNG\r\n\x1a\n" + bytes(300),
        "scan.pdf": b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n",
        "numbers.txt": b"12 34 56 -- 78 / 90\n" * 30,
        "huge.txt": ("كلمة " * 2000).encode("utf-8"),
    }
    paths = [str(p) for p in good]
    failing = set()
    for name, data in bad.items():
        (folder / name).write_bytes(data)
        paths.append(str(folder / name))
        failing.add(str(folder / name))
    records = folder / "records.jsonl"
    records.write_text("\n".join([
        json.dumps({"text": articles.text(100), "outlet": "الضفاف"}, ensure_ascii=False),
        "{not json",
        json.dumps({"title": "no body"}),
    ]) + "\n", encoding="utf-8")
    paths.append(str(records))
    failing |= {f"{records}:2", f"{records}:3"}
    missing = str(folder / "missing.txt")
    paths.insert(2, missing)
    failing.add(missing)
    good_ids = [document_id(articles.text(n)) for n in range(5)] + [document_id(articles.text(100))]
    return paths, good_ids, failing


@pytest.mark.parametrize("workers", [1, 2])
def test_mixed_batch_counts_failures_and_stores_the_good(tmp_path, articles, workers, workspace_address, workspaces):
    paths, good_ids, failing = _bad_batch(tmp_path, articles)
    db = workspace_address("w")
    with Workspace(db) as ws:
        report = ws.ingest(*paths, workers=workers, max_bytes=6000, batch_size=2)
        assert report.failed == len(failing) == 10
        assert {f.source for f in report.failures} == failing
        assert all(f.message and "\n" not in f.message for f in report.failures)
        assert report.stored == len(good_ids)
        assert report.duplicates == 0
        assert report.exit_code == 2
        assert sorted(db_ids(db)) == sorted(good_ids)
        recorded = ws.storage.failures()
    assert sorted((r["source"], r["message"]) for r in recorded) == sorted(
        (f.source, f.message) for f in report.failures)
    by_source = {r["source"]: r["message"] for r in recorded}
    folder = tmp_path / "batch"
    assert "PNG" in by_source[str(folder / "photo.png")]
    assert "PDF" in by_source[str(folder / "scan.pdf")]
    assert by_source[str(folder / "empty.txt")] == "empty input"
    assert by_source[str(folder / "missing.txt")] == "no such file or folder"
    assert by_source[str(folder / "huge.txt")].startswith("too large")
    # The failure table is plain SQL too.
    assert workspaces.query(db, "SELECT count(*) FROM ingest_failures") == [(10,)]


def test_ingest_function_commits_in_batches_and_calls_back(tmp_path, articles, workspace_address):
    paths = articles.write(tmp_path / "in", 10)
    (tmp_path / "in" / "zz_empty.txt").write_bytes(b"")
    db = workspace_address("w")
    storage = open_storage(db)
    progress: list[tuple[int, int]] = []
    failures = []

    def on_progress(report: IngestReport) -> None:
        # Whatever was reported as stored is already committed: a second connection sees it.
        committed = len(db_ids(db))
        progress.append((report.stored, committed))

    report = ingest(storage, [str(tmp_path / "in")], workers=1, batch_size=3,
                    on_progress=on_progress, on_failure=failures.append)
    storage.close()
    assert report.stored == 10 and report.failed == 1
    assert [f.source for f in failures] == [str(tmp_path / "in" / "zz_empty.txt")]
    assert [stored for stored, _ in progress] == [3, 6, 9, 10]
    assert all(stored == committed for stored, committed in progress)
    assert db_ids(db) == [document_id(articles.text(n)) for n in range(10)]
    assert len(paths) == 10


def test_what_batches_leave_is_frozen_for_the_collector_until_the_ingest_ends(tmp_path, articles, workspace_address):
    """Between batches the long-lived state (stories, the finder's hashes) is out of the garbage
    collector's full passes; the ingest gives it back when it ends, also when it fails."""
    import gc

    articles.write(tmp_path / "in", 4)
    frozen: list[int] = []
    storage = open_storage(workspace_address("w"))
    report = ingest(storage, [str(tmp_path / "in")], workers=1, batch_size=2,
                    on_progress=lambda report: frozen.append(gc.get_freeze_count()))
    assert report.stored == 4 and len(frozen) == 3
    assert all(count > 0 for count in frozen) and gc.get_freeze_count() == 0

    def fail(report):
        raise RuntimeError("stopped")

    with pytest.raises(RuntimeError):
        ingest(storage, [str(tmp_path / "in")], workers=1, batch_size=2, on_progress=fail)
    storage.close()
    assert gc.get_freeze_count() == 0


@pytest.mark.sqlite_only("an in-memory SQLite database")
def test_ingest_into_memory_storage(articles, tmp_path):
    articles.write(tmp_path / "in", 3)
    storage = SQLiteStorage(":memory:")
    report = ingest(storage, [str(tmp_path / "in")], workers=2)
    assert (report.stored, report.failed) == (3, 0)
    assert storage.count() == 3
    again = ingest(storage, [str(tmp_path / "in")], workers=1)
    assert (again.stored, again.duplicates) == (0, 3)


def test_killed_ingest_loses_nothing_it_committed_and_resumes(tmp_path, articles, cli_env, workspace_address,
                                                               workspaces):
    total, batch = 600, 25
    folder = tmp_path / "corpus"
    paths = articles.write(folder, total)
    expected_ids = {document_id(decode_bytes(p.read_bytes())[0]) for p in paths}
    assert len(expected_ids) == total
    db = workspace_address("w")
    command = [sys.executable, "-m", "tabayyun.cli", "ingest", str(folder), "--db", db,
               "--batch-size", str(batch), "--workers", "1"]
    kill_when(command, cli_env, tmp_path, lambda: len(db_ids(db)) >= 50, "ingest")

    if workspaces.backend == "sqlite":
        assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    killed_ids = [row[0] for row in workspaces.query(db, "SELECT id FROM documents")]
    [(raw_count,)] = workspaces.query(db, "SELECT count(*) FROM raw_inputs")
    killed_count = len(killed_ids)
    assert 50 <= killed_count < total
    assert killed_count % batch == 0, "a batch is committed whole or not at all"
    assert raw_count == killed_count
    assert set(killed_ids) <= expected_ids

    rerun = subprocess.run(command[:-1] + ["2"], env=cli_env, cwd=tmp_path, capture_output=True, text=True,
                           timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    summary = [line for line in rerun.stderr.splitlines() if "stored," in line]
    assert summary and summary[-1].startswith(
        f"{total - killed_count} stored, {killed_count} skipped as duplicate, 0 failed")
    final_ids = db_ids(db)
    assert len(final_ids) == len(set(final_ids)) == total
    assert set(final_ids) == expected_ids
    for table in ("raw_inputs", "document_sources"):
        assert workspaces.query(db, f"SELECT count(DISTINCT doc_id) FROM {table}") == [(total,)]
    # Every article's paragraphs were stored (each synthetic article has 4 to 6).
    [per_doc] = workspaces.query(db, "SELECT min(c), max(c) FROM (SELECT count(*) c FROM paragraphs GROUP BY doc_id) t")
    assert per_doc[0] >= 4 and per_doc[1] <= 6


def test_basic_analysis_stores_clean_articles_without_the_understanding_layers(workspace_address, sample_dir):
    from tabayyun.pipeline import ANALYSIS_LEVELS

    with Workspace(workspace_address("basic")) as ws:
        report = ws.ingest(sample_dir, workers=1, stages=ANALYSIS_LEVELS["basic"])
        assert report.stored == 15 and report.failed == 0
        assert ws.storage.conn.execute("SELECT count(*) FROM quotes").fetchone()[0] == 0
        assert ws.storage.conn.execute("SELECT count(*) FROM paragraphs").fetchone()[0] > 100
    with Workspace(workspace_address("full")) as ws:
        ws.ingest(sample_dir, workers=1)
        assert ws.storage.conn.execute("SELECT count(*) FROM quotes").fetchone()[0] > 50
        assert ws.storage.conn.execute("SELECT count(*) FROM entities").fetchone()[0] > 50


@pytest.mark.parametrize("site_repeats", [True, False])
def test_ingest_removes_the_lines_a_site_repeats_across_its_inputs(workspace_address, site_pile, site_repeats):
    storage = open_storage(workspace_address("pile"))
    try:
        report = ingest(storage, [str(site_pile.path)], workers=1, embed=False, site_repeats=site_repeats)
        assert report.stored == 3
        docs = [storage.get(row["id"]) for row in storage.list()]
    finally:
        storage.close()
    kept = [site_pile.furniture in doc.paragraphs for doc in docs]
    assert kept == [not site_repeats] * 3
    if site_repeats:
        assert all(any(block.text == site_pile.furniture and "this site" in block.rule for block in doc.removed)
                   for doc in docs)
        assert all(doc.paragraphs for doc in docs)     # the articles themselves are whole


def test_site_repeats_add_up_over_ingests_into_one_workspace(workspace_address, site_pile, tmp_path):
    """Pages of one site ingested one at a time: the third page is cleaned with what the first two
    showed, and a page ingested again counts once."""
    files = [site_pile.write(tmp_path / f"page{n}.jsonl", [page]) for n, page in enumerate(site_pile.pages)]
    storage = open_storage(workspace_address("incremental"))
    try:
        ingest(storage, [str(files[0])], workers=1, embed=False, site_repeats=False)
        assert storage.site_page_counts() == {}
        for path in (files[0], files[0], files[1]):
            assert ingest(storage, [str(path)], workers=1, embed=False).sites_grown == []
        assert storage.site_page_counts() == {"news.example.org": 2}
        # The third page makes the teaser a repeated line, which the two stored pages still hold.
        assert ingest(storage, [str(files[2])], workers=1, embed=False).sites_grown == ["news.example.org"]
        assert storage.site_page_counts() == {"news.example.org": 3}
        assert ingest(storage, [str(files[2])], workers=1, embed=False).sites_grown == []
        docs = {doc.url: doc for doc in (storage.get(row["id"]) for row in storage.list())}
    finally:
        storage.close()
    kept = [site_pile.furniture in docs[url].paragraphs for url, _ in site_pile.pages]
    assert kept == [True, True, False]      # stored pages are not cleaned again
    [removed] = [block for block in docs[site_pile.pages[2][0]].removed if block.text == site_pile.furniture]
    assert "repeated on 3 pages of this site" in removed.rule


def test_a_workspace_without_site_counts_counts_its_stored_pages_first(workspace_address, site_pile, tmp_path):
    """What a workspace stored before version 7 (or only with --no-site-repeats) holds is counted at
    the first ingest that uses site repeats."""
    first = site_pile.write(tmp_path / "first.jsonl", site_pile.pages[:2])
    last = site_pile.write(tmp_path / "last.jsonl", site_pile.pages[2:])
    storage = open_storage(workspace_address("upgraded"))
    try:
        ingest(storage, [str(first)], workers=1, embed=False, site_repeats=False)
        assert ingest(storage, [str(last)], workers=1, embed=False).sites_grown == ["news.example.org"]
        assert storage.site_page_counts() == {"news.example.org": 3}
        [doc] = [doc for doc in (storage.get(row["id"]) for row in storage.list()) if doc.url == site_pile.pages[2][0]]
    finally:
        storage.close()
    assert site_pile.furniture not in doc.paragraphs and doc.paragraphs


def _scheduling_probe(_) -> tuple[int, int, list[int]]:
    time.sleep(0.2)     # long enough for every worker of the pool to take a task
    return os.getpid(), os.sched_getscheduler(0), sorted(os.sched_getaffinity(0))


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="scheduling policies are Linux's")
def test_worker_processes_taking_every_core_run_at_idle_priority_one_per_core():
    from tabayyun.ingest import _WorkerConfig, worker_pool

    cores = sorted(os.sched_getaffinity(0))
    config = _WorkerConfig(None, None, 1000)
    with worker_pool(len(cores), config) as pool:
        seen = {pid: (policy, affinity) for pid, policy, affinity in pool.map(_scheduling_probe, range(4 * len(cores)),
                                                                            chunksize=1)}
    assert sorted(seen.values()) == [(os.SCHED_IDLE, [core]) for core in cores]
    if len(cores) > 1:      # with a core to spare for this process (storing, connecting), left as they are
        with worker_pool(len(cores) - 1, config) as pool:
            assert all(policy != os.SCHED_IDLE and affinity == cores
                       for _, policy, affinity in pool.map(_scheduling_probe, range(4), chunksize=1))
    assert os.sched_getscheduler(0) != os.SCHED_IDLE and sorted(os.sched_getaffinity(0)) == cores
