"""The Dask engine (`tabayyun ingest --engine dask`) stores what the plain ingest stores.

One local cluster of 2 worker processes serves the whole module (it takes seconds to start). Results
are compared with the plain ingest's on the built-in sample and on ../shared/seeds: documents (ids,
titles, paragraphs, entity and quote counts), full-text index rows, duplicate pairs and the partition
into stories, through Parquet shards into SQLite and directly into PostgreSQL (when
TABAYYUN_TEST_POSTGRES is set).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path
from urllib.parse import quote

import pytest

from tabayyun.engine.driver import dask_ingest
from tabayyun.engine.partitions import items_of, plan_partitions
from tabayyun.engine.shards import shard_paths
from tabayyun.engine.tasks import run_partition
from tabayyun.ingest import ingest
from tabayyun.sources.readers import iter_items
from tabayyun.store import open_storage

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
POSTGRES_URL = os.environ.get("TABAYYUN_TEST_POSTGRES", "")
needs_postgres = pytest.mark.skipif(not POSTGRES_URL.startswith(("postgresql://", "postgres://")),
                                    reason="TABAYYUN_TEST_POSTGRES (a postgresql:// URL) is not set")
SMALL = {"files_per_partition": 4, "embed": False}     # several partitions even on the sample


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as local, Client(local) as client:
        # The custom tasks below live in this test module: send them by value, workers cannot import it.
        import cloudpickle

        cloudpickle.register_pickle_by_value(sys.modules[__name__])
        yield client


@pytest.fixture
def pg_address():
    """A PostgreSQL workspace address in a fresh schema, dropped afterwards."""
    import psycopg

    name = f"tabayyun_engine_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    yield f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}options={quote(f'-csearch_path={name}')}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def corpus_paths(name: str, sample_dir: Path, site_pile=None) -> list[str]:
    if name == "pile":
        return [str(site_pile.path)]
    if name == "seeds":
        if not SEEDS.is_dir() or not any(SEEDS.iterdir()):
            pytest.skip(f"no seed pages at {SEEDS}")
        return [str(SEEDS)]
    return [str(sample_dir)]


def snapshot(address: str) -> dict:
    """What both engines must store alike."""
    storage = open_storage(address, readonly=True)
    try:
        docs = {}
        for row in storage.list():
            doc = storage.get(row["id"])
            docs[doc.id] = (doc.title, tuple(doc.paragraphs), len(doc.entities), len(doc.quotes))
        stories = defaultdict(set)
        for story_id, doc_id in storage.story_members():
            stories[story_id].add(doc_id)
        # Workers compute the full-text rows the single writer inserts: they must be the plain ingest's.
        index = sorted(storage.conn.execute("SELECT doc_id, idx, terms FROM search_units").fetchall())
        return {"documents": docs, "index": index,
                "pairs": sorted((a, b) for a, b, *_ in storage.duplicate_pairs()),
                "stories": sorted(sorted(members) for members in stories.values())}
    finally:
        storage.close()


@pytest.fixture(scope="module")
def plain(tmp_path_factory, sample_dir, site_pile):
    """The plain ingest's snapshot per corpus, made once."""
    made: dict[str, dict] = {}

    def get(name: str) -> dict:
        if name not in made:
            db = str(tmp_path_factory.mktemp("plain") / f"{name}.db")
            storage = open_storage(db)
            ingest(storage, corpus_paths(name, sample_dir, site_pile), workers=1, embed=False)
            storage.close()
            made[name] = snapshot(db)
        return made[name]

    return get


def _dask(address: str, paths: list[str], cluster, **options):
    storage = open_storage(address)
    try:
        return dask_ingest(storage, paths, client=cluster, **{**SMALL, **options})
    finally:
        storage.close()


@pytest.mark.parametrize("corpus", ["sample", "seeds", "pile"])
def test_dask_through_shards_into_sqlite_stores_what_plain_stores(corpus, cluster, plain, sample_dir, site_pile,
                                                                  tmp_path):
    paths = corpus_paths(corpus, sample_dir, site_pile)
    expected = plain(corpus)
    db = str(tmp_path / "dask.db")
    report = _dask(db, paths, cluster)
    assert report.partitions >= (2 if corpus == "sample" else 1) and report.partitions_done == report.partitions
    assert report.stored == len(expected["documents"]) and report.exit_code == 0
    got = snapshot(db)
    assert got == expected
    assert expected["pairs"] or corpus != "sample"       # the sample's copies make the comparison count
    if corpus == "pile":    # both engines removed the line the pile's site repeats on every page
        assert all(site_pile.furniture not in paragraphs for _, paragraphs, *_ in expected["documents"].values())
    assert not list(tmp_path.glob(".tabayyun-shards-*")), "the temporary shards are removed once loaded"
    again = _dask(db, paths, cluster)
    assert (again.stored, again.duplicates) == (0, len(expected["documents"]))
    assert snapshot(db) == expected


