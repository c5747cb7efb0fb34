"""The PostgreSQL workspace gives what the SQLite one gives, and concurrent ingest stores each document once.

Runs only when TABAYYUN_TEST_POSTGRES holds a postgresql:// address of a database the role may create
schemas in; every test works in a schema of its own (dropped afterwards), named in the workspace
address through `options=-csearch_path=...`.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import resources

import httpx
import pytest

from tabayyun.check import check
from tabayyun.ingest import ingest
from tabayyun.search import search
from tabayyun.search.facets import faceted_search
from tabayyun.search.fulltext import match_expression, query_terms
from tabayyun.store import LATEST_VERSION, open_storage
from tabayyun.web.app import API_PREFIX
from tabayyun.workspace import Workspace

from conftest import POSTGRES_URL, Workspaces

pytestmark = pytest.mark.skipif(not POSTGRES_URL.startswith(("postgresql://", "postgres://")),
                                reason="TABAYYUN_TEST_POSTGRES (a postgresql:// URL) is not set")

QUERIES = ["الكوليرا", "وزارة الصحة تنفي", "مرفأ الريحان", "محطة تحلية المياه", "رويترز"]
CLAIM = "وزارة الصحة تنفي تسجيل إصابات بالكوليرا في مرفأ الريحان"


@pytest.fixture(scope="module")
def postgres():
    """Fresh PostgreSQL schemas for this module (whatever backend the suite runs on), dropped after."""
    schemas = Workspaces("postgres")
    yield schemas
    schemas.drop_all()


@pytest.fixture
def pg_url(postgres, tmp_path):
    return postgres.new(tmp_path)


@pytest.fixture(scope="module")
def pg_sample(sample_dir, postgres, tmp_path_factory):
    """The built-in sample ingested into a PostgreSQL workspace (read-only for the tests)."""
    storage = open_storage(postgres.new(tmp_path_factory.mktemp("postgres"), "sample"))
    ingest(storage, [str(sample_dir)], workers=1, embed=False)
    yield storage
    storage.close()


@pytest.fixture(scope="module")
def sqlite_sample(sample_dir, tmp_path_factory):
    """The same sample in a SQLite workspace, the reference."""
    storage = open_storage(tmp_path_factory.mktemp("sqlite") / "sample.db")
    ingest(storage, [str(sample_dir)], workers=1, embed=False)
    yield storage
    storage.close()


def test_every_migration_has_a_postgres_dialect():
    folder = resources.files("tabayyun.store").joinpath("migrations")
    names = sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".sql"))
    assert names == sorted(e.name for e in folder.joinpath("postgres").iterdir() if e.name.endswith(".sql"))
    assert len(names) == LATEST_VERSION


def test_migrates_to_the_latest_version_once(pg_url):
    storage = open_storage(pg_url)
    assert type(storage).__name__ == "PostgresStorage"
    assert storage.schema_version == LATEST_VERSION
    assert storage.migrate() == []
    storage.close()
    reopened = open_storage(pg_url, readonly=True)
    assert reopened.schema_version == LATEST_VERSION and reopened.count() == 0
    reopened.close()


def test_read_only_view_of_an_empty_schema_fails_clearly(pg_url):
    with pytest.raises(RuntimeError, match="not a tabayyun workspace"):
        open_storage(pg_url, readonly=True)


def test_read_only_view_refuses_writes(pg_url, sample_dir):
    open_storage(pg_url).close()
    reader = open_storage(pg_url, readonly=True)
    with pytest.raises(Exception, match="read-only"):
        reader.set_reliability("الضفاف", 0.5)
    reader.close()


def test_sample_gives_the_same_documents_as_sqlite(pg_sample, sqlite_sample):
    listed = pg_sample.list()
    assert listed == sqlite_sample.list()
    assert len(listed) == pg_sample.count() == sqlite_sample.count() > 10
    for row in listed:
        assert pg_sample.get(row["id"]).to_dict() == sqlite_sample.get(row["id"]).to_dict()
    assert sum(row["removed"] for row in listed) == sum(row["removed"] for row in sqlite_sample.list()) > 0
    assert pg_sample.get(listed[0]["id"][:6]).id == listed[0]["id"]
    assert pg_sample.get("0000") is None


def test_filtered_lists_quotes_entities_and_outlets_match_sqlite(pg_sample, sqlite_sample):
    outlet, count = pg_sample.outlets()[0]
    assert pg_sample.outlets() == sqlite_sample.outlets() and count >= 2
    for filters in ({"outlet": outlet}, {"since": "2024-03-05"}, {"until": "2024-03-05"}, {"limit": 3, "offset": 2}):
        assert pg_sample.list(**filters) == sqlite_sample.list(**filters), filters
    quotes = pg_sample.quotes(limit=10_000)
    assert quotes == sqlite_sample.quotes(limit=10_000) and len(quotes) > 5
    speaker = next(q["speaker_canonical"] for q in quotes if q["speaker_canonical"])
    assert pg_sample.quotes(speaker=speaker) == sqlite_sample.quotes(speaker=speaker) != []
    assert pg_sample.quotes(cue_class="deny") == sqlite_sample.quotes(cue_class="deny") != []
    mentions = pg_sample.entity_mentions()
    assert mentions == sqlite_sample.entity_mentions() and len(mentions) > 20
    assert pg_sample.entity_mentions("PER") == sqlite_sample.entity_mentions("PER") != []


# Storage methods that write (skipped by the read comparison below) and reads whose SQL has no ORDER BY.
WRITERS = ("add_", "set_", "save_", "cache_", "clear_", "close", "migrate", "index_", "sign_", "cluster_", "replace_",
           "refresh_")
UNORDERED = {"entity_names", "story_entities", "entity_mentions_of"}
COMPARED_APART = {"fulltext_units", "fulltext_floor"}  # scores, rowids: see test_fulltext_ranks_like_sqlite
NOT_READS = {"stories_locked", "after_bulk_copy"}  # a lock held around writes; a step of `store.migrate`


def _read_arguments(name: str, storage) -> dict:
    """Arguments for a read method of the storage interface, chosen by parameter name."""
    ids = [row["id"] for row in storage.list()]
    stories = [row["id"] for row in storage.story_rows()]
    mentions = storage.entity_mentions()
    speakers = [q["speaker_canonical"] for q in storage.quotes(limit=1000) if q["speaker_canonical"]]
    by_parameter = {"doc_ids": ids, "doc_id": ids[0], "story_ids": stories, "model": "multilingual-e5-small",
                    "scheme": "minhash-w5-p128", "limit": 1000, "name": mentions[0]["canonical"],
                    "canonical": speakers[0], "rowid": 3, "cap": 3, "after": 2, "min_pages": 1, "host": "news.example.org",
                    "task": "reprocess",
                    "terms": sorted(set().union(*storage.document_terms(ids[:3]).values())),
                    "keys": [(doc_id, idx) for doc_id in ids for idx in (-1, 0, 1)]}
    if name == "cached_embeddings":
        return {"keys": ["absent"]}
    import inspect

    parameters = list(inspect.signature(getattr(type(storage), name)).parameters.values())[1:]
    return {p.name: by_parameter[p.name] for p in parameters if p.default is p.empty}


def test_every_read_of_the_storage_interface_matches_sqlite(pg_sample, sqlite_sample):
    """Each public read method (those other modules add later included) gives the same on both."""
    names = [name for name in dir(type(sqlite_sample)) if not name.startswith("_")
             and callable(getattr(type(sqlite_sample), name)) and not name.startswith(WRITERS)
             and name not in COMPARED_APART | NOT_READS]
    assert {"list", "quotes", "story_rows", "leads", "summaries"} <= set(names)
    for name in names:
        arguments = _read_arguments(name, sqlite_sample)
        result, reference = getattr(pg_sample, name)(**arguments), getattr(sqlite_sample, name)(**arguments)
        if inspect.isgenerator(reference):
            result, reference = list(result), list(reference)
        if name in UNORDERED:
            result, reference = sorted(result, key=repr), sorted(reference, key=repr)
        assert result == reference, name
    assert pg_sample.schema_version == sqlite_sample.schema_version == LATEST_VERSION


def test_reliability_is_set_and_updated(pg_url):
    storage = open_storage(pg_url)
    storage.set_reliability("الضفاف", 0.3, note="test")
    storage.set_reliability("الضفاف", 0.9)
    storage.set_reliability("رويترز", 0.85)
    assert storage.reliabilities() == {"الضفاف": 0.9, "رويترز": 0.85}
    with pytest.raises(ValueError):
        storage.set_reliability("الضفاف", 1.5)
    storage.close()


@pytest.mark.parametrize("query", QUERIES)
def test_fulltext_ranks_like_sqlite(pg_sample, sqlite_sample, query):
    expression = match_expression(query_terms(query))
    units = pg_sample.fulltext_units(expression, 40)
    reference = sqlite_sample.fulltext_units(expression, 40)
    assert [unit[:2] for unit in units] == [unit[:2] for unit in reference] != []
    assert [unit[2] for unit in units] == pytest.approx([unit[2] for unit in reference], rel=1e-9)
    found = search(pg_sample, query, embeddings=False).to_dict()
    assert found == search(sqlite_sample, query, embeddings=False).to_dict()
    assert found["hits"]


def test_faceted_search_matches_sqlite(pg_sample, sqlite_sample):
    found = faceted_search(pg_sample, "الكوليرا", embeddings=False).to_dict()
    assert found == faceted_search(sqlite_sample, "الكوليرا", embeddings=False).to_dict()
    assert found["facets"]["entity"] and found["facets"]["story"]


def test_duplicates_and_stories_match_sqlite(pg_sample, sqlite_sample):
    on_postgres, on_sqlite = Workspace(pg_sample.path), Workspace(sqlite_sample.path)
    groups = on_postgres.duplicates(passages=True)
    assert groups == on_sqlite.duplicates(passages=True) and groups
    stories = on_postgres.stories()
    assert stories == on_sqlite.stories() and len(stories) >= 2
    assert on_postgres.story(stories[0]["id"]) == on_sqlite.story(stories[0]["id"])


def test_claim_check_matches_sqlite(pg_sample, sqlite_sample):
    result = check(pg_sample, CLAIM, embeddings=False).to_dict()
    reference = check(sqlite_sample, CLAIM, embeddings=False).to_dict()
    result["retrieval"].pop("seconds"), reference["retrieval"].pop("seconds")
    assert result == reference
    assert result["verdict"]["label"] and len(result["documents"]) >= 3


def test_writers_deadlocked_by_opposite_orders_are_retried(pg_url, sqlite_sample):
    """Two transactions inserting the same two documents in opposite orders deadlock (a slow insert
    trigger makes them overlap); the one PostgreSQL aborts is run again and finds both stored."""
    one, other = (sqlite_sample.get(row["id"]) for row in sqlite_sample.list(limit=2))
    first, second = open_storage(pg_url), open_storage(pg_url)
    first.conn.execute("CREATE FUNCTION slow_insert() RETURNS trigger LANGUAGE plpgsql"
                       " AS $$ BEGIN PERFORM pg_sleep(0.3); RETURN NEW; END $$")
    first.conn.execute("CREATE TRIGGER slow BEFORE INSERT ON documents FOR EACH ROW EXECUTE FUNCTION slow_insert()")
    with ThreadPoolExecutor(2) as pool:
        forward = pool.submit(first.add_documents, [(one, 10), (other, 10)])
        backward = pool.submit(second.add_documents, [(other, 10), (one, 10)])
        stored = [forward.result(timeout=60), backward.result(timeout=60)[::-1]]
    assert sorted(stored) == [[False, False], [True, True]]
    assert first.count() == 2 and first.get(one.id).to_dict() == one.to_dict()
    first.close(), second.close()


def _cli_process(*args) -> subprocess.Popen:
    env = {**os.environ, "COLUMNS": "1000", "NO_COLOR": "1", "TERM": "dumb", "PYTHONIOENCODING": "utf-8"}
    return subprocess.Popen([sys.executable, "-m", "tabayyun.cli", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def _ingest_counts(process: subprocess.Popen) -> tuple[int, int]:
    """(stored, skipped as duplicate) from an ingest process's summary line; it must succeed."""
    _, err = process.communicate(timeout=300)
    summary = err.decode("utf-8")
    assert process.returncode == 0, summary
    counts = re.search(r"(\d+) stored, (\d+) skipped as duplicate, 0 failed", summary)
    assert counts, summary
    return int(counts[1]), int(counts[2])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _documents_page(client: httpx.Client) -> dict:
    """The server's document list (up to 500); its ids must be distinct."""
    page = client.get(f"{API_PREFIX}/documents", params={"limit": 500}).raise_for_status().json()
    ids = [item["id"] for item in page["items"]]
    assert len(ids) == len(set(ids))
    return page


