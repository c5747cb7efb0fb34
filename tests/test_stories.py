"""Stories: online clustering of the sample into its three events, the time gate, incremental
ingest, lazy clustering of old documents, and the `stories` / `story` commands."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

import tabayyun
from tabayyun.arabic import normalize_for_match, words

FOLLOW_UP = ("وزارة الصحة: ارتفاع حالات الكوليرا في مرفأ الريحان وفرق طبية إضافية إلى الميناء\n\n"
             "أعلنت وزارة الصحة ارتفاع عدد حالات الكوليرا المؤكدة في مرفأ الريحان، وقال الوزير منير الخطابي إن "
             "فرقاً طبية إضافية وصلت إلى المدينة لاحتواء تفشي المرض بين الصيادين وسكان الحي القديم.\n\n"
             "وأضاف الخطابي أن المستشفيات استقبلت حالات جديدة خلال الساعات الماضية، وأن فحوص المياه مستمرة "
             "في محطات الضخ القريبة من الميناء، داعياً السكان إلى غلي مياه الشرب.\n")


def _record(folder: Path, name: str, text: str, published: str) -> Path:
    path = folder / f"{name}.jsonl"
    path.write_text(json.dumps({"text": text, "published": published, "outlet": "الموجة نيوز"},
                               ensure_ascii=False) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory, sample_dir, workspaces) -> str:
    path = workspaces.new(tmp_path_factory.mktemp("stories"), "sample")
    with tabayyun.Workspace(path) as ws:
        report = ws.ingest(sample_dir, workers=1)
        assert report.clustered == report.stored == 15
    return path


@pytest.fixture
def workspace(sample_db, tmp_path, workspaces):
    copy = workspaces.copy(sample_db, tmp_path)
    with tabayyun.Workspace(copy) as ws:
        yield ws


def _partition(ws) -> dict[str, int]:
    """Sample file name -> story id."""
    names = {}
    for story in ws.stories():
        for doc in ws.story(story["id"])["documents"]:
            source = ws.storage.conn.execute("SELECT source FROM documents WHERE id = ?", (doc["id"],)).fetchone()[0]
            names[Path(source).name] = story["id"]
    return names


def pairwise(truth: dict[str, int], found: dict[str, int]) -> tuple[float, float]:
    tp = fp = fn = 0
    for a, b in itertools.combinations(sorted(truth), 2):
        same_truth, same_found = truth[a] == truth[b], found.get(a) == found.get(b)
        tp += same_truth and same_found
        fp += same_found and not same_truth
        fn += same_truth and not same_found
    return tp / max(1, tp + fp), tp / max(1, tp + fn)


def test_sample_stories_match_the_manifest(workspace, manifest):
    found = _partition(workspace)
    precision, recall = pairwise({entry["file"]: entry["story"] for entry in manifest}, found)
    # Measured: 1.0 and 1.0 (embeddings off, lexical and entity similarity within a 14-day window).
    assert precision >= 0.9 and recall >= 0.9, (precision, recall, found)
    stories = workspace.stories()
    assert len(stories) == 3
    cholera = next(s for s in stories if "الكوليرا" in (s["label"] or ""))
    assert (cholera["first"], cholera["last"], cholera["size"]) == ("2024-03-04", "2024-03-22", 6)
    assert set(cholera) == {"id", "label", "first", "last", "size", "entities", "outlets"}
    assert len(cholera["entities"]) == 5 and "المرصد الأخضر" in cholera["outlets"]


def test_copies_join_their_original_and_reasons_are_given(workspace):
    desal = next(s for s in workspace.stories() if "تحلية" in (s["label"] or ""))
    docs = workspace.story(desal["id"])["documents"]
    assert sum(1 for d in docs if d["reason"].get("started")) == 1
    assert sum(1 for d in docs if d["reason"].get("duplicate_of")) >= 3
    cholera = next(s for s in workspace.stories() if "الكوليرا" in (s["label"] or ""))
    joined = [d for d in workspace.story(cholera["id"])["documents"] if "score" in d["reason"]]
    assert joined and all({"terms", "entities", "days"} <= set(d["reason"]) for d in joined)


def test_incremental_ingest_joins_and_years_apart_starts_new_story(workspace, tmp_path):
    cholera = next(s for s in workspace.stories() if "الكوليرا" in (s["label"] or ""))
    report = workspace.ingest(_record(tmp_path, "later", FOLLOW_UP, "2024-03-08"), workers=1)
    assert report.stored == report.clustered == 1
    assert workspace.story(cholera["id"])["size"] == 7
    years_later = ("حالات كوليرا في مرفأ الريحان والوزارة تطمئن السكان\n\n"
                   "سجلت السلطات الصحية في مرفأ الريحان حالات كوليرا جديدة بين الصيادين، وقال الوزير منير "
                   "الخطابي إن الوضع تحت السيطرة وإن فرق الرصد تعمل في الأحياء القريبة من الميناء.\n")
    # Three years apart (before, as a date after today would be refused as a publication date).
    late = workspace.ingest(_record(tmp_path, "2021", years_later, "2021-03-08"), workers=1)
    assert late.stored == late.clustered == 1, late
    stories = workspace.stories()
    assert len(stories) == 4 and workspace.story(cholera["id"])["size"] == 7
    new = stories[-1]
    assert new["first"] == "2021-03-08" and new["size"] == 1
    reason = workspace.story(new["id"])["documents"][0]["reason"]
    assert reason["started"] and any(far["story"] == cholera["id"] for far in reason["too_far"])
    from tabayyun.cli_stories import _why

    far = reason["too_far"][0]
    assert f"story {far['story']}: {far['days']} days outside its span" in _why(reason)   # as the web page says
    assert [s["id"] for s in workspace.stories(since="2024-09-01")] == [s["id"] for s in stories[:2]]


def test_old_documents_are_clustered_lazily(workspace, manifest):
    workspace.storage.clear_stories()
    precision, recall = pairwise({entry["file"]: entry["story"] for entry in manifest}, _partition(workspace))
    assert precision >= 0.9 and recall >= 0.9


def test_cli_stories_and_story_json(workspace, cli):
    path = workspace.path
    workspace.close()
    listed = cli("stories", "--db", path, "--format", "json", "--entity", "خطوط النورس")
    assert listed.returncode == 0, listed.stderr
    stories = json.loads(listed.stdout)
    assert len(stories) == 1 and stories[0]["size"] == 4
    shown = cli("story", str(stories[0]["id"]), "--db", path, "--format", "json")
    assert shown.returncode == 0, shown.stderr
    story = json.loads(shown.stdout)
    dates = [d["published"] for d in story["documents"] if d["published"]]
    assert story["id"] == stories[0]["id"] and len(story["documents"]) == 4 and dates == sorted(dates)
    assert all("reason" in d and "score" in d for d in story["documents"])
    text = cli("story", str(stories[0]["id"]), "--db", path)
    assert text.returncode == 0 and "started the story" in text.stdout
    assert cli("story", "999", "--db", path).returncode == 1

    # --recluster places every document again: a membership moved by hand is undone.
    from tabayyun.store import open_storage

    def members() -> list[set[str]]:
        storage = open_storage(path)
        by_story: dict[int, set[str]] = {}
        for story_id, doc_id in storage.story_members():
            by_story.setdefault(story_id, set()).add(doc_id)
        storage.close()
        return sorted(by_story.values(), key=sorted)

    before = members()
    storage = open_storage(path)
    elsewhere = next(row["id"] for row in storage.story_rows() if row["id"] != story["id"])
    with storage.conn:
        storage.conn.execute("UPDATE story_members SET story_id = ? WHERE doc_id = ?",
                             (elsewhere, story["documents"][-1]["id"]))
    storage.close()
    assert members() != before and cli("stories", "--db", path).returncode == 0 and members() != before
    again = cli("stories", "--db", path, "--recluster", "--format", "json")
    assert again.returncode == 0, again.stderr
    assert members() == before and len(json.loads(again.stdout)) == len(before)


def test_content_alone_separates_the_sample(workspace, manifest):
    """Without the time gate the lead stems and entities still keep the three events apart."""
    from tabayyun.connect.stories import StoryClusterer

    workspace.storage.clear_stories()
    assert StoryClusterer(workspace.storage, window_days=10**6).cluster_missing() == 15
    precision, recall = pairwise({entry["file"]: entry["story"] for entry in manifest}, _partition(workspace))
    assert precision >= 0.9 and recall >= 0.9


# Topics ------------------------------------------------------------------------------------------

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
# The seed pages carry no publication date of their own (only a crawl-date bar); a user's scraper would
# have them. These are the days each page reports about (the Monday-evening denial was published Tuesday).
SEED_DATES = {"000": "2020-01-07", "001": "2020-01-08", "002": "2020-01-07", "003": "2025-09-27", "004": "2024-01-25"}


def test_sample_stories_are_separate_topics(workspace):
    topics = workspace.topics()
    assert sorted(len(t["stories"]) for t in topics) == [1, 1, 1]
    assert all(t["links"] == [] for t in topics)
    assert {t["id"] for t in topics} == {s["id"] for s in workspace.stories()}


def test_follow_up_years_apart_is_a_new_story_under_the_same_topic(workspace, tmp_path):
    cholera = next(s["id"] for s in workspace.stories() if "الكوليرا" in (s["label"] or ""))
    workspace.ingest(_record(tmp_path, "earlier", FOLLOW_UP, "2021-03-08"), workers=1)
    later = next(s for s in workspace.stories() if s["first"] == "2021-03-08")
    assert later["id"] != cholera
    topic = next(t for t in workspace.topics() if later["id"] in {s["id"] for s in t["stories"]})
    assert cholera in {s["id"] for s in topic["stories"]}
    link = next(l for l in topic["links"] if set(l["stories"]) == {cholera, later["id"]})
    assert link["score"] >= 0.12 and "منير الخطابي" in link["shared_entities"]
    events = workspace.timeline(topic=topic["id"])
    dated = [e["date"] for e in events if e["date"]]
    assert dated == sorted(dated) and dated[0] == "2021-03-08"


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not beside this checkout (the user's five pages)")
def test_seeds_three_stories_one_topic(tmp_path, cli, monkeypatch, workspace_address):
    monkeypatch.delenv("TABAYYUN_EMBEDDINGS", raising=False)   # five leads: the 2020 trio needs their meaning
    records = tmp_path / "seeds.jsonl"
    with records.open("w", encoding="utf-8") as out:
        for path in sorted(SEEDS.glob("*.txt")):
            out.write(json.dumps({"text": path.read_text(encoding="utf-8"), "published": SEED_DATES[path.name[:3]],
                                  "url": f"https://seeds.example/{path.name[:3]}"}, ensure_ascii=False) + "\n")
    seeds = workspace_address("seeds")
    with tabayyun.Workspace(seeds) as ws:
        ws.ingest(records, workers=1)
        stories = {s["first"][:4]: s for s in ws.stories()}
        assert sorted(stories) == ["2020", "2024", "2025"] and stories["2020"]["size"] == 3
        topics = ws.topics()
        assert len(topics) == 1 and len(topics[0]["stories"]) == 3
        members = ws.story(stories["2020"]["id"])["documents"]
        trio = {doc.url[-3:]: doc for doc in (ws.storage.get(d["id"]) for d in members)}
        assert sorted(trio) == ["000", "001", "002"]
        # The letter's passage, quoted by the second and third seeds; the chairman's words, by the first and third.
        shared = {frozenset((pair["a"], pair["b"])): pair["passages"]
                  for pair in ws.story(stories["2020"]["id"], passages=True)["passages"]}
        letter = shared[frozenset((trio["001"].id, trio["002"].id))]
        letter_words = normalize_for_match("احتراما لسيادة جمهورية العراق")
        assert any(letter_words in normalize_for_match(p["text"]) and p["words"] >= 15 for p in letter)
        milley = shared[frozenset((trio["000"].id, trio["002"].id))]
        assert any(normalize_for_match("الرسالة سيئة الصياغة") in normalize_for_match(p["text"]) for p in milley)
        by_id = {doc.id: doc for doc in trio.values()}
        for pair in ws.story(stories["2020"]["id"], passages=True)["passages"]:
            for p in pair["passages"]:     # offsets slice back on both sides
                a = by_id[pair["a"]].paragraphs[p["a"]["paragraph"]][p["a"]["start"]:p["a"]["end"]]
                b = by_id[pair["b"]].paragraphs[p["b"]["paragraph"]][p["b"]["start"]:p["b"]["end"]]
                assert a == p["text"] and words(normalize_for_match(b)) == words(normalize_for_match(a))
        assert "passages" not in ws.story(stories["2020"]["id"])
        # The killing of the Quds Force commander (Friday dawn), Esper's Monday-evening denial, the reports
        # of the letter and the Pentagon's denial (Tuesday), the coalition's position (Wednesday).
        events = ws.timeline(story=stories["2020"]["id"])
        days = [(e["date"], e["kind"], e["doc_id"]) for e in events]
        assert days == sorted(days, key=lambda d: d[0]) and events[0]["date"] == "2020-01-03"
        assert "مقتل قائد فيلق القدس" in events[0]["gist"] and events[0]["evidence"]["text"] == "فجر الجمعة"
        denial = next(e for e in events if "نفى وزير الدفاع الأمريكي" in e["gist"])
        assert denial["date"] == "2020-01-06" and denial["evidence"]["text"] == "مساء أمس الاثنين"
        published = [(e["date"], e["doc_id"]) for e in events if e["kind"] == "published"]
        assert published == sorted([("2020-01-07", trio["000"].id), ("2020-01-07", trio["002"].id),
                                    ("2020-01-08", trio["001"].id)])
    proc = cli("topics", "--db", seeds, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)[0]["stories"]) == 3
    proc = cli("story", stories["2020"]["id"], "--passages", "--db", seeds)
    pairs = {frozenset(line.removeprefix("shared by ").rstrip(":").split(" and "))
             for line in proc.stdout.splitlines() if line.startswith("shared by ")}
    assert proc.returncode == 0 and frozenset((trio["001"].id[:12], trio["002"].id[:12])) in pairs
    assert letter_words in normalize_for_match(proc.stdout)
    proc = cli("timeline", "--topic", 999, "--db", seeds)
    assert proc.returncode == 1 and "no topic 999" in proc.stderr


def gap_of(story, day) -> int:
    """Days between `day` and the story's span (0 inside it or when either is undated)."""
    if day is None or story.last is None:
        return 0
    return max((story.first - day).days, (day - story.last).days, 0)