@needs_postgres
@pytest.mark.parametrize("corpus", ["sample", "seeds"])
def test_dask_into_postgres_stores_what_plain_stores(corpus, cluster, plain, sample_dir, pg_address):
    paths = corpus_paths(corpus, sample_dir)
    expected = plain(corpus)
    report = _dask(pg_address, paths, cluster)
    assert report.stored == len(expected["documents"]) and report.exit_code == 0
    assert snapshot(pg_address) == expected
    again = _dask(pg_address, paths, cluster)
    assert (again.stored, again.duplicates) == (0, len(expected["documents"]))
    assert snapshot(pg_address) == expected


@needs_postgres
def test_plain_rerun_on_postgres_skips_stored_ids_before_analysis(pg_address, sample_dir, monkeypatch):
    storage = open_storage(pg_address)
    first = ingest(storage, [str(sample_dir)], workers=1, embed=False)

    def no_analysis(*args, **kwargs):
        raise AssertionError("a stored document was analysed again")

    monkeypatch.setattr("tabayyun.ingest.process_safely", no_analysis)
    again = ingest(storage, [str(sample_dir)], workers=1, embed=False)
    storage.close()
    assert (again.stored, again.duplicates, again.failed) == (0, first.stored, 0)


def test_kept_shards_load_with_the_plain_ingest(cluster, plain, sample_dir, tmp_path):
    shards = tmp_path / "shards"
    report = _dask(str(tmp_path / "first.db"), [str(sample_dir)], cluster, shards=str(shards))
    assert len(shard_paths(str(shards))) == report.partitions
    assert not [p for p in shards.iterdir() if p.name.startswith(".")], "no temporary shard is left"
    other = str(tmp_path / "second.db")
    storage = open_storage(other)
    loaded = ingest(storage, [str(shards)], workers=1, embed=False)
    storage.close()
    assert loaded.stored == len(plain("sample")["documents"]) and loaded.partitions == report.partitions
    assert snapshot(other) == plain("sample")
    # Shards written before workers sent their shingle hashes and story keys load alike: the
    # documents are shingled again and their story keys computed by the writer.
    import pyarrow.parquet as pq

    older = tmp_path / "older"
    shutil.copytree(shards, older)
    for path in shard_paths(str(older)):
        table = pq.read_table(path)
        assert table.column("shingle_hashes").null_count < table.num_rows
        assert table.column("story_keys").null_count < table.num_rows
        pq.write_table(table.drop(["shingle_hashes", "story_keys"]), path)
    storage = open_storage(str(tmp_path / "third.db"))
    ingest(storage, [str(older)], workers=1, embed=False)
    storage.close()
    assert snapshot(str(tmp_path / "third.db")) == plain("sample")


