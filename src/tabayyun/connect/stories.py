"""Stories (events): online clustering of articles, in the spirit of Miranda et al. 2018.

Each new document, in order of publication, is compared with the stories it could join and joins the
best one when the similarity reaches THRESHOLD, or starts a story. The similarity to a story is a
weighted mix of
- `embedding`: the cosine of the document's lead vector (title and first paragraph, cached at ingest)
  to the nearest of the story's latest RECENT_VECTORS lead vectors, rescaled from e5's compressed range
  (EMB_FLOOR..EMB_FLOOR+EMB_SPAN -> 0..1);
  left out when either has no vector (embeddings off): the weights then fall back to the other parts,
  and the threshold to THRESHOLD_NO_EMBEDDING;
- `terms`: the idf-weighted cosine of the light stems of title and lead (stop words dropped) to the
  story's term counts;
- `entities`: the same over entity canonical names;
and time gates it: a document dated more than WINDOW_DAYS (WINDOW_DAYS_EMBEDDING when both sides have
a lead vector) outside a story's span of publication dates cannot join it (different events on one
topic are different stories), and a story it would stretch over more than MAX_SPAN_DAYS takes it only
with LONG_FACTOR times the threshold; with lead vectors a document must also share words or names
with a story (`terms` or `entities` >= MIN_SHARED_TERMS) to join it. A whole copy of a clustered
document (a stored duplicate pair of Jaccard >= JACCARD_MIN) joins that document's story unless it
would stretch it over MAX_SPAN_DAYS; a pair kept for containment alone (a short item inside a roundup,
one template cable and another) is placed like any document.

Incremental: stories and their term and entity counts are loaded once per `StoryClusterer`; new
documents are only compared with them. A story's label is its most central headline (the member
title closest to the story's terms).

Unless a comment says otherwise, the figures in the comments below were measured on the first story
gold of bench/gold (250 articles, 3 to 11 August). On the whole gold (654 articles, 47 events), with
the whole corpus (full analysis, lead vectors) re-clustered, the long-story threshold and the nearest
recent vector took BCubed F1 from 0.812 (P 0.831, R 0.794) to 0.888 (P 0.950, R 0.833); the whole
corpus clustered at ingest scores 0.881 (P 0.954, R 0.818; it was 0.824) with 200-character leads,
0.865 (P 0.935, R 0.804) with the shipped 180 (search.semantic.LEAD_CHARS).
These figures were measured with 200-character leads unless they say otherwise.
"""

from __future__ import annotations

import math
import operator
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from tabayyun.arabic import light_stem, normalize_for_match, words
from tabayyun.connect.duplicates import JACCARD_MIN
from tabayyun.model import Document

