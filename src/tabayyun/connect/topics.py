"""Topics: stories (events) on one long-running subject, grouped.

A 2020 leaked letter and a 2024 round of talks about the same troops are two stories (the time gate of
`stories.py` keeps them apart) but one topic. Two stories are linked when their similarity, computed as
a story's similarity to a new document (lead-vector centroid, idf-weighted stems and entities) but with
one story's aggregate standing for the document and no time gate, reaches TOPIC_THRESHOLD; a topic is a
connected group of linked stories. Topics are derived on demand from the stored stories (nothing is
stored), and each link keeps its scores and shared entities as evidence.

A story is compared with the stories sharing one of its rarest keys: some 380 each on the 10,000 stories
of SaudiNewsNet, 3.8 million pairs. Their scores are computed with numpy, all the candidates of a story
at once (`_PairScores`), and only the pairs near the threshold (about 4,000) are scored again one by one
for the link's evidence: the same links as scoring every pair one by one, at a fifth of the cost.
"""

from __future__ import annotations

import numpy as np

from tabayyun.connect.stories import (
    CANDIDATE_KEYS, EMB_FLOOR, EMB_SPAN, WEIGHTS, WEIGHTS_NO_EMBEDDING, StoryClusterer, _Doc, _Story, _summaries,
)

# Higher than the thresholds for joining a story: a topic link needs the whole of two stories to agree.
TOPIC_THRESHOLD = 0.3
TOPIC_THRESHOLD_NO_EMBEDDING = 0.12
# A pair is scored one by one (`StoryClusterer.similarity`, which gives a link its evidence) only when
# its score computed with every other candidate of its story at once comes this close to the
# threshold: the two differ only by floating-point sums and the rounding of the parts to 4 places.
PREFILTER_MARGIN = 0.005
LOOKUP_RATIO = 8   # a story with this many times the probe's keys has the probe's keys looked up in it
BLOCK_CELLS = 32_000_000   # probe-to-vector cosines computed at once (256 MB in float64)


def _probe(story: _Story) -> _Doc:
    """A story's aggregate, shaped as a document for `StoryClusterer.similarity`."""
    vector = None
    if story.centroid is not None:
        vector = story.centroid / (np.linalg.norm(story.centroid) or 1.0)
    return _Doc(f"story:{story.id}", None, None, frozenset(story.terms), frozenset(story.entities), vector)


class _Candidates:
    """The stories sharing one of the rarest keys (stems, entities) a story shares with any other: the
    CANDIDATE_KEYS keys of highest idf (ties by key) among those held by more than one story."""

    def __init__(self, clusterer: StoryClusterer) -> None:
        self.clusterer = clusterer
        self.keys = list(clusterer._log_df.ids)          # by key id
        self.idf = clusterer._log_docs - clusterer._log_df.array[:len(self.keys)] + 1.0
        self.stories_holding = np.array([len(clusterer.index.get(k, ())) for k in self.keys], np.int64)

    def of(self, story: _Story) -> np.ndarray:
        ids = np.concatenate([keys.array() for keys in story.key_ids.values()] or [np.zeros(0, np.int64)])
        ids = ids[self.stories_holding[ids] > 1]
        if len(ids) > CANDIDATE_KEYS:
            idf = self.idf[ids]
            last = -np.partition(-idf, CANDIDATE_KEYS - 1)[CANDIDATE_KEYS - 1]
            above = ids[idf > last]
            tied = sorted((self.keys[i] for i in ids[idf == last].tolist()))[:CANDIDATE_KEYS - len(above)]
            chosen = [self.keys[i] for i in above.tolist()] + tied
        else:
            chosen = [self.keys[i] for i in ids.tolist()]
        if not chosen:
            return np.zeros(0, np.int64)
        found = np.unique(np.concatenate([self.clusterer.index[key].array() for key in chosen]))
        return found[found != story.id]