def test_partitions_read_the_items_the_plain_readers_read(tmp_path, articles):
    """Files in groups, JSONL in line ranges (sources numbered from the file's start), WARC whole."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    articles.write(tmp_path / "in" / "pages", 5)
    lines = [json.dumps({"title": f"خبر {n}", "text": articles.text(n)}, ensure_ascii=False) for n in range(7)]
    lines[3] = "{not json"
    lines.insert(5, "")
    (tmp_path / "in" / "records.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with open(tmp_path / "in" / "crawl.warc.gz", "wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(
            "https://news.example/a", "response", http_headers=headers,
            payload=BytesIO(f"<html><body><p>{articles.text(9)}</p></body></html>".encode())))
    paths = [str(tmp_path / "in"), str(tmp_path / "missing")]
    plan = plan_partitions(paths, 10**6, files_per_partition=2, lines_per_partition=3)
    names = [p.name for p in plan.partitions]
    assert len(names) == 1 + 3 + 3, names      # in the readers' order: WARC, pages 2+2+1, JSONL lines
    assert names[0].endswith("crawl.warc.gz") and names[1].endswith("article_00001.txt (2 files)")
    assert [n.rsplit(" ", 1)[1] for n in names[4:]] == ["1-3", "4-6", "7-8"]
    assert [(f.source, f.message) for f in plan.failures] == [(paths[1], "no such file or folder")]

    def flat(items):
        return [(i.source, getattr(i, "data", None), getattr(i, "title", None), getattr(i, "message", None))
                for i in items]

    expected = [i for i in flat(iter_items(paths[:1], 10**6))]
    got = [i for p in plan.partitions for i in flat(items_of(p, 10**6))]
    assert got == expected
    assert any(source.endswith("records.jsonl:4") and message for source, _, _, message in got)


def _attempt(marker_dir: Path, partition) -> int:
    """Count this attempt at `partition` in a file of `marker_dir`; returns the attempt number."""
    marker = marker_dir / f"attempts-{partition.index}"
    with open(marker, "a") as stream:
        stream.write("x")
    return marker.stat().st_size


def test_a_failing_partition_is_retried_then_reported_by_name(cluster, sample_dir, tmp_path):
    marker_dir = tmp_path / "attempts"
    marker_dir.mkdir()

    def breaking(partition, config):
        _attempt(marker_dir, partition)
        if partition.index == 1:
            raise RuntimeError("worker lost its disk")
        return run_partition(partition, config)

    db = str(tmp_path / "dask.db")
    failures = []
    report = _dask(db, [str(sample_dir)], cluster, task=breaking, on_failure=failures.append)
    failed = report.failed_partitions
    assert len(failed) == 1 and report.exit_code == 2
    assert failed[0].source == plan_partitions([str(sample_dir)], 10**6, 4).partitions[1].name
    assert "RuntimeError: worker lost its disk" in failed[0].message and "3 attempts" in failed[0].message
    assert (marker_dir / "attempts-1").stat().st_size == 3           # 1 + retries=2
    assert (marker_dir / "attempts-0").stat().st_size == 1
    assert failures == failed                                        # one line, by name
    storage = open_storage(db, readonly=True)
    assert storage.count() == report.stored > 0
    assert any(f["source"] == failed[0].source for f in storage.failures())
    storage.close()


def test_a_corrupt_shard_sends_its_partition_again(cluster, plain, sample_dir, tmp_path):
    marker_dir = tmp_path / "attempts"
    marker_dir.mkdir()

    def corrupting(partition, config):
        result = run_partition(partition, config)
        if _attempt(marker_dir, partition) == 1 and partition.index == 0:
            Path(result.shard).write_bytes(b"PAR1 this is not a parquet file PAR1")
        return result

    db = str(tmp_path / "dask.db")
    report = _dask(db, [str(sample_dir)], cluster, task=corrupting)
    assert report.exit_code == 0 and not report.failed_partitions
    assert (marker_dir / "attempts-0").stat().st_size == 2
    assert snapshot(db) == plain("sample")


def test_cli_engine_dask_on_a_running_scheduler(cli, cluster, sample_dir, tmp_path):
    address = cluster.scheduler.address
    done = cli("ingest", "--engine", "dask", "--scheduler", address, "--db", "w.db", "--no-embed",
               str(sample_dir), str(tmp_path / "nowhere"))
    assert done.returncode == 2, done.stderr
    assert "nowhere: no such file or folder" in done.stderr
    assert "15 stored" in done.stderr or " stored," in done.stderr
    storage = open_storage(str(tmp_path / "w.db"), readonly=True)
    assert storage.count() > 0
    storage.close()
    misuse = cli("ingest", "--shards", "s", "--db", "w.db", str(sample_dir))
    assert misuse.returncode == 2 and "--engine dask" in misuse.stderr


STORY_WRITER = """
import os, sys, time
from tabayyun.ingest import ingest
from tabayyun.store import open_storage
storage = open_storage(sys.argv[1])
open(sys.argv[4], "w").close()
while not os.path.exists(sys.argv[3]):      # both writers start together
    time.sleep(0.01)