WINDOW_DAYS = 14         # follow-ups a week or two on are still the event (an outbreak, then "contained")
# With a lead vector on both sides: e5 scores one subject's events alike (two bombings, two rounds of
# talks), so time separates them sooner. Set on bench/connect.py's story sample: 14 -> 4 days took
# BCubed F1 from 0.839 to 0.883 (full analysis, 300-character leads); with shorter leads and the basic
# analysis 4 -> 3 days took it from 0.853 to 0.882 (220 characters, re-clustered), 0.860 at ingest with
# 200; the full analysis scores 0.877 at 3. Without vectors a shorter window did worse (0.841 -> 0.828).
WINDOW_DAYS_EMBEDDING = 3
THRESHOLD = 0.23              # to join, with a lead vector on both sides
# e5 scores one genre alike (opinion columns, a region's official news, summer festivals), and a
# story's centroid drifts to its genre's mean as it grows: with the vector alone a story became a
# catch-all of a thousand articles over three weeks. A document joins a story only if they also share
# words or names: the idf-weighted cosine of their stems or of their entities is at least this. On the
# whole of SaudiNewsNet (30k articles, basic analysis) it took BCubed F1 from 0.815 to 0.827 re-clustered
# (each half of the labelled events better; 0.824 at ingest), 0.862 -> 0.865 on bench/connect.py's
# 1,800-article default.
# A higher THRESHOLD (0.30) with it gives 0.841 on the whole corpus but splits the 2020 seed trio,
# whose leads share names more than words (0.287).
MIN_SHARED_TERMS = 0.1
# Without lead vectors, words weigh more than names: the CRF tagger's entities (2026-11-25) took the
# sample (bench/connect.py --analysis full, re-clustered) to 0.851 at 0.15 with terms 0.6 and
# entities 0.4; 0.13 with 0.7 and 0.3 gives 0.870 (0.857-0.873 for 0.12-0.14 with terms 0.65-0.8),
# 0.848 -> 0.865 at ingest; on the whole corpus re-clustered 0.815 -> 0.849 (0.832-0.842 for the
# neighbours tried).
THRESHOLD_NO_EMBEDDING = 0.13
# Long stories take only close reports. Every labelled event of the gold is reported within 8 days, but
# without a limit a chain of one genre's items (royal receptions, football, template cables that are
# near-copies of each other) grew stories of hundreds of articles over three weeks, which took each new
# event's first reports in. Whole corpus re-clustered (see the module docstring), with the nearest
# vector below: no limit 0.850; a hard limit of 7 days 0.877 (5 days 0.876, 10 days 0.869); twice the
# threshold past 7 days 0.888 (1.5 times 0.882, 3 times 0.876); without lead vectors 0.775 -> 0.803
# (a hard limit: 0.817). A hard limit also split the sample's outbreak from its "contained" report 18
# days on, which shares its names and words.
MAX_SPAN_DAYS = 7
LONG_FACTOR = 2.0
# The embedding part is the cosine to the nearest of a story's latest members, not to its centroid: a
# centroid drifts to its genre's mean, and the next report of the event is closest to the previous one.
# With the 7-day hard limit and THRESHOLD 0.23 (0.27 before: 0.849, 0.25: 0.863; 0.20: 0.862), the
# whole corpus went from 0.829 (centroid) to 0.877; all members 0.871, the latest 16 0.861.
RECENT_VECTORS = 64
WEIGHTS = {"embedding": 0.4, "terms": 0.35, "entities": 0.25}
WEIGHTS_NO_EMBEDDING = {"terms": 0.7, "entities": 0.3}
EMB_FLOOR, EMB_SPAN = 0.85, 0.1   # unrelated leads score about 0.85 in e5, one event's 0.93 and up
CANDIDATE_KEYS = 24           # a document is compared with the stories sharing one of its rarest keys,
MAX_CANDIDATES = 64           # at most this many in its time window (most shared key weight first),
TOO_FAR_SHOWN = 3             # and this many outside it, kept to explain why it started a story
LABEL_ALL_UPTO = 16           # a story this small weighs all its members for its label at each change
PASSAGE_DOCUMENTS = 30        # shared passages are looked for among a story's first documents (435 pairs)


StoryKeys = tuple[list[str], list[str]]   # `story_keys`: a document's terms and entity names


def story_keys(title: str | None, lead: str | None, entities: list[str]) -> StoryKeys:
    """What a document is placed by: the light stems of the words of title and lead (stop words and
    one-letter stems dropped) and its entities' names, normalized. Each list is in order of first
    occurrence, so that a set built from it is laid out as one built from the text: the order in which
    a set is walked is the order of some float sums. Workers compute them (`document_story_keys`): the
    workspace's single writer then need not."""
    from tabayyun.search.fulltext import _is_stop_word

    text = f"{title or ''}\n{lead or ''}"
    terms = dict.fromkeys(stem for word in words(text) if not _is_stop_word(word) and len(stem := light_stem(word)) > 1)
    return list(terms), list(dict.fromkeys(normalize_for_match(e) for e in entities if e))


def document_story_keys(doc: Document) -> StoryKeys:
    """`story_keys` of a document as the workspace stores it (title, first paragraph, entity names)."""
    return story_keys(doc.title, doc.paragraphs[0] if doc.paragraphs else None,
                      [e.canonical if e.canonical is not None else e.text for e in doc.entities])


def _shared_entities(doc: _Doc, story: _Story) -> list[str]:
    return sorted(e for e in doc.entities if e in story.entities)[:5]


def _day(value) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


