"""Topics: stories (events) on one long-running subject, grouped.

A 2020 leaked letter and a 2024 round of talks about the same troops are two stories (the time gate of
`stories.py` keeps them apart) but one topic. Two stories are linked when their similarity, computed as
a story's similarity to a new document (lead-vector centroid, idf-weighted stems and entities) but with
one story's aggregate standing for the document and no time gate, reaches TOPIC_THRESHOLD; a topic is a
connected group of linked stories. Topics are derived on demand from the stored stories (nothing is
stored), and each link keeps its scores and shared entities as evidence.
"""

from __future__ import annotations

import numpy as np

from tabayyun.connect.stories import CANDIDATE_KEYS, StoryClusterer, _Doc, _Story, _summaries

# Higher than the thresholds for joining a story: a topic link needs the whole of two stories to agree.
TOPIC_THRESHOLD = 0.3
TOPIC_THRESHOLD_NO_EMBEDDING = 0.12


def _probe(story: _Story) -> _Doc:
    """A story's aggregate, shaped as a document for `StoryClusterer.similarity`."""
    vector = None
    if story.centroid is not None:
        vector = story.centroid / (np.linalg.norm(story.centroid) or 1.0)
    return _Doc(f"story:{story.id}", None, None, frozenset(story.terms), frozenset(story.entities), vector)


def _candidates(clusterer: StoryClusterer, story_id: int, probe: _Doc) -> set[int]:
    """The stories sharing one of the rarest keys (stems, entities) this story shares with any other."""
    keys = probe.terms | {"@" + e for e in probe.entities}
    shared = sorted((k for k in keys if len(clusterer.index.get(k, ())) > 1), key=lambda k: (-clusterer._idf(k), k))
    return {other for key in shared[:CANDIDATE_KEYS] for other in clusterer.index[key]} - {story_id}


def _links(clusterer: StoryClusterer) -> list[dict]:
    """Every pair of stories similar enough to share a topic, with its scores."""
    links = []
    for story_id in sorted(clusterer.stories):
        probe = _probe(clusterer.stories[story_id])
        for other_id in sorted(_candidates(clusterer, story_id, probe)):
            if other_id <= story_id:
                continue
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
    topics = []
    for group in _components(sorted(stories), links):
        if len(group) < min_stories:
            continue
        members = [{k: stories[i][k] for k in ("id", "label", "first", "last", "size")} for i in group]
        largest = max(members, key=lambda s: (s["size"], -s["id"]))
        days = [d for s in members for d in (s["first"], s["last"]) if d]
        topics.append({"id": group[0], "label": largest["label"], "first": min(days, default=None),
                       "last": max(days, default=None), "size": sum(s["size"] for s in members),
                       "stories": members, "links": [l for l in links if l["stories"][0] in group]})
    topics.sort(key=lambda t: (-len(t["stories"]), -t["size"], t["id"]))
    return topics


def topic_of(storage, story_id: int, embeddings: bool = True) -> dict | None:
    """The topic holding a story, or None when there is no such story."""
    return next((t for t in list_topics(storage, embeddings) if story_id in {s["id"] for s in t["stories"]}), None)