ingest(storage, [sys.argv[2]], workers=1, batch_size=2, embed=False)
"""


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=needs_postgres)])
def test_two_processes_never_give_two_stories_one_id(backend, request, tmp_path, articles, cli_env):
    """Each story is started by exactly one document, whichever process placed it."""
    address = request.getfixturevalue("pg_address") if backend == "postgres" else str(tmp_path / "w.db")
    open_storage(address).close()
    folders = []
    for n in range(2):
        # A month between any two documents: each starts a story of its own (the 14-day time gate).
        records = [{"text": articles.text(n * 100 + i), "date": (date(2020, 1, 1) + timedelta(days=30 * (2 * i + n)))
                    .isoformat()} for i in range(24)]
        folder = tmp_path / f"articles{n}.jsonl"
        folder.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        folders.append(folder)
    go = tmp_path / "go"
    writers = [subprocess.Popen([sys.executable, "-c", STORY_WRITER, address, str(folder), str(go),
                                 str(tmp_path / f"ready{n}")], env=cli_env, stderr=subprocess.PIPE)
               for n, folder in enumerate(folders)]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("ready*"))) < len(writers):
        assert time.monotonic() < deadline and all(w.poll() is None for w in writers)
        time.sleep(0.05)
    go.touch()
    for writer in writers:
        assert writer.wait(timeout=300) == 0, writer.stderr.read().decode()
    storage = open_storage(address, readonly=True)
    rows = storage.conn.execute("SELECT m.story_id, m.reason FROM story_members m").fetchall()
    started = defaultdict(int)
    for story_id, reason in rows:
        started[story_id] += "started" in json.loads(reason)
    assert len(rows) == storage.count() == 48
    assert set(started.values()) == {1}, {s: n for s, n in started.items() if n != 1}
    assert len(storage.story_rows()) == len(started) == 48
    storage.close()


def test_a_source_loaded_before_its_content_waits_for_it(tmp_path):
    """With Dask, a partition that ran after the one storing some content records only its own source
    for it ('seen'), and its shard can come first in input order. Loaded into a new workspace, that
    source is recorded once the content's shard is in; a source whose content no shard holds is one
    failure line, and the rest loads."""
    import sqlite3

    from tabayyun.engine.shards import Batch, mark_folder, write_shard
    from tabayyun.pipeline import RawItem, process

    doc = process(RawItem("first.txt", "أعلنت الوزارة اليوم افتتاح الجسر الجديد فوق النهر بعد عامين من العمل."))
    missing = "0" * 16
    folder = str(tmp_path / "shards")
    mark_folder(folder)
    write_shard(folder, "000000-a", Batch(seen=[(doc.id, "copy.txt"), (missing, "elsewhere.txt")]))
    write_shard(folder, "000001-b", Batch(docs=[(doc, 90)]))
    storage = open_storage(str(tmp_path / "new.db"))
    failures = []
    report = ingest(storage, [folder], workers=1, embed=False, on_failure=failures.append)
    storage.close()
    assert (report.stored, report.duplicates, report.failed) == (1, 1, 1)
    assert [f.source for f in failures] == ["elsewhere.txt"] and missing in failures[0].message
    with sqlite3.connect(tmp_path / "new.db") as conn:
        sources = conn.execute("SELECT doc_id, source FROM document_sources ORDER BY source").fetchall()
        recorded = conn.execute("SELECT source FROM ingest_failures").fetchall()
    assert sources == [(doc.id, "copy.txt"), (doc.id, "first.txt")]
    assert recorded == [("elsewhere.txt",)]


def test_a_batch_keeps_what_was_computed_for_the_copy_it_stores(tmp_path):
    """One content read twice with other metadata (a date, a title) may be cleaned otherwise; the
    workspace stores the first copy, so the batch keeps the first copy's index rows, signature, story
    keys and lead (it kept the last one's: a stored page indexed by its copy's rows)."""
    from tabayyun.engine.shards import Batch, store_batch
    from tabayyun.ingest import _Done
    from tabayyun.model import Document

    first = Document(id="c0ffee", text="نص الخبر", title="عنوان", paragraphs=["وصلت السفينة إلى الميناء"])
    copy = Document(id="c0ffee", text="نص الخبر", title="عنوان", paragraphs=[])
    batch = Batch()
    for doc, rows, keys in ((first, ["عنوان", "وصل سفين مين"], (["سفين"], [])), (copy, ["عنوان"], ([], []))):
        batch.add(_Done("record", doc=doc, index_texts=rows, presigned=(len(rows), b"", b""), story_keys=keys,
                        leads=[(doc.id, "e5", f"lead-{len(rows)}")], size=10))
    assert len(batch.docs) == 2
    assert batch.index_texts == {"c0ffee": ["عنوان", "وصل سفين مين"]} and batch.presigned["c0ffee"][0] == 2
    assert batch.story_keys == {"c0ffee": (["سفين"], [])} and batch.leads == [("c0ffee", "e5", "lead-2")]
    storage = open_storage(str(tmp_path / "w.db"))
    assert store_batch(storage, Batch(docs=batch.docs, index_texts=batch.index_texts)) == [True, False]
    assert storage.document_terms(["c0ffee"])["c0ffee"] == {"عنوان", "وصل", "سفين", "مين"}
    storage.close()


def _scheduling() -> tuple[int, list[int]]:
    return os.sched_getscheduler(0), sorted(os.sched_getaffinity(0))


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or not 2 <= len(os.sched_getaffinity(0)) <= 4,
                    reason="needs Linux scheduling controls and 2 to 4 cores (a worker each)")
def test_local_workers_taking_every_core_run_at_idle_priority_one_per_core():
    from tabayyun.engine.driver import dask_client

    cores = sorted(os.sched_getaffinity(0))
    with dask_client(workers=len(cores)) as client:
        settled = sorted(client.run(_scheduling).values())
    assert settled == [(os.SCHED_IDLE, [core]) for core in cores]
    # With a core to spare for this process (storing, connecting), workers are left as they are.
    with dask_client(workers=len(cores) - 1) as client:
        assert all(policy != os.SCHED_IDLE and affinity == cores
                   for policy, affinity in client.run(_scheduling).values())
    assert os.sched_getscheduler(0) != os.SCHED_IDLE and sorted(os.sched_getaffinity(0)) == cores
