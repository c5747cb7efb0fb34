"""The workspace: schema and migrations, what is stored, reading back, and where the file lives."""

from __future__ import annotations

import json
import sqlite3
from importlib import resources

import pytest

from tabayyun import Workspace
from tabayyun.model import REMOVED_KINDS
from tabayyun.pipeline import RawItem, process
from tabayyun.store import DEFAULT_DB, LATEST_VERSION, SQLiteStorage, display_address, open_storage, resolve_db
from tabayyun.store.migrate import table_counts

TABLES = {"documents", "raw_inputs", "paragraphs", "removed_blocks", "document_sources", "ingest_failures"}


def migration_files() -> list[str]:
    folder = resources.files("tabayyun.store").joinpath("migrations")
    return sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".sql"))


@pytest.fixture
def sample_ws(workspace_address, sample_dir):
    """A workspace holding two sample pages: one flattened text, one HTML."""
    ws = Workspace(workspace_address("w"))
    report = ws.ingest(sample_dir / "cholera_01_report_almarsad.txt", sample_dir / "desal_00_original_nsa.html",
                       workers=1)
    assert report.stored == 2
    yield ws
    ws.close()


@pytest.mark.sqlite_only("reads the file's PRAGMA user_version and journal mode")
def test_new_workspace_schema_with_plain_sqlite(tmp_path):
    Workspace(tmp_path / "w.db").close()
    conn = sqlite3.connect(tmp_path / "w.db")
    files = migration_files()
    assert files and all(name[:4].isdigit() for name in files)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(files) == LATEST_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert TABLES <= tables
    for table in TABLES:
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0


def test_stored_page_has_raw_input_paragraphs_and_removed_blocks(sample_ws, sample_dir):
    path = sample_dir / "cholera_01_report_almarsad.txt"
    data = path.read_bytes()
    expected = process(RawItem(source=str(path), data=data, form="text"))
    conn = sample_ws.storage.conn
    row = conn.execute("SELECT source, format, encoding, title, outlet, published, language, analysis"
                       " FROM documents WHERE id = ?", (expected.id,)).fetchone()
    assert row is not None
    assert row[:7] == (str(path), "text", "utf-8", expected.title, expected.outlet, expected.published,
                       expected.language)
    assert json.loads(row[7]) == expected.to_dict()
    content, size = conn.execute("SELECT content, size FROM raw_inputs WHERE doc_id = ?", (expected.id,)).fetchone()
    assert content == data.decode("utf-8")
    assert size == len(data)
    paragraphs = conn.execute("SELECT idx, text FROM paragraphs WHERE doc_id = ? ORDER BY idx",
                              (expected.id,)).fetchall()
    assert paragraphs == list(enumerate(expected.paragraphs))
    assert len(paragraphs) >= 3
    removed = conn.execute("SELECT idx, kind, text, rule, line_start, line_end FROM removed_blocks"
                           " WHERE doc_id = ? ORDER BY idx", (expected.id,)).fetchall()
    assert removed, "the sample page has a menu, a ticker and related links"
    assert [(k, t) for _, k, t, _, _, _ in removed] == [(r.kind, r.text) for r in expected.removed]
    assert {k for _, k, _, _, _, _ in removed} <= set(REMOVED_KINDS)
    lines = content.split("\n")
    for _, _, text, rule, start, end in removed:
        assert rule
        assert start is not None and start <= end < len(lines)
        # The line range points at the removed text in the stored raw input.
        assert lines[start].strip() and lines[start].strip() in text


def test_html_page_removed_blocks_keep_markup_ranges_null(sample_ws):
    conn = sample_ws.storage.conn
    doc_id = conn.execute("SELECT id FROM documents WHERE format = 'html'").fetchone()[0]
    kinds = [row[0] for row in conn.execute("SELECT kind FROM removed_blocks WHERE doc_id = ?", (doc_id,))]
    assert kinds and set(kinds) <= set(REMOVED_KINDS)
    raw = conn.execute("SELECT content FROM raw_inputs WHERE doc_id = ?", (doc_id,)).fetchone()[0]
    assert raw.lstrip().lower().startswith("<!doctype html")


