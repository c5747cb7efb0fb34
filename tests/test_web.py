"""The HTML workbench: every page over the ingested built-in sample (plus one hostile page), Arabic and
right to left by default, English on request, highlights built from the analysis offsets, and scraped
text always escaped."""

from __future__ import annotations

import json
import re
from html import unescape
from importlib import resources
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from markupsafe import Markup

from tabayyun.ingest import ingest
from tabayyun.store import open_storage
from tabayyun.web.app import create_app
from tabayyun.web.highlight import Span, mark_snippet, render_spans, safe_link_url
from tabayyun.web.i18n import STRINGS

CLAIM = "تفشي وباء الكوليرا في مرفأ الريحان"
HOSTILE_CLAIM = "انقطاع الكهرباء عن وادي النخيل بسبب عطل في محطة التوليد"
HOSTILE_TITLE = "<script>alert(1)</script> انقطاع الكهرباء عن وادي النخيل"
HOSTILE_IMG = "<img src=x onerror=alert(1)>"
HOSTILE_RECORD = {
    "title": HOSTILE_TITLE,
    "url": "javascript:alert(1)",
    "outlet": "نشرة الوادي",
    "published": "2026-01-05",
    "text": "\n\n".join([
        "شهدت مدينة وادي النخيل يوم الأحد انقطاعاً واسعاً للكهرباء استمر نحو ست ساعات بسبب عطل مفاجئ في"
        " محطة التوليد الرئيسية، وفق ما أفاد به سكان المدينة.",
        f"وقال المتحدث باسم شركة الكهرباء الوطنية سامي الحداد إن الفرق الفنية تعمل على إصلاح العطل {HOSTILE_IMG}"
        " وإن التيار سيعود تدريجياً إلى جميع الأحياء قبل مساء الاثنين.",
        "ونفى الحداد أن يكون الانقطاع مرتبطاً بأي عمل تخريبي، مؤكداً أن الشركة ستنشر تقريراً مفصلاً عن أسباب"
        " العطل خلال الأسبوع المقبل.",
    ]),
}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, sample_dir, workspaces):
    folder = tmp_path_factory.mktemp("web")
    records = folder / "hostile.jsonl"
    records.write_text(json.dumps(HOSTILE_RECORD, ensure_ascii=False) + "\n", encoding="utf-8")
    db = workspaces.new(folder, "ws")
    storage = open_storage(db)
    ingest(storage, [str(sample_dir), str(records)], workers=1, embed=False)
    storage.cluster_missing()
    yield storage
    storage.close()


@pytest.fixture(scope="module")
def client(workspace):
    with TestClient(create_app(workspace.path)) as test_client:
        yield test_client


def doc_id_by_title(storage, words: str) -> str:
    return next(row["id"] for row in storage.list() if words in (row["title"] or ""))


@pytest.fixture(scope="module")
def hostile_id(workspace) -> str:
    return doc_id_by_title(workspace, "انقطاع الكهرباء عن وادي النخيل")


def get_page(client, url: str, status: int = 200, lang: str = "ar") -> str:
    response = client.get(url)
    assert response.status_code == status, response.text[-500:]
    assert response.headers["content-type"].startswith("text/html")
    direction = "rtl" if lang == "ar" else "ltr"
    assert f'<html lang="{lang}" dir="{direction}">' in response.text
    return response.text


def test_every_page_renders_arabic_right_to_left(client, workspace, hostile_id):
    denial = doc_id_by_title(workspace, "وزير الصحة ينفي")
    pages = ["/", "/search?q=" + quote("الكوليرا"), f"/documents/{denial}", "/claim?text=" + quote(CLAIM),
             "/claim", "/stories", "/stories/1", "/entities/" + quote("منير الخطابي"), "/ingest", "/search"]
    for url in pages:
        html = get_page(client, url)
        assert 'href="/static/app.css"' in html
    response = client.get("/")
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_home_shows_numbers_and_newest_stories(client, workspace):
    html = get_page(client, "/")
    counts = workspace.workspace_counts()
    assert counts["documents"] == 16 and counts["stories"] >= 3
    assert f'<li class="number number-documents"><strong>{counts["documents"]}</strong> <span>مقالات</span>' in html
    assert f'<strong>{counts["quotes"]}</strong> <span>اقتباسات</span>' in html
    assert 'href="/stories/1"' in html and 'name="q"' in html and 'action="/claim"' in html