@dataclass
class _Story:
    id: int
    terms: Counter = field(default_factory=Counter)
    entities: Counter = field(default_factory=Counter)
    first: date | None = None
    last: date | None = None
    centroid: np.ndarray | None = None
    members: list[tuple[str, str | None, frozenset]] = field(default_factory=list)
    norms: dict[str, tuple[int, float]] = field(default_factory=dict)  # prefix -> (stamp, squared norm): _story_norm
    key_ids: dict[str, _Growing] = field(default_factory=dict)  # prefix -> ids of its keys, in `terms`/`entities` order
    central: tuple[str, str | None, frozenset] | None = None   # see StoryClusterer._central
    labelled: int = 0              # members when `central` was last chosen among all of them
    challenged: int = 0            # members that have challenged `central` since
    recent: list[np.ndarray] = field(default_factory=list)    # the latest RECENT_VECTORS lead vectors
    recent_matrix: np.ndarray | None = None                   # the same stacked, made when first needed

    def counts(self, prefix: str) -> Counter:
        """The story's term counts (prefix "") or entity counts ("@")."""
        return self.entities if prefix else self.terms


class _Growing:
    """A growing array of ids: the stories holding one key (a document's candidates are voted for
    with one `bincount`, not a Python loop over every story that shares a common word), or the keys
    of one story (its norm is one vector operation)."""

    def __init__(self) -> None:
        self.ids, self.size = np.zeros(4, np.int64), 0

    def add(self, story_id: int) -> None:
        if self.size == len(self.ids):
            self.ids = np.concatenate([self.ids, np.zeros(self.size, np.int64)])
        self.ids[self.size] = story_id
        self.size += 1

    def array(self) -> np.ndarray:
        return self.ids[:self.size]

    def __len__(self) -> int:
        return self.size

    def __iter__(self):
        return iter(self.array().tolist())


class _Spans:
    """Each story's span of days and whether it has a centroid, as arrays indexed by story id, so that
    the time gate is applied to every voted story at once."""

    def __init__(self) -> None:
        self.first = np.zeros(0, np.int64)
        self.last = np.zeros(0, np.int64)
        self.dated = np.zeros(0, bool)
        self.centroid = np.zeros(0, bool)

    def update(self, story: _Story) -> None:
        if story.id >= len(self.first):
            grow = max(story.id + 1, 2 * len(self.first)) - len(self.first)
            self.first, self.last = (np.concatenate([a, np.zeros(grow, a.dtype)]) for a in (self.first, self.last))
            self.dated, self.centroid = (np.concatenate([a, np.zeros(grow, a.dtype)])
                                         for a in (self.dated, self.centroid))
        if story.last is not None:
            self.first[story.id], self.last[story.id] = story.first.toordinal(), story.last.toordinal()
            self.dated[story.id] = True
        self.centroid[story.id] = story.centroid is not None

    def gaps(self, ids: np.ndarray, day: date | None) -> np.ndarray:
        """Days between `day` and the span of each story in `ids` (0 inside it or when either is
        undated)."""
        if day is None:
            return np.zeros(len(ids), np.int64)
        ordinal = day.toordinal()
        gap = np.maximum(np.maximum(self.first[ids] - ordinal, ordinal - self.last[ids]), 0)
        return np.where(self.dated[ids], gap, 0)

    def span_with(self, ids: np.ndarray, day: date | None) -> np.ndarray:
        """Days each story in `ids` would span with `day` in it (0 when either is undated)."""
        if day is None:
            return np.zeros(len(ids), np.int64)
        ordinal = day.toordinal()
        span = np.maximum(self.last[ids], ordinal) - np.minimum(self.first[ids], ordinal)
        return np.where(self.dated[ids], span, 0)


