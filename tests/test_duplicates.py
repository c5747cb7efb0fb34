"""Near-duplicate articles: MinHash/LSH with an exact check, incremental at ingest, `tabayyun duplicates`."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tabayyun.connect import duplicates as dup
from tabayyun.workspace import Workspace

MENU = "الرئيسية | أخبار | اقتصاد | رياضة | اتصل بنا"
EXTRA = ("وفي سياق متصل أعلنت الجهات المختصة أنها ستواصل متابعة الملف عن كثب وأنها ستصدر تقريراً مفصلاً"
         " عن نتائج الاجتماع خلال الأيام القليلة المقبلة بعد التشاور مع جميع الأطراف المعنية.")


def _copy_with_boilerplate(text: str) -> str:
    """The same article as another site shows it: a menu line on top and one extra paragraph."""
    return MENU + "\n\n" + text + "\n" + EXTRA + "\n"


def _ids_by_file(ws: Workspace) -> dict[str, str]:
    return {row["source"].replace("\\", "/").rsplit("/", 1)[-1]: row["id"] for row in ws.list()}


@pytest.fixture(scope="module")
def sample_ws(tmp_path_factory, sample_dir, workspaces):
    path = workspaces.new(tmp_path_factory.mktemp("dup"), "sample")
    with Workspace(path) as ws:
        report = ws.ingest(sample_dir, workers=1, embed=False)
        assert report.signed == report.stored == 15
    return path


def test_sample_syndicated_copies_are_one_group(sample_ws, manifest):
    with Workspace(sample_ws) as ws:
        ids = _ids_by_file(ws)
        groups = ws.duplicates()
    copies = {e["file"] for e in manifest if e["syndicated_from"] == "desal_00_original_nsa.html"}
    expected = {ids[f] for f in copies | {"desal_00_original_nsa.html"}}
    assert len(expected) == 5
    assert len(groups) == 1                      # nothing else (cholera, flights) is grouped
    assert {d["id"] for d in groups[0]["documents"]} == expected
    # Every pair of the five copies is found (recall 1) and every found pair is a copy (precision 1).
    found = {(p["a"], p["b"]) for p in groups[0]["pairs"]}
    assert found == {(a, b) for a in expected for b in expected if a < b}
    for pair in groups[0]["pairs"]:
        assert pair["containment"] >= 0.9 and 0.5 <= pair["jaccard"] <= 1
    # The original comes first (publication order), the undated copy last.
    assert groups[0]["documents"][0]["published"] == "2024-09-16"
    assert groups[0]["documents"][-1]["published"] is None


def test_different_cholera_reports_are_not_duplicates(sample_ws, manifest):
    with Workspace(sample_ws) as ws:
        ids = _ids_by_file(ws)
        grouped = {d["id"] for g in ws.duplicates() for d in g["documents"]}
    cholera = {ids[e["file"]] for e in manifest if e["file"].startswith("cholera_")}
    assert len(cholera) == 6 and not cholera & grouped


def test_copy_with_menu_and_extra_paragraph_is_a_duplicate(tmp_path, articles, workspace_address):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(articles.text(3), encoding="utf-8")
    (tmp_path / "in" / "b.txt").write_text(_copy_with_boilerplate(articles.text(3)), encoding="utf-8")
    (tmp_path / "in" / "c.txt").write_text(articles.text(4), encoding="utf-8")
    (tmp_path / "in" / "d.txt").write_text(articles.text(11), encoding="utf-8")
    with Workspace(workspace_address("w")) as ws:
        ws.ingest(tmp_path / "in", workers=1, embed=False)
        ids = _ids_by_file(ws)
        groups = ws.duplicates()
    assert len(groups) == 1
    assert {d["id"] for d in groups[0]["documents"]} == {ids["a.txt"], ids["b.txt"]}
    (pair,) = groups[0]["pairs"]
    assert pair["containment"] >= 0.8 and pair["jaccard"] < 1


def test_exact_check_thresholds(articles):
    original = dup.shingles(articles.text(5).split("\n"))
    copy = dup.shingles(_copy_with_boilerplate(articles.text(5)).split("\n"))
    other = dup.shingles(articles.text(6).split("\n"))
    jaccard, containment = dup.compare(original, copy)
    assert containment >= 0.8 and dup.is_duplicate(jaccard, containment, len(original))
    jaccard, containment = dup.compare(original, other)
    assert not dup.is_duplicate(jaccard, containment, len(original))
    # The signature estimates Jaccard and is stable (fixed seed): the same text, the same signature.
    assert (dup.signature(original) == dup.signature(set(original))).all()
    assert abs(dup.estimate(dup.signature(original), dup.signature(copy)) - dup.compare(original, copy)[0]) < 0.2
    assert dup.shingles([]) == set() and len(dup.shingles(["كلمتان فقط"])) == 1
    # The finder keeps sorted hash arrays; they compare as the sets do.
    for a, b in ((original, copy), (original, other), (original, set())):
        assert dup.compare_arrays(dup.hash_array(a), dup.hash_array(b)) == dup.compare(a, b)


def _articles_then_a_copy(tmp_path, articles, count: int):
    """Two folders: `count` articles, then a copy of the second one with a menu and an extra paragraph."""
    first = tmp_path / "first"
    articles.write(first, count)
    second = tmp_path / "second"
    second.mkdir()
    (second / "copy.txt").write_text(_copy_with_boilerplate(articles.text(1)), encoding="utf-8")
    return first, second


def test_incremental_ingest_signs_only_new_documents(tmp_path, articles, monkeypatch, workspace_address):
    first, second = _articles_then_a_copy(tmp_path, articles, 3)
    with Workspace(workspace_address("w")) as ws:
        assert ws.ingest(first, workers=1, embed=False).signed == 3
        before = ws.storage.conn.execute("SELECT doc_id, signature FROM minhash_signatures").fetchall()
        signed: list[int] = []
        real = dup.signature
        monkeypatch.setattr(dup, "signature", lambda hashes: signed.append(len(hashes)) or real(hashes))
        report = ws.ingest(second, workers=1, embed=False)
        assert report.stored == report.signed == 1 and report.duplicate_pairs == 1 and len(signed) == 1
        after = dict(ws.storage.conn.execute("SELECT doc_id, signature FROM minhash_signatures").fetchall())
        assert all(after[doc_id] == blob for doc_id, blob in before)      # old signatures untouched
        ids = _ids_by_file(ws)
        (group,) = ws.duplicates()
    assert {d["id"] for d in group["documents"]} == {ids["article_00001.txt"], ids["copy.txt"]}


def test_a_new_document_is_shingled_once(tmp_path, articles, monkeypatch, workspace_address):
    """The worker sends its shingle hashes with the signature: the storing process compares them with
    the candidates' as they are, without shingling the document again."""
    first, second = _articles_then_a_copy(tmp_path, articles, 2)
    with Workspace(workspace_address("w")) as ws:
        ws.ingest(first, workers=1, embed=False)
        shingled: list[bool] = []
        real = dup.shingles
        monkeypatch.setattr(dup, "shingles", lambda paragraphs: shingled.append(
            any(EXTRA in p for p in paragraphs)) or real(paragraphs))
        report = ws.ingest(second, workers=1, embed=False)
    assert report.duplicate_pairs == 1
    # The copy once, by the worker (the stored candidates are read back and shingled for the exact check).
    assert shingled.count(True) == 1


