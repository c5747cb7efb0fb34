"""Near-duplicate articles: MinHash over normalized word 5-shingles, LSH banding, then an exact check.

A document's shingles are the 5-word windows of its clean paragraphs read as one word sequence (so the
same text split into paragraphs differently shingles the same), after `normalize_for_match`. Each
shingle is hashed with CRC-32 and each of 128 permutations is a fixed multiply-shift hash of it
(seeded, so signatures are stable across runs and machines). LSH cuts a signature into 64 bands of 2
rows; documents sharing a band are candidates, those whose estimated overlap is close are checked on
their exact shingle sets, and a pair counts when Jaccard >= 0.5 or containment (|A and B| over the
smaller set) >= 0.8: a re-scrape with different boilerplate, or a wire copy with an extra paragraph.
A containment from 0.6 to 0.8 counts too when the smaller text's distinctive words are in the other:
its full-text index terms (title and paragraphs) weighted by their inverse frequency in the index, at
least 0.85 of the weight shared. That keeps copies trimmed and edited harder, and leaves out the
texts of one template (a cable of congratulations, a weather bulletin, a court notice) naming other
people, places or figures: they share the frame, not the names. In a workspace too small for word
frequencies to mean anything (BAND_MIN_UNITS) only the first rule applies.

Incremental: new documents are signed and compared against the signatures stored in the workspace
(loaded once into the LSH buckets, never recomputed), then stored with the pairs they form.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from tabayyun.arabic import normalize_for_match
from tabayyun.store.duplicatestore import SCHEME

SHINGLE_WORDS = 5
NUM_PERM = 128
BANDS, ROWS = 64, 2
SEED = 20240905
JACCARD_MIN = 0.5
CONTAINMENT_MIN = 0.8
MIN_SHINGLES = 5          # containment alone is not trusted on fewer shingles than this
BAND_MIN = 0.6            # containment from here to CONTAINMENT_MIN: the distinctive words decide
DISTINCTIVE_MIN = 0.85
DF_CAP = 1000             # index units counted per term at most: past it a word weighs next to nothing
BAND_MIN_UNITS = 2000     # the index size (titles and paragraphs) from which word frequencies mean something
SHINGLE_CACHE = 30_000_000   # shingle hashes kept for the exact checks (4 bytes each, about 60,000 articles)
METHOD = "minhash-lsh+exact"
METHOD_DISTINCTIVE = "minhash-lsh+exact+distinctive-words"
_WORD = re.compile(r"\w+")

_rng = np.random.default_rng(SEED)
_A = _rng.integers(1, 2**63, size=NUM_PERM, dtype=np.uint64) | np.uint64(1)   # odd multipliers
_B = _rng.integers(0, 2**63, size=NUM_PERM, dtype=np.uint64)


def shingles(paragraphs: list[str], size: int = SHINGLE_WORDS) -> set[int]:
    """The CRC-32 hashes of the normalized word `size`-shingles of the paragraphs (read as one text);
    a text shorter than `size` words gives one shingle of all its words, an empty one none."""
    words = _WORD.findall(normalize_for_match(" ".join(paragraphs)))
    if not words:
        return set()
    if len(words) < size:
        return {zlib.crc32(" ".join(words).encode("utf-8"))}
    return {zlib.crc32(" ".join(words[i:i + size]).encode("utf-8")) for i in range(len(words) - size + 1)}


def hash_array(hashes: set[int]) -> np.ndarray:
    """Shingle hashes as a sorted uint32 array: a tenth of a set's memory, and intersected in C."""
    return np.sort(np.fromiter(hashes, dtype=np.uint32, count=len(hashes)))


def signature(hashes: set[int] | np.ndarray) -> np.ndarray:
    """The MinHash signature (NUM_PERM uint32) of shingle hashes (a set, or a `hash_array`); all ones
    when there are none."""
    if not len(hashes):
        return np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32)
    if isinstance(hashes, np.ndarray):
        values = hashes.astype(np.uint64)
    else:
        values = np.fromiter(hashes, dtype=np.uint64, count=len(hashes))
    with np.errstate(over="ignore"):
        permuted = (_A[:, None] * values[None, :] + _B[:, None]) >> np.uint64(32)
    return permuted.min(axis=1).astype(np.uint32)


def sign(paragraphs: list[str]) -> tuple[int, np.ndarray, np.ndarray]:
    """A document's (shingle count, `signature`, `hash_array`): what a worker sends and the finder keeps."""
    found = hash_array(shingles(paragraphs))
    return len(found), signature(found), found