def test_get_by_id_and_prefix(sample_ws, tmp_path):
    ids = [row["id"] for row in sample_ws.list()]
    assert len(ids) == 2
    for doc_id in ids:
        full = sample_ws.get(doc_id)
        assert full is not None and full.id == doc_id
        assert full.text and full.paragraphs and full.removed
        assert sample_ws.get(doc_id[:6]).id == doc_id
    for length in (1, 2, 3):
        for doc_id in ids:
            prefix = doc_id[:length]
            matching = [i for i in ids if i.startswith(prefix)]
            got = sample_ws.get(prefix)
            assert (got.id if got else None) == (matching[0] if len(matching) == 1 else None)
    assert sample_ws.get("") is None  # ambiguous: matches both
    assert sample_ws.get("zzzz") is None
    assert sample_ws.get("%") is None and sample_ws.get("_") is None  # LIKE wildcards are not wildcards


def test_get_round_trips_the_document(sample_ws, sample_dir):
    path = sample_dir / "desal_00_original_nsa.html"
    expected = process(RawItem(source=str(path), data=path.read_bytes(), form="html"))
    got = sample_ws.get(expected.id)
    assert got.to_dict(include_text=True) == expected.to_dict(include_text=True)


@pytest.fixture
def dated_ws(tmp_path, articles, workspace_address):
    records = [
        ("A", "2024-01-05"), ("B", "2024-03-15"), ("A", None), ("B", "2024-02-10"),
        ("A", "2024-03-15"), ("C", "2023-12-31"),
    ]
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(
        json.dumps({"text": articles.text(n), "outlet": outlet, **({"published": when} if when else {})},
                   ensure_ascii=False)
        for n, (outlet, when) in enumerate(records)) + "\n", encoding="utf-8")
    ws = Workspace(workspace_address("w"))
    report = ws.ingest(path, workers=1)
    assert report.stored == len(records)
    yield ws, records
    ws.close()


def test_list_orders_newest_first_then_ingestion_order(dated_ws, articles):
    ws, records = dated_ws
    rows = ws.list()
    assert [(r["outlet"], r["published"]) for r in rows] == [
        ("B", "2024-03-15"), ("A", "2024-03-15"), ("B", "2024-02-10"), ("A", "2024-01-05"),
        ("C", "2023-12-31"), ("A", None),
    ]
    first = rows[0]
    assert set(first) >= {"id", "title", "outlet", "published", "language", "format", "source", "paragraphs", "removed"}
    assert first["title"] == articles.text(1).splitlines()[0]
    assert first["paragraphs"] == len(ws.get(first["id"]).paragraphs) >= 4
    assert first["source"].endswith("records.jsonl:2")


def test_list_filters_and_paging(dated_ws):
    ws, _ = dated_ws
    assert [r["published"] for r in ws.list(outlet="A")] == ["2024-03-15", "2024-01-05", None]
    assert [r["published"] for r in ws.list(since="2024-02-10")] == ["2024-03-15", "2024-03-15", "2024-02-10"]
    assert [r["published"] for r in ws.list(until="2024-01-05")] == ["2024-01-05", "2023-12-31"]
    assert [r["outlet"] for r in ws.list(since="2024-01-01", until="2024-02-28")] == ["B", "A"]
    assert [r["outlet"] for r in ws.list(outlet="B", since="2024-03-01")] == ["B"]
    assert ws.list(outlet="nobody") == []
    everything = [r["id"] for r in ws.list()]
    assert [r["id"] for r in ws.list(limit=2)] == everything[:2]
    assert [r["id"] for r in ws.list(limit=2, offset=3)] == everything[3:5]
    assert [r["id"] for r in ws.list(offset=4)] == everything[4:]
    assert len(ws) == 6


def test_reopening_applies_no_migration_twice(tmp_path, articles, workspace_address):
    path = workspace_address("w")
    articles.write(tmp_path / "in", 2)
    with Workspace(path) as ws:
        ws.ingest(tmp_path / "in", workers=1)
    for _ in range(2):
        storage = open_storage(path)
        assert storage.migrate() == []
        assert storage.schema_version == LATEST_VERSION
        assert storage.count() == 2
        storage.close()
    with Workspace(path) as ws:
        assert len(ws) == 2
        assert table_counts(ws.storage, sorted(TABLES))["document_sources"] == 2


