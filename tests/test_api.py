"""The REST API under /api/v1: every endpoint with its errors, jobs, the write token, and a real
`tabayyun serve` on loopback."""

from __future__ import annotations

import csv
import io
import json
import socket
import subprocess
import sys
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from fastapi.testclient import TestClient

from tabayyun import Workspace
from tabayyun.ingest import ingest
from tabayyun.store import LATEST_VERSION, open_storage
from tabayyun.web import create_app
from tabayyun.web.api_ingest import safe_name
from tabayyun.web.jobs import JobManager

API = "/api/v1"
TOKEN = "s3cret-token"
CLAIM = "تفشي الكوليرا في مرفأ الريحان"
HOSTILE_PAGE = ("<html><head><title>خبر عن افتتاح مكتبة عامة جديدة في وادي النخيل</title></head><body>"
                "<h1>خبر عن افتتاح مكتبة عامة جديدة في وادي النخيل</h1>"
                "<p>افتتحت البلدية صباح اليوم مكتبة عامة جديدة في وادي النخيل تضم آلاف الكتب والمراجع"
                " وقاعات للقراءة مخصصة للطلاب والباحثين من أبناء المنطقة والمناطق المجاورة لها.</p>"
                "<p>وقال مدير المكتبة إن المبنى سيفتح أبوابه يومياً من الثامنة صباحاً حتى العاشرة مساءً"
                " وإن الاشتراك فيه مجاني لجميع السكان طوال العام الأول من افتتاحه.</p></body></html>")


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory, sample_dir, workspaces):
    path = workspaces.new(tmp_path_factory.mktemp("api"), "sample")
    storage = open_storage(path)
    ingest(storage, [str(sample_dir)], workers=1, embed=False)
    storage.close()
    return path


@pytest.fixture(scope="module")
def client(sample_db):
    with TestClient(create_app(str(sample_db), token="")) as test_client:
        yield test_client


@pytest.fixture
def fresh_db(sample_db, tmp_path, workspaces):
    """A copy of the ingested sample for a test that writes."""
    return workspaces.copy(sample_db, tmp_path)


@pytest.fixture
def writer(fresh_db):
    with TestClient(create_app(str(fresh_db), token="")) as test_client:
        yield test_client


@pytest.fixture
def guarded(fresh_db):
    with TestClient(create_app(str(fresh_db), token=TOKEN)) as test_client:
        yield test_client


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()["error"]
    assert body["status"] == status and body["message"]
    return body


def wait_for_job(client, status_url: str, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = client.get(status_url).json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {status_url} not finished after {seconds} s")


# reading ------------------------------------------------------------------------------------------
def test_health(client):
    assert client.get(f"{API}/health").json() == {"status": "ok", "documents": 15, "schema_version": LATEST_VERSION}


def test_unknown_api_path_is_a_json_404(client):
    error_of(client.get(f"{API}/nothing-here"), 404)


def test_documents_pages_and_filters(client):
    page = client.get(f"{API}/documents", params={"limit": 4, "offset": 2}).json()
    everything = client.get(f"{API}/documents", params={"limit": 500}).json()
    assert page["total"] == everything["total"] == 15 and (page["limit"], page["offset"]) == (4, 2)
    assert [d["id"] for d in page["items"]] == [d["id"] for d in everything["items"][2:6]]
    outlet = everything["items"][0]["outlet"]
    by_outlet = client.get(f"{API}/documents", params={"outlet": outlet}).json()
    assert by_outlet["total"] == sum(d["outlet"] == outlet for d in everything["items"]) == len(by_outlet["items"])
    dated = client.get(f"{API}/documents", params={"since": "2024-03-01", "until": "2024-03-31"}).json()
    assert dated["total"] == len(dated["items"]) > 0
    assert all("2024-03-01" <= d["published"] <= "2024-03-31" for d in dated["items"])


@pytest.mark.parametrize("params", [{"limit": 501}, {"limit": 0}, {"offset": -1}, {"since": "yesterday"}])
def test_documents_refuse_bad_parameters(client, params):
    body = error_of(client.get(f"{API}/documents", params=params), 422)
    assert body["details"] and body["details"][0]["where"].startswith("query.")


def test_one_document_with_story_and_duplicates(client, sample_dir):
    listed = client.get(f"{API}/documents", params={"limit": 500}).json()["items"]
    original = next(d for d in listed if "desal_00" in d["source"])
    doc = client.get(f"{API}/documents/{original['id']}").json()
    assert doc["id"] == original["id"] and doc["paragraphs"] and "text" not in doc
    assert isinstance(doc["story"], int) and len(doc["duplicates"]) >= 3
    assert {"entities", "quotes", "times", "citations", "removed"} <= doc.keys()
    raw = client.get(f"{API}/documents/{original['id'][:10]}", params={"raw": "true"}).json()
    assert raw["id"] == original["id"] and raw["text"].startswith("<!DOCTYPE html>")


def test_unknown_document_is_404(client):
    assert "no document" in error_of(client.get(f"{API}/documents/ffffffffffff"), 404)["message"]


def test_search_hits_carry_marks_and_facets(client):
    found = client.get(f"{API}/search", params={"q": "الكوليرا", "k": 3, "embeddings": "false"}).json()
    assert found["mode"] == "fulltext" and len(found["hits"]) == 3 and found["total"] >= 3
    for hit in found["hits"]:
        assert hit["marks"], hit
        for start, end in hit["marks"]:
            assert "كوليرا" in hit["snippet"][start:end]
    assert {"outlet", "year", "entity", "story"} <= found["facets"].keys()
    outlet = found["hits"][0]["outlet"]
    narrowed = client.get(f"{API}/search", params={"q": "الكوليرا", "outlet": outlet}).json()
    assert narrowed["filters"] == {"outlet": outlet} and {h["outlet"] for h in narrowed["hits"]} == {outlet}
    second = client.get(f"{API}/search", params={"q": "الكوليرا", "k": 3, "offset": 3}).json()
    assert not {h["id"] for h in second["hits"]} & {h["id"] for h in found["hits"]}


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "x", "k": 0}, {"q": "x", "story": "one"}])
def test_search_refuses_bad_parameters(client, params):
    error_of(client.get(f"{API}/search", params=params), 422)


