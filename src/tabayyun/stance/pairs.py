"""The sentence-pair model: does one sentence agree with a claim, contradict it, or speak of other things?

Similarity alone cannot tell a denial from an affirmation (they embed alike), so the model reads the
element-wise product, absolute and signed difference of the two e5 vectors, where a changed word or a
reversed verb leaves its trace, next to the lexical sentence features (coverage, negation flip,
denial, opposites, numbers). It is trained on sentence pairs (the ANS corpus, and the rationale lines
of the Baly corpus), and feeds the document model the agreement and contradiction of the sentences
most about the claim.
"""

from __future__ import annotations

import zlib

import numpy as np

from tabayyun.stance.features import SENTENCE_FEATURES, Claim, UnitView, relevance, sentence_features
from tabayyun.stance.model import LinearModel

PAIR_LABELS = ("agree", "disagree", "other")
EMBEDDING_DIM = 384
# Words only one side has, and each (claim word, sentence word) substitution, hashed into buckets:
# how an edited headline turns one statement into its opposite (ارتفاع -> انخفاض, 3 -> 5).
SUBSTITUTION_BUCKETS = 8192
# The signed difference (claim minus sentence) next to the symmetric product and distance: which side
# holds a meaning, not only that the two differ (cross-validated on ANS train.csv: MODEL_CARD.md).
PAIR_FEATURES = (*SENTENCE_FEATURES, *(f"product_{i}" for i in range(EMBEDDING_DIM)),
                 *(f"distance_{i}" for i in range(EMBEDDING_DIM)),
                 *(f"difference_{i}" for i in range(EMBEDDING_DIM)),
                 *(f"substitution_{i}" for i in range(SUBSTITUTION_BUCKETS)))
PAIR_DOCUMENT_FEATURES = ("pair_agree_top", "pair_disagree_top", "pair_agree_best", "pair_disagree_best",
                          "pair_other_top")
CANDIDATES = 3


def substitutions(claim: Claim, view: UnitView) -> np.ndarray:
    only_claim = set(claim.weights) - view.content
    only_sentence = view.content - set(claim.weights)
    keys = [f"c:{w}" for w in only_claim] + [f"s:{w}" for w in only_sentence]
    keys += [f"x:{w}|{v}" for w in only_claim for v in only_sentence]
    row = np.zeros(SUBSTITUTION_BUCKETS, dtype=np.float32)
    row[[zlib.crc32(k.encode("utf-8")) % SUBSTITUTION_BUCKETS for k in keys]] = 1.0
    return row


def pair_row(claim: Claim, view: UnitView, claim_vector: np.ndarray, vector: np.ndarray) -> np.ndarray:
    lexical = sentence_features(claim, view, float(claim_vector @ vector))
    return np.concatenate([np.asarray(lexical, dtype=np.float32), claim_vector * vector,
                           np.abs(claim_vector - vector), claim_vector - vector,
                           substitutions(claim, view)]).astype(np.float32)


def candidates(rows: np.ndarray, count: int = CANDIDATES) -> np.ndarray:
    """Indexes of the sentences most about the claim, best first."""
    return np.argsort(-relevance(rows), kind="stable")[:count]


def embed_candidates(claim: Claim, views: list[UnitView], rows: np.ndarray, embedder
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(candidate indexes, claim vector, candidate vectors); sentences are cut to 300 characters, which
    keeps e5's cost down and still holds the clause that matters."""
    order = candidates(rows)
    vectors = embedder.passages([claim.text[:600], *(views[i].unit.text[:300] for i in order)])
    return order, vectors[0], vectors[1:]


def pair_document_features(claim: Claim, views: list[UnitView], rows: np.ndarray, pairs: LinearModel,
                           order: np.ndarray, claim_vector: np.ndarray, vectors: np.ndarray
                           ) -> tuple[np.ndarray, np.ndarray]:
    """(PAIR_DOCUMENT_FEATURES, per-candidate pair probabilities)."""
    if not len(order):
        return np.zeros(len(PAIR_DOCUMENT_FEATURES), dtype=np.float32), np.zeros((0, len(PAIR_LABELS)))
    probs = pairs.probabilities(np.stack([pair_row(claim, views[i], claim_vector, v)
                                          for i, v in zip(order, vectors)]))
    weight = relevance(rows)[order]
    return np.array([probs[0, 0], probs[0, 1], float((probs[:, 0] * weight).max()),
                     float((probs[:, 1] * weight).max()), probs[0, 2]], dtype=np.float32), probs
