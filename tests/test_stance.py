"""Stance of a document towards a claim, the shipped model, and the train/eval commands."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

import tabayyun
from tabayyun.stance import LABELS, load_stance_model, stance
from tabayyun.stance.features import DOCUMENT_FEATURES, Idf, claim_view, featurize, units_of, view_units
from tabayyun.train.stance import classification_report, read_claims, read_folds

BALY = Path(__file__).resolve().parents[2] / "shared" / "data" / "baly2018"
CLAIM = "وزارة الصحة تعلن تسجيل إصابات بالكوليرا في مدينة الواحة"

AGREE = [
    "الصحة تعلن تسجيل إصابات بالكوليرا في الواحة",
    "أعلنت وزارة الصحة اليوم تسجيل إصابات بالكوليرا في مدينة الواحة، وقالت إن المصابين نقلوا إلى المستشفى.",
    "وطالبت الوزارة السكان بغلي مياه الشرب حتى إشعار آخر.",
]
DISAGREE = [
    "الصحة تنفي وجود الكوليرا في الواحة",
    "نفت وزارة الصحة تسجيل أي إصابات بالكوليرا في مدينة الواحة، ووصفت الأنباء المتداولة بأنها شائعات لا أساس لها من الصحة.",
    "ودعت الوزارة المواطنين إلى استقاء الأخبار من مصادرها الرسمية.",
]
UNRELATED = [
    "افتتاح معرض الكتاب في العاصمة",
    "افتتح وزير الثقافة معرض الكتاب السنوي بمشاركة مئة دار نشر من عشرين دولة.",
    "ويستمر المعرض عشرة أيام ويضم ندوات وأمسيات شعرية.",
]


def test_the_shipped_model_loads_offline_and_matches_the_code():
    model = load_stance_model()
    assert tuple(model.classifier.features) == DOCUMENT_FEATURES
    assert tuple(model.classifier.labels) == LABELS
    assert len(model.idf.weights) > 1000


@pytest.mark.parametrize("lines, expected", [(AGREE, "agree"), (DISAGREE, "disagree"), (UNRELATED, "unrelated")])
def test_clear_cases_get_the_right_stance(lines, expected):
    result = stance(CLAIM, "\n".join(lines))
    assert result.label == expected, result.scores
    assert set(result.scores) == set(LABELS)
    assert abs(sum(result.scores.values()) - 1) < 1e-3


def test_rationale_sentences_point_into_the_document():
    text = "\n".join(DISAGREE)
    result = stance(CLAIM, text)
    assert result.rationale, "a disagreement must show its reason"
    lines = text.split("\n")
    for sentence in result.rationale:
        assert lines[sentence.paragraph][sentence.start:sentence.end] == sentence.text
        assert 0 < sentence.score
    assert any("نفت" in s.text for s in result.rationale)
    assert result.evidence, "the features that pushed the label are reported"


def test_unrelated_documents_have_no_rationale():
    assert stance(CLAIM, "\n".join(UNRELATED)).rationale == []


def test_stance_of_an_analyzed_document_uses_its_title_and_paragraphs():
    doc = tabayyun.analyze("\n\n".join(DISAGREE), reference_date=None)
    result = tabayyun.stance(CLAIM, doc)
    assert result.label == "disagree"
    for sentence in result.rationale:
        source = doc.title if sentence.paragraph == -1 else doc.paragraphs[sentence.paragraph]
        assert source[sentence.start:sentence.end] == sentence.text


def test_features_see_denial_only_near_the_claim():
    idf = Idf({}, 3.0)
    claim = claim_view(CLAIM, idf)
    near = featurize(claim, view_units(units_of([DISAGREE[1]])))[1]
    far = featurize(claim, view_units(units_of([DISAGREE[1].replace("الكوليرا", "الحمى").replace("الواحة", "السهل"),
                                                "نفت الشركة الخبر."])))[1]
    deny = DOCUMENT_FEATURES.index("top3_deny")
    assert near[deny] > far[deny]


def test_classification_report_counts():
    report = classification_report([0, 0, 1, 2], [0, 1, 1, 2], ("a", "b", "c"))
    assert report["accuracy"] == 0.75
    assert report["confusion"] == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    assert report["per_class"]["b"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667}


# A tiny corpus in the Baly et al. format, written for these tests.
TOPICS = [
    ("الكوليرا", "مدينة الواحة", "وزارة الصحة"),
    ("الحمى", "قرية السهل", "هيئة الطب"),
    ("الحصبة", "بلدة النخيل", "مديرية الصحة"),
    ("التيفوئيد", "مرفأ الريحان", "وزارة البيئة"),
]


def write_corpus(folder: Path) -> Path:
    (folder / "dataset").mkdir(parents=True)
    ids = []
    for n, (disease, place, body) in enumerate(TOPICS):
        claim = f"{body} تعلن تسجيل إصابات ب{disease} في {place}"
        articles = [
            (f"خبر عاجل\nأعلنت {body} تسجيل إصابات ب{disease} في {place} ونقل المصابين إلى المستشفى.", "agree", "[1]"),
            (f"قائمة الأخبار\nنفت {body} تسجيل إصابات ب{disease} في {place} ووصفت الأنباء بأنها شائعات.", "disagree", "[1]"),
            (f"تقارير متداولة\nتتحدث تقارير عن {disease} في {place} ولم يصدر تعليق من {body} حتى الآن.", "discuss", ""),
            ("الرياضة\nفاز الفريق المحلي بالمباراة النهائية أمام جمهور كبير في الملعب.", "unrelated", ""),
        ]
        data = {"id": f"T-{n}", "claim": claim, "fact": "true" if n % 2 == 0 else "false",
                "article": [a for a, _, _ in articles], "url": ["" for _ in articles],
                "stance": [s for _, s, _ in articles], "rationale": [r for _, _, r in articles]}
        (folder / "dataset" / f"T-{n}.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        ids.append(data["id"])
    (folder / "folds.txt").write_text(f"Fold_1: {ids[0]} {ids[1]}\nFold_2: {ids[2]} {ids[3]}\n", encoding="utf-8")
    return folder


def test_corpus_reader_and_grouped_folds(tmp_path):
    folder = write_corpus(tmp_path / "corpus")
    records = read_claims(folder)
    assert [len(r.pairs) for r in records] == [4, 4, 4, 4]
    assert records[0].pairs[0].rationale == [1]
    folds = read_folds(folder, records)
    assert folds == {"T-0": 0, "T-1": 0, "T-2": 1, "T-3": 1}
    (folder / "folds.txt").unlink()
    assert len(set(read_folds(folder, records).values())) == 4  # round-robin into at most five folds


def test_train_and_eval_commands(cli, tmp_path):
    folder = write_corpus(tmp_path / "corpus")
    model_path = tmp_path / "stance.json.gz"
    trained = cli("train", "stance", "--data", folder, "--out", model_path)
    assert trained.returncode == 0, trained.stderr
    assert json.loads(trained.stdout)["pairs"] == 16 and model_path.exists()

    evaluated = cli("eval", "stance", "--data", folder, "--format", "json")
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads(evaluated.stdout)
    assert {"accuracy", "macro_f1", "per_class", "confusion", "rationale", "pairs_per_s"} <= set(report)
    assert set(report["per_class"]) == set(LABELS)
    assert sum(map(sum, report["confusion"])) == 16
    assert report["macro_f1"] > 0.5  # four claims of one pattern: a grouped split still learns it

    shipped = cli("eval", "stance", "--data", folder, "--shipped", "--format", "json")
    assert shipped.returncode == 0, shipped.stderr
    assert json.loads(shipped.stdout)["per_class"]["agree"]["recall"] == 1.0

    text = cli("eval", "stance", "--data", folder, "--shipped")
    assert "macro-F1" in text.stdout and "rationale precision" in text.stdout

    verdicts = cli("eval", "verdict", "--data", folder, "--shipped", "--format", "json")
    assert verdicts.returncode == 0, verdicts.stderr
    assert set(json.loads(verdicts.stdout)) >= {"accuracy", "macro_f1"}


def test_eval_on_a_sentence_pair_corpus(cli, tmp_path):
    stance_dir = tmp_path / "ans" / "stance"
    stance_dir.mkdir(parents=True)
    rows = [(CLAIM, AGREE[1], "agree"), (CLAIM, DISAGREE[1], "disagree"), (CLAIM, UNRELATED[1], "other")]
    for split in ("train", "dev"):
        with open(stance_dir / f"{split}.csv", "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["s1", "s2", "stance"])
            writer.writerows(rows * 3)
    result = cli("eval", "stance", "--data", tmp_path / "ans", "--shipped", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["confusion"][3][3] == 3  # `other` is read as unrelated


@pytest.mark.skipif(not BALY.exists(), reason="../shared/data/baly2018 is not present (the Baly et al. corpus)")
def test_shipped_model_on_baly_beats_the_majority_class():
    records = read_claims(BALY)[:60]
    from tabayyun.train.stance import evaluate_model

    report = evaluate_model(load_stance_model(), records)
    assert report["macro_f1"] > 0.4
    assert report["rationale"]["precision"] > 0.5


class BagOfStemsEmbedder:
    """A stand-in for e5 in tests: hashed light stems, L2-normalised (texts sharing words are close)."""

    enabled = True

    def __init__(self):
        self.calls = 0

    def passages(self, texts):
        import zlib

        import numpy as np

        from tabayyun.stance.features import stems_of

        self.calls += len(texts)
        rows = np.zeros((len(texts), 384), dtype=np.float32)
        for i, text in enumerate(texts):
            for stem in stems_of(text):
                rows[i, zlib.crc32(stem.encode()) % 384] += 1
        return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-6)


def test_the_sentence_pair_part_trains_saves_and_decides(tmp_path):
    from tabayyun.stance import StanceModel
    from tabayyun.stance.model import load_json, save_json
    from tabayyun.train.stance import train_stance

    records = read_claims(write_corpus(tmp_path / "corpus"))
    embedder = BagOfStemsEmbedder()
    assert not train_stance(records, embedder).uses_embeddings  # no sentence pairs to learn from
    model = train_stance(records, embedder, pair_records=records)
    assert model.uses_embeddings and embedder.calls > 0
    save_json(model.to_dict(), tmp_path / "m.json.gz")
    loaded = StanceModel.from_dict(load_json(tmp_path / "m.json.gz"))
    claim = records[0].claim
    with_pairs = stance(claim, "\n".join(records[0].pairs[1].lines), model=loaded, embedder=embedder)
    lexical = stance(claim, "\n".join(records[0].pairs[1].lines), model=loaded)
    assert with_pairs.label == lexical.label == "disagree"
    assert "pair_disagree_top" in loaded.classifier_pairs.features
    assert with_pairs.rationale[0].paragraph == 1


def test_substitution_features_do_not_depend_on_the_hash_seed():
    import os
    import subprocess
    import sys

    code = ("from tabayyun.stance.features import Idf, claim_view, units_of, view_units;"
            "from tabayyun.stance.pairs import substitutions;"
            "c = claim_view('ارتفاع أسعار النفط اليوم', Idf({}, 1.0));"
            "print(substitutions(c, view_units(units_of(['انخفاض أسعار النفط اليوم']))[0]).nonzero()[0].tolist())")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip() for seed in ("1", "2")}
    assert len(runs) == 1 and runs.pop() not in ("", "[]")


def test_pair_rows_hold_the_signed_difference_of_claim_and_sentence():
    """Product and distance are the same whichever side is the claim; the signed difference is not,
    and it is the claim's vector minus the sentence's (the direction the pair model was trained on)."""
    import numpy as np

    from tabayyun.stance.pairs import EMBEDDING_DIM, PAIR_FEATURES, pair_row

    claim = claim_view(CLAIM, Idf({}, 1.0))
    view = view_units(units_of([DISAGREE[1]]))[0]
    rng = np.random.default_rng(0)
    u, v = rng.normal(size=(2, EMBEDDING_DIM)).astype(np.float32)
    row, swapped = pair_row(claim, view, u, v), pair_row(claim, view, v, u)
    assert row.shape == (len(PAIR_FEATURES),)
    columns = {kind: np.array([name.startswith(kind) for name in PAIR_FEATURES])
               for kind in ("product_", "distance_", "difference_")}
    assert np.allclose(row[columns["difference_"]], u - v)
    assert np.allclose(row[columns["difference_"]], -swapped[columns["difference_"]])
    assert np.allclose(row[columns["product_"]], swapped[columns["product_"]])
    assert np.allclose(row[columns["distance_"]], swapped[columns["distance_"]])
