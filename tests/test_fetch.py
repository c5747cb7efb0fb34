"""Fetching pages and feeds over HTTP (tabayyun.sources.fetch), against a real server on loopback."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tabayyun.pipeline import RawItem, make_document
from tabayyun.sources.fetch import Fetched, FetchError, feed_links, fetch, iter_url, new_client
from tabayyun.sources.readers import ItemFailure, is_url, iter_items
from tabayyun.store import open_storage


def _page(article: str) -> str:
    title, _, body = article.partition("\n\n")
    paragraphs = "".join(f"<p>{line}</p>" for line in body.split("\n\n") if line.strip())
    return f"<html><head><title>{title}</title></head><body><h1>{title}</h1>{paragraphs}</body></html>"


def _routes(articles) -> dict[str, tuple[int, str, bytes]]:
    """path -> (status, content type, body)."""
    rss = ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>feed</title>"
           "<item><title>الأول</title><link>/a.html</link><pubDate>Tue, 05 Mar 2024 10:00:00 GMT</pubDate></item>"
           "<item><title>الثاني</title><link>http://HOST/b.html</link></item>"
           "<item><title>مفقود</title><link>/gone.html</link></item>"
           "<item><title>مكرر</title><link>/a.html</link></item>"
           "<item><title>ليس ويب</title><link>ftp://example.invalid/x</link></item>"
           "</channel></rss>")
    atom = ("<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'><title>f</title>"
            "<entry><title>ج</title><link rel='alternate' href='/c.txt'/><link rel='enclosure' href='/x.mp3'/>"
            "<updated>2024-06-01T08:00:00Z</updated></entry></feed>")
    return {
        "/cp1256.html": (200, "text/html; charset=windows-1256", _page(articles.text(1)).encode("cp1256")),
        "/a.html": (200, "text/html; charset=utf-8", _page(articles.text(2)).encode()),
        "/b.html": (200, "text/html", _page(articles.text(3)).encode()),
        "/c.txt": (200, "text/plain; charset=utf-8", articles.text(4).encode()),
        "/feed.xml": (200, "application/rss+xml", rss.encode()),
        "/atom.xml": (200, "application/xml", atom.encode()),
        "/empty-feed.xml": (200, "application/rss+xml", b"<rss><channel><title>t</title></channel></rss>"),
        "/big.html": (200, "text/html", b"<p>" + "كلمة ".encode() * 40_000 + b"</p>"),
    }


@pytest.fixture(scope="module")
def server(articles):
    routes = _routes(articles)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            if self.path == "/moved":
                self.send_response(302)
                self.send_header("Location", "/a.html")
                self.end_headers()
                return
            if self.path == "/slow":
                time.sleep(1.5)
            # recorded before answering: the client may be done before the handler returns
            self.server.agents.append(self.headers.get("User-Agent", ""))
            status, kind, body = routes.get(self.path, (404, "text/plain", b"not here"))
            body = body.replace(b"HOST", self.headers["Host"].encode())
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.agents = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_is_url():
    assert is_url("https://example.org/x") and is_url("HTTP://example.org")
    assert not is_url("pages/http.html") and not is_url("ftp://example.org")


def test_page_keeps_url_and_declared_charset(server, articles):
    httpd, base = server
    items = list(iter_items([f"{base}/cp1256.html"], 1_000_000))
    assert len(items) == 1 and isinstance(items[0], RawItem)
    item = items[0]
    assert item.url == f"{base}/cp1256.html" and item.declared_encoding == "windows-1256" and item.form == "html"
    doc = make_document(item)
    assert articles.text(1).split("\n")[0] in doc.text  # decoded by the declared charset
    assert any(agent.startswith("tabayyun/") for agent in httpd.agents)


def test_redirect_is_followed_and_final_url_kept(server):
    _, base = server
    (item,) = iter_url(f"{base}/moved", 1_000_000)
    assert isinstance(item, RawItem) and item.url == f"{base}/a.html" and item.source == f"{base}/moved"


def test_rss_feed_yields_each_linked_page_and_one_failure_per_broken_link(server, articles):
    _, base = server
    items = list(iter_items([f"{base}/feed.xml"], 1_000_000))
    pages = [i for i in items if isinstance(i, RawItem)]
    failures = [i for i in items if isinstance(i, ItemFailure)]
    assert [p.url for p in pages] == [f"{base}/a.html", f"{base}/b.html"]
    assert pages[0].title == "الأول" and pages[0].published == "2024-03-05"
    assert [(f.source, f.message) for f in failures] == [(f"{base}/gone.html", "HTTP 404 Not Found")]


def test_atom_feed_detected_by_root_element(server, articles):
    _, base = server
    (item,) = iter_url(f"{base}/atom.xml", 1_000_000)
    assert isinstance(item, RawItem) and item.url == f"{base}/c.txt" and item.form == "text"
    assert item.published == "2024-06-01" and item.data.decode() == articles.text(4)


def test_failures_are_lines_not_exceptions(server):
    _, base = server
    closed = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = closed.server_address[1]
    closed.server_close()
    items = list(iter_items([f"{base}/missing", f"{base}/big.html", f"http://127.0.0.1:{port}/x",
                             f"{base}/empty-feed.xml", f"{base}/a.html"], 100_000))
    assert all(isinstance(i, ItemFailure) for i in items[:4]) and isinstance(items[4], RawItem)
    messages = [i.message for i in items[:4]]
    assert messages[0] == "HTTP 404 Not Found"
    assert messages[1].startswith("too large")
    assert messages[2].startswith("cannot fetch: ConnectError")
    assert messages[3] == "feed without item links"


def test_timeout_is_a_failure(server):
    _, base = server
    with new_client(timeout=0.3) as client:
        with pytest.raises(FetchError, match="timed out"):
            fetch(client, f"{base}/slow", 1000)


def test_feed_parser_refuses_entities():
    hostile = (b"<?xml version='1.0'?><!DOCTYPE r [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
               b"<rss><channel><item><link>http://a.example/&x;</link></item>"
               b"<item><link>http://b.example/ok</link></item></channel></rss>")
    links = feed_links(Fetched("http://feed.example/", "application/rss+xml", None, hostile))
    assert all("root:" not in link.url for link in links)
    assert "http://b.example/ok" in [link.url for link in links]


def test_cli_ingests_a_feed(server, cli, tmp_path, workspace_address):
    _, base = server
    db = workspace_address("ws")
    proc = cli("ingest", f"{base}/feed.xml", "--db", db, "--no-embed")
    assert proc.returncode == 2, proc.stderr  # one item of the feed is gone
    assert "gone.html" in proc.stderr
    storage = open_storage(db)
    urls = sorted(doc["id"] and storage.get(doc["id"]).url for doc in storage.list())
    storage.close()
    assert urls == [f"{base}/a.html", f"{base}/b.html"]