class _LogDf(dict):
    """log(df + 1) of each counted key (0 for a key never counted: its df is 0), set as its df changes.
    `array` holds the same by the key's id in `ids`: a story's norm is then one vector operation over
    the ids of its keys."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: dict[str, int] = {}
        self.array = np.zeros(1024)

    def __missing__(self, key: str) -> float:
        return 0.0

    def counted(self, df: Counter, keys) -> None:
        """After the df of `keys` changed."""
        for key in keys:
            key_id = self.ids.setdefault(key, len(self.ids))
            if key_id == len(self.array):
                self.array = np.concatenate([self.array, np.zeros(len(self.array))])
            self.array[key_id] = self[key] = math.log(df[key] + 1)


@dataclass
class _Doc:
    id: str
    title: str | None
    day: date | None
    terms: frozenset
    entities: frozenset
    vector: np.ndarray | None
    weights: dict[str, tuple[dict[str, float], float]] = field(default_factory=dict)  # see StoryClusterer._weights


class StoryClusterer:
    """The stories of a workspace, loaded once; `add` clusters new documents and stores where they went."""

    def __init__(self, storage, window_days: int | None = None, threshold: float | None = None,
                 embeddings: bool = True):
        """`threshold` replaces both THRESHOLD and THRESHOLD_NO_EMBEDDING when given, `window_days`
        both WINDOW_DAYS and WINDOW_DAYS_EMBEDDING."""
        from tabayyun.search.embed import embeddings_disabled_reason

        self.storage = storage
        self.window_days = window_days
        self.threshold = threshold
        self.embeddings = embeddings and embeddings_disabled_reason() is None
        self.stories: dict[int, _Story] | None = None
        self.loaded_upto = 0          # the last story_members rowid loaded
        self.doc_story: dict[str, int] = {}
        self.df: Counter = Counter()
        self._log_df = _LogDf()
        self._log_docs = 0.0                    # log(docs + 1)
        self._stamp = 0                         # see _norm_stamp
        self.docs = 0
        self.index: dict[str, _Growing] = {}    # key -> the stories holding it
        self.spans = _Spans()

    def _vectors(self, doc_ids: list[str]) -> dict[str, np.ndarray]:
        if not self.embeddings or not doc_ids:
            return {}
        from tabayyun.search.embed import MODEL, decode_matrix

        found = {}
        for doc_id, dim, blob in self.storage.lead_vectors_for(MODEL, doc_ids):
            vector = decode_matrix(dim, [blob])[0]
            found[doc_id] = vector / (np.linalg.norm(vector) or 1.0)
        return found

    def _docs(self, doc_ids: list[str], keys: dict[str, StoryKeys] | None = None) -> list[_Doc]:
        """The stored documents of `doc_ids`, with their `story_keys` (taken from `keys` when there)."""
        inputs, vectors, keys = self.storage.story_inputs(doc_ids), self._vectors(doc_ids), keys or {}
        docs = []
        for d in doc_ids:
            if (row := inputs.get(d)) is not None:
                terms, names = keys.get(d) or story_keys(row["title"], row["lead"], row["entities"])
                docs.append(_Doc(d, row["title"], _day(row["published"]), frozenset(terms), frozenset(names),
                                 vectors.get(d)))
        return docs

    def _load(self) -> None:
        """Load the stories, or those documents that other processes (or this one) placed since the
        last load: several ingest processes may cluster into one workspace."""
        if self.stories is None:
            self.stories, self.loaded_upto = {}, 0
        members = self.storage.story_members_after(self.loaded_upto)
        if not members:
            return
        self.loaded_upto = members[-1][0]
        members = [(story_id, doc_id) for _, story_id, doc_id in members if doc_id not in self.doc_story]
        docs = {doc.id: doc for doc in self._docs([doc_id for _, doc_id in members])}
        for story_id, doc_id in members:
            if doc_id in docs:
                self._join(self.stories.setdefault(story_id, _Story(story_id)), docs[doc_id])

    def _count(self, doc: _Doc) -> None:
        keys = doc.terms | {"@" + e for e in doc.entities}
        self.docs += 1
        self._log_docs = math.log(self.docs + 1)
        self._stamp = int(16 * self._log_docs / math.log(2))
        self.df.update(keys)
        self._log_df.counted(self.df, keys)

    def _idf(self, key: str) -> float:
        """log((docs + 1) / (df + 1)) + 1. Placing a document compares it with many stories, each
        with many keys: the log of each key's df is kept as it changes."""
        return self._log_docs - self._log_df[key] + 1.0

    def _join(self, story: _Story, doc: _Doc) -> None:
        self._count(doc)
        self.doc_story[doc.id] = story.id
        new_keys = [k for k in doc.terms if k not in story.terms]
        new_keys += ["@" + e for e in doc.entities if e not in story.entities]
        self._grow_norms(story, doc)
        for key in new_keys:    # in the order `update` adds them to the story's counters
            postings = self.index.get(key)
            if postings is None:
                postings = self.index[key] = _Growing()
            postings.add(story.id)
            prefix = key[:1] if key[:1] == "@" else ""
            story_keys = story.key_ids.get(prefix)
            if story_keys is None:
                story_keys = story.key_ids[prefix] = _Growing()
            story_keys.add(self._log_df.ids[key])
        story.terms.update(doc.terms)
        story.entities.update(doc.entities)
        story.members.append((doc.id, doc.title, doc.terms))
        if doc.day is not None:
            story.first = min(story.first or doc.day, doc.day)
            story.last = max(story.last or doc.day, doc.day)
        if doc.vector is not None:
            story.centroid = doc.vector.copy() if story.centroid is None else story.centroid + doc.vector
            story.recent = [*story.recent[1 - RECENT_VECTORS:], doc.vector]
            story.recent_matrix = None
        self.spans.update(story)

    def _cosine(self, keys: frozenset, story: _Story, prefix: str = "", doc: _Doc | None = None) -> float:
        """The idf-weighted cosine of `keys` to the story's terms (prefix "") or entities ("@")."""
        counts = story.counts(prefix)
        if not keys or not counts:
            return 0.0
        weights, norm = self._weights(keys, prefix, doc)
        shared = weights.keys() & counts.keys()     # the smaller side walked
        dot = sum(map(operator.mul, map(weights.__getitem__, shared), map(counts.__getitem__, shared)))
        if not dot:
            return 0.0
        return dot / (norm * self._story_norm(story, prefix))

    def _weights(self, keys: frozenset, prefix: str, doc: _Doc | None) -> tuple[dict[str, float], float]:
        """The squared idf of each key, and their norm. A document is compared with every candidate
        story under the same idf: its weights are kept while its placement lasts."""
        cached = doc.weights.get(prefix) if doc is not None else None
        if cached is None:
            log_docs, log_df = self._log_docs, self._log_df     # _idf, inlined: millions of calls
            weights = {k: (log_docs - log_df[prefix + k] + 1.0) ** 2 for k in keys}
            cached = weights, math.sqrt(sum(weights.values()))
            if doc is not None:
                doc.weights[prefix] = cached
        return cached

    def _norm_stamp(self) -> int:
        """Changes each time the number of documents grows by a sixteenth of a doubling (4.4%, which
        moves an idf by at most 0.043); set as documents are counted, read millions of times."""
        return self._stamp

    def _story_norm(self, story: _Story, prefix: str) -> float:
        """The idf-weighted norm of a story's counts. It costs a pass over every term of the story, and
        a wire story gathers thousands: it is computed again only when the stamp changes, and in
        between kept up to date as members join (`_grow_norms`)."""
        stamp = self._norm_stamp()
        cached = story.norms.get(prefix)
        if cached is not None and cached[0] == stamp:
            return math.sqrt(cached[1])
        squared = self._squared_norm(story, prefix)
        story.norms[prefix] = (stamp, squared)
        return math.sqrt(squared)

    def _squared_norm(self, story: _Story, prefix: str) -> float:
        """Σ (idf · count)² over a story's keys, as one vector operation: a wire story has thousands."""
        counts = story.counts(prefix)
        idf = self._log_docs - self._log_df.array[story.key_ids[prefix].array()] + 1.0
        weighted = idf * np.fromiter(counts.values(), np.float64, len(counts))
        return float(weighted @ weighted)

    def _grow_norms(self, story: _Story, doc: _Doc) -> None:
        """Before `doc`'s keys are counted in `story`: each count c of its keys becomes c + 1, adding
        idf² (2c + 1) to the squared norm."""
        for prefix, keys in (("", doc.terms), ("@", doc.entities)):
            cached = story.norms.get(prefix)
            if cached is not None:
                counts = story.counts(prefix)
                added = sum(self._idf(prefix + k) ** 2 * (2 * counts[k] + 1) for k in keys)
                story.norms[prefix] = (cached[0], cached[1] + added)

    def similarity(self, doc: _Doc, story: _Story) -> dict:
        """The parts of the similarity of `doc` to `story`, their weighted mix (`score`) and the first
        names they share."""
        return {**self._scores(doc, story), "shared_entities": _shared_entities(doc, story)}

    def _scores(self, doc: _Doc, story: _Story) -> dict:
        """`similarity` without the shared names: placing a document scores dozens of stories and
        keeps the reason of one."""
        parts = {"terms": round(self._cosine(doc.terms, story, doc=doc), 4),
                 "entities": round(self._cosine(doc.entities, story, "@", doc), 4)}
        weights = WEIGHTS_NO_EMBEDDING
        if doc.vector is not None and story.recent:
            if story.recent_matrix is None:
                story.recent_matrix = np.vstack(story.recent)
            cosine = float(np.maximum.reduce(story.recent_matrix @ doc.vector))   # .max(), without its wrapper
            parts["embedding"] = round(min(1.0, max(0.0, (cosine - EMB_FLOOR) / EMB_SPAN)), 4)
            weights = WEIGHTS
        parts["score"] = round(sum(weights[k] * parts[k] for k in weights), 4)
        return parts

    def _candidates(self, doc: _Doc) -> tuple[dict[int, int], dict[int, int]]:
        """The stories sharing the most idf weight of the document's rarest keys, inside their time
        window and outside it ({story id: days outside the story's span}, most weight first). On a large
        workspace a key shared with hundreds of stories is common; scoring them all made placing cost
        grow with the workspace."""
        keys = sorted((k for k in doc.terms | {"@" + e for e in doc.entities} if k in self.index),
                      key=lambda k: (-self._idf(k), k))[:CANDIDATE_KEYS]
        if not keys:
            return {}, {}
        postings = [self.index[key].array() for key in keys]
        weights = np.repeat([self._idf(key) for key in keys], [len(ids) for ids in postings])
        votes = np.bincount(np.concatenate(postings), weights)
        voted = np.flatnonzero(votes)
        voted = voted[np.lexsort((voted, -votes[voted]))]      # most weight first, then lowest id
        gaps = self.spans.gaps(voted, doc.day)
        far = gaps > self._windows(doc, voted)
        return (dict(zip(voted[~far][:MAX_CANDIDATES].tolist(), gaps[~far][:MAX_CANDIDATES].tolist())),
                dict(zip(voted[far][:TOO_FAR_SHOWN].tolist(), gaps[far][:TOO_FAR_SHOWN].tolist())))

    def _place(self, doc: _Doc, copies: list[str] | None = None) -> tuple[_Story | None, float, dict]:
        """The story `doc` joins (None: it starts one), with its score and reason; `copies`: its stored
        whole copies (near-duplicates of Jaccard >= JACCARD_MIN), looked up when not given."""
        if copies is None:
            copies = self.storage.duplicates_of(doc.id, min_jaccard=JACCARD_MIN)
        doc.weights.clear()
        # Only whole copies: following pairs kept for containment alone chained roundups and template
        # cables into one story of 1,276 articles over three weeks, which pulled four reports of one
        # bombing in after a misplaced condemnation they contained. On the whole of SaudiNewsNet re-clustered,
        # BCubed F1 0.827 -> 0.845 (P 0.842 -> 0.857, R 0.813 -> 0.834). The rule matters, not the exact
        # bar: a Jaccard of 0.4 gave 0.852 and 0.6 gave 0.853; JACCARD_MIN is the duplicate finder's own.
        # On bench/connect.py's 1,800-article default it cost 0.862 -> 0.846 (precision 0.877 -> 0.843):
        # with few other articles, the containment pairs there pointed to the right story more often.
        for other in copies:
            story_id = self.doc_story.get(other)
            if story_id is not None and self.spans.span_with(np.array([story_id]), doc.day)[0] <= MAX_SPAN_DAYS:
                return self.stories[story_id], 1.0, {"duplicate_of": other}
        near, far = self._candidates(doc)
        best, best_reason, closest = None, {"score": -1.0}, {"started": True}
        joined, joined_reason = None, {"score": -1.0}
        if far:
            closest["too_far"] = [{"story": story_id, "days": gap} for story_id, gap in sorted(far.items())]
        ids = sorted(near)
        for story_id, span in zip(ids, self.spans.span_with(np.array(ids, np.int64), doc.day).tolist()):
            story = self.stories[story_id]
            # "shared_entities" holds its place in the stored reason; only the story joined gets them.
            reason = {**self._scores(doc, story), "shared_entities": [], "days": near[story_id]}
            if span > MAX_SPAN_DAYS:
                reason["span"] = span
            if "embedding" in reason and max(reason["terms"], reason["entities"]) < MIN_SHARED_TERMS:
                closest.setdefault("too_few_shared_words", []).append(
                    {"story": story_id, "score": reason["score"], "terms": reason["terms"],
                     "entities": reason["entities"]})
                continue
            if reason["score"] > best_reason["score"]:
                best, best_reason = story, reason
            if reason["score"] >= self._threshold(reason) and reason["score"] > joined_reason["score"]:
                joined, joined_reason = story, reason
        if joined is not None:
            joined_reason["shared_entities"] = _shared_entities(doc, joined)
            return joined, joined_reason["score"], joined_reason
        if "too_few_shared_words" in closest:
            closest["too_few_shared_words"] = sorted(closest["too_few_shared_words"],
                                                     key=lambda c: (-c["score"], c["story"]))[:TOO_FAR_SHOWN]
        if best is not None:
            closest["closest"] = {"story": best.id, "score": best_reason["score"],
                                  **({"span": best_reason["span"]} if "span" in best_reason else {})}
        return None, 1.0, closest

    def _windows(self, doc: _Doc, story_ids: np.ndarray) -> np.ndarray | int:
        """How many days outside each story's span `doc` may be and still join it."""
        if self.window_days is not None:
            return self.window_days
        if doc.vector is None:
            return WINDOW_DAYS
        return np.where(self.spans.centroid[story_ids], WINDOW_DAYS_EMBEDDING, WINDOW_DAYS)

    def _threshold(self, reason: dict) -> float:
        """The score to reach to join; a story stretched over MAX_SPAN_DAYS ("span") takes only close
        reports."""
        if self.threshold is not None:
            threshold = self.threshold
        else:
            threshold = THRESHOLD if "embedding" in reason else THRESHOLD_NO_EMBEDDING
        return threshold * LONG_FACTOR if "span" in reason else threshold

    def add(self, doc_ids: list[str], keys: dict[str, StoryKeys] | None = None) -> dict[str, int]:
        """Cluster the given documents (those not clustered yet), oldest first; store and return
        {doc_id: story_id}. `keys`: their `story_keys`, when computed elsewhere (a worker)."""
        with self.storage.stories_locked():
            # Under the lock: what others placed meanwhile is loaded, and new story ids are unique.
            self._load()
            docs = self._docs([d for d in doc_ids if d not in self.doc_story], keys)
            docs.sort(key=lambda d: (d.day is None, d.day or date.min, d.id))
            placed, touched = {}, set()
            members = []
            last_id = max(self.storage.max_story_id(), max(self.stories, default=0))
            copies = self.storage.copies_of([doc.id for doc in docs], min_jaccard=JACCARD_MIN)
            for doc in docs:
                story, score, reason = self._place(doc, copies[doc.id])
                if story is None:
                    last_id += 1
                    story = self.stories[last_id] = _Story(last_id)
                self._join(story, doc)
                placed[doc.id] = story.id
                touched.add(story.id)
                members.append((doc.id, story.id, score, reason))
            self.storage.save_stories([self._row(self.stories[sid]) for sid in sorted(touched)], members)
        return placed

    def _row(self, story: _Story) -> tuple:
        central = self._central(story)
        return (story.id, central[1], central[0], story.first and story.first.isoformat(),
                story.last and story.last.isoformat())

    def _central(self, story: _Story) -> tuple[str, str | None, frozenset]:
        """The member whose words (title and lead) are closest to the story's, titled members first.
        A wire story gathers hundreds of members and is touched by most batches: all of them are
        weighed again only when the story has grown by a quarter since; in between, the new members
        challenge the current choice."""
        def centrality(member):
            # Rounded: the order in which a set of words is summed follows Python's per-process string
            # hashing, so two members of one story could swap places between runs in the last bits.
            return member[1] is not None, round(self._cosine(member[2], story), 9), member[0]

        size = len(story.members)
        if story.central is None or size <= LABEL_ALL_UPTO or size * 4 >= story.labelled * 5:
            story.central, story.labelled = max(story.members, key=centrality), size
        else:
            story.central = max([story.central, *story.members[story.challenged:]], key=centrality)
        story.challenged = size
        return story.central

    def refresh(self, story_ids: list[int]) -> int:
        """Store the label, label document and dates of the given stories as their members now make
        them; returns how many of them exist."""
        with self.storage.stories_locked():
            self._load()
            rows = [self._row(self.stories[i]) for i in sorted(set(story_ids)) if i in self.stories]
            self.storage.save_stories(rows, [])
        return len(rows)

    def cluster_missing(self, batch: int = 500) -> int:
        """Cluster every document of the workspace that is in no story yet; returns how many."""
        done = 0
        while ids := self.storage.unclustered(batch):
            self.add(ids)
            done += len(ids)
        return done


