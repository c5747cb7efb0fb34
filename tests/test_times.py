"""Time expressions: absolute dates in every month series, Hijri, numeric; relative ones resolved."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tabayyun import analyze
from tabayyun.understand.times import find_times, hijri_to_gregorian

SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not beside this checkout")
TUESDAY = date(2020, 1, 7)


def values(text: str, anchor: date | None = TUESDAY) -> dict[str, tuple[str | None, str]]:
    return {t.text: (t.value, t.granularity) for t in find_times([text], anchor)}


@pytest.mark.parametrize("text, value, granularity", [
    ("نفى الوزير مساء أمس الاثنين وجود خطط", "2020-01-06", "day"),
    ("في ضربة جوية فجر الجمعة", "2020-01-03", "day"),
    ("قال اليوم الثلاثاء", "2020-01-07", "day"),
    ("وأمس الأول", "2020-01-05", "day"),
    ("يصل غداً", "2020-01-08", "day"),
    ("الجمعة الماضي", "2020-01-03", "day"),
    ("يوم الأحد المقبل", "2020-01-12", "day"),
    ("الاثنين الماضي", "2020-01-06", "day"),
    ("منذ يومين", "2020-01-05", "day"),
    ("قبل ثلاثة أيام", "2020-01-04", "day"),
    ("قبل 10 أيام", "2019-12-28", "day"),
    ("الشهر الماضي", "2019-12", "month"),
    ("الأسبوع المقبل", "2020-01-13/2020-01-19", "week"),
    ("سبتمبر المقبل", "2020-09", "month"),
    ("أيلول الماضي", "2019-09", "month"),
    ("خلال الأيام والأسابيع القادمة", "2020-01-07/2020-02-04", "interval"),
    ("في الأول من أغسطس/آب المقبل", "2020-08-01", "day"),
    ("في الرابع عشر من تموز/يوليو", "2020-07-14", "day"),
    ("في العاشر من الشهر نفسه", "2020-01-10", "day"),
    ("خلال السنوات الخمس المقبلة", "2020-01-07/2025-01-07", "interval"),
    ("خلال الأيام الثلاثة الماضية", "2020-01-04/2020-01-07", "interval"),
    ("أواخر فبراير", "2020-02", "month"),
    ("بحلول نهاية العام", "2020", "year"),
    ("خلال شهر أغسطس", "2020-08", "month"),
])
def test_relative_expressions_resolve_against_the_anchor(text, value, granularity):
    found = find_times([text], TUESDAY)
    assert len(found) == 1, found
    assert (found[0].value, found[0].granularity, found[0].anchor) == (value, granularity, "2020-01-07")
    assert text[found[0].start:found[0].end] == found[0].text


@pytest.mark.parametrize("text, value, granularity", [
    ("الصادر في 27 سبتمبر 2024", "2024-09-27", "day"),
    ("الصادر في 27 أيلول 2024", "2024-09-27", "day"),
    ("في ٢٧ أيلول/سبتمبر ٢٠٢٤", "2024-09-27", "day"),
    ("في 5 كانون الثاني 2020", "2020-01-05", "day"),
    ("بتاريخ 12/03/2024", "2024-03-12", "day"),
    ("on February 17, 2026 it said", "2026-02-17", "day"),
    ("حتى سبتمبر 2026", "2026-09", "month"),
    ("الذي أنشأته في العام 2014", "2014", "year"),
])
def test_absolute_dates(text, value, granularity):
    found = find_times([text], None)
    assert [(t.value, t.granularity, t.anchor) for t in found] == [(value, granularity, None)]


def test_counts_are_not_years():
    assert values("تنشر واشنطن 2500 عسكري في العراق ونحو 900 في سوريا") == {}
    assert values("أكثر من 2013 شخصا") == {}


def test_hijri_dates_are_converted():
    assert hijri_to_gregorian(1445, 9, 1) == date(2024, 3, 11)
    found = find_times(["في 15 رمضان 1445 هـ"], None)
    assert found[0].value == "2024-03-25" and found[0].text.endswith("هـ")


def test_relative_expressions_without_an_anchor_have_no_value():
    found = find_times(["أمس"], None)
    assert found[0].value is None and found[0].anchor is None


def test_the_pipeline_uses_the_reference_date_then_the_publication_date():
    page = "خبر عن الاجتماع\n\nالثلاثاء 05 مارس 2024\n\nقال الوزير مساء أمس الاثنين إن الاجتماع سيعقد الأسبوع المقبل في العاصمة."
    doc = analyze(page)
    assert doc.published == "2024-03-05"
    assert [(t.text, t.value) for t in doc.times][:1] == [("مساء أمس الاثنين", "2024-03-04")]
    assert analyze(page, reference_date="2024-03-12").times[0].value == "2024-03-11"
    assert doc.to_dict()["times"][0]["anchor"] == "2024-03-05"


@needs_seeds
@pytest.mark.parametrize("seed, reference, text, value", [
    ("002", "2020-01-07", "مساء أمس الاثنين", "2020-01-06"),
    ("001", "2020-01-07", "فجر الجمعة", "2020-01-03"),
    ("003", "2025-11-15", "اليوم السبت", "2025-11-15"),
    ("003", "2025-11-15", "سبتمبر المقبل", "2026-09"),
])
def test_seed_expressions(seed, reference, text, value):
    page = next(SEEDS.glob(f"{seed}_*.txt")).read_text(encoding="utf-8")
    found = {t.text: t.value for t in analyze(page, reference_date=reference).times}
    assert found[text] == value


def test_far_past_spans_and_odd_spaces_do_not_break_resolution():
    assert find_times(["قبل 3000 عاما"], date(2024, 1, 1)) == []
    assert find_times(["أمس\xa0الأول"], date(2024, 9, 10))[0].value == "2024-09-08"
    found = find_times(["في 15 رمضان 1445 الماضي"], None)[0]
    assert not found.text.endswith(" ")
