"""The workbench in a real browser: Debian's Chromium driven by Playwright against `tabayyun serve` on
loopback, over the built-in sample plus one hostile page.

Without Chromium these tests skip, except where TABAYYUN_REQUIRE_BROWSER=1 (CI installs Chromium and sets
it), where they fail instead. With TABAYYUN_SCREENSHOTS=DIR the main pages are saved there as PNG
(`TABAYYUN_SCREENSHOTS=docs/screenshots` refreshes the README's pictures).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tabayyun.workspace import Workspace

CHROMIUM = os.environ.get("TABAYYUN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM:
    if os.environ.get("TABAYYUN_REQUIRE_BROWSER") == "1":
        raise RuntimeError("TABAYYUN_REQUIRE_BROWSER=1 but no Chromium found (apt-get install chromium)")
    pytest.skip("no Chromium on this machine (`apt-get install chromium`; .ci/run installs it)",
                allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

CLAIM = "تفشي الكوليرا في مرفأ الريحان"
# Each line would run a script if any page inserted scraped text as markup.
HOSTILE = (
    "<script>window.__pwned = 'script'</script> خبر عن مرفأ الريحان <img src=x onerror=\"window.__pwned='img'\">\n\n"
    "قال مسؤول في مرفأ الريحان إن الكوليرا <img src=x onerror=\"window.__pwned='onerror'\"> لم تسجل أي حالات"
    " جديدة خلال الأيام الماضية في أحياء المدينة القديمة، وفق ما نقلته مصادر محلية.\n\n"
    "<svg onload=\"window.__pwned='svg'\"></svg> وأضاف أن فرق الرقابة الصحية تواصل عملها في الميناء"
    " والأسواق المجاورة، داعيا السكان إلى عدم تصديق الشائعات المتداولة <a href=\"javascript:window.__pwned='a'\">هنا</a>.\n"
)
SCREENSHOTS = os.environ.get("TABAYYUN_SCREENSHOTS")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Served(str):
    """The server's base URL, with the workspace it serves (`db`)."""

    db: str


