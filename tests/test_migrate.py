"""`tabayyun migrate`: a workspace copied SQLite -> PostgreSQL -> SQLite gives the same documents, search
results, stories and duplicates; a non-empty target is refused without --force; counts are verified."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tabayyun.check import check
from tabayyun.ingest import ingest
from tabayyun.search import search
from tabayyun.store import open_storage
from tabayyun.store.migrate import TABLES, TargetNotEmpty, copy_workspace, table_counts
from tabayyun.workspace import Workspace

from conftest import POSTGRES_URL, Workspaces

QUERIES = ["الكوليرا", "وزارة الصحة تنفي", "مرفأ الريحان", "رويترز"]
CLAIM = "وزارة الصحة تنفي تسجيل إصابات بالكوليرا في مرفأ الريحان"
needs_postgres = pytest.mark.skipif(not POSTGRES_URL.startswith(("postgresql://", "postgres://")),
                                    reason="TABAYYUN_TEST_POSTGRES (a postgresql:// URL) is not set")


@pytest.fixture(scope="module")
def source_db(tmp_path_factory, sample_dir, site_pile) -> str:
    """The built-in sample in a SQLite file, with a cached embedding, a reliability, a failure, the
    pages of one site (counted for site repeats) and an unfinished reprocess run, so that every table
    has rows."""
    path = str(tmp_path_factory.mktemp("migrate") / "source.db")
    storage = open_storage(path)
    ingest(storage, [str(sample_dir), str(site_pile.path)], workers=1, embed=False)
    first = storage.list(limit=1)[0]["id"]
    storage.cache_embeddings([("k1", "test-model", "passage", 2, b"\x00\x3c\x00\x40")], [(first, "test-model", "k1")])
    storage.set_reliability("الضفاف", 0.4, note="test")
    storage.add_failures([("broken.html", "unreadable")])
    storage.save_run("reprocess", {"stages": None, "sites": ["news.example.org"]}, first)
    Workspace(path).stories()  # clusters every document
    storage.close()
    return path


def _snapshot(address: str) -> dict:
    """What a reader sees of a workspace: documents, search results, stories, duplicates, a check."""
    storage = open_storage(address)
    workspace = Workspace(address)
    result = check(storage, CLAIM, embeddings=False).to_dict()
    result["retrieval"].pop("seconds")
    seen = {
        "list": storage.list(),
        "documents": [storage.get(row["id"]).to_dict() for row in storage.list()],
        "search": [search(storage, query, embeddings=False).to_dict() for query in QUERIES],
        "stories": workspace.stories(),
        "duplicates": workspace.duplicates(passages=True),
        "check": result,
        "reliability": storage.reliabilities(),
        "failures": [row["source"] for row in storage.failures()],
        "leads": storage.lead_vectors("test-model"),
        "counts": table_counts(storage),
    }
    storage.close()
    workspace.close()
    return seen


def test_every_table_of_the_schema_is_copied(source_db):
    tables = {row[0] for row in sqlite3.connect(source_db).execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'search_fts%'"
        " AND name != 'sqlite_sequence'")}
    assert tables == {name for name, _ in TABLES} | {"search_units"}
    counts = table_counts(open_storage(source_db, readonly=True))
    assert all(counts.values()), counts


def test_sqlite_to_sqlite_copy_is_identical_and_refuses_a_full_target(source_db, tmp_path):
    target = str(tmp_path / "copy.db")
    reader, writer = open_storage(source_db, readonly=True), open_storage(target)
    report = copy_workspace(reader, writer)
    assert report.verified and report.source["documents"] > 10
    with pytest.raises(TargetNotEmpty, match="not empty"):
        copy_workspace(reader, writer)
    assert copy_workspace(reader, writer, force=True).verified
    reader.close(), writer.close()
    assert _snapshot(target) == _snapshot(source_db)
    # New rows after the copy get fresh ids after the copied ones, not clashing ones.
    storage = open_storage(target)
    storage.add_failures([("later.html", "unreadable")])
    assert [row["source"] for row in storage.failures()][-1] == "later.html"
    storage.close()


@needs_postgres
def test_round_trip_through_postgres_gives_the_same_workspace(source_db, tmp_path, cli):
    workspaces = Workspaces("postgres")
    try:
        middle = workspaces.new(tmp_path, "middle")
        assert middle.startswith("postgresql://")
        there = cli("migrate", source_db, middle)
        assert there.returncode == 0, there.stderr
        assert "verified" in there.stdout and "documents" in there.stdout
        assert ":tabayyun@" not in there.stdout + there.stderr  # the password is masked
        back = str(tmp_path / "back.db")
        again = cli("migrate", middle, back)
        assert again.returncode == 0, again.stderr
        reference = _snapshot(source_db)
        assert _snapshot(middle) == reference
        assert _snapshot(back) == reference
        refused = cli("migrate", source_db, middle)
        assert refused.returncode == 1 and "not empty" in refused.stderr and "--force" in refused.stderr
        assert cli("migrate", source_db, middle, "--force").returncode == 0
        assert _snapshot(middle) == reference
    finally:
        workspaces.drop_all()


def test_cli_migrate_refuses_a_full_target_itself_and_a_missing_source(source_db, tmp_path, cli):
    target = tmp_path / "copy.db"
    done = cli("migrate", source_db, target)
    assert done.returncode == 0, done.stderr
    cells = [line.replace("│", " ").split() for line in done.stdout.splitlines()]
    rows = {cell[0]: cell[1:] for cell in cells if cell}
    assert rows["documents"][0] == rows["documents"][1] and rows["documents"][2] == "ok"
    refused = cli("migrate", source_db, target)
    assert refused.returncode == 1 and "not empty" in refused.stderr
    onto_itself = cli("migrate", source_db, source_db, "--force")
    assert onto_itself.returncode == 1 and "both the source and the target" in onto_itself.stderr
    missing = cli("migrate", tmp_path / "nothing.db", tmp_path / "other.db")
    assert missing.returncode == 1 and "no workspace" in missing.stderr
    assert not (tmp_path / "nothing.db").exists() and not (tmp_path / "other.db").exists()
    assert json.loads(cli("list", "--db", target, "--format", "json").stdout) == \
        json.loads(cli("list", "--db", source_db, "--format", "json").stdout)