@pytest.mark.sqlite_only("rewrites a file into an older schema version (PRAGMA user_version)")
def test_workspace_without_signatures_gets_them(tmp_path, articles):
    folder = tmp_path / "in"
    articles.write(folder, 2)
    (folder / "copy.txt").write_text(_copy_with_boilerplate(articles.text(0)), encoding="utf-8")
    path = tmp_path / "old.db"
    with Workspace(path) as ws:
        ws.ingest(folder, workers=1, embed=False)
    conn = sqlite3.connect(path)         # what a workspace written before version 5 looks like
    conn.executescript("DROP TABLE upkeep_runs; DROP TABLE site_lines; DROP TABLE site_pages; DROP TABLE story_members;"
                       " DROP TABLE stories;"
                       " DROP TABLE duplicate_pairs;"
                       " DROP TABLE minhash_signatures; PRAGMA user_version = 4;")
    conn.close()
    with Workspace(path) as ws:
        assert ws.storage.schema_version >= 5
        assert ws.storage.conn.execute("SELECT count(*) FROM minhash_signatures").fetchone()[0] == 3
        (group,) = ws.duplicates()
        assert len(group["documents"]) == 2
        # A document that lost its signature (a killed run) is signed lazily before `duplicates`.
        ws.storage.conn.execute("DELETE FROM minhash_signatures")
        ws.storage.conn.execute("DELETE FROM duplicate_pairs")
        ws.storage.conn.commit()
        assert len(ws.duplicates()) == 1