def window_of(clusterer, doc, story) -> int:
    from tabayyun.connect.stories import WINDOW_DAYS, WINDOW_DAYS_EMBEDDING

    if clusterer.window_days is not None:
        return clusterer.window_days
    return WINDOW_DAYS_EMBEDDING if doc.vector is not None and story.centroid is not None else WINDOW_DAYS


def test_placing_shortcuts_match_the_plain_computation(workspace, monkeypatch):
    """The vote by array, the time gate by array and the story norms kept up to date as members join
    give what the plain loops over every story and every key give."""
    from collections import Counter

    from tabayyun.connect import stories
    from tabayyun.connect.stories import StoryClusterer

    monkeypatch.setattr(stories, "MAX_CANDIDATES", 1)      # the sample has few stories: keep one of each kind
    monkeypatch.setattr(stories, "TOO_FAR_SHOWN", 1)

    clusterer = StoryClusterer(workspace.storage)
    clusterer._load()
    docs = clusterer._docs(list(clusterer.doc_story))
    assert len(docs) == 15 and len(clusterer.stories) >= 3
    gated = 0
    for doc, clusterer.window_days in itertools.product(docs, (None, 0)):   # 0: most stories are too far
        keys = sorted((k for k in doc.terms | {"@" + e for e in doc.entities} if k in clusterer.index),
                      key=lambda k: (-clusterer._idf(k), k))[:24]
        votes = Counter()
        for key in keys:
            for story_id in clusterer.index[key]:
                votes[story_id] += clusterer._idf(key)
        ranked = sorted(votes, key=lambda s: (-votes[s], s))
        gaps = {s: gap_of(clusterer.stories[s], doc.day) for s in ranked}
        far = [s for s in ranked if gaps[s] > window_of(clusterer, doc, clusterer.stories[s])]
        near = [s for s in ranked if s not in far]
        assert clusterer._candidates(doc) == ({s: gaps[s] for s in near[:1]}, {s: gaps[s] for s in far[:1]})
        gated += bool(far)
    assert gated

    clusterer._count = lambda doc: None     # document frequencies frozen: the kept norm is then exact
    story = max(clusterer.stories.values(), key=lambda s: len(s.members))
    clusterer._story_norm(story, "")
    clusterer._story_norm(story, "@")
    for doc in docs:
        if clusterer.doc_story[doc.id] != story.id:
            clusterer._join(story, doc)
    for prefix, counts in (("", story.terms), ("@", story.entities)):
        assert len(story.key_ids[prefix].array()) == len(counts)
        fresh = sum((clusterer._idf(prefix + k) * c) ** 2 for k, c in counts.items())
        assert story.norms[prefix][1] == pytest.approx(fresh, rel=1e-9)