def test_article_view_highlights_entities_quotes_times_and_removed_blocks(client, workspace):
    doc = workspace.get(doc_id_by_title(workspace, "وزير الصحة ينفي"))
    html = get_page(client, f"/documents/{doc.id}")
    person = next(e for e in doc.entities if e.type == "PER" and e.canonical == "منير الخطابي")
    assert re.search(r'<a class="ent ent-per" href="/entities/' + re.escape(quote(person.canonical, safe=""))
                     + r'" title="منير الخطابي · شخص[^"]*">', html)
    denial = next(q for q in doc.quotes if q.cue_class == "deny")
    assert '<span class="quote cue-deny" title="' in html and "(" + denial.cue + ")" in html
    dated = next(t for t in doc.times if t.value and t.text in doc.paragraphs[t.paragraph])
    assert re.search(r'<span class="time" title="' + re.escape(dated.value) + r' \(', html)
    removed = re.search(r'<details class="removed">(.*?)</details>', html, re.S)
    assert removed and doc.removed and len(doc.removed) == removed.group(1).count("<tr class=\"removed-")
    assert unescape(doc.removed[0].text) in unescape(removed.group(1))
    assert "أدلة البيانات الوصفية" in html and doc.published_evidence.source in html
    assert 'class="legend"' in html and 'href="/stories/' in html


def test_article_view_links_duplicates_with_shared_passages(client, workspace):
    original = doc_id_by_title(workspace, "افتتاح محطة لتحلية مياه البحر")
    html = get_page(client, f"/documents/{original}")
    copies = workspace.duplicates_of(original)
    assert copies and all(f'href="/documents/{copy}"' in html for copy in copies)
    assert "مقاطع مشتركة" in html and "<blockquote>" in html


def test_search_marks_words_and_counts_facets(client, workspace):
    html = get_page(client, "/search?q=" + quote("الكوليرا"))
    assert "<mark>" in html and "[" not in re.sub(r"<[^>]+>", "", html.split('class="hits"')[1]).split("</ol>")[0]
    outlet_facet = re.search(r'<section class="facet facet-outlet">(.*?)</section>', html, re.S).group(1)
    counts = [int(n) for n in re.findall(r'<span class="count">(\d+)</span>', outlet_facet)]
    assert counts and sum(counts) >= 5 and max(counts) == 2
    assert 'href="/search?q=' in outlet_facet and "outlet=" in outlet_facet
    narrowed = get_page(client, "/search?q=" + quote("الكوليرا") + "&outlet=" + quote("السنبلة"))
    assert narrowed.count('class="hit"') == 1 and "السنبلة" in narrowed.split('class="hits"')[1]
    assert get_page(client, "/search?q=" + quote("الكوليرا") + "&since=2024-03-10").count('class="hit"') == 2


def test_search_with_a_claim_has_a_stance_facet_and_filter(client):
    url = "/search?q=" + quote("الكوليرا") + "&claim=" + quote(CLAIM)
    html = get_page(client, url)
    stance_facet = re.search(r'<section class="facet facet-stance">(.*?)</section>', html, re.S).group(1)
    assert "تؤيد" in stance_facet and "تنفي" in stance_facet and "stance=disagree" in stance_facet
    only_denials = get_page(client, url + "&stance=disagree")
    badges = re.findall(r'class="stance-badge stance-(\w+)"', only_denials)
    assert badges and set(badges) == {"disagree"}


def test_claim_page_shows_verdict_groups_rationale_and_chart(client):
    html = get_page(client, "/claim?text=" + quote(CLAIM))
    assert '<p class="verdict-label">متضارب</p>' in html
    assert '<svg class="timeline-chart"' in html or re.search(r'<svg[^>]*class="timeline-chart', html)
    for heading in ("تؤيد", "تنفي", "تناقش"):
        assert f"<h2>{heading} (" in html
    assert '<details class="stance-group stance-unrelated">' in html
    assert '<span class="rationale' in html
    assert 'href="/api/v1/claimreview?claim=' in html and 'href="/api/v1/report?claim=' in html
    assert 'name="as_of" type="date"' in html
    early = get_page(client, "/claim?text=" + quote(CLAIM) + "&as_of=2024-03-04")
    assert 'value="2024-03-04"' in early and "as_of=2024-03-04" in early