def estimate(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float(np.count_nonzero(sig_a == sig_b)) / NUM_PERM


def _ratios(common: int, size_a: int, size_b: int) -> tuple[float, float]:
    return common / (size_a + size_b - common), common / min(size_a, size_b)


def compare(a: set[int], b: set[int]) -> tuple[float, float]:
    """Exact (Jaccard, containment) of two shingle sets."""
    if not a or not b:
        return 0.0, 0.0
    return _ratios(len(a & b), len(a), len(b))


def compare_arrays(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """`compare` of two `hash_array`s."""
    if not a.size or not b.size:
        return 0.0, 0.0
    return _ratios(np.intersect1d(a, b, assume_unique=True).size, a.size, b.size)


def is_duplicate(jaccard: float, containment: float, smaller: int) -> bool:
    return jaccard >= JACCARD_MIN or (containment >= CONTAINMENT_MIN and smaller >= MIN_SHINGLES)


def in_band(containment: float, smaller: int) -> bool:
    """Whether a pair that `is_duplicate` refused is close enough for its distinctive words to decide."""
    return BAND_MIN <= containment < CONTAINMENT_MIN and smaller >= MIN_SHINGLES


def distinctive_share(smaller: set[str], other: set[str], frequency: dict[str, int], units: int) -> float:
    """The share of the weight of `smaller`'s terms found in `other`, each term weighing
    log((units + 1) / (df + 1)) with its index frequency `df` capped at DF_CAP."""
    def weight(term: str) -> float:
        return math.log((units + 1) / (min(frequency.get(term, 0), DF_CAP, units) + 1))

    total = sum(weight(term) for term in smaller)
    return sum(weight(term) for term in smaller & other) / total if total else 0.0


def _plausible(est: float, size_a: int, size_b: int) -> bool:
    """Whether an estimated Jaccard leaves room for a duplicate (checked exactly afterwards); generous,
    because 128 permutations estimate with a standard error of up to 0.045."""
    if est >= JACCARD_MIN - 0.15:
        return True
    common = est * (size_a + size_b) / (1 + est)
    return common / max(1, min(size_a, size_b)) >= BAND_MIN - 0.25


@dataclass
class Pair:
    a: str
    b: str
    jaccard: float
    containment: float
    method: str = METHOD


class DuplicateFinder:
    """The LSH buckets of a workspace's stored signatures, loaded once; `add` signs new documents,
    finds their near-duplicates, and stores both."""

    def __init__(self, storage):
        self.storage = storage
        self.signed = 0                     # documents signed by this finder
        self.pairs_found = 0
        self._buckets: list[dict[bytes, list[str]]] | None = None
        self._sigs: dict[str, tuple[int, np.ndarray]] = {}
        self._shingles: dict[str, np.ndarray] = {}   # `hash_array`s, up to SHINGLE_CACHE hashes in all
        self._cached = 0
        self._frequency: dict[str, int] = {}    # index document frequencies looked up so far

    def _load(self) -> None:
        if self._buckets is not None:
            return
        self._buckets = [defaultdict(list) for _ in range(BANDS)]
        for doc_id, count, blob in self.storage.signatures(SCHEME):
            self._insert(doc_id, count, np.frombuffer(blob, dtype="<u4"))

    def _insert(self, doc_id: str, count: int, sig: np.ndarray) -> None:
        self._sigs[doc_id] = (count, sig)
        raw = sig.astype("<u4").tobytes()
        step = ROWS * 4
        for band, bucket in enumerate(self._buckets):
            bucket[raw[band * step:(band + 1) * step]].append(doc_id)

    def _candidates(self, sig: np.ndarray) -> set[str]:
        raw = sig.astype("<u4").tobytes()
        step = ROWS * 4
        found: set[str] = set()
        for band, bucket in enumerate(self._buckets):
            found.update(bucket.get(raw[band * step:(band + 1) * step], ()))
        return found

    def _keep(self, doc_id: str, hashes: np.ndarray) -> None:
        if self._cached + hashes.size > SHINGLE_CACHE:   # a long ingest: keep memory flat
            self._shingles.clear()
            self._cached = 0
        self._shingles[doc_id] = hashes
        self._cached += hashes.size

    def _shingles_of(self, doc_ids: list[str]) -> dict[str, np.ndarray]:
        found = {d: self._shingles[d] for d in doc_ids if d in self._shingles}
        missing = [d for d in doc_ids if d not in found]
        if missing:
            for doc_id, paragraphs in self.storage.paragraph_lists(missing).items():
                found[doc_id] = hash_array(shingles(paragraphs))
                self._keep(doc_id, found[doc_id])
        return found

    def add(self, docs: list[tuple[str, list[str] | None]],
            presigned: dict[str, tuple[int, np.ndarray, np.ndarray | None]] | None = None) -> list[Pair]:
        """Sign (doc_id, paragraphs) documents, compare each with every stored or earlier one, and store
        the signatures and the pairs in one transaction; returns the new pairs. `presigned`: doc_id ->
        (shingle count, signature, `hash_array` or None) computed by a worker; a document given without
        paragraphs or hashes has them read back only when a candidate needs the exact check."""
        self._load()
        rows, pairs = [], []
        for doc_id, paragraphs in docs:
            if doc_id in self._sigs:
                continue
            count, sig, hashes = presigned.get(doc_id, (0, None, None)) if presigned else (0, None, None)
            if hashes is None and paragraphs is not None:
                if sig is None:
                    count, sig, hashes = sign(paragraphs)
                else:      # the worker's signature stands: only the hashes are missing
                    hashes = hash_array(shingles(paragraphs))
            if hashes is not None:
                # Kept for the exact checks: the copies that come later are compared without a read back.
                self._keep(doc_id, hashes)
            rows.append((doc_id, SCHEME, count, sig.astype("<u4").tobytes() if count else b""))
            self.signed += 1
            if not count:
                continue
            close = [other for other in self._candidates(sig)
                     if _plausible(estimate(sig, self._sigs[other][1]), count, self._sigs[other][0])]
            hashes = self._shingles_of([doc_id])[doc_id] if close else None
            for other, other_hashes in sorted(self._shingles_of(close).items()):
                jaccard, containment = compare_arrays(hashes, other_hashes)
                method = self._judge(doc_id, hashes.size, other, other_hashes.size, jaccard, containment)
                if method:
                    a, b = sorted((doc_id, other))
                    pairs.append(Pair(a, b, round(jaccard, 4), round(containment, 4), method))
            self._insert(doc_id, count, sig)
        self.storage.add_signatures(rows, [(p.a, p.b, p.jaccard, p.containment, p.method) for p in pairs])
        self.pairs_found += len(pairs)
        return pairs

    def _judge(self, doc_id: str, size: int, other: str, other_size: int, jaccard: float,
               containment: float) -> str | None:
        """The rule that makes two documents (of `size` and `other_size` shingles) near-duplicates:
        METHOD or METHOD_DISTINCTIVE; None when none does."""
        if is_duplicate(jaccard, containment, min(size, other_size)):
            return METHOD
        if not in_band(containment, min(size, other_size)):
            return None
        shorter, longer = (doc_id, other) if size <= other_size else (other, doc_id)
        terms = self.storage.document_terms([shorter, longer])
        units = self._lookup_frequencies(terms[shorter])
        if units < BAND_MIN_UNITS:
            return None
        share = distinctive_share(terms[shorter], terms[longer], self._frequency, units)
        return METHOD_DISTINCTIVE if share >= DISTINCTIVE_MIN else None

    def _lookup_frequencies(self, terms: set[str]) -> int:
        """Look up the index frequencies of `terms` not seen yet; returns the index's size in units."""
        if len(self._frequency) > 500_000:      # a long ingest: keep memory flat
            self._frequency.clear()
        # Not `terms - self._frequency.keys()`: a set minus a dict view walks the whole dict.
        frequencies, units = self.storage.term_frequencies(
            sorted(term for term in terms if term not in self._frequency), DF_CAP)
        self._frequency.update(frequencies)
        return units

    def sign_missing(self, batch: int = 500) -> int:
        """Sign every document of the workspace that has no signature yet; returns how many."""
        done = 0
        while True:
            ids = self.storage.unsigned(SCHEME, batch)
            if not ids:
                return done
            texts = self.storage.paragraph_lists(ids)
            self.add([(doc_id, texts[doc_id]) for doc_id in ids])
            done += len(ids)


def duplicate_groups(storage, passages: bool = False) -> list[dict]:
    """The groups of near-duplicate documents (connected components of the stored pairs), largest
    first: {"documents": [{id, title, outlet, published}], "pairs": [{a, b, jaccard, containment, method}],
    "syndication": {first, first_note, tied, undated, credited, uncredited, evidence}} (see
    `tabayyun.connect.syndication`); documents in order of publication (undated last). With
    `passages`, each pair also gets "passages": [{a: {paragraph, start, end}, b: {...}, text, words}]
    (see `tabayyun.connect.passages`)."""
    pairs = storage.duplicate_pairs()
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b, *_ in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members: dict[str, list[str]] = defaultdict(list)
    for doc_id in parent:
        members[root(doc_id)].append(doc_id)
    summaries = storage.summaries(list(parent))
    groups = []
    for key, ids in members.items():
        docs = [{"id": d, **summaries.get(d, {"title": None, "outlet": None, "published": None})} for d in ids]
        docs.sort(key=lambda d: (d["published"] is None, d["published"] or "", d["id"]))
        group_pairs = [{"a": a, "b": b, "jaccard": j, "containment": c, "method": m}
                       for a, b, j, c, m in pairs if root(a) == key]
        groups.append({"documents": docs, "pairs": group_pairs})
    groups.sort(key=lambda g: (-len(g["documents"]), g["documents"][0]["published"] is None,
                               g["documents"][0]["published"] or "", g["documents"][0]["id"]))
    _describe(storage, groups, passages)
    return groups


def _describe(storage, groups: list[dict], passages: bool) -> None:
    """Add each group's syndication and, with `passages`, each pair's shared passages (documents
    loaded one group at a time)."""
    from tabayyun.connect.passages import shared_passages
    from tabayyun.connect.syndication import syndication

    for group in groups:
        docs = storage.analyses([d["id"] for d in group["documents"]])
        group["syndication"] = syndication([docs[d["id"]] for d in group["documents"] if d["id"] in docs]).to_dict()
        if passages:
            for pair in group["pairs"]:
                found = shared_passages(docs[pair["a"]], docs[pair["b"]]) if {pair["a"], pair["b"]} <= set(docs) else []
                pair["passages"] = [p.to_dict() for p in found]
