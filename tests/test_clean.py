"""Article cleaning: segmentation of flattened pages, HTML extraction, metadata with evidence."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tabayyun import analyze
from tabayyun.clean import segment
from tabayyun.model import REMOVED_KINDS
from tabayyun.sample import sample_manifest, sample_path
from tabayyun.sources.decode import decode_bytes

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
GOLD = ROOT / "bench" / "gold" / "sample"
MANIFEST = {m["file"]: m for m in sample_manifest()}

needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not beside this checkout")


def _sample_text(name: str) -> str:
    text, _ = decode_bytes((sample_path() / name).read_bytes())
    return text.lstrip("\ufeff")


def _seed(prefix: str) -> str:
    return next(SEEDS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


# --- the built-in sample, against its hand-made gold -------------------------------------------

TEXT_GOLD = sorted(p for p in GOLD.glob("*.json") if "body_lines" in json.loads(p.read_text()))
HTML_GOLD = sorted(p for p in GOLD.glob("*.json") if "body_paragraphs" in json.loads(p.read_text()))


@pytest.mark.parametrize("gold_file", TEXT_GOLD, ids=lambda p: p.stem)
def test_sample_text_pages_match_gold_lines(gold_file):
    gold = json.loads(gold_file.read_text())
    seg = segment(_sample_text(gold["file"]).replace("\r\n", "\n"))
    body = {line.index for line in seg.body}
    assert body == set(gold["body_lines"])
    assert seg.title_line == gold["title_line"]


@pytest.mark.parametrize("gold_file", TEXT_GOLD, ids=lambda p: p.stem)
def test_sample_removed_kinds_agree_with_gold_for_most_lines(gold_file):
    gold = json.loads(gold_file.read_text())
    seg = segment(_sample_text(gold["file"]).replace("\r\n", "\n"))
    removed = {int(k): v for k, v in gold["removed"].items()}
    agree = sum(1 for index, kind in removed.items() if seg.labels.get(index) == kind)
    assert agree >= 0.6 * len(removed), f"{agree}/{len(removed)} removed lines with the gold kind"
    assert all(seg.labels[i] != "body" for i in removed)


@pytest.mark.parametrize("gold_file", HTML_GOLD, ids=lambda p: p.stem)
def test_sample_html_pages_keep_exactly_the_article_paragraphs(gold_file):
    gold = json.loads(gold_file.read_text())
    doc = analyze(_sample_text(gold["file"]))
    assert doc.format == "html"
    assert doc.paragraphs == gold["body_paragraphs"]
    assert doc.title == gold["title"]


@pytest.mark.parametrize("name", sorted(MANIFEST), ids=str)
def test_sample_metadata_matches_manifest(name):
    expected = MANIFEST[name]
    doc = analyze((sample_path() / name).read_bytes())
    assert doc.title == expected["title"]
    assert doc.published == expected["published"]
    if expected["outlet"] and name != "cholera_04_who_confirms_sawt_alwaha.txt":
        assert doc.outlet == expected["outlet"]
    assert doc.language == "ar"
    assert all(block.kind in REMOVED_KINDS for block in doc.removed)


def test_removed_boilerplate_keeps_every_non_empty_line():
    """Nothing is silently lost: title, paragraphs and removed blocks cover every line."""
    for name, meta in MANIFEST.items():
        if meta["form"] != "text":
            continue
        text = _sample_text(name).replace("\r\n", "\n")
        doc = analyze(text)
        kept = "\n".join([doc.title or ""] + doc.paragraphs + [r.text for r in doc.removed])
        for line in text.split("\n"):
            stripped = line.strip(" \t\u00a0\u200f\u200e")
            assert not stripped or stripped in kept, (name, line)


def test_page_header_date_is_reported_but_not_used():
    doc = analyze(_sample_text("cholera_04_who_confirms_sawt_alwaha.txt"))
    assert doc.published is None
    assert doc.published_evidence.source == "page header date"
    assert "crawl" in doc.published_evidence.note


def test_agency_credit_is_cited_not_taken_as_outlet():
    text = "\n".join([
        "عنوان الخبر عن افتتاح الجسر الجديد في المدينة",
        "",
        "افتتح وزير النقل اليوم الجسر الجديد الذي يربط ضفتي النهر بعد عامين من العمل المتواصل في المشروع.",
        "وقال الوزير إن الجسر سيخفف الازدحام في وسط المدينة وسيختصر زمن الرحلة إلى النصف تقريبا.",
        "",
        "المصدر: رويترز + موقع الضفة الأخرى",
    ])
    doc = analyze(text)
    assert doc.outlet == "موقع الضفة الأخرى"
    assert doc.outlet_evidence.source == "credit line"
    assert any(block.kind == "credit" for block in doc.removed)


def test_syndicated_copies_share_their_paragraphs():
    original = analyze((sample_path() / "desal_00_original_nsa.html").read_bytes())
    copy = analyze((sample_path() / "desal_01_copy_aldifaf_credited.txt").read_bytes())
    assert len(set(original.paragraphs) & set(copy.paragraphs)) >= 6
    assert original.id != copy.id


def test_hostile_html_is_kept_as_inert_text():
    doc = analyze((sample_path() / "cholera_03_denial_alsunbula.html").read_bytes())
    comments = [block for block in doc.removed if block.kind == "comments"]
    assert comments, "the reader comments are labelled"
    assert not any("<script" in p.lower() or "onerror" in p.lower() for p in doc.paragraphs)


def test_analyze_returns_the_documented_json_object():
    doc = analyze(_sample_text("cholera_01_report_almarsad.txt"), reference_date="2024-03-05")
    data = doc.to_dict()
    for key in ("id", "path", "title", "outlet", "published", "published_evidence", "language", "paragraphs",
                "removed"):
        assert key in data
    assert all(isinstance(p, str) for p in data["paragraphs"])
    assert all({"text", "kind"} <= set(r) for r in data["removed"])
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data


def test_future_dates_beyond_the_reference_are_not_publication_dates():
    text = "خبر عن الاجتماع المقبل للجنة\n12 مارس 2031\nقالت اللجنة إن اجتماعها المقبل سيعقد في العاصمة لمناقشة الميزانية العامة."
    assert analyze(text, reference_date=date(2024, 1, 1)).published is None


# --- the user's five seed pages ------------------------------------------------------------------

@needs_seeds
def test_seed_000_title_body_tickers_and_repeats():
    doc = analyze(_seed("000"))
    assert doc.title.startswith("تخبط أمريكي حول وثيقة مسربة")
    assert len(doc.paragraphs) == 13
    assert doc.paragraphs[0].startswith("أبلغ الجيش الأمريكي رسميا")
    assert doc.paragraphs[-1].startswith("وأوضح أنه لم تصدر")
    kinds = {block.kind for block in doc.removed}
    assert {"ticker", "repeated_title", "menu", "masthead"} <= kinds
    assert not any(p[:2].isdigit() for p in doc.paragraphs)
    assert doc.outlet == "أرض كنعان"


@needs_seeds
def test_seed_001_dateline_outlet_and_all_paragraphs():
    doc = analyze(_seed("001"))
    assert doc.title == "التحالف الدولي يطرح أحدث موقف له بشأن مغادرة العراق"
    assert len(doc.paragraphs) == 15
    assert doc.paragraphs[-1] == "ولم يذكر أي جدول زمني لبدء الانسحاب."
    assert doc.outlet == "Kurdistan 24"
    assert doc.outlet_evidence.source == "dateline"


@needs_seeds
def test_seed_002_header_date_is_flagged_and_site_name_found():
    doc = analyze(_seed("002"))
    assert doc.title == "الدفاع الأمريكية تنفي وجود خطط لانسحاب قواتها من العراق"
    assert len(doc.paragraphs) == 12
    assert doc.published is None and "crawl" in doc.published_evidence.note
    assert doc.outlet == "rudaw"
    assert {"date_line", "repeated_title"} <= {block.kind for block in doc.removed}


@needs_seeds
def test_seed_003_masthead_related_and_latest_news_removed():
    doc = analyze(_seed("003"))
    assert doc.title.startswith("حدث هام طال انتظاره")
    assert len(doc.paragraphs) == 9
    assert doc.paragraphs[-1].startswith("وختم")
    kinds = [block.kind for block in doc.removed]
    assert kinds[0] == "masthead" and "related" in kinds
    assert not any("أشرف الحادي" in p or "فاطمة مهران" in p for p in doc.paragraphs)
    assert doc.outlet is None


@needs_seeds
def test_seed_004_menus_caption_credit_comments():
    doc = analyze(_seed("004"))
    assert doc.title.startswith('"رويترز": واشنطن تبلغ بغداد')
    assert len(doc.paragraphs) == 8
    kinds = {block.kind for block in doc.removed}
    assert {"menu", "caption", "credit", "comments", "repeated_title"} <= kinds
    assert doc.outlet == "RT"
    assert not any("Globallookpress" in p for p in doc.paragraphs)


# --- the quality gate on the held-out Baly pages -------------------------------------------------

@pytest.mark.skipif(not (SHARED / "data" / "baly2018").is_dir(), reason="../shared/data/baly2018 is not present")
def test_extraction_quality_gate():
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "extraction.py"), "--split", "test", "--gate",
                             "--shared", str(SHARED)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("url, listing", [
    ("https://news.example/", True),
    ("https://news.example/tag/%D8%B3%D9%88%D8%B1%D9%8A%D8%A7/", True),
    ("https://news.example/frontpage?page=8", True),
    ("https://blog.example/2012/04/", True),
    ("https://blog.example/2012_01_01_archive.html", True),
    ("https://blog.example/2012_01_archive.html", True),
    ("https://map.example/ar/time/22.08.2017", True),
    ("https://forum.example/index.php?action=profile;area=showposts", True),
    ("https://news.example/2017/02/28/some-article-slug", False),
    ("https://news.example/4899", False),
    ("https://news.example/1983", False),        # an article number, not the year's archive
    ("https://news.example/ar/2019/", True),
    ("https://news.example/?p=745982", False),
    ("https://news.example/archives/171343", False),
])
def test_listing_pages_are_recognised_by_their_address(url, listing):
    from tabayyun.clean.pagetype import listing_reason

    assert (listing_reason(url) is not None) == listing


@pytest.mark.parametrize("headline, url, digest", [
    ("موجز أخبار اليوم: أبرز ما جرى في المحافظات", None, True),
    ("جولة الصحافة: عناوين الصحف العربية الصادرة صباح اليوم", None, True),
    ("أحداث الأحد 05 تشرين الأول في المدينة", None, True),
    (None, "https://news.example/%D9%85%D9%88%D8%AC%D8%B2-%D8%A3%D8%AE%D8%A8%D8%A7%D8%B1", True),
    ("وزير الصحة ينفي تسجيل إصابات بالكوليرا", "https://news.example/health/1234", False),
])
def test_news_digests_are_recognised_by_headline_or_address(headline, url, digest):
    from tabayyun.clean.pagetype import digest_reason

    assert (digest_reason(headline, url) is not None) == digest


def test_a_page_of_teasers_cut_short_has_no_body_even_on_one_subject():
    """Every line a snippet cut with "..." and the next one's date: a tag page, however alike its items."""
    snippets = ["قال قائد ميداني في بلدة الراعي إن الاشتباكات تجددت صباح اليوم مع عناصر التنظيم قرب",
                "أعلنت فصائل المعارضة في بلدة الراعي سيطرتها على مواقع جديدة قرب الحدود بعد معارك",
                "أفاد مراسلنا في بلدة الراعي بأن قصفاً مدفعياً استهدف الأحياء الشرقية من البلدة خلال",
                "نزح عشرات الأسر من بلدة الراعي نحو المخيمات الحدودية بعد تصاعد المعارك في محيط",
                "أكد مجلس بلدة الراعي المحلي أن فرق الدفاع المدني تعمل على إزالة الألغام من الطرق",
                "وصلت قافلة مساعدات إنسانية إلى بلدة الراعي تحمل مواد غذائية وطبية للأهالي العائدين"]
    teasers = [f"{a} . . . نشر بتاريخ : 1{n} / 09 / 2016 {b}" for n, (a, b) in enumerate(zip(snippets, snippets[1:]))]
    doc = analyze("أخبار بلدة الراعي\n" + "\n".join(teasers), url="https://agency.example/ar/wires/geo/alrai")
    assert doc.paragraphs == []
    assert any("teasers cut short" in block.rule for block in doc.removed)
    whole = analyze("أخبار بلدة الراعي\n" + "\n".join(s + " الأخيرة." for s in snippets),
                    url="https://agency.example/ar/wires/geo/alrai")
    assert len(whole.paragraphs) >= 5       # the same prose, not cut short: an article