def test_entities_by_type_and_name(client):
    people = client.get(f"{API}/entities", params={"type": "PER", "limit": 500}).json()
    assert people and all(e["type"] == "PER" for e in people)
    assert all(e["documents"] >= 1 and e["mentions"] >= e["documents"] for e in people)
    named = client.get(f"{API}/entities", params={"q": "الزين"}).json()
    assert named and all(any("الزين" in n for n in [e["canonical"], *e["aliases"]]) for e in named)
    assert len(client.get(f"{API}/entities", params={"limit": 2}).json()) == 2
    error_of(client.get(f"{API}/entities", params={"type": "ANIMAL"}), 422)


def test_quotes_by_cue_class_and_speaker(client):
    denials = client.get(f"{API}/quotes", params={"cue_class": "deny"}).json()
    assert denials and all(q["cue_class"] == "deny" for q in denials)
    speaker = denials[0]["speaker"]
    assert all(speaker in (q["speaker"] or "") + (q["speaker_canonical"] or "")
               for q in client.get(f"{API}/quotes", params={"speaker": speaker}).json())
    error_of(client.get(f"{API}/quotes", params={"limit": 10_000}), 422)


def test_stories_and_one_story(client):
    stories = client.get(f"{API}/stories").json()
    assert len(stories) >= 3 and all(s["size"] >= 1 for s in stories)
    assert client.get(f"{API}/stories", params={"limit": 2}).json() == stories[:2]
    cholera = client.get(f"{API}/stories", params={"entity": "الريحان"}).json()
    assert cholera and len(cholera) < len(stories)
    story = client.get(f"{API}/stories/{cholera[0]['id']}").json()
    assert len(story["documents"]) == story["size"] and story["documents"][0]["id"] and "passages" not in story
    # The desalination story is one wire and its copies: copies share everything, so no passage is listed.
    desal = next(s for s in stories if "تحلية" in (s["label"] or ""))
    copies = client.get(f"{API}/stories/{desal['id']}", params={"passages": True}).json()
    assert copies["size"] >= 4 and copies["passages"] == []
    error_of(client.get(f"{API}/stories/999999"), 404)
    error_of(client.get(f"{API}/stories/not-a-number"), 422)


def test_timelines(client):
    story_id = client.get(f"{API}/stories").json()[0]["id"]
    by_story = client.get(f"{API}/timeline", params={"story": story_id}).json()
    assert by_story["story"] == story_id and by_story["events"]
    dates = [e["date"] for e in by_story["events"] if e["date"]]
    assert dates == sorted(dates)
    assert client.get(f"{API}/timeline", params={"entity": "منظمة"}).json()["events"]
    by_claim = client.get(f"{API}/timeline", params={"claim": CLAIM}).json()
    assert by_claim["events"] and all("stance" in e for e in by_claim["events"])