@pytest.mark.parametrize("shared_name", [False, True])
def test_a_lead_vector_alone_does_not_make_a_document_join(workspace, shared_name):
    """Same meaning to e5 but one word in twenty-one shared: it starts a story, and the reason names
    the story it was too far in words from; a shared name lets it join."""
    from datetime import date

    import numpy as np

    from tabayyun.connect.stories import StoryClusterer, _Doc, _Story

    clusterer = StoryClusterer(workspace.storage)
    clusterer.stories = {}
    vector = np.ones(8) / np.sqrt(8)
    names = frozenset({"منير الخطابي"} if shared_name else ())
    first = _Doc("a", "عنوان", date(2024, 3, 1), frozenset({f"k{i}" for i in range(20)} | {"مشترك"}), names, vector)
    clusterer._join(clusterer.stories.setdefault(1, _Story(1)), first)
    second = _Doc("b", "عنوان آخر", date(2024, 3, 1), frozenset({f"m{i}" for i in range(20)} | {"مشترك"}), names,
                  vector)
    story, _, reason = clusterer._place(second)
    if shared_name:
        assert story is clusterer.stories[1] and reason["entities"] == 1.0
    else:
        assert story is None and reason["too_few_shared_words"][0]["story"] == 1
        assert reason["too_few_shared_words"][0]["terms"] < 0.1 < reason["too_few_shared_words"][0]["score"]
        from tabayyun.cli_stories import _why

        assert "story 1 alike in meaning" in _why(reason)    # what `tabayyun story` prints for it