@pytest.mark.sqlite_only("writes PRAGMA user_version into a file (test_postgres.py covers PostgreSQL's version row)")
def test_newer_schema_version_is_refused_with_a_clear_error(tmp_path):
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(RuntimeError) as excinfo:
        Workspace(path)
    message = str(excinfo.value)
    assert "\n" not in message
    assert f"schema version {LATEST_VERSION + 1}" in message and "upgrade tabayyun" in message
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION + 1
    assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0  # nothing was created


@pytest.mark.sqlite_only("a read-only view of a file (mode=ro); test_postgres.py covers read-only PostgreSQL")
def test_readonly_storage_cannot_write(sample_ws, tmp_path):
    ro = SQLiteStorage(sample_ws.path, readonly=True)
    assert ro.count() == 2
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        ro.add_failures([("x", "y")])
    ro.close()
    with pytest.raises(sqlite3.OperationalError):
        SQLiteStorage(tmp_path / "missing.db", readonly=True)
    assert not (tmp_path / "missing.db").exists()


def test_open_storage_rejects_unknown_addresses(tmp_path):
    with pytest.raises(ValueError, match="only SQLite files"):
        open_storage("mysql://localhost/tabayyun")


def test_tabayyun_db_env_var(tmp_path, monkeypatch, articles, cli, workspace_address):
    target = workspace_address("from_env")
    monkeypatch.delenv("TABAYYUN_DB", raising=False)
    assert resolve_db(None) == DEFAULT_DB == "tabayyun.db"
    monkeypatch.setenv("TABAYYUN_DB", str(target))
    assert resolve_db(None) == str(target)
    assert resolve_db("explicit.db") == "explicit.db"  # --db wins over the variable
    monkeypatch.chdir(tmp_path)
    with Workspace() as ws:
        assert ws.path == str(target)
        ws.ingest(articles.write(tmp_path / "first", 1, start=5)[0], workers=1)
    with Workspace(target) as ws:
        assert len(ws) == 1
    assert not (tmp_path / "tabayyun.db").exists()

    page = articles.write(tmp_path / "in", 1)[0]
    cli_target = workspace_address("cli_env")
    ingested = cli("ingest", page, env={"TABAYYUN_DB": str(cli_target)})
    assert ingested.returncode == 0, ingested.stderr
    assert display_address(str(cli_target)) in ingested.stderr
    assert not (tmp_path / "tabayyun.db").exists()
    listed = cli("list", "--format", "json", env={"TABAYYUN_DB": str(cli_target)})
    assert listed.returncode == 0, listed.stderr
    assert [row["title"] for row in json.loads(listed.stdout)] == [articles.text(0).splitlines()[0]]
    # Without the variable the CLI uses ./tabayyun.db, which here does not exist yet.
    fallback = cli("list", "--format", "json")
    assert fallback.returncode == 1
    assert "tabayyun.db" in fallback.stderr


def test_workspace_addresses_are_printed_without_their_password(cli, tmp_path, articles):
    url = "postgresql://reader:s3cret-pw@127.0.0.1:1/newsroom?options=-csearch_path%3Ddesk"
    assert display_address(url) == "postgresql://reader:***@127.0.0.1:1/newsroom?options=-csearch_path%3Ddesk"
    assert display_address("postgresql://reader@host/db") == "postgresql://reader@host/db"
    assert display_address(str(tmp_path / "w.db")) == str(tmp_path / "w.db")
    page = articles.write(tmp_path / "in", 1)[0]
    for args in (("list", "--db", url), ("ingest", page, "--db", url), ("serve", "--db", url, "--port", "1"),
                 ("migrate", url, tmp_path / "copy.db")):
        failed = cli(*args)
        assert failed.returncode == 1, failed.stderr
        assert "s3cret" not in failed.stdout + failed.stderr
        assert "reader:***@127.0.0.1:1/newsroom" in failed.stderr, failed.stderr