def test_the_editors_initials_and_agency_credit_end_the_article():
    """What follows "س . ع / م . ر ( أ ف ب )" is a photo gallery, however much it reads like prose."""
    article = ["أعلنت وزارة الصحة في مرفأ الريحان ارتفاع عدد حالات الكوليرا المؤكدة إلى ثلاثين حالة منذ مطلع الأسبوع.",
               "وقال الوزير منير الخطابي إن فرقاً طبية إضافية وصلت إلى المدينة لاحتواء تفشي المرض بين الصيادين.",
               "وأضاف أن فحوص المياه مستمرة في محطات الضخ القريبة من الميناء، داعياً السكان إلى غلي مياه الشرب."]
    gallery = ["س . ع / م . ر ( أ ف ب ) بالصور: الكوليرا في مرفأ الريحان طوابير أمام المستشفى الميداني.",
               "بالصور: الكوليرا في مرفأ الريحان فرق الدفاع المدني تعقم شوارع الحي القديم قرب الميناء منذ الصباح.",
               "بالصور: الكوليرا في مرفأ الريحان متطوعون يوزعون المياه المعبأة على سكان الأحياء الشرقية للمدينة."]
    doc = analyze("\n".join(["الكوليرا في مرفأ الريحان", *article, *gallery]))
    assert doc.paragraphs == article
    assert any(block.kind == "credit" and "initials" in block.rule for block in doc.removed)