def test_only_whole_copies_take_the_duplicate_shortcut(workspace):
    """A pair kept for containment alone (a short item inside a roundup) does not pull a document into
    its partner's story: the document is placed by similarity. A whole copy (Jaccard >= JACCARD_MIN)
    joins its partner's story."""
    from tabayyun.connect.duplicates import JACCARD_MIN
    from tabayyun.connect.stories import StoryClusterer

    clusterer = StoryClusterer(workspace.storage)
    clusterer._load()
    story_of = clusterer.doc_story
    b = next(d for d in sorted(story_of) if not workspace.storage.duplicates_of(d))
    a = next(d for d in sorted(story_of) if story_of[d] != story_of[b])
    doc = clusterer._docs([b])[0]
    pair = (min(a, b), max(a, b))
    workspace.storage.add_signatures([], [(*pair, JACCARD_MIN - 0.2, 0.95, "test")])
    story, _, reason = clusterer._place(doc)
    assert "duplicate_of" not in reason and (story is None or story.id != story_of[a])
    workspace.storage.add_signatures([], [(*pair, JACCARD_MIN, 0.95, "test")])
    story, score, reason = clusterer._place(doc)
    assert reason == {"duplicate_of": a} and story.id == story_of[a] and score == 1.0


def test_the_copies_of_a_batch_are_those_of_each_document(workspace):
    """Placing a batch looks up the whole copies of all its documents at once: both sides of a pair,
    the Jaccard bar, each list by id, and an empty one for a document without copies."""
    storage = workspace.storage
    ids = sorted(row[0] for row in storage.conn.execute("SELECT id FROM documents"))
    a, b, c = [d for d in ids if not storage.duplicates_of(d)][:3]
    storage.add_signatures([], [(min(a, b), max(a, b), 0.9, 0.9, "test"), (min(a, c), max(a, c), 0.3, 0.9, "test")])
    assert storage.copies_of([c, b, a, "absent"], min_jaccard=0.5) == {a: [b], b: [a], c: [], "absent": []}
    assert storage.copies_of([a, b, c]) == {a: sorted([b, c]), b: [a], c: [a]}
    assert storage.duplicates_of(a) == sorted([b, c]) and storage.duplicates_of(c, min_jaccard=0.5) == []