@pytest.mark.parametrize("params", [{}, {"story": 1, "entity": "x"}, {"entity": "x", "claim": "y"}])
def test_timeline_needs_exactly_one_subject(client, params):
    assert "exactly one" in error_of(client.get(f"{API}/timeline", params=params), 422)["message"]


def test_timeline_of_unknown_story_is_404(client):
    error_of(client.get(f"{API}/timeline", params={"story": 999999}), 404)


def test_duplicates_with_passages(client):
    groups = client.get(f"{API}/duplicates").json()
    assert groups and len(groups[0]["documents"]) >= 4 and "passages" not in groups[0]["pairs"][0]
    detailed = client.get(f"{API}/duplicates", params={"passages": "true"}).json()
    assert detailed[0]["pairs"][0]["passages"]
    error_of(client.get(f"{API}/duplicates", params={"passages": "maybe"}), 422)


def test_jobs_unknown_id_is_404(client):
    error_of(client.get(f"{API}/jobs/0123456789abcdef"), 404)


def test_job_manager_runs_in_order_reports_failures_and_keeps_the_last_jobs():
    manager = JobManager(keep=3)
    ran: list[int] = []

    def work(n: int):
        def run(job):
            job.report(done=1, total=1)
            ran.append(n)
            return {"n": n}
        return run

    def broken(job):
        raise ValueError("bad input")

    jobs = [manager.submit("test", work(n)) for n in range(3)] + [manager.submit("test", broken)]
    assert all(job.wait(10) for job in jobs)
    assert ran == [0, 1, 2] and jobs[2].to_dict()["result"] == {"n": 2} and jobs[2].progress == {"done": 1, "total": 1}
    assert jobs[3].state == "failed" and jobs[3].error == "ValueError: bad input" and jobs[3].finished
    assert manager.get(jobs[0].id) is None and manager.get(jobs[1].id) is jobs[1]
    manager.close()
    assert manager.submit("test", work(9)).wait(10) and ran[-1] == 9  # usable again after close
    manager.close()


@pytest.mark.parametrize(("given", "saved"), [("خبر.html", "0007_upload.html"), ("../../etc/passwd", "0007_passwd"),
                                              ("crawl.WARC.GZ", "0007_crawl.warc.gz"), ("a b.jsonl", "0007_a_b.jsonl"),
                                              ("C:\\dump\\x.zip", "0007_x.zip"), (None, "0007_upload")])
def test_upload_names_are_safe_and_keep_their_extension(given, saved):
    assert safe_name(given, 7) == saved


# claims -------------------------------------------------------------------------------------------
def test_check_answers_at_once_on_a_small_workspace(client):
    result = client.post(f"{API}/check", json={"claim": CLAIM, "embeddings": False}).json()
    assert result["claim"] == CLAIM and result["verdict"]["label"] and result["documents"]
    assert result["timeline"] and result["retrieval"]["mode"] == "fulltext"
    as_of = client.post(f"{API}/check", json={"claim": CLAIM, "as_of": "2024-03-05", "embeddings": False}).json()
    assert as_of["as_of"] == "2024-03-05"
    assert all(d["published"] <= "2024-03-05" for d in as_of["documents"])


def test_check_as_a_job_reports_progress(client):
    accepted = client.post(f"{API}/check", json={"claim": CLAIM, "mode": "job", "top": 5, "embeddings": False})
    assert accepted.status_code == 202
    job = wait_for_job(client, accepted.json()["status_url"])
    assert job["state"] == "done" and job["kind"] == "check" and job["finished"]
    assert job["progress"]["done"] == job["progress"]["total"] == len(job["result"]["documents"]) == 5
    assert job["result"]["verdict"]["label"]


@pytest.mark.parametrize("body", [{"claim": ""}, {"claim": "   "}, {}, {"claim": "x", "mode": "later"},
                                  {"claim": "x", "top": 0}, {"claim": "x", "as_of": "soon"}])
def test_check_refuses_bad_requests(client, body):
    error_of(client.post(f"{API}/check", json=body), 422)


def test_check_refuses_malformed_json(client):
    error_of(client.post(f"{API}/check", content=b"{claim:", headers={"content-type": "application/json"}), 422)