def test_story_and_entity_pages_show_timelines(client, workspace):
    story = get_page(client, "/stories/1")
    assert re.search(r'<svg[^>]*class="timeline-chart', story) and story.count('href="/documents/') >= 5
    # why each document is in the story: the one that started it, and the scores the others joined with
    reasons = re.findall(r'<p class="why">(.*?)</p>', story, re.S)
    documents = re.search(r'<ol class="docs">(.*?)</ol>', story, re.S).group(1)
    assert len(reasons) == documents.count("<li>") >= 5 and "بدأ القصة" in reasons[0]
    # what two of its reports share word for word (8 words or more), linked to both
    shared = re.search(r'<section aria-labelledby="story-passages">(.*?)</section>', story, re.S).group(1)
    assert shared.count('href="/documents/') == 2 and shared.count("<blockquote>") == 1 and "8 كلمة" in shared
    # The parts weighed: words and names, and meaning only where both sides had a lead vector (the
    # test workspace has none: no "meaning 0.00" for a part never computed).
    joined = r"انضم بدرجة 0\.\d\d \((المعنى [\d.]+ · )?الكلمات [\d.]+ · الأسماء [\d.]+\)"
    assert all(re.fullmatch(joined + r"|نسخة شبه مطابقة من.*|بدأ القصة.*", why.strip(), re.S) for why in reasons)
    conn = workspace.conn
    doc_id, reason = conn.execute("SELECT doc_id, reason FROM story_members WHERE story_id = 1 AND reason LIKE ?"
                                  " ORDER BY doc_id LIMIT 1", ('%"terms"%',)).fetchone()
    assert "embedding" not in json.loads(reason) and not any("المعنى" in why for why in reasons)
    with conn:
        conn.execute("UPDATE story_members SET reason = ? WHERE doc_id = ?",
                     (json.dumps({**json.loads(reason), "embedding": 0.8765}), doc_id))
    try:
        reasons = re.findall(r'<p class="why">(.*?)</p>', get_page(client, "/stories/1"), re.S)
        assert sum("(المعنى 0.88 · الكلمات" in why for why in reasons) == 1
        with conn:
            conn.execute("UPDATE story_members SET reason = ? WHERE doc_id = ?",
                         (json.dumps({"started": True, "closest": {"story": 2, "score": 0.3, "span": 9}}), doc_id))
        reasons = re.findall(r'<p class="why">(.*?)</p>', get_page(client, "/stories/1"), re.S)
        assert sum("أقرب قصة 2 بدرجة 0.30</a>، كانت ستمتد بها 9 يوما" in why for why in reasons) == 1
    finally:
        with conn:
            conn.execute("UPDATE story_members SET reason = ? WHERE doc_id = ?", (reason, doc_id))
    entity = get_page(client, "/entities/" + quote("منير الخطابي"))
    assert "<h1>منير الخطابي</h1>" in entity and re.search(r'<svg[^>]*class="timeline-chart', entity)
    assert 'class="quote-item cue-deny"' in entity
    assert "الخطابي" in re.search(r"الأسماء الأخرى</dt><dd>(.*?)</dd>", entity, re.S).group(1)


def test_stories_page_summarizes_the_newest_and_says_how_many_there_are(client, workspace, monkeypatch):
    from tabayyun.web import pages_documents

    everything = get_page(client, "/stories")
    total = workspace.workspace_counts()["stories"]
    assert everything.count('href="/stories/') == total >= 3 and "قصة من" not in everything
    monkeypatch.setattr(pages_documents, "STORIES_SHOWN", 2)
    newest = get_page(client, "/stories")
    assert newest.count('href="/stories/') == 2 and f"أحدث 2 قصة من {total}." in newest


def test_english_switch_sets_a_cookie_and_left_to_right(workspace):
    with TestClient(create_app(workspace.path)) as english:
        html = get_page(english, "/?lang=en", lang="en")
        assert "Newest stories" in html and ">Search<" in html and 'href="/?lang=ar"' in html
        assert get_page(english, "/claim?text=" + quote(CLAIM), lang="en").count(">Mixed<") == 1
        denial = doc_id_by_title(workspace, "وزير الصحة ينفي")
        assert "Removed from the page" in get_page(english, f"/documents/{denial}", lang="en")
        get_page(english, "/stories?lang=ar")
        get_page(english, "/stories")