def test_a_story_stretched_over_a_week_takes_only_close_reports(workspace):
    """A report that would stretch a story over MAX_SPAN_DAYS needs LONG_FACTOR times the threshold,
    a whole copy included (template cables repeat for weeks); the reason says how long the story
    would have been."""
    from datetime import date, timedelta

    from tabayyun.connect import stories
    from tabayyun.connect.stories import StoryClusterer, _Doc, _Story

    clusterer = StoryClusterer(workspace.storage)
    clusterer._load()
    a, b = [d for d in sorted(clusterer.doc_story) if not workspace.storage.duplicates_of(d)][:2]
    clusterer.stories, clusterer.doc_story = {}, {}
    start = date(2024, 3, 1)
    first = _Doc(a, "عنوان", start, frozenset({f"k{i}" for i in range(10)}), frozenset(), None)
    clusterer._join(clusterer.stories.setdefault(1, _Story(1)), first)

    def report(days: int) -> _Doc:
        return _Doc(b, "عنوان آخر", start + timedelta(days=days),
                    frozenset({f"k{i}" for i in range(4)} | {f"m{i}" for i in range(6)}), frozenset(), None)

    story, score, reason = clusterer._place(report(2))
    assert story is clusterer.stories[1] and "span" not in reason
    assert stories.THRESHOLD_NO_EMBEDDING <= score < stories.THRESHOLD_NO_EMBEDDING * stories.LONG_FACTOR
    story, _, reason = clusterer._place(report(stories.MAX_SPAN_DAYS + 1))
    assert story is None and reason["closest"] == {"story": 1, "score": score, "span": stories.MAX_SPAN_DAYS + 1}
    from tabayyun.cli_stories import _why

    stretched = f"closest story 1: {score:.2f}, which it would have stretched over {stories.MAX_SPAN_DAYS + 1} days"
    assert stretched in _why(reason)

    workspace.storage.add_signatures([], [(min(a, b), max(a, b), 1.0, 1.0, "test")])
    assert clusterer._place(report(2))[2] == {"duplicate_of": a}
    assert clusterer._place(report(stories.MAX_SPAN_DAYS + 1))[0] is None