# sources and the token ----------------------------------------------------------------------------
def test_sources_list_and_set(writer):
    sources = writer.get(f"{API}/sources").json()
    documents = writer.get(f"{API}/documents", params={"limit": 500}).json()["items"]
    assert sum(s["documents"] for s in sources) == sum(bool(d["outlet"]) for d in documents)
    assert all(s["set_by"] == "default" for s in sources)
    outlet = sources[0]["outlet"]
    updated = writer.put(f"{API}/sources/{outlet}", json={"reliability": 0.2, "note": "تصحيحات متكررة"}).json()
    assert updated == {"outlet": outlet, "documents": sources[0]["documents"], "reliability": 0.2,
                       "set_by": "user", "note": "تصحيحات متكررة"}
    assert next(s for s in writer.get(f"{API}/sources").json() if s["outlet"] == outlet)["reliability"] == 0.2
    assert writer.put(f"{API}/sources/وكالة جديدة", json={"reliability": 0.9}).json()["documents"] == 0
    error_of(writer.put(f"{API}/sources/{outlet}", json={"reliability": 1.5}), 422)
    error_of(writer.put(f"{API}/sources/{outlet}", json={}), 422)


def test_writes_need_the_token_and_reads_stay_open(guarded):
    body = {"reliability": 0.4}
    assert "token" in error_of(guarded.put(f"{API}/sources/الضفاف", json=body), 401)["message"]
    error_of(guarded.put(f"{API}/sources/الضفاف", json=body, headers={"Authorization": "Bearer wrong"}), 401)
    error_of(guarded.put(f"{API}/sources/الضفاف", json=body, headers={"X-Tabayyun-Token": "wrong"}), 401)
    error_of(guarded.post(f"{API}/ingest/records", json=[{"text": "نص"}]), 401)
    error_of(guarded.post(f"{API}/ingest/urls", json={"urls": ["http://127.0.0.1:9/"]}), 401)
    error_of(guarded.post(f"{API}/ingest/files", files={"files": ("a.txt", b"x")}), 401)
    ok = guarded.put(f"{API}/sources/الضفاف", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and ok.json()["reliability"] == 0.4
    ok = guarded.put(f"{API}/sources/الضفاف", json={"reliability": 0.5}, headers={"X-Tabayyun-Token": TOKEN})
    assert ok.status_code == 200 and ok.json()["reliability"] == 0.5
    assert guarded.get(f"{API}/documents").status_code == 200
    assert guarded.get(f"{API}/search", params={"q": "الكوليرا"}).status_code == 200


# ingest -------------------------------------------------------------------------------------------
def test_ingest_files_now_then_as_duplicates(writer, articles):
    files = [("files", ("مكتبة.html", HOSTILE_PAGE.encode(), "text/html")),
             ("files", ("../../article.txt", articles.text(7).encode(), "text/plain"))]
    report = writer.post(f"{API}/ingest/files", params={"wait": "true"}, files=files)
    assert report.status_code == 200, report.text
    assert report.json()["failures"] == [] and report.json()["stored"] == 2
    assert writer.get(f"{API}/health").json()["documents"] == 17
    again = writer.post(f"{API}/ingest/files", params={"wait": "true"}, files=files).json()
    assert (again["stored"], again["duplicates"]) == (0, 2)


def test_ingest_files_as_a_job(writer, articles):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for n in range(3):
            zipped.writestr(f"news/{n}.txt", articles.text(100 + n))
        zipped.writestr("news/records.jsonl", json.dumps({"text": articles.text(200), "outlet": "رصيف"}) + "\n{bad\n")
    accepted = writer.post(f"{API}/ingest/files", files={"files": ("batch.zip", archive.getvalue())})
    assert accepted.status_code == 202 and accepted.json()["job"]["state"] in ("queued", "running", "done")
    job = wait_for_job(writer, accepted.json()["status_url"])
    assert job["state"] == "done" and job["kind"] == "ingest"
    assert job["result"]["stored"] == 4 and job["result"]["failed"] == 1
    assert job["result"]["failures"][0]["source"].startswith("0001_batch.zip!news/records.jsonl")
    assert job["progress"]["done"] == 5 and job["progress"]["stored"] == 4


def test_reprocess_runs_as_a_job_or_now_and_needs_the_token(writer, guarded):
    now = writer.post(f"{API}/reprocess", params={"wait": "true", "analysis": "basic"})
    assert now.status_code == 200, now.text
    report = now.json()
    assert (report["seen"], report["changed"], report["failed"]) == (15, 15, 0)
    assert report["done_through"] and report["failures"] == []   # where a later run could start after
    assert writer.get(f"{API}/quotes").json() == []          # basic: the quotes went with the analysis
    accepted = writer.post(f"{API}/reprocess")
    assert accepted.status_code == 202
    job = wait_for_job(writer, accepted.json()["status_url"])
    assert job["state"] == "done" and job["kind"] == "reprocess" and job["result"]["changed"] == 15
    assert writer.get(f"{API}/quotes").json()
    only = writer.post(f"{API}/reprocess", params={"wait": "true", "site": "nowhere.example"}).json()
    assert only["seen"] == 0
    assert writer.get(f"{API}/reprocess").json() == {"unfinished": None}   # a finished run leaves no row
    error_of(writer.post(f"{API}/reprocess", params={"resume": "true"}), 409)
    error_of(writer.post(f"{API}/reprocess", params={"analysis": "everything"}), 422)
    error_of(guarded.post(f"{API}/reprocess"), 401)


def test_an_unfinished_reprocess_is_shown_and_resumed_with_its_own_options(writer, fresh_db):
    with Workspace(str(fresh_db)) as ws:
        ids = [row[0] for row in ws.storage.conn.execute("SELECT id FROM documents ORDER BY rowid").fetchall()]
        ws.storage.save_run("reprocess", {"stages": ["clean", "metadata"], "sites": None, "site_repeats": True,
                                          "reference_date": None}, ids[9])
    unfinished = writer.get(f"{API}/reprocess").json()["unfinished"]
    assert unfinished["done_through"] == ids[9] and unfinished["options"]["stages"] == ["clean", "metadata"]
    resumed = writer.post(f"{API}/reprocess", params={"wait": "true", "resume": "true"}).json()
    assert resumed["seen"] == len(ids) - 10 and resumed["changed"] == len(ids) - 10   # basic: analysis dropped
    assert writer.get(f"{API}/reprocess").json() == {"unfinished": None}


def test_sites_lists_the_counted_sites(writer, site_pile):
    assert writer.get(f"{API}/sites").json() == []
    files = {"files": ("pile.jsonl", site_pile.path.read_bytes())}
    assert writer.post(f"{API}/ingest/files", params={"wait": "true"}, files=files).json()["stored"] == 3
    assert writer.get(f"{API}/sites").json() == [{"host": "news.example.org", "pages": 3, "repeated_lines": 1}]


def test_ingest_files_refuses_empty_and_missing_uploads(writer):
    empty = writer.post(f"{API}/ingest/files", files={"files": ("a.html", b"")})
    assert "empty upload" in error_of(empty, 400)["message"]
    error_of(writer.post(f"{API}/ingest/files", data={"other": "x"}, files={"x": ("a.txt", b"abc")}), 422)
    no_parts = {"content-type": "multipart/form-data; boundary=x"}
    error_of(writer.post(f"{API}/ingest/files", content=b"", headers=no_parts), 422)
    assert writer.get(f"{API}/health").json()["documents"] == 15


def test_oversized_upload_is_413(fresh_db):
    with TestClient(create_app(str(fresh_db), token="", max_request_bytes=10_000)) as small:
        body = error_of(small.post(f"{API}/ingest/files", files={"files": ("big.txt", "كلمة ".encode() * 5000)}), 413)
        assert "limit" in body["message"]
        assert small.get(f"{API}/health").json()["documents"] == 15


def test_ingest_records(writer, articles):
    records = [{"text": articles.text(300), "title": "عنوان من السجل", "outlet": "الموجة نيوز",
                "published": "2024-05-02", "url": "https://example.org/a"},
               {"html": HOSTILE_PAGE}]
    report = writer.post(f"{API}/ingest/records", params={"wait": "true"}, json=records).json()
    assert report["stored"] == 2 and report["failed"] == 0
    stored = writer.get(f"{API}/documents", params={"outlet": "الموجة نيوز", "since": "2024-05-02"}).json()
    assert any(d["title"] == "عنوان من السجل" for d in stored["items"])
    accepted = writer.post(f"{API}/ingest/records", json=[{"text": articles.text(301)}])
    job = wait_for_job(writer, accepted.json()["status_url"])
    assert job["result"]["stored"] == 1 and job["progress"] == {**job["progress"], "done": 1, "total": 1}


@pytest.mark.parametrize("body", [[{"title": "لا نص"}], [{"text": "  "}], {"text": "not a list"}, [1]])
def test_ingest_records_refuses_bad_records(writer, body):
    error_of(writer.post(f"{API}/ingest/records", json=body), 422)


def test_ingest_records_refuses_malformed_json_and_empty_lists(writer):
    error_of(writer.post(f"{API}/ingest/records", content=b"[{", headers={"content-type": "application/json"}), 422)
    error_of(writer.post(f"{API}/ingest/records", json=[]), 400)


@pytest.fixture
def page_server(articles):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            found = self.path == "/page.html"
            body = HOSTILE_PAGE.encode() if found else b"gone"
            self.send_response(200 if found else 410)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_ingest_urls(writer, page_server):
    urls = [f"{page_server}/page.html", f"{page_server}/old.html"]
    report = writer.post(f"{API}/ingest/urls", params={"wait": "true"}, json={"urls": urls}).json()
    assert report["stored"] == 1 and report["failures"] == [{"source": urls[1], "message": "HTTP 410 Gone"}]
    stored = writer.get(f"{API}/documents", params={"limit": 500}).json()["items"]
    doc_id = next(d["id"] for d in stored if d["source"] == urls[0])
    assert writer.get(f"{API}/documents/{doc_id}").json()["url"] == urls[0]


@pytest.mark.parametrize("body", [{"urls": []}, {"urls": ["file:///etc/passwd"]}, {"urls": "http://x"}, {}])
def test_ingest_urls_refuses_bad_lists(writer, body):
    error_of(writer.post(f"{API}/ingest/urls", json=body), 422)


# exports ------------------------------------------------------------------------------------------
def test_export_formats(client):
    import pyarrow.parquet as pq

    jsonl = client.get(f"{API}/export", params={"format": "jsonl"})
    assert jsonl.status_code == 200 and 'filename="tabayyun-export.jsonl"' in jsonl.headers["content-disposition"]
    lines = [json.loads(line) for line in jsonl.text.splitlines()]
    assert len(lines) == 15 and all(line["id"] for line in lines)
    csv_text = client.get(f"{API}/export", params={"format": "csv"}).text.lstrip("\ufeff")
    assert {row["id"] for row in csv.DictReader(io.StringIO(csv_text))} == {line["id"] for line in lines}
    parquet = client.get(f"{API}/export", params={"format": "parquet"})
    assert pq.read_table(io.BytesIO(parquet.content)).num_rows == 15
    with_claim = client.get(f"{API}/export", params={"format": "jsonl", "claim": CLAIM}).text
    assert any(json.loads(line).get("stances") for line in with_claim.splitlines())
    error_of(client.get(f"{API}/export", params={"format": "xlsx"}), 422)


def test_claimreview_and_report(client):
    review = client.get(f"{API}/claimreview", params={"claim": CLAIM})
    assert review.headers["content-type"].startswith("application/ld+json")
    data = review.json()
    assert (data["@context"], data["@type"], data["claimReviewed"]) == ("https://schema.org", "ClaimReview", CLAIM)
    assert {"ratingValue", "bestRating", "worstRating"} <= data["reviewRating"].keys()
    report = client.get(f"{API}/report", params={"claim": CLAIM})
    assert report.headers["content-type"].startswith("text/html") and 'dir="rtl"' in report.text
    error_of(client.get(f"{API}/claimreview"), 422)
    error_of(client.get(f"{API}/report", params={"claim": " "}), 422)


# a real server --------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_real_server_on_loopback(fresh_db, cli_env, tmp_path):
    port = _free_port()
    base = f"http://127.0.0.1:{port}{API}"
    server = subprocess.Popen([sys.executable, "-m", "tabayyun.cli", "serve", "--db", str(fresh_db), "--port",
                               str(port), "--token", TOKEN], env=cli_env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{base}/health", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "the server did not start listening"
                time.sleep(0.2)
        assert health.json()["documents"] == 15
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "tabayyun"
        record = [{"html": HOSTILE_PAGE}]
        assert httpx.post(f"{base}/ingest/records", json=record, timeout=30).status_code == 401
        accepted = httpx.post(f"{base}/ingest/records", json=record, headers={"Authorization": f"Bearer {TOKEN}"},
                              timeout=30)
        assert accepted.status_code == 202
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
            job = wait_for_job(http, accepted.json()["status_url"])
        assert job["state"] == "done" and job["result"]["stored"] == 1
        assert httpx.get(f"{base}/health").json()["documents"] == 16
    finally:
        server.terminate()
        server.wait(timeout=30)