@pytest.fixture(scope="module")
def server(tmp_path_factory, sample_dir, workspaces):
    """`tabayyun serve` on a free loopback port over the sample and the hostile page; yields its base URL."""
    folder = tmp_path_factory.mktemp("browser")
    db = workspaces.new(folder, "workspace")
    (folder / "hostile.txt").write_text(HOSTILE, encoding="utf-8")
    with Workspace(db) as ws:
        ws.ingest(sample_dir, folder / "hostile.txt", workers=1, embed=False)
    port = _free_port()
    env = {**os.environ, "TABAYYUN_EMBEDDINGS": "off"}
    env.pop("TABAYYUN_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "tabayyun.cli", "serve", "--db", db, "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"tabayyun serve did not start: {proc.stdout.read().decode(errors='replace')}")
        time.sleep(0.2)
    served = Served(base)
    served.db = db
    yield served
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page that records every dialog (alert/confirm) and every page error."""
    context = browser.new_context(locale="ar", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.dialogs, page.errors = [], []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()


def _shot(page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=False)


def _hostile_id(base: str) -> str:
    found = httpx.get(f"{base}/api/v1/search", params={"q": "فرق الرقابة الصحية الشائعات المتداولة",
                                                      "embeddings": "false"}).json()
    ids = [hit["id"] for hit in found["hits"] if "pwned" in (hit.get("title") or "")]
    assert ids, "the hostile page was not found by search"
    return ids[0]


def test_hostile_page_never_runs_its_scripts(server, page):
    doc_id = _hostile_id(server)
    for path in ("/", f"/documents/{doc_id}", f"/search?q={quote('مرفأ الريحان')}",
                 f"/claim?text={quote(CLAIM)}"):
        page.goto(server + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__pwned") is None, path
        assert page.dialogs == [], path
    page.goto(f"{server}/documents/{doc_id}")
    body = page.inner_text("body")
    assert "<script>" in body and "onerror" in body   # shown as text, not run
    for link in page.locator("a").all():
        assert not (link.get_attribute("href") or "").lower().startswith("javascript:")


def test_home_search_and_article_highlights(server, page):
    page.goto(server + "/")
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.locator(".numbers").is_visible()
    _shot(page, "home")
    page.fill("#home-q", "الكوليرا في مرفأ الريحان")
    page.press("#home-q", "Enter")
    page.wait_for_url("**/search?**")
    hits = page.locator(".hit")
    assert hits.count() >= 3
    assert page.locator(".hit mark").count() >= 1       # matched words highlighted in the snippets
    _shot(page, "search")
    # The health minister's denial article: entities, a deny quote and dated expressions highlighted.
    page.locator(".hit-title", has_text="ينفي").first.click()
    page.wait_for_url("**/documents/**")
    assert page.locator(".ent").count() >= 3
    deny = page.locator(".quote.cue-deny")
    assert deny.count() >= 1 and deny.first.is_visible()
    assert page.locator(".time[title]").count() >= 1
    removed = page.locator("details.removed")
    assert removed.count() == 1 and removed.get_attribute("open") is None   # boilerplate behind a toggle
    _shot(page, "article")
    removed.locator("summary").click()
    assert removed.get_attribute("open") is not None
    assert page.errors == []


def test_claim_page_verdict_timeline_and_claimreview(server, page):
    page.goto(server + "/")
    page.fill("#home-claim", CLAIM)
    page.press("#home-claim", "Enter")
    page.wait_for_url("**/claim?**")
    assert page.locator(".verdict-label").inner_text().strip()
    chart = page.locator("svg.timeline-chart")
    assert chart.is_visible() and chart.locator("circle, rect, path").count() >= 3
    assert page.locator(".stance-group.stance-disagree .checked-docs li").count() >= 1
    _shot(page, "claim")
    with page.expect_download() as info:
        page.locator("a[href*='claimreview']").click()
    review = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    assert review["@type"] == "ClaimReview" and review["claimReviewed"] == CLAIM
    assert {"ratingValue", "bestRating", "worstRating", "alternateName"} <= set(review["reviewRating"])
    # The as-of control: before the first report nothing is known about the claim yet.
    page.fill("#as-of", "2024-03-01")
    page.locator(".claim-form button[type=submit]").click()
    page.wait_for_url("**as_of=2024-03-01**")
    assert "unverified" in (page.locator(".verdict").get_attribute("class") or "")


def test_english_switch(server, page):
    page.goto(server + "/?lang=en")
    assert page.get_attribute("html", "dir") == "ltr" and page.get_attribute("html", "lang") == "en"
    page.goto(server + "/search?q=" + quote("مرفأ الريحان"))
    assert page.get_attribute("html", "dir") == "ltr"       # the choice sticks (cookie)
    page.goto(server + "/?lang=ar")
    assert page.get_attribute("html", "dir") == "rtl"


def _state_shows(page, text: str) -> None:
    page.wait_for_function("text => document.getElementById('state').textContent.includes(text)", arg=text,
                           timeout=60_000)


def test_ingest_page_offers_to_go_on_with_an_unfinished_reprocess(server, page):
    page.goto(server + "/ingest")
    assert page.locator("#unfinished").is_hidden()
    with Workspace(server.db) as ws:   # what a run killed after its fifth page leaves in the workspace
        fifth = ws.storage.conn.execute("SELECT id FROM documents ORDER BY rowid").fetchall()[4][0]
        ws.storage.save_run("reprocess", {"stages": None, "sites": None, "site_repeats": True,
                                          "reference_date": None}, fifth)
    page.reload()
    assert page.locator("#unfinished").is_visible()
    page.click("#send-reprocess-resume")
    _state_shows(page, "اكتمل · تغيّر: 0")
    assert page.locator("#unfinished").is_hidden()
    page.reload()
    assert page.locator("#unfinished").is_hidden()       # the finished run left no row behind
    assert not page.errors and not page.dialogs


def test_ingest_page_uploads_and_offers_to_clean_the_sites_that_grew(server, page, site_pile, tmp_path):
    """Last in this module: it adds three pages of one site to the workspace."""
    first = site_pile.write(tmp_path / "first.jsonl", site_pile.pages[:2])
    last = site_pile.write(tmp_path / "last.jsonl", site_pile.pages[2:])
    page.goto(server + "/ingest")
    page.set_input_files("#files", str(first))
    page.click("#send-files")
    _state_shows(page, "اكتمل · خُزّن: 2")
    assert page.locator("#grown").is_hidden()
    page.set_input_files("#files", str(last))
    page.click("#send-files")
    _state_shows(page, "اكتمل · خُزّن: 1")
    # The third page makes the teaser a repeated line that the first two, stored earlier, still hold.
    assert page.locator("#grown").is_visible() and "news.example.org" in page.inner_text("#grown-sites")
    page.click("#send-reprocess-sites")
    _state_shows(page, "اكتمل · تغيّر: 2")
    assert page.locator("#grown").is_hidden()
    page.click("#send-reprocess")
    _state_shows(page, "اكتمل · تغيّر: 0")
    assert not page.errors and not page.dialogs