def test_the_meaning_part_is_the_nearest_recent_member(workspace):
    """A story's next report is closest to one earlier report, not to the mean of all of them."""
    from datetime import date

    import numpy as np

    from tabayyun.connect.stories import RECENT_VECTORS, StoryClusterer, _Doc, _Story

    clusterer = StoryClusterer(workspace.storage)
    clusterer.stories = {}
    story = clusterer.stories.setdefault(1, _Story(1))
    for i in range(RECENT_VECTORS + 1):
        vector = np.zeros(RECENT_VECTORS + 1)
        vector[i] = 1.0
        clusterer._join(story, _Doc(f"d{i}", "عنوان", date(2024, 3, 1), frozenset({"مشترك"}), frozenset(), vector))
    assert len(story.recent) == RECENT_VECTORS
    latest = _Doc("x", "عنوان", date(2024, 3, 1), frozenset({"مشترك"}), frozenset(), story.recent[-1].copy())
    oldest = _Doc("y", "عنوان", date(2024, 3, 1), frozenset({"مشترك"}), frozenset(), np.eye(RECENT_VECTORS + 1)[0])
    assert clusterer.similarity(latest, story)["embedding"] == 1.0      # the centroid's cosine: 0.12
    assert clusterer.similarity(oldest, story)["embedding"] == 0.0      # dropped from the latest ones