def _wait_for_server(client: httpx.Client, server: subprocess.Popen) -> None:
    for _ in range(300):
        assert server.poll() is None, server.stderr.read().decode("utf-8")
        try:
            client.get(f"{API_PREFIX}/health").raise_for_status()
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the server did not start")


def test_two_ingest_processes_and_the_server_see_each_document_once(pg_url, articles, tmp_path):
    """Overlapping inputs in opposite orders, into a schema none of them has created yet, while the
    server lists documents: each document is reported stored by exactly one process, stored once
    with every place it was read from, and never listed twice or lost from one listing to the next."""
    first, second = tmp_path / "first", tmp_path / "second"
    articles.write(first, 24, start=0)
    articles.write(second, 24, start=12)
    port = _free_port()
    server = _cli_process("serve", "--db", pg_url, "--port", port)
    options = ("--db", pg_url, "--workers", "1", "--batch-size", "4", "--no-embed")
    processes = [_cli_process("ingest", *options, first, second), _cli_process("ingest", *options, second, first)]
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            _wait_for_server(client, server)
            seen: set[str] = set()
            while any(process.poll() is None for process in processes):
                ids = {item["id"] for item in _documents_page(client)["items"]}
                assert seen <= ids
                seen = ids
            counts = [_ingest_counts(process) for process in processes]
            final = _documents_page(client)
            assert len(final["items"]) == final["total"] == 36
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert (sum(stored for stored, _ in counts), sum(skipped for _, skipped in counts)) == (36, 2 * 48 - 36)
    _check_stored_once(pg_url, documents=36, sources=48)