def test_a_listing_page_keeps_no_body_but_keeps_its_text_as_removed():
    text = _sample_text("cholera_01_report_almarsad.txt")
    doc = analyze(text, url="https://almarsad.example/tag/health/")
    assert doc.paragraphs == []
    assert any("listing page" in block.rule for block in doc.removed)
    assert analyze(text, url="https://almarsad.example/2024/03/04/cholera-report").paragraphs


# --- lines a site repeats across a pile of pages (the pile: conftest.site_pile) --------------------


def test_a_line_the_site_repeats_on_three_pages_is_removed_with_its_rule(site_pile):
    from tabayyun.pipeline import pile_repeats

    pages = site_pile.pages
    alone = analyze(pages[0][1], url=pages[0][0])
    assert site_pile.furniture in alone.paragraphs      # one page alone keeps it: it reads as prose
    doc = analyze(pages[0][1], url=pages[0][0], site_repeats=pile_repeats(pages))
    assert site_pile.furniture not in doc.paragraphs
    assert doc.paragraphs == alone.paragraphs[:-1]
    block = next(b for b in doc.removed if b.text == site_pile.furniture)
    assert block.kind == "other" and "repeated on 3 pages of this site" in block.rule


def test_site_repeats_count_distinct_pages_of_one_host_only(site_pile):
    from tabayyun.arabic import normalize_for_match
    from tabayyun.clean.siterepeats import SiteRepeats, key_hash

    furniture = key_hash(normalize_for_match(site_pile.furniture))
    two, third = site_pile.pages[:2], site_pile.pages[2][1]
    repeats = SiteRepeats()
    for url, text in two + [two[0]]:          # the same page scraped twice counts once
        repeats.add(url, text)
    assert furniture not in repeats.lines_for(two[0][0])
    repeats.add("https://other.example.com/a", third)   # another site's copy never counts
    assert furniture not in repeats.lines_for(two[0][0])
    repeats.add("https://www.news.example.org/x", third)  # "www." is the same site
    assert repeats.lines_for("https://news.example.org/y")[furniture] == 3
    assert not repeats.lines_for(None) and not repeats.lines_for("https://unknown.example/")
    body = key_hash(normalize_for_match(two[0][1].split("\n")[1]))
    assert body not in repeats.lines_for(two[0][0])     # an article's own line stands on its page only