@pytest.mark.parametrize("lookup_ratio", [0, 1000])    # every other story's keys looked up, or all read
def test_topic_links_shortcuts_match_the_plain_computation(workspace, monkeypatch, lookup_ratio):
    """Topic links found by array (candidate keys ranked by array, every candidate pair scored at once,
    cosines to recent vectors by blocks of probes) are those found by scoring each candidate pair."""
    from tabayyun.connect import topics
    from tabayyun.connect.stories import StoryClusterer, _Story

    monkeypatch.setattr(topics, "CANDIDATE_KEYS", 3)        # few keys: ties at the cut are common
    monkeypatch.setattr(topics, "TOPIC_THRESHOLD", 0.1)     # the sample's stories are apart: link more
    monkeypatch.setattr(topics, "TOPIC_THRESHOLD_NO_EMBEDDING", 0.05)
    monkeypatch.setattr(topics, "LOOKUP_RATIO", lookup_ratio)
    monkeypatch.setattr(topics, "BLOCK_CELLS", 30)          # three probes per block (10 vectors)
    clusterer = StoryClusterer(workspace.storage)
    clusterer.stories = {}
    rng = np.random.default_rng(3)
    base = rng.normal(size=8)
    for n, doc in enumerate(clusterer._docs(sorted(row[0] for row in workspace.storage.conn.execute("SELECT id FROM documents")))):
        if n % 3:       # vectors near one another for two documents in three, none for the others
            vector = (base + 0.4 * rng.normal(size=8)).astype(np.float32)
            doc.vector = vector / np.linalg.norm(vector)
        else:
            doc.vector = None
        clusterer._join(clusterer.stories.setdefault(n // 2 + 1, _Story(n // 2 + 1)), doc)
    assert len(clusterer.stories) == 8

    plain, tied = [], 0
    ids = sorted(clusterer.stories)
    pair_scores = topics._PairScores(clusterer, ids, [topics._probe(clusterer.stories[i]) for i in ids])
    for story_id in ids:
        probe = topics._probe(clusterer.stories[story_id])
        keys = [k for k in probe.terms | {"@" + e for e in probe.entities} if len(clusterer.index[k]) > 1]
        ranked = sorted(keys, key=lambda k: (-clusterer._idf(k), k))
        tied += len(ranked) > 3 and clusterer._idf(ranked[2]) == clusterer._idf(ranked[3])
        others = {o for key in ranked[:3] for o in clusterer.index[key]} - {story_id}
        assert topics._Candidates(clusterer).of(clusterer.stories[story_id]).tolist() == sorted(others)
        for other_id in sorted(o for o in others if o > story_id):
            reason = clusterer.similarity(probe, clusterer.stories[other_id])
            threshold = topics.TOPIC_THRESHOLD if "embedding" in reason else topics.TOPIC_THRESHOLD_NO_EMBEDDING
            score, limit = (x[0] for x in pair_scores.scores(story_id, [other_id]))
            assert score == pytest.approx(reason["score"], abs=2e-4) and limit == threshold
            if reason["score"] >= threshold:
                plain.append({"stories": [story_id, other_id], **reason})
    assert tied and plain and any(0 < link.get("embedding", 0) < 1 for link in plain)
    assert topics._links(clusterer) == plain == topics._links(clusterer, shortcut=False)


def test_story_keys_from_a_worker_are_those_of_the_stored_document(workspace):
    """Workers send each new document's story keys; the writer computes the same from what it stored
    (shards of older versions), in the same order (set layouts, hence float sums, follow it)."""
    from tabayyun.connect.stories import document_story_keys, story_keys

    ids = sorted(row[0] for row in workspace.storage.conn.execute("SELECT id FROM documents"))
    stored = workspace.storage.story_inputs(ids)
    with_entities = 0
    for doc_id in ids:
        sent = document_story_keys(workspace.get(doc_id))
        assert sent == story_keys(stored[doc_id]["title"], stored[doc_id]["lead"], stored[doc_id]["entities"])
        assert sent[0] and len(set(sent[0])) == len(sent[0])
        with_entities += bool(sent[1])
    assert with_entities >= 10