def _check_stored_once(url: str, documents: int, sources: int) -> None:
    storage = open_storage(url)
    listed = storage.list()
    assert len(listed) == len({row["id"] for row in listed}) == storage.count() == documents
    conn = storage.conn
    assert conn.execute("SELECT count(*) FROM document_sources").fetchone()[0] == sources
    for row in listed:
        doc = storage.get(row["id"])
        assert row["paragraphs"] == len(doc.paragraphs) > 0
        assert conn.execute("SELECT count(*) FROM search_units WHERE doc_id = ?", (doc.id,)).fetchone()[0] \
            == len(doc.paragraphs) + 1
    assert storage.count_unsigned("minhash-w5-p128") == 0
    assert conn.execute("SELECT count(*) FROM story_members").fetchone()[0] == documents
    storage.close()


def test_cli_reads_a_postgres_workspace(pg_sample, cli):
    shown = cli("list", "--db", pg_sample.path, "--format", "json")
    assert shown.returncode == 0, shown.stderr
    assert "الكوليرا" in shown.stdout
    found = cli("search", "--db", pg_sample.path, "الكوليرا", "--no-embeddings", "--format", "json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["hits"]


def test_nul_characters_in_parameters_are_not_errors(pg_sample, pg_url):
    """PostgreSQL text cannot hold NUL (SQLite's can): a filter holding one matches nothing, and text
    holding one is stored with U+FFFD in its place."""
    assert pg_sample.list(outlet="a\x00b") == [] and pg_sample.count_documents(outlet="\x00") == 0
    assert pg_sample.quotes(speaker="\x00") == [] and pg_sample.get("ab\x00") is None
    storage = open_storage(pg_url)
    storage.set_reliability("وكالة\x00", 0.5)
    assert storage.reliabilities() == {"وكالة\ufffd": 0.5}
    storage.close()
