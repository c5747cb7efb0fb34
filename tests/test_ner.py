"""Named entities: the shipped tagger, BIO spans and offsets, within-article linking and roles, the
gazetteers, CoNLL reading and exact-span evaluation; on ../shared, the held-out ANERcorp score and
the people of the seed pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tabayyun.train.ner import evaluate_ner, read_conll, split_holdout
from tabayyun.understand.ner import bio_spans, find_entities, load_model, tag_tokens

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
ANERCORP = SHARED / "data" / "anercorp" / "train.txt"
SEEDS = SHARED / "seeds"

# Written for these tests (not from any dataset).
ARTICLE = [
    "قال وزير الدفاع الأمريكي مارك إسبر في مؤتمر صحفي في واشنطن إن القوات الأمريكية باقية في العراق.",
    "وأضاف إسبر أن التحالف سيواصل دعم القوات العراقية في محافظة الأنبار.",
    "وكان العميد وليام إتش. سيلي الثالث قد وقع الرسالة التي أرسلت إلى قيادة العمليات المشتركة في بغداد.",
    "ونقلت وكالة رويترز عن وليام سيلي الثالث قوله إن طائرات CH-47 ستنقل الجنود، فيما قال الجنرال سيلي "
    "إن الرسالة مسودة.",
    "والتقى الرئيس الفرنسي إيمانويل ماكرون رئيس الوزراء العراقي محمد شياع السوداني في باريس يوم الأحد.",
]


@pytest.fixture(scope="module")
def entities():
    return find_entities(ARTICLE)


def _find(entities, text, paragraph=None):
    found = [e for e in entities if e.text == text and (paragraph is None or e.paragraph == paragraph)]
    assert found, f"{text!r} not found in {[(e.text, e.type) for e in entities]}"
    return found[0]


def test_shipped_model_loads_from_the_package():
    model = load_model()
    assert model is load_model()  # cached
    assert len(model.weights) > 10_000
    assert model.meta.get("train_sentences", 0) > 3000


def test_tag_tokens_finds_person_organisation_and_place():
    tokens = "وصل الأمين العام للأمم المتحدة أنطونيو غوتيريش إلى القاهرة أمس".split()
    tags = tag_tokens(tokens)
    assert len(tags) == len(tokens)
    assert bio_spans(tags) == [(3, 5, "ORG"), (5, 7, "PER"), (8, 9, "LOC")]


def test_entities_have_types_and_offsets_into_their_paragraph(entities):
    for entity in entities:
        assert ARTICLE[entity.paragraph][entity.start:entity.end] == entity.text
        assert entity.type in ("PER", "LOC", "ORG", "MISC")
    assert _find(entities, "مارك إسبر", 0).type == "PER"
    washington = _find(entities, "واشنطن", 0)
    assert (washington.type, washington.start, washington.end) == ("LOC", 52, 58)
    assert _find(entities, "العراق", 0).type == "LOC"
    assert _find(entities, "بغداد", 2).type == "LOC"
    assert _find(entities, "رويترز", 3).type == "ORG"
    assert _find(entities, "باريس", 4).type == "LOC"
    assert _find(entities, "محمد شياع السوداني", 4).type == "PER"
    assert all(e.source == "model" for e in entities if e.type != "MISC")


def test_surname_links_to_the_full_name_and_keeps_the_role(entities):
    full = _find(entities, "مارك إسبر", 0)
    bare = _find(entities, "إسبر", 1)
    assert full.canonical == bare.canonical == "مارك إسبر"
    assert full.role == "وزير الدفاع الأمريكي"
    assert bare.role == "وزير الدفاع الأمريكي"  # propagated from the full mention


def test_three_forms_of_one_name_share_a_canonical(entities):
    with_initial = _find(entities, "وليام إتش. سيلي الثالث", 2)
    plain = _find(entities, "وليام سيلي الثالث", 3)
    bare = _find(entities, "سيلي", 3)
    assert with_initial.canonical == plain.canonical == bare.canonical == "وليام سيلي الثالث"
    assert with_initial.role == "العميد"
    assert bare.role == "الجنرال"
    assert _find(entities, "إيمانويل ماكرون", 4).role == "الرئيس الفرنسي"
    assert _find(entities, "محمد شياع السوداني", 4).role == "رئيس الوزراء العراقي"


def test_equipment_and_operations_come_from_the_gazetteer(entities):
    helicopter = _find(entities, "CH-47", 3)
    assert (helicopter.type, helicopter.source) == ("MISC", "gazetteer")
    operation = find_entities(["وتواصل عملية العزم الصلب مهامها في سوريا والعراق."])
    found = [e for e in operation if e.text == "عملية العزم الصلب"]
    assert found and found[0].type == "MISC" and found[0].source == "gazetteer"


def test_clitics_leave_the_canonical_but_not_the_span():
    found = find_entities(["وصل الوفد إلى بغداد ثم توجه الوزير وفريقه لبغداد مرة أخرى وإلى واشنطن ثم للولايات المتحدة."])
    places = {e.text: e.canonical for e in found if e.type == "LOC"}
    assert places.get("بغداد") == "بغداد"
    assert places.get("لبغداد") == "بغداد"
    assert places.get("للولايات المتحدة") == "الولايات المتحده"


def test_what_was_tagged_before_does_not_change_a_name():
    """The tagger caches each word's summed weights: by the word as written, since على ("on") and
    علي (the name Ali) share a normalized form but not their features. Keyed by that form, the name
    was read as the preposition in any process that had tagged the preposition first."""
    model = load_model()
    text = ["وقال علي الأمين إن الاجتماع كان مثمرا.", "التقى الرئيس علي بونغو بنظيره الفرنسي."]

    def people() -> list[str]:
        return [e.text for e in find_entities(text, model) if e.type == "PER"]

    model.clear_caches()
    fresh = people()
    model.clear_caches()
    find_entities(["جلس الرجل على الكرسي وتحدث على الهاتف على مدى ساعة."], model)
    assert people() == fresh == ["علي الأمين", "علي بونغو"]


def test_bio_spans_follow_conlleval():
    tags = ["B-PER", "I-PER", "O", "I-LOC", "I-LOC", "B-ORG", "B-ORG", "I-MISC", "B-PERS", "I-PERS"]
    assert bio_spans(tags) == [(0, 2, "PER"), (3, 5, "LOC"), (5, 6, "ORG"), (6, 7, "ORG"), (7, 8, "MISC"),
                               (8, 10, "PER")]
    assert bio_spans([]) == []
    assert bio_spans(["O", "O"]) == []


def test_read_conll_accepts_pers_and_any_whitespace(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text("زار B-PERS\nأحمد\tI-PERS\nعمان  B-LOC\n\n\nقال O\nالبنك   B-ORG\nالدولي I-ORG\n",
                    encoding="utf-8")
    assert read_conll(path) == [
        [("زار", "B-PER"), ("أحمد", "I-PER"), ("عمان", "B-LOC")],
        [("قال", "O"), ("البنك", "B-ORG"), ("الدولي", "I-ORG")],
    ]


def test_split_holdout_keeps_the_last_tenth():
    sentences = list(range(20))
    train, held = split_holdout(sentences)
    assert train == list(range(18)) and held == [18, 19]


class _FixedModel:
    """A stand-in tagger that returns given tags, to check the scorer by hand."""

    def __init__(self, tags):
        self.tags = tags

    def clear_caches(self):
        pass

    def tag_document(self, sentences, window=None):
        return self.tags


def test_evaluate_ner_scores_exact_spans(tmp_path):
    path = tmp_path / "gold.txt"
    path.write_text("\n".join([
        "قال O", "الرئيس O", "جورج B-PERS", "بوش I-PERS", "في O", "واشنطن B-LOC", "",
        "أعلنت O", "الأمم B-ORG", "المتحدة I-ORG", "أن O", "عمان B-LOC", "",
    ]) + "\n", encoding="utf-8")
    predicted = [
        ["O", "O", "B-PER", "I-PER", "O", "B-LOC"],  # both right
        ["O", "B-ORG", "O", "O", "B-PER"],  # ORG cut short (wrong), عمان as PER (wrong type)
    ]
    result = evaluate_ner(path, model=_FixedModel(predicted))
    # gold spans: 4; predicted: 4; right: 2 (جورج بوش, واشنطن)
    assert result["overall"]["precision"] == pytest.approx(0.5)
    assert result["overall"]["recall"] == pytest.approx(0.5)
    assert result["overall"]["f1"] == pytest.approx(0.5)
    assert result["per_type"]["PER"]["precision"] == pytest.approx(0.5)
    assert result["per_type"]["PER"]["recall"] == pytest.approx(1.0)
    assert result["per_type"]["LOC"]["recall"] == pytest.approx(0.5)
    assert result["per_type"]["ORG"]["f1"] == 0.0
    assert (result["sentences"], result["tokens"]) == (2, 11)
    assert result["tokens_per_s"] > 0


# The held-out score of the shipped model (see models/ner/MODEL_CARD.md) must not fall below this.
HELD_OUT_FLOOR = 0.70
# The goal set for the tagger, not reached yet by the feature-based model.
HELD_OUT_GOAL = 0.80


@pytest.fixture(scope="module")
def held_out():
    if not ANERCORP.exists():
        pytest.skip(f"ANERcorp not present at {ANERCORP} (../shared is only on development machines)")
    return evaluate_ner(ANERCORP, holdout_only=True)


def test_held_out_anercorp_score(held_out, record_property):
    overall = held_out["overall"]
    record_property("ner_tokens_per_s", held_out["tokens_per_s"])
    print(f"\nANERcorp held-out: P={overall['precision']:.3f} R={overall['recall']:.3f} F1={overall['f1']:.3f}, "
          f"{held_out['tokens_per_s']:,.0f} tokens/s over {held_out['tokens']:,} tokens")
    assert held_out["sentences"] > 300
    assert held_out["tokens_per_s"] > 0  # reported, not asserted: machines differ
    assert overall["f1"] >= HELD_OUT_FLOOR


@pytest.mark.xfail(reason="goal not reached: the shipped CRF scores 0.741 exact-span F1 (0.767 with the optional network layer over the former perceptron)", strict=False)
def test_held_out_anercorp_goal(held_out):
    assert held_out["overall"]["f1"] >= HELD_OUT_GOAL


@pytest.fixture(scope="module")
def seed_entities():
    if not SEEDS.is_dir():
        pytest.skip(f"seed pages not present at {SEEDS} (../shared is only on development machines)")
    import tabayyun

    out = {}
    for path in sorted(SEEDS.glob("*.txt")):
        paragraphs = tabayyun.analyze(path.read_text(encoding="utf-8")).paragraphs
        out[path.name] = find_entities(paragraphs)
    return out


def test_seed_people_have_canonical_names(seed_entities):
    people = {e.canonical for ents in seed_entities.values() for e in ents if e.type == "PER"}
    for name in ("مارك إسبر", "مارك ميلي", "وليام سيلي الثالث", "مايلز كاجينز", "محمد شياع السوداني"):
        assert name in people, f"{name} not among {sorted(people)}"
    esper = [e for ents in seed_entities.values() for e in ents if e.canonical == "مارك إسبر"]
    assert any(e.text == "إسبر" for e in esper)  # the bare surname is linked
    assert all(e.role == "وزير الدفاع الأمريكي" for e in esper)


def test_seed_masthead_names_are_not_entities(seed_entities):
    fourth = sorted(seed_entities)[3]
    texts = " ".join(e.text + " " + e.canonical for e in seed_entities[fourth])
    for name in ("أشرف الحادي", "فاطمة مهران"):
        assert name not in texts
    assert any(e.type == "LOC" and e.canonical == "بغداد" for e in seed_entities[fourth])


# --- word clusters ----------------------------------------------------------------------------------

# Two kinds of word in two kinds of context, written for this test: places after "سافر الوفد إلى",
# people before "إن" after "قال".
_PLACES = ["بغداد", "عمان", "بيروت", "القاهرة", "دمشق", "الرياض"]
_PEOPLE = ["سالم", "كريم", "ناصر", "فهد", "عادل", "منصور"]


def _cluster_corpus(folder: Path) -> Path:
    lines = []
    for round_ in range(6):
        for k, place in enumerate(_PLACES):
            person = _PEOPLE[(k + round_) % len(_PEOPLE)]
            lines.append(f"سافر الوفد إلى {place} صباح اليوم .")
            lines.append(f"قال {person} إن المحادثات مستمرة .")
            lines.append(f"وصل الوزير إلى {place} مساء أمس .")
            lines.append(f"وأكد {person} أن الاتفاق قريب .")
    folder.mkdir()
    (folder / "a.txt").write_text("\n".join(lines[: len(lines) // 2]), encoding="utf-8")
    records = [{"title": "", "content": line} for line in lines[len(lines) // 2:]]
    (folder / "b.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    return folder


def test_word_clusters_group_words_by_their_contexts(tmp_path):
    from tabayyun.train.clusters import train_clusters
    from tabayyun.understand.ner_features import word_base
    from tabayyun.understand.wordclusters import read_clusters

    problems = []
    out = tmp_path / "clusters.npz"
    summary = train_clusters([_cluster_corpus(tmp_path / "corpus")], out, vocab=200, contexts=50, min_count=2,
                             dims=8, granularities=(2, 4), log=problems.append)
    assert len(problems) == 1 and "broken.json" in problems[0]
    assert summary["words"] >= len(_PLACES) + len(_PEOPLE)
    table = read_clusters(out.read_bytes())
    places = {table.lookup(word_base(w))[0] for w in _PLACES}
    people = {table.lookup(word_base(w))[0] for w in _PEOPLE}
    assert len(places) == 1 and len(people) == 1 and places != people
    assert table.lookup("كلمةغائبة") == ()
    # keys are stored hashed: no word of the corpus is in the file
    import zipfile
    with zipfile.ZipFile(out) as archive:
        stored = b"".join(archive.read(name) for name in archive.namelist())
    assert not any(w.encode("utf-8") in stored for w in _PLACES + _PEOPLE)


def test_a_model_trained_with_other_clusters_is_refused(tmp_path):
    from tabayyun.understand.ner import save_model

    path = tmp_path / "model.json.gz"
    save_model({"bias": {0: 1.0}}, path, {"clusters": "0123456789abcdef"})
    with pytest.raises(ValueError, match="word clusters"):
        load_model(path)


def test_the_shipped_model_reads_the_shipped_clusters():
    from tabayyun.understand.ner_features import lex
    from tabayyun.understand.wordclusters import shipped_clusters

    assert load_model().meta["clusters"] == shipped_clusters().digest
    # a frequent name has clusters, and the model has weights for them
    features = [f for f in lex("واشنطن").f0 if f[:1] == "c" and f[1:2].isdigit()]
    assert len(features) == 3 and all(f in load_model().weights for f in features)


def test_train_ner_learns_a_crf_that_tags_without_crfsuite(tmp_path, monkeypatch):
    """The CRF trainer on a corpus written for this test: the model file holds state weights and the
    transition table, and tagging (pure Python) finds names in a sentence it never saw."""
    pytest.importorskip("pycrfsuite", reason="python-crfsuite is the training extra: pip install 'tabayyun[train]'")
    import sys

    from tabayyun.train.ner import train_ner
    from tabayyun.understand.ner_features import TAGS

    data, _ = _template_corpus(tmp_path / "data")
    out = tmp_path / "model.json.gz"
    summary = train_ner(data, out, iterations=50, holdout=False)
    assert summary["features"] > 50 and summary["bytes"] == out.stat().st_size
    monkeypatch.setitem(sys.modules, "pycrfsuite", None)     # tagging must not need the trainer
    model = load_model.__wrapped__(out)
    assert model.meta["trainer"] == "crfsuite l-bfgs" and model.meta["o_penalty"] == 0.5
    trans = {tag: model.weights[f"t1={tag}"] for tag in ("O", "B-ORG")}
    inside = TAGS.index("I-ORG")
    assert trans["B-ORG"][inside] > trans["O"][inside]       # I-ORG follows B-ORG, learnt as a transition
    tokens = ["قال", _PEOPLE[2], "إن", "الوفد", "وصل", "إلى", _PLACES[4]]
    assert bio_spans(model.tag(tokens)) == [(1, 2, "PER"), (6, 7, "LOC")]
    assert bio_spans(model.tag(["أعلنت", "الأمم", "المتحدة", "في", _PLACES[0]]))[0] == (1, 3, "ORG")


# --- the network layer ------------------------------------------------------------------------------
# Optional (not shipped: see the model card); trained here on a small corpus written for these tests.

def _template_corpus(folder: Path) -> tuple[Path, Path]:
    import numpy as np

    from tabayyun.train.clusters import save_vectors
    from tabayyun.understand.ner_features import word_base

    lines = []
    for round_ in range(12):   # people, places and organisations in templates
        person, place = _PEOPLE[round_ % 6], _PLACES[(round_ + 1) % 6]
        lines += ["قال O", f"{person} B-PERS", "إن O", "الوفد O", "وصل O", "إلى O", f"{place} B-LOC", ""]
        lines += ["أعلنت O", "الأمم B-ORG", "المتحدة I-ORG", "في O", f"{place} B-LOC", "أن O", f"{person} B-PERS",
                  "سيزور O", "المدينة O", ""]
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "train.txt"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    keys = sorted({word_base(w) for w in _PLACES + _PEOPLE + ["قال", "الوفد"]})
    save_vectors(keys, np.random.default_rng(1).normal(size=(len(keys), 8)), folder / "vectors.npz")
    return data, folder / "vectors.npz"


@pytest.fixture(scope="module")
def trained_network(tmp_path_factory):
    """(data, vectors, model path) of a tagger and its network layer trained on the template corpus."""
    pytest.importorskip("torch", reason="torch is the training extra: pip install 'tabayyun[train]'")
    from tabayyun.train.ner import train_ner

    folder = tmp_path_factory.mktemp("ner")
    data, vectors = _template_corpus(folder)
    out = folder / "model" / "model.json.gz"
    summary = train_ner(data, out, iterations=30, vectors=vectors)
    assert summary["network"]["bytes"] > 0 and (folder / "model" / "network.npz").exists()
    return data, vectors, out


def test_a_trained_network_tags_with_the_tagger_under_it(trained_network):
    from tabayyun.understand.ner import model_digest
    from tabayyun.understand.ner_features import sentence_context

    _, _, out = trained_network
    model = load_model.__wrapped__(out)
    assert model.network is not None
    assert model.network.meta["tagger"] == model_digest(out.read_bytes())
    tokens = ["قال", "سالم", "إن", "الوفد", "وصل", "إلى", "بغداد"]
    assert bio_spans(model.tag(tokens)) == [(1, 2, "PER"), (6, 7, "LOC")]
    ctx = sentence_context(tokens)
    assert len(model.tag_contexts([ctx])[0]) == len(model.tag_indices(ctx.lexes, ctx.pos)) == len(tokens)
    assert load_model().network is None   # the package ships the tagger alone


def test_the_network_decodes_only_valid_bio_sequences(trained_network):
    import numpy as np

    from tabayyun.understand.ner_features import TAGS

    network = load_model.__wrapped__(trained_network[2]).network
    rng = np.random.default_rng(3)
    for _ in range(50):
        tags = [TAGS[k] for k in network.decode(rng.normal(0, 5, size=(12, len(TAGS))).astype(np.float32))]
        for prev, tag in zip(["O", *tags], tags):
            assert not tag.startswith("I-") or prev[2:] == tag[2:], tags
    assert network.decode(np.zeros((0, len(TAGS)), np.float32)) == []


def test_a_network_trained_over_another_tagger_is_refused(trained_network, tmp_path):
    from tabayyun.understand.ner import save_model

    path = tmp_path / "model.json.gz"
    save_model({"bias": {0: 1.0}}, path, {})
    (tmp_path / "network.npz").write_bytes((trained_network[2].parent / "network.npz").read_bytes())
    with pytest.raises(ValueError, match="another tagger"):
        load_model(path)
    (tmp_path / "network.npz").unlink()
    assert load_model.__wrapped__(path).network is None


def test_training_the_tagger_alone_removes_the_network_beside_it(trained_network, tmp_path):
    from tabayyun.train.ner import train_ner

    data, _, out = trained_network
    model = tmp_path / "model.json.gz"
    (tmp_path / "network.npz").write_bytes((out.parent / "network.npz").read_bytes())
    train_ner(data, model, iterations=30)     # the network beside it was trained over another tagger
    assert not (tmp_path / "network.npz").exists()
    assert load_model.__wrapped__(model).network is None


def test_the_numpy_network_computes_what_its_torch_module_does(tmp_path):
    """The exported layer (numpy) against the module it came from (torch, eval mode), on sentences
    written for this test and a small made-up vector table."""
    torch = pytest.importorskip("torch", reason="torch is the training extra: pip install 'tabayyun[train]'")
    import numpy as np

    from tabayyun.train.clusters import read_vectors, save_vectors
    from tabayyun.train.ner_network import _encode, _tagger_class, _Vocabularies
    from tabayyun.understand.ner_features import TAGS, add_document_features, sentence_context, word_base
    from tabayyun.understand.ner_network import NerNetwork, token_inputs

    sentences = [s.rstrip(".").split() for s in ARTICLE]
    keys = sorted({word_base(t) for s in sentences for t in s})[:25]   # some words have vectors, some not
    rng = np.random.default_rng(5)
    save_vectors(keys, rng.normal(size=(len(keys), 12)), tmp_path / "vectors.npz")
    hashes, table = read_vectors(tmp_path / "vectors.npz")
    contexts = [sentence_context(s) for s in sentences]
    add_document_features(contexts, 10)
    inputs = [token_inputs(c) for c in contexts]
    vocab = _Vocabularies(inputs[:3])        # the last sentences hold characters and features unseen
    torch.manual_seed(0)
    module = _tagger_class()(torch.tensor(np.vstack([np.zeros((1, 12), np.float32), table])), vocab)
    with torch.no_grad():
        for parameter in (module.oov, module.transitions, module.start):
            parameter.normal_()
    module.eval()
    scores = [rng.normal(0, 30, size=(len(s), len(TAGS))).astype(np.float32) for s in sentences]
    rows = {h: i + 1 for i, h in enumerate(hashes.tolist())}
    examples = [_encode(t, (s - 1.0) / 30.0, [0] * len(s), vocab, rows) for t, s in zip(inputs, scores)]
    with torch.no_grad():
        expected, _ = module.emissions(examples)
    params = module.export()
    params["word_hashes"] = hashes
    network = NerNetwork(params, {**vocab.meta(), "emission_mean": 1.0, "emission_sd": 30.0, "tags": list(TAGS)})
    got = network.emissions([network.sentence_inputs(c, s) for c, s in zip(contexts, scores)])
    for row, emission in enumerate(got):
        # the word table is stored as int8: differences of a few thousandths
        assert np.abs(expected[row, :len(emission)].numpy() - emission).max() < 0.02
    assert [len(e) for e in got] == [len(s) for s in sentences]


def test_train_ner_without_the_train_extra_says_what_to_install(cli, tmp_path):
    data = tmp_path / "train.txt"
    data.write_text("قال O\nسالم B-PERS\n\n", encoding="utf-8")
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "pycrfsuite.py").write_text("raise ImportError('not installed here')\n", encoding="utf-8")
    found = cli("train", "ner", "--data", str(data), "--out", str(tmp_path / "m.json.gz"), "--no-holdout",
                env={"PYTHONPATH": str(blocker)})
    assert found.returncode == 1
    assert "fatal: training the NER tagger needs python-crfsuite: pip install 'tabayyun[train]'" in found.stderr
    assert "Traceback" not in found.stderr and not (tmp_path / "m.json.gz").exists()