def _summaries(storage, rows: list[dict]) -> list[dict]:
    """Stories with their size, top entities and outlets (most documents first)."""
    ids = [row["id"] for row in rows]
    docs, entities = storage.story_documents(ids), storage.story_entities(ids)
    by_story: dict[int, list[dict]] = {}
    for doc in docs:
        by_story.setdefault(doc["story_id"], []).append(doc)
    names: dict[int, list[tuple[int, str]]] = {}
    for story_id, name, count in entities:
        names.setdefault(story_id, []).append((-count, name))
    result = []
    for row in rows:
        members = by_story.get(row["id"], [])
        outlets = Counter(doc["outlet"] for doc in members if doc["outlet"])
        result.append({"id": row["id"], "label": row["label"], "first": row["first"], "last": row["last"],
                       "size": len(members), "entities": [n for _, n in sorted(names.get(row["id"], []))[:5]],
                       "outlets": [o for o, _ in sorted(outlets.items(), key=lambda i: (-i[1], i[0]))],
                       "documents": members})
    return result


def list_stories(storage, entity: str | None = None, since: str | None = None,
                 limit: int | None = None) -> list[dict]:
    """Stories, latest first: {id, label, first, last, size, entities (top 5 canonical names), outlets};
    `entity` keeps those whose documents name it (canonical name or mention, normalized substring),
    `since` those whose span ends on or after that date (undated stories are kept out by it), `limit`
    the first ones (only they are summarized: a big workspace holds hundreds of thousands)."""
    rows = [r for r in storage.story_rows() if not since or (r["last"] and r["last"] >= since)]
    if entity:
        wanted = normalize_for_match(entity)
        named = {sid for sid, name, _ in storage.story_entities([r["id"] for r in rows])
                 if wanted in normalize_for_match(name)}
        rows = [r for r in rows if r["id"] in named]
    stories = _summaries(storage, rows[:limit])
    for story in stories:
        del story["documents"]
    return stories


def get_story(storage, story_id: int, passages: bool = False) -> dict | None:
    """One story with its documents by date, each {id, title, outlet, published, score, reason}; with
    `passages`, "passages": what its documents quote or reuse from each other (copies left out: see
    `passages_among`), among its first PASSAGE_DOCUMENTS documents."""
    rows = storage.story_rows(story_id)
    if not rows:
        return None
    story = _summaries(storage, rows)[0]
    for doc in story["documents"]:
        del doc["story_id"]
    if passages:
        from tabayyun.connect.passages import passages_among

        ids = [doc["id"] for doc in story["documents"][:PASSAGE_DOCUMENTS]]
        copies = {frozenset((doc_id, other)) for doc_id in ids for other in storage.duplicates_of(doc_id)}
        story["passages"] = passages_among([d for d in map(storage.get, ids) if d is not None], copies)
    return story
