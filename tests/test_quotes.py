"""Quotes, speakers, cue classes, continuations, and the sources an article cites."""

from __future__ import annotations

from pathlib import Path

import pytest

from tabayyun import analyze
from tabayyun.understand.quotes import find_quotes

SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not beside this checkout")


def quotes_of(*paragraphs: str):
    return find_quotes(list(paragraphs))


def test_direct_quote_with_colon_and_quote_marks():
    [quote] = quotes_of('وقال وزير المالية سامي الراشد: «الميزانية لن تتأثر بالأزمة الحالية على الإطلاق».')
    assert quote.speaker == "وزير المالية سامي الراشد"
    assert (quote.cue, quote.cue_class, quote.direct) == ("قال", "assert", True)
    assert quote.content == "الميزانية لن تتأثر بالأزمة الحالية على الإطلاق"


def test_indirect_quote_and_offsets_point_at_the_content():
    paragraph = "وأكد المتحدث باسم الوزارة أن الفرق الطبية سيطرت على الوضع في المدينة."
    [quote] = quotes_of(paragraph)
    assert quote.cue_class == "confirm" and not quote.direct
    assert paragraph[quote.start:quote.end] == quote.content == "الفرق الطبية سيطرت على الوضع في المدينة"
    assert paragraph[quote.speaker_start:quote.speaker_end] == "المتحدث باسم الوزارة"


def test_denial_with_a_time_phrase_and_no_conjunction():
    [quote] = quotes_of("نفى وزير الصحة مساء أمس الاثنين وجود أي إصابات بالمرض في العاصمة.")
    assert quote.cue_class == "deny"
    assert quote.speaker == "وزير الصحة"
    assert quote.content.startswith("وجود أي إصابات")


def test_continuations_resolve_to_the_previous_speaker_of_the_same_gender():
    quotes = quotes_of(
        "وقالت المديرة الإقليمية للمنظمة رنا حداد إن الوضع تحت المراقبة الدقيقة.",
        "وقال المتحدث باسم الشركة فارس الملاح إن الرحلات مستمرة كالمعتاد حتى الآن.",
        "وأضافت أن الفرق الميدانية تعمل على مدار الساعة.",
        "مضيفاً أن الشركة لم تتلق أي قرار رسمي بهذا الشأن.",
    )
    assert [q.speaker for q in quotes] == [
        "المديرة الإقليمية للمنظمة رنا حداد", "المتحدث باسم الشركة فارس الملاح",
        "المديرة الإقليمية للمنظمة رنا حداد", "المتحدث باسم الشركة فارس الملاح"]
    assert quotes[2].evidence.startswith("continuation")


def test_speaker_kinds():
    anonymous, document, organization = quotes_of(
        "وقال مصدر أمني رفيع إن الهجوم وقع قبل منتصف الليل بقليل.",
        'وجاء في الرسالة "نحن نحترم القرار السيادي للبلاد ونلتزم به".',
        "وأعلنت وزارة الخارجية أن السفير سيعود إلى مقر عمله الأسبوع المقبل.",
    )
    assert (anonymous.speaker_kind, document.speaker_kind, organization.speaker_kind) == (
        "anonymous", "document", "organization")


def test_refusal_to_comment_and_warning():
    refusal, warning = quotes_of(
        "ورفض المتحدث التعليق على التقارير المتداولة، مكتفيا بالقول إن التحقيق جار.",
        "وحذر الخبير من أن انقطاع المياه قد يستمر عدة أيام في الأحياء الشرقية.",
    )
    assert refusal.cue_class == "refuse_comment" and "على التقارير" in refusal.content
    assert refusal.speaker == "المتحدث"
    assert warning.cue_class == "warn"


def test_via_agencies_named_in_the_sentence():
    [quote] = quotes_of("وقال مسؤول عسكري لوكالة رويترز إن القوات ستبقى في مواقعها حتى إشعار آخر.")
    assert quote.via == ["Reuters"]
    assert quote.speaker == "مسؤول عسكري"


def test_a_verb_inside_a_quotation_is_not_a_new_quote():
    quotes = quotes_of('وقال الوزير: "لقد قال لنا الجميع إن الخطة ستنجح، ونحن نصدقهم".')
    assert len(quotes) == 1