def test_cli_duplicates(cli, tmp_path, articles, workspace_address):
    folder = tmp_path / "in"
    articles.write(folder, 2)
    (folder / "copy.txt").write_text(_copy_with_boilerplate(articles.text(0)).replace(
        MENU, MENU + " \x1b[31m\u202e"), encoding="utf-8")
    db = workspace_address("w")
    assert cli("ingest", folder, "--db", db, "--no-embed").returncode == 0
    proc = cli("duplicates", "--db", db, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    (group,) = data["groups"]
    assert len(group["documents"]) == 2 and set(group["documents"][0]) == {"id", "title", "outlet", "published"}
    assert set(group["pairs"][0]) == {"a", "b", "jaccard", "containment", "method"}
    assert group["pairs"][0]["method"] == dup.METHOD
    text = cli("duplicates", "--db", db)
    assert text.returncode == 0 and "1 groups of near-duplicates (2 of 3 documents)" in text.stdout
    assert "\x1b" not in text.stdout and "\u202e" not in text.stdout
    assert cli("duplicates", "--db", tmp_path / "none.db").returncode == 1


# One template, six recipients: the texts share the frame (containment about 0.6), not the names.
CABLE = ("بعث رئيس المجلس الأعلى برقية تهنئة إلى فخامة {name} رئيس جمهورية {country} بمناسبة ذكرى يوم الاستقلال لبلاده {country}"
         " أعرب فيها عن أطيب التهاني وأصدق التمنيات بموفور الصحة والسعادة ولحكومة وشعب {country} الصديق"
         " المزيد من التقدم والازدهار في ظل قيادة {name} الحكيمة كما تمنى أن تتواصل العلاقات الطيبة بين البلدين"
         " وأن تشهد مزيدا من النمو والتعاون في جميع المجالات بما يخدم المصالح المشتركة للشعبين وقد سلمت البرقية في {city}")
PEOPLE = [("ماركو ليندال", "فالدوريا", "بورتسيل"), ("سيلا برانت", "أوستريكا", "لانفيرد"),
          ("توماس كارفيل", "نوردانيا", "هيلمار"), ("إيفان مورسك", "بلتافيا", "روستوك"),
          ("لينا هوفر", "كارستيا", "ماريبور"), ("داني سولار", "ميرانديا", "سانتيلو")]
REPORT = ("أعلنت هيئة الموانئ في مدينة الساحل الشرقي أن سفينة شحن محملة بالحبوب جنحت صباح اليوم قرب رصيف"
          " الميناء الجنوبي بعد عطل مفاجئ في محركها الرئيسي وأوضح مدير الهيئة أن فرق الإنقاذ البحري تمكنت من"
          " تأمين الطاقم المؤلف من ثمانية عشر بحارا دون إصابات وأن عمليات سحب السفينة ستبدأ مع ارتفاع المد"
          " مساء الغد مشيرا إلى أن حركة الملاحة في القناة الرئيسية لم تتأثر وأن الرصيف الجنوبي سيغلق مؤقتا"
          " حتى انتهاء أعمال التفريغ والفحص الفني لهيكل السفينة وخزانات الوقود فيها")


def _band_documents() -> list:
    from tabayyun.model import Document

    cables = [Document(id=f"cable{i}", text="-", title=f"برقية تهنئة إلى رئيس {country}",
                       paragraphs=[CABLE.format(name=name, country=country, city=city)])
              for i, (name, country, city) in enumerate(PEOPLE)]
    words = REPORT.split()
    trimmed = " ".join(words[:int(len(words) * 0.75)])
    edited = trimmed.replace("صباح اليوم", "فجر اليوم").replace("ثمانية عشر", "18").replace("مدير الهيئة", "رئيس الهيئة")
    report = Document(id="report", text="-", title="جنوح سفينة شحن قرب الميناء الجنوبي", paragraphs=[REPORT])
    copy = Document(id="copy", text="-", title="جنوح سفينة حبوب قرب الميناء", paragraphs=[edited])
    return [*cables, report, copy]


def _judged(address: str) -> dict:
    docs = _band_documents()
    with Workspace(address) as ws:
        ws.storage.add_documents([(doc, 1) for doc in docs])
        pairs = dup.DuplicateFinder(ws.storage).add([(doc.id, doc.paragraphs) for doc in docs])
        stored = ws.storage.conn.execute("SELECT doc_a, doc_b, method FROM duplicate_pairs").fetchall()
    assert {(p.a, p.b, p.method) for p in pairs} == set(stored)
    return {(p.a, p.b): p.method for p in pairs}


def test_a_copy_trimmed_below_the_containment_rule_counts_by_its_distinctive_words(workspace_address, monkeypatch):
    by_id = {doc.id: dup.shingles(doc.paragraphs) for doc in _band_documents()}
    for a, b in (("cable0", "cable1"), ("copy", "report")):   # both pairs are in the band, below the first rule
        jaccard, containment = dup.compare(by_id[a], by_id[b])
        assert not dup.is_duplicate(jaccard, containment, len(by_id[a])) and dup.in_band(containment, len(by_id[a]))
    # Too few index rows for word frequencies to mean anything: only the first rule applies.
    assert _judged(workspace_address("small")) == {}
    monkeypatch.setattr(dup, "BAND_MIN_UNITS", 0)
    # The copy shares the report's rare words; the cables share only the words all six have.
    band = workspace_address("band")
    assert _judged(band) == {("copy", "report"): dup.METHOD_DISTINCTIVE}
    with Workspace(band) as ws:
        (group,) = ws.duplicates()
    assert [(p["a"], p["b"], p["method"]) for p in group["pairs"]] == [("copy", "report", dup.METHOD_DISTINCTIVE)]