class _KeyTable:
    """One part (terms or entities) of every story's keys, row by row as in a sparse matrix: the
    probe's weight of each key (its idf), the story's (idf times count) and both norms, as
    `StoryClusterer._cosine` weighs them."""

    def __init__(self, clusterer: StoryClusterer, stories: list[_Story], prefix: str) -> None:
        log_docs, log_df = clusterer._log_docs, clusterer._log_df.array
        indices, probe, story_side, lengths = [], [], [], []
        self.probe_norm = np.zeros(len(stories))
        self.story_norm = np.zeros(len(stories))
        for row, story in enumerate(stories):
            counts = story.counts(prefix)
            key_ids = story.key_ids[prefix].array() if counts else np.zeros(0, np.int64)
            idf = log_docs - log_df[key_ids] + 1.0
            indices.append(key_ids)
            probe.append(idf)
            story_side.append(idf * np.fromiter(counts.values(), np.float64, len(counts)))
            lengths.append(len(key_ids))
            if counts:
                self.probe_norm[row] = np.sqrt(idf @ idf)
                self.story_norm[row] = clusterer._story_norm(story, prefix)
        self.indices = np.concatenate(indices)
        self.probe = np.concatenate(probe)
        self.story_side = np.concatenate(story_side)
        self.start = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        self.dense = np.zeros(len(log_df))
        # Each story's keys sorted, as (row, key) numbers in one sorted array: looking a few keys up
        # in a story of thousands costs less than reading all of them.
        self.width = len(log_df)
        rows = np.repeat(np.arange(len(stories), dtype=np.int64), lengths)
        order = np.lexsort((self.indices, rows))
        self.sorted_keys = rows[order] * self.width + self.indices[order]
        self.sorted_side = self.story_side[order]

    def cosines(self, row: int, others: np.ndarray) -> np.ndarray:
        """The cosine of story `row`'s keys (as a probe) to each story of `others` (rows): the keys of
        each other story are read against the probe's, or, for a story with many more keys than the
        probe, the probe's keys looked up in it."""
        mine = slice(self.start[row], self.start[row + 1])
        lengths = self.start[others + 1] - self.start[others]
        large = lengths > LOOKUP_RATIO * (mine.stop - mine.start)
        sums = np.zeros(len(others))
        small = np.flatnonzero(~large)
        if len(small):
            self.dense[self.indices[mine]] = self.probe[mine]
            at = _ranges(self.start[others[small]], lengths[small])
            sums[small] = np.bincount(np.repeat(np.arange(len(small)), lengths[small]),
                                      self.dense[self.indices[at]] * self.story_side[at], minlength=len(small))
            self.dense[self.indices[mine]] = 0.0
        big = np.flatnonzero(large)
        if len(big):
            wanted = (others[big, None] * self.width + self.indices[mine][None, :]).ravel()
            found = np.minimum(np.searchsorted(self.sorted_keys, wanted), len(self.sorted_keys) - 1)
            hit = self.sorted_keys[found] == wanted
            products = np.where(hit, self.sorted_side[found], 0.0).reshape(len(big), -1) @ self.probe[mine]
            sums[big] = products
        norms = self.probe_norm[row] * self.story_norm[others]
        return np.divide(sums, norms, out=np.zeros(len(others)), where=norms > 0)


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions start, start + 1, ... start + length - 1 of every (start, length), concatenated."""
    before = np.cumsum(lengths) - lengths
    return np.arange(int(lengths.sum())) + np.repeat(starts - before, lengths)


class _PairScores:
    """`StoryClusterer.similarity`'s score of one story's aggregate against many stories at once
    (numpy over every pair instead of Python over the shared keys of each): what finds, among the
    candidate pairs of a large workspace, the few worth scoring one by one."""

    def __init__(self, clusterer: StoryClusterer, ids: list[int], probes: list[_Doc]) -> None:
        """`probes`: the `_probe` of each story of `ids`, in that order."""
        stories = [clusterer.stories[story_id] for story_id in ids]
        self.row = {story_id: row for row, story_id in enumerate(ids)}
        self.terms = _KeyTable(clusterer, stories, "")
        self.entities = _KeyTable(clusterer, stories, "@")
        self.probes = [probe.vector for probe in probes]
        recent = [story.recent for story in stories]
        self.recent_start = np.concatenate([[0], np.cumsum([len(r) for r in recent])]).astype(np.int64)
        vectors = [v for r in recent for v in r]
        self.recent = np.vstack(vectors) if vectors else np.zeros((0, 1))
        # Probes are taken in row order: the cosines of a block of them to every recent vector are one
        # matrix product, far cheaper than gathering each probe's candidates' vectors.
        self.block_rows = max(1, BLOCK_CELLS // max(1, len(vectors)))
        self.block_start, self.block = -1, np.zeros((0, 0))

    def _recent_cosines(self, row: int) -> np.ndarray:
        """The cosine of story `row`'s probe vector to every recent vector of every story."""
        start = row - row % self.block_rows
        if start != self.block_start:
            probes = self.probes[start:start + self.block_rows]
            width = self.recent.shape[1]
            matrix = np.vstack([p if p is not None else np.zeros(width, self.recent.dtype) for p in probes])
            self.block_start, self.block = start, matrix @ self.recent.T
        return self.block[row - start]

    def scores(self, story_id: int, other_ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """The score of each of `other_ids` and the threshold it must reach (with or without
        embeddings, as `_links` decides)."""
        row, others = self.row[story_id], np.array([self.row[o] for o in other_ids], np.int64)
        terms, entities = self.terms.cosines(row, others), self.entities.cosines(row, others)
        plain = WEIGHTS_NO_EMBEDDING["terms"] * terms + WEIGHTS_NO_EMBEDDING["entities"] * entities
        probe = self.probes[row]
        lengths = self.recent_start[others + 1] - self.recent_start[others]
        if probe is None or not lengths.any():
            return plain, np.full(len(others), TOPIC_THRESHOLD_NO_EMBEDDING)
        embedded = lengths > 0
        cosines = self._recent_cosines(row)[_ranges(self.recent_start[others[embedded]], lengths[embedded])]
        nearest = np.maximum.reduceat(cosines, np.cumsum(lengths[embedded]) - lengths[embedded])
        embedding = np.zeros(len(others))
        embedding[embedded] = np.clip((nearest - EMB_FLOOR) / EMB_SPAN, 0.0, 1.0)
        mixed = WEIGHTS["embedding"] * embedding + WEIGHTS["terms"] * terms + WEIGHTS["entities"] * entities
        return (np.where(embedded, mixed, plain),
                np.where(embedded, TOPIC_THRESHOLD, TOPIC_THRESHOLD_NO_EMBEDDING))


def _links(clusterer: StoryClusterer, shortcut: bool = True) -> list[dict]:
    """Every pair of stories similar enough to share a topic, with its scores. `shortcut=False` scores
    every candidate pair one by one (the reference `bench/connect.py --topics` measures against)."""
    ids = sorted(clusterer.stories)
    if len(ids) < 2:
        return []
    probes = [_probe(clusterer.stories[story_id]) for story_id in ids]
    pairs = _PairScores(clusterer, ids, probes) if shortcut else None
    candidates = _Candidates(clusterer)
    links = []
    for story_id, probe in zip(ids, probes):
        others = candidates.of(clusterer.stories[story_id])
        others = others[others > story_id].tolist()
        if not others:
            continue
        if pairs is not None:
            scores, thresholds = pairs.scores(story_id, others)
            others = np.asarray(others)[scores >= thresholds - PREFILTER_MARGIN].tolist()
        for other_id in others:
            reason = clusterer.similarity(probe, clusterer.stories[other_id])
            threshold = TOPIC_THRESHOLD if "embedding" in reason else TOPIC_THRESHOLD_NO_EMBEDDING
            if reason["score"] >= threshold:
                links.append({"stories": [story_id, other_id], **reason})
    return links


def _components(ids: list[int], links: list[dict]) -> list[list[int]]:
    parent = {story_id: story_id for story_id in ids}

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for link in links:
        a, b = (root(x) for x in link["stories"])
        parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for story_id in ids:
        groups.setdefault(root(story_id), []).append(story_id)
    return [sorted(group) for group in groups.values()]


def list_topics(storage, embeddings: bool = True, min_stories: int = 1) -> list[dict]:
    """Topics, largest first: {id (its first story's id), label (the label of its largest story),
    first, last, size (documents), stories [{id, label, first, last, size}], links [{stories, score,
    embedding?, terms, entities, shared_entities}]}; `min_stories` keeps topics of at least that many
    stories. Documents in no story yet are clustered first."""
    storage.cluster_missing()
    clusterer = StoryClusterer(storage, embeddings=embeddings)
    clusterer._load()
    links = _links(clusterer)
    stories = {s["id"]: s for s in _summaries(storage, storage.story_rows())}
    links_from: dict[int, list[dict]] = {}
    for link in links:
        links_from.setdefault(link["stories"][0], []).append(link)
    topics = []
    for group in _components(sorted(stories), links):
        if len(group) < min_stories:
            continue
        members = [{k: stories[i][k] for k in ("id", "label", "first", "last", "size")} for i in group]
        largest = max(members, key=lambda s: (s["size"], -s["id"]))
        days = [d for s in members for d in (s["first"], s["last"]) if d]
        topics.append({"id": group[0], "label": largest["label"], "first": min(days, default=None),
                       "last": max(days, default=None), "size": sum(s["size"] for s in members),
                       "stories": members, "links": [l for i in group for l in links_from.get(i, [])]})
    topics.sort(key=lambda t: (-len(t["stories"]), -t["size"], t["id"]))
    return topics


def topic_of(storage, story_id: int, embeddings: bool = True) -> dict | None:
    """The topic holding a story, or None when there is no such story."""
    return next((t for t in list_topics(storage, embeddings) if story_id in {s["id"] for s in t["stories"]}), None)
