"""The Arabic text layer: normalization with offsets, tokens, clitics, light stems, sentences."""

from __future__ import annotations

import pytest

from tabayyun.arabic import (
    light_stem,
    normalize_for_match,
    normalize_with_offsets,
    split_clitics,
    split_sentences,
    stem_text,
    stem_variants,
    tokenize,
    words,
)


@pytest.mark.parametrize("raw, key", [
    ("أإآٱ", "اااا"),
    ("مستشفى", "مستشفي"),
    ("الرسالة", "الرساله"),
    ("الـــرســالة", "الرساله"),
    ("مُسَوَّدَةٌ", "مسوده"),
    ("٢٠٢٤ و۱۴۰۳", "2024 و1403"),
    ("\u200fقال\u200e\u200b", "قال"),
    ("«نص» “نص” „نص“", '"نص" "نص" "نص"'),
    ("ﻻ", "لا"),
])
def test_normalize_for_match(raw, key):
    assert normalize_for_match(raw) == key


def test_normalized_offsets_point_back_into_the_original():
    text = "قالَ الـمتحدث:  «الرسالة مُسَوَّدَة» ٢٠٢٠"
    key, offsets = normalize_with_offsets(text)
    assert len(key) == len(offsets)
    assert key.strip() == normalize_for_match(text)
    found = key.index("مسوده")
    start, end = offsets[found], offsets[found + len("مسوده") - 1] + 1
    assert normalize_for_match(text[start:end]) == "مسوده"
    year = key.index("2020")
    assert text[offsets[year]:offsets[year + 3] + 1] == "٢٠٢٠"


def test_tokens_keep_offsets_and_inner_punctuation():
    text = 'وصلت طائرات CH-47 و"AH-64" إلى بغداد.'
    tokens = tokenize(text)
    assert all(text[t.start:t.end] == t.text for t in tokens)
    assert [t.text for t in tokens if t.is_word] == ["وصلت", "طائرات", "CH-47", "و", "AH-64", "إلى", "بغداد"]


def test_words_written_with_diacritics_stay_whole():
    text = "وتسيّر الشركة رحلاتها، ولم يتسنَّ الحصول على تعليق، وتُعد الوجهة مربحة."
    tokens = [t for t in tokenize(text) if t.is_word]
    assert [t.text for t in tokens] == ["وتسيّر", "الشركة", "رحلاتها", "ولم", "يتسنَّ", "الحصول", "على", "تعليق",
                                        "وتُعد", "الوجهة", "مربحة"]
    assert all(text[t.start:t.end] == t.text for t in tokens)
    assert words("يتوقّعون") == ["يتوقّعون"]


@pytest.mark.parametrize("word, clitics, base", [
    ("والانسحاب", "وال", "انسحاب"),
    ("بالانسحاب", "بال", "انسحاب"),
    ("للقوات", "لال", "قوات"),
    ("لانسحاب", "ل", "انسحاب"),
    ("وبالقوات", "وبال", "قوات"),
    ("بغداد", "", "بغداد"),
    ("كانت", "", "كانت"),
    ("وزير", "", "وزير"),
])
def test_split_clitics(word, clitics, base):
    assert split_clitics(normalize_for_match(word)) == (clitics, base)


def test_forms_of_one_word_meet_under_the_light_stem():
    forms = ["انسحاب", "الانسحاب", "لانسحاب", "والانسحاب", "بالانسحاب", "للانسحاب"]
    assert len({light_stem(f) for f in forms}) == 1
    assert light_stem("القوات") == light_stem("للقوات") == light_stem("وبالقوات")
    assert light_stem("مسؤولين") == light_stem("المسؤولون")
    assert light_stem("انسحاب") != light_stem("اجتماع")


def test_names_behind_a_preposition_are_found_through_stem_variants():
    assert stem_variants("بغداد") & stem_variants("لبغداد") & stem_variants("ببغداد")


def test_stem_text_is_what_an_index_holds():
    assert stem_text("والانسحاب من بغداد") == " ".join([light_stem("انسحاب"), light_stem("من"), light_stem("بغداد")])


def test_sentences_split_on_arabic_and_latin_marks_with_offsets():
    text = "هل انتهى الاجتماع؟ نعم! قال المتحدث إن النسبة 2.5 بالمئة؛ وأضاف أن الحوار مستمر."
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == [
        "هل انتهى الاجتماع؟", "نعم!", "قال المتحدث إن النسبة 2.5 بالمئة؛", "وأضاف أن الحوار مستمر."]
    assert all(text[s.start:s.end] == s.text for s in sentences)


def test_a_quotation_and_initials_do_not_break_a_sentence():
    text = ('وقال الجنرال: "بعد النظر في الرسالة. اتضح لي أنها كانت خاطئة"، مضيفا أنها مسودة. '
            "ووقعها وليام إتش. سيلي الثالث.")
    assert [s.text for s in split_sentences(text)] == [
        'وقال الجنرال: "بعد النظر في الرسالة. اتضح لي أنها كانت خاطئة"، مضيفا أنها مسودة.',
        "ووقعها وليام إتش. سيلي الثالث."]