def test_site_repeats_count_a_bounded_number_of_pages_per_site(site_pile, monkeypatch):
    from tabayyun.clean import siterepeats

    monkeypatch.setattr(siterepeats, "MAX_SITE_PAGES", 2)
    repeats = siterepeats.SiteRepeats()
    for url, text in site_pile.pages:
        repeats.add(url, text)
    assert not repeats.lines_for(site_pile.pages[0][0])   # the third page was not counted


def test_analyze_of_a_pile_removes_what_its_site_repeats_unless_told_not_to(cli, site_pile):
    pile = str(site_pile.path)
    found = cli("analyze", pile, "--format", "jsonl")
    assert found.returncode == 0, found.stderr
    docs = [json.loads(line) for line in found.stdout.splitlines()]
    assert len(docs) == 3 and all(site_pile.furniture not in d["paragraphs"] for d in docs)
    assert all(any(b["text"] == site_pile.furniture and b["kind"] == "other" for b in d["removed"]) for d in docs)
    kept = cli("analyze", pile, "--format", "jsonl", "--no-site-repeats")
    assert all(site_pile.furniture in json.loads(line)["paragraphs"] for line in kept.stdout.splitlines())


def test_a_dated_line_the_site_repeats_stays_with_the_article(site_pile):
    """An agency's dateline stands on every story it filed that day: a date keeps a repeated line."""
    from tabayyun.pipeline import pile_repeats

    dated = "وكانت الوكالة قد أفادت في 11 أغسطس 2015 بأن الأعمال في المشاريع الجديدة ستبدأ خلال الأسابيع المقبلة."
    pages = [(url, text.replace(f"\n{site_pile.furniture}", f"\n{dated}\n{site_pile.furniture}"))
             for url, text in site_pile.pages]
    alone = analyze(pages[1][1], url=pages[1][0])
    assert dated in alone.paragraphs
    doc = analyze(pages[1][1], url=pages[1][0], site_repeats=pile_repeats(pages))
    assert site_pile.furniture not in doc.paragraphs and dated in doc.paragraphs
