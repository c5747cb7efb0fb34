"""Shared passages between articles and syndication of a group of copies (issue 5, parts 1 and 2)."""

from __future__ import annotations

import json
import re

import pytest

from tabayyun.arabic import normalize_for_match
from tabayyun.connect.passages import shared_passages
from tabayyun.connect.syndication import syndication
from tabayyun.model import Citation, Document, Evidence
from tabayyun.workspace import Workspace

ORIGINAL = "desal_00_original_nsa.html"
LETTER = ("نطلب منكم سحب جميع القوات الأجنبية من أراضي البلاد في أقرب وقت ممكن احتراما لقرار مجلس النواب"
          " الذي صوت عليه الأعضاء بالإجماع")


@pytest.fixture(scope="module")
def sample_docs(tmp_path_factory, sample_dir, workspaces):
    """file name -> stored Document, the group of desal copies from `Workspace.duplicates()`."""
    path = workspaces.new(tmp_path_factory.mktemp("passages"), "sample")
    with Workspace(path) as ws:
        ws.ingest(sample_dir, workers=1, embed=False)
        names = {row["id"]: row["source"].replace("\\", "/").rsplit("/", 1)[-1] for row in ws.list()}
        docs = {names[doc_id]: doc for doc_id, doc in ws.storage.analyses(list(names)).items()}
        groups = ws.duplicates(passages=True)
    return docs, names, groups


def _doc(doc_id: str, *paragraphs: str, **meta) -> Document:
    return Document(id=doc_id, text="\n".join(paragraphs), paragraphs=list(paragraphs), **meta)


def _check_offsets(passage, doc_a: Document, doc_b: Document) -> None:
    side_a = doc_a.paragraphs[passage.a_paragraph][passage.a_start:passage.a_end]
    side_b = doc_b.paragraphs[passage.b_paragraph][passage.b_start:passage.b_end]
    assert side_a == passage.text
    assert normalize_for_match(side_a) == normalize_for_match(side_b)
    assert len(re.findall(r"\w+", normalize_for_match(side_a))) == passage.words >= 8


def test_sample_syndication(sample_docs, manifest):
    docs, names, groups = sample_docs
    (group,) = groups
    synd = group["syndication"]
    ids = {name: doc.id for name, doc in docs.items()}
    assert synd["first"] == ids[ORIGINAL]
    credited_files = {e["file"] for e in manifest
                      if e["syndicated_from"] == ORIGINAL and "uncredited" not in e["stance_note"]}
    assert len(credited_files) == 3
    assert {ids[f] for f in credited_files} <= set(synd["credited"])
    assert synd["uncredited"] == [ids["desal_03_copy_uncredited.txt"]]
    assert synd["undated"] == [ids["desal_03_copy_uncredited.txt"]]
    # Each statement has its evidence: the credit words, the date evidence.
    credit = synd["evidence"][ids["desal_02_copy_sawt_alwaha_source.txt"]]["credit"]
    assert any("نجمة الساحل" in c["text"] for c in credit)
    assert synd["evidence"][ids[ORIGINAL]]["date"].startswith("2024-09-16")
    assert "2024-09-16" in synd["first_note"]


def test_sample_pair_passages_slice_back(sample_docs):
    docs, names, groups = sample_docs
    by_id = {doc.id: doc for doc in docs.values()}
    for pair in groups[0]["pairs"]:
        assert pair["passages"], pair
        for p in pair["passages"]:
            a, b = by_id[pair["a"]], by_id[pair["b"]]
            assert a.paragraphs[p["a"]["paragraph"]][p["a"]["start"]:p["a"]["end"]] == p["text"]
            side_b = b.paragraphs[p["b"]["paragraph"]][p["b"]["start"]:p["b"]["end"]]
            assert normalize_for_match(side_b) == normalize_for_match(p["text"])
    # The changed sentence of the uncredited copy splits nothing else: every other paragraph is shared.
    found = shared_passages(docs[ORIGINAL], docs["desal_03_copy_uncredited.txt"])
    assert len(found) >= 6
    for passage in found:
        _check_offsets(passage, docs[ORIGINAL], docs["desal_03_copy_uncredited.txt"])


def test_unrelated_articles_share_no_passage(sample_docs):
    docs, _, _ = sample_docs
    assert shared_passages(docs[ORIGINAL], docs["cholera_01_report_almarsad.txt"]) == []


def test_quoted_letter_with_diacritics_and_tatweel(articles):
    decorated = LETTER.replace("سحب", "سَحْبِ").replace("القوات", "القـــوات").replace("البلاد", "البِلادِ")
    assert decorated != LETTER
    doc_a = _doc("a", articles.text(1).split("\n")[0], "وجاء في نص الرسالة: «" + LETTER + "».")
    doc_b = _doc("b", "ونشرت الصحيفة مقتطفا منها: " + decorated + " وهو ما نفته الحكومة لاحقا.",
                 articles.text(2).split("\n")[0])
    (passage,) = shared_passages(doc_a, doc_b)
    assert (passage.a_paragraph, passage.b_paragraph) == (1, 0)
    assert passage.text == LETTER
    side_b = doc_b.paragraphs[0][passage.b_start:passage.b_end]
    assert side_b == decorated                       # trailing kasra kept, tatweel inside kept
    _check_offsets(passage, doc_a, doc_b)
    assert passage.words == len(LETTER.split())
    # Shorter than min_words is not a passage.
    assert shared_passages(doc_a, doc_b, min_words=len(LETTER.split()) + 1) == []


def test_syndication_ties_undated_and_registry_agency():
    undated = syndication([_doc("x", "نص"), _doc("y", "نص")])
    assert undated.first is None and undated.undated == ["x", "y"] and "no document" in undated.first_note
    evidence = Evidence(source="page metadata", text="2024-01-05", confidence=0.9)
    wire = _doc("w", "أعلنت الوزارة اليوم عن خطة جديدة.", published="2024-01-05", published_evidence=evidence,
                citations=[Citation("رويترز", None, "attribution", 0, 0, 5)])
    copy = _doc("c", "أعلنت الوزارة اليوم عن خطة جديدة.", published="2024-01-05",
                published_evidence=Evidence(source="date line", text="5 يناير 2024", confidence=0.6))
    synd = syndication([copy, wire])
    assert synd.first == "w" and synd.tied == ["c"] and "same day" in synd.first_note
    assert synd.uncredited == ["c"]
    assert synd.credited == (["w"] if synd.evidence["w"]["credit"] else [])


def test_cli_duplicates_passages(cli, tmp_path, sample_dir, workspace_address):
    db = workspace_address("w")
    assert cli("ingest", sample_dir, "--db", db, "--no-embed").returncode == 0
    proc = cli("duplicates", "--db", db, "--format", "json", "--passages")
    assert proc.returncode == 0, proc.stderr
    (group,) = json.loads(proc.stdout)["groups"]
    assert {"first", "credited", "uncredited", "evidence"} <= set(group["syndication"])
    passage = group["pairs"][0]["passages"][0]
    assert set(passage["a"]) == {"paragraph", "start", "end"} and passage["text"]
    text = cli("duplicates", "--db", db, "--passages")
    assert text.returncode == 0 and "first: " in text.stdout and "without credit: " in text.stdout
    assert "shared ¶" in text.stdout