def test_article_citations_and_quote_chains_in_the_pipeline():
    page = "\n".join([
        "عنوان عن اجتماع اللجنة الوزارية",
        "",
        "دار الصفا (رويترز) - قالت مصادر مطلعة لرويترز إن اللجنة ستجتمع الأسبوع المقبل لبحث الأزمة.",
        "وأضافت المصادر أن الاجتماع سيعقد في مقر الحكومة وسيحضره عدد من الوزراء المعنيين.",
        "",
        "المصدر: رويترز + موقع الضفة الأخرى",
    ])
    doc = analyze(page)
    kinds = {(c.source_id, c.kind) for c in doc.citations}
    assert ("reuters", "dateline") in kinds and ("reuters", "credit") in kinds
    assert doc.quotes[0].via == ["موقع الضفة الأخرى", "Reuters"]
    assert doc.quotes[0].speaker_kind == "anonymous"
    data = doc.to_dict()
    assert {"speaker", "speaker_canonical", "speaker_kind", "cue", "cue_class", "content", "direct", "paragraph",
            "start", "end", "via"} <= set(data["quotes"][0])
    assert {"source", "source_id", "kind", "paragraph", "start", "end"} <= set(data["citations"][0])


@needs_seeds
def test_seed_denials_continuations_and_the_letter():
    seed2 = analyze(next(SEEDS.glob("002_*.txt")).read_text(encoding="utf-8"))
    denial = seed2.quotes[0]
    assert denial.cue_class == "deny" and "إسبر" in denial.speaker
    assert any(q.speaker_kind == "document" and q.cue == "تنص" for q in seed2.quotes)
    continued = [q for q in seed2.quotes if q.evidence.startswith("continuation")]
    assert continued and all(q.speaker for q in continued)
    seed0 = analyze(next(SEEDS.glob("000_*.txt")).read_text(encoding="utf-8"))
    esper = [q for q in seed0.quotes if q.cue_class == "deny"]
    assert esper and "إسبر" in esper[0].speaker


@needs_seeds
def test_seed_004_chain_is_rt_citing_reuters_citing_sources():
    doc = analyze(next(SEEDS.glob("004_*.txt")).read_text(encoding="utf-8"))
    assert doc.outlet == "RT"
    first = doc.quotes[0]
    assert first.via == ["RT", "Reuters"] and first.speaker_kind == "anonymous"


def test_reversed_quotation_glyphs_still_delimit_a_quote():
    paragraph = "وقال الوزير لصحفيين في العاصمة ردا على سؤال ”لا يوجد قرار على الإطلاق بالانسحاب“، مضيفا أنه لم تصدر خطط."
    first, second = quotes_of(paragraph)
    assert (first.content, first.direct) == ("لا يوجد قرار على الإطلاق بالانسحاب", True)
    assert second.cue == "مضيفا" and second.speaker == first.speaker == "الوزير"


def test_content_offsets_match_the_content_exactly():
    paragraph = "وقال الوزير: « الوضع تحت السيطرة تماما »"
    [quote] = quotes_of(paragraph)
    assert paragraph[quote.start:quote.end] == quote.content == "الوضع تحت السيطرة تماما"
    paragraph = "وكان الوزير  محمد الأحمد أكد هو الآخر عدم وجود خطط للانسحاب."
    [quote] = quotes_of(paragraph)
    assert paragraph[quote.speaker_start:quote.speaker_end] == quote.speaker == "الوزير  محمد الأحمد"


def test_denials_with_an_appositive_name_or_a_time_between_commas():
    first, second = quotes_of(
        "ونفى المتحدث باسم الشركة، فارس الملاح، في الرابع عشر من تموز أي تغيير في الجدول.",
        "ونفت شركة خطوط النورس الجوية، مساء اليوم الاثنين، الأنباء التي تحدثت عن تعليق رحلاتها.",
    )
    assert (first.speaker, first.content) == ("المتحدث باسم الشركة، فارس الملاح", "أي تغيير في الجدول")
    assert (second.speaker, second.content) == ("شركة خطوط النورس الجوية", "الأنباء التي تحدثت عن تعليق رحلاتها")
    denial, continuation = quotes_of(
        "نفى وزير الدفاع مارك إسبر، أي نية لسحب القوات من العراق، مشيرا إلى أنه لا يمكن تأكيد صحة الرسالة.")
    assert denial.content == "أي نية لسحب القوات من العراق" and denial.cue_class == "deny"
    assert continuation.cue == "مشيرا" and continuation.speaker == denial.speaker