def test_unknown_items_get_the_error_page(client):
    for url in ("/documents/nothing-here", "/stories/99999", "/entities/" + quote("لا أحد بهذا الاسم"), "/nowhere"):
        html = get_page(client, url, status=404)
        assert "خطأ 404" in html and 'href="/"' in html
    assert "YYYY-MM-DD" in get_page(client, "/claim?text=x&as_of=yesterday", status=400)


def assert_escaped(html: str) -> None:
    assert "<script>alert" not in html and "<img src=x" not in html
    assert 'href="javascript:' not in html


def test_hostile_page_is_shown_as_text_everywhere(client, workspace, hostile_id):
    doc = workspace.get(hostile_id)
    assert doc.title.startswith("<script>") and any(HOSTILE_IMG in p for p in doc.paragraphs)
    story_id = workspace.facet_values([hostile_id])[hostile_id]["story"]
    entity = next(e.canonical for e in doc.entities)
    pages = {"/": True, "/search?q=" + quote("الكهرباء وادي النخيل"): True, f"/documents/{hostile_id}": True,
             "/claim?text=" + quote(HOSTILE_CLAIM): True, f"/stories/{story_id}": True,
             "/entities/" + quote(entity): True}
    for url in pages:
        html = get_page(client, url)
        assert_escaped(html)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url
    article = get_page(client, f"/documents/{hostile_id}")
    assert "&lt;img src=x onerror=alert(1)&gt;" in article
    assert "<code>javascript:alert(1)</code>" in article


def test_render_spans_nests_overlaps_and_escapes():
    html = render_spans("a<b>cdef", [Span(0, 4, ("x",), 'say "hi"'), Span(2, 6, ("y",), None, "/entities/n")])
    assert html == Markup('<span class="x" title="say &#34;hi&#34;">a&lt;</span>'
                          '<span class="x" title="say &#34;hi&#34;"><a class="y" href="/entities/n">b&gt;</a></span>'
                          '<a class="y" href="/entities/n">cd</a>ef')
    nested_links = render_spans("abc", [Span(0, 3, ("p",), None, "/entities/p"),
                                        Span(1, 2, ("q",), None, "/entities/q")])
    assert not re.search(r"<a [^>]*>(?:(?!</a>).)*<a ", nested_links)
    assert '<a class="p" href="/entities/p"><span class="q">b</span></a>' in nested_links
    assert render_spans("abc", [Span(5, 9, ("z",))]) == "abc"


def test_mark_snippet_drops_brackets_only_at_marks():
    snippet = "…[x] قال [الوزير] إن <b>"
    start = snippet.index("الوزير")
    html = mark_snippet(snippet, [(start, start + len("الوزير"))])
    assert html == "…[x] قال <mark>الوزير</mark> إن &lt;b&gt;"


def test_only_web_urls_become_links():
    assert safe_link_url("https://example.org/a") == "https://example.org/a"
    assert safe_link_url("javascript:alert(1)") is None and safe_link_url("data:text/html,x") is None
    assert safe_link_url(" JavaScript://%0aalert(1)") is None and safe_link_url(None) is None


def test_both_languages_are_complete():
    for key, (arabic, english) in STRINGS.items():
        assert arabic.strip() and english.strip(), key
        assert set(re.findall(r"{(\w+)}", arabic)) == set(re.findall(r"{(\w+)}", english)), key


def test_assets_are_local_and_the_ingest_script_targets_the_api(client):
    css = client.get("/static/app.css")
    assert css.status_code == 200 and "margin-inline" in css.text and "Noto Naskh Arabic" in css.text
    script = client.get("/static/app.js").text
    for target in ("/ingest/files", "/ingest/urls", "/ingest/records", "/jobs/", "Authorization", "localStorage"):
        assert target in script
    assert "innerHTML" not in script
    web = resources.files("tabayyun.web")
    for folder in ("templates", "static"):
        for item in web.joinpath(folder).iterdir():
            assert not re.search(r"(https?:)?//[a-z0-9-]+\.[a-z]", item.read_text(encoding="utf-8")), item.name
    html = get_page(client, "/ingest")
    assert 'id="drop"' in html and 'type="file" multiple' in html and 'id="urls"' in html and 'id="token"' in html
