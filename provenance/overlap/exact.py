"""The exact-excerpt index: winnowed word n-gram fingerprints (Schleimer, Wilkerson and Aiken 2003), so that any
verbatim passage of a queried document inside a corpus document is found however much longer that document is.

Every word n-gram of a text (the index's ``ngram`` words, case-folded, punctuation ignored) gets a 64-bit hash;
from every window of ``w`` consecutive n-gram hashes the smallest is kept as a fingerprint. Two texts sharing a
passage of at least ``w + ngram - 1`` words share a whole window of n-grams, whose smallest hash both keep, so they
share a fingerprint: with ``w = exact_min_words - ngram + 1`` every shared passage of at least ``exact_min_words``
words is found (shorter ones are found only by chance). A text keeps about ``2 / (w + 1)`` fingerprints per word.

A shard's fingerprints are two arrays sorted by hash: ``hashes`` (uint64) and ``docs`` (uint32, the document's
number within its shard), one row per distinct (fingerprint, document) pair: 12 bytes each, looked up with
``numpy.searchsorted``. On disk they are ``<shard>.exact.npz`` (read with ``allow_pickle=False``), covered by the
manifest's checksums like every other shard file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

HASH_NAME = "blake2b64-words-polynomial-v1"  # how word n-grams become 64-bit hashes; part of the format

_POLY = np.uint64(0x9E3779B97F4A7C15)  # odd multiplier of the polynomial n-gram hash
_WORD_CACHE_LIMIT = 2_000_000  # distinct words remembered while hashing (cleared when exceeded)


class WordHashes(dict):
    """A cache of 64-bit word hashes (first 8 bytes of BLAKE2b of the UTF-8 word, little-endian): word -> int.

    Stable across processes and machines (unlike Python's ``hash``), so fingerprints can be saved."""

    def __missing__(self, word: str) -> int:
        if len(self) >= _WORD_CACHE_LIMIT:
            self.clear()
        value = int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")
        self[word] = value
        return value

    def of(self, tokens: Sequence[str]) -> np.ndarray:
        """The hashes of ``tokens``, shape (len(tokens),), uint64."""
        return np.fromiter(map(self.__getitem__, tokens), dtype=np.uint64, count=len(tokens))


def _mix64(h: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: spreads the polynomial hash's bits (uint64 arithmetic wraps)."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def ngram_hashes(word_hashes: np.ndarray, n: int) -> np.ndarray:
    """64-bit hashes of the word n-grams of one text in text order, from its word hashes, shape (len - n + 1,).

    A text with fewer than ``n`` (but at least one) words is one n-gram of all its words, as in
    ``minhash.shingles``; a text without words has none."""
    length = len(word_hashes)
    if length == 0:
        return np.empty(0, dtype=np.uint64)
    n = min(n, length)
    m = length - n + 1
    acc = np.zeros(m, dtype=np.uint64)
    for k in range(n):
        acc = acc * _POLY + word_hashes[k: k + m]
    return _mix64(acc ^ np.uint64(n))


def winnow(hashes: np.ndarray, window: int) -> np.ndarray:
    """The distinct minima of every ``window`` consecutive hashes (all of them when there are fewer), sorted."""
    if len(hashes) == 0:
        return np.empty(0, dtype=np.uint64)
    if len(hashes) <= window:
        return hashes.min(keepdims=True)
    return np.unique(sliding_window_view(hashes, window).min(axis=1))


def window_size(ngram: int, min_words: int) -> int:
    """Winnowing window w for n-grams of ``ngram`` words such that every passage of ``min_words`` words is found."""
    return min_words - ngram + 1


def text_fingerprints(tokens: Sequence[str], ngram: int, min_words: int,
                      cache: WordHashes | None = None) -> np.ndarray:
    """Winnowed fingerprints of one text's words (from ``documents.words``): distinct uint64 hashes, sorted."""
    cache = WordHashes() if cache is None else cache
    return winnow(ngram_hashes(cache.of(tokens), ngram), window_size(ngram, min_words))


@dataclass(eq=False)
class Fingerprints:
    """One shard's exact-excerpt index: ``hashes`` (uint64, sorted) and ``docs`` (uint32, document number within
    the shard), one row per distinct (fingerprint, document) pair."""

    hashes: np.ndarray
    docs: np.ndarray

    @property
    def nbytes(self) -> int:
        """Bytes held by the two arrays."""
        return int(self.hashes.nbytes + self.docs.nbytes)

    @classmethod
    def empty(cls) -> Fingerprints:
        return cls(np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.uint32))

    @classmethod
    def from_texts(cls, word_lists: Sequence[Sequence[str]], ngram: int, min_words: int,
                   cache: WordHashes | None = None) -> Fingerprints:
        """Fingerprints of documents 0, 1, ... given as word lists (each with at least one word)."""
        cache = WordHashes() if cache is None else cache
        window = window_size(ngram, min_words)
        parts = [winnow(ngram_hashes(cache.of(tokens), ngram), window) for tokens in word_lists]
        if not parts:
            return cls.empty()
        counts = np.fromiter((len(p) for p in parts), dtype=np.int64, count=len(parts))
        hashes = np.concatenate(parts)
        docs = np.repeat(np.arange(len(parts), dtype=np.uint32), counts)
        order = np.argsort(hashes, kind="stable")  # per document the hashes are distinct; docs stay ascending
        return cls(hashes[order], docs[order])

    @classmethod
    def concatenate(cls, parts: Sequence[tuple[Fingerprints, int]]) -> Fingerprints:
        """One shard's fingerprints from blocks of consecutive documents: (fingerprints, first document number)."""
        if not parts:
            return cls.empty()
        hashes = np.concatenate([f.hashes for f, _ in parts])
        docs = np.concatenate([f.docs + np.uint32(start) for f, start in parts])
        order = np.argsort(hashes, kind="stable")
        return cls(hashes[order], docs[order])

    def check(self, n_docs: int) -> str | None:
        """What is wrong with arrays read from a file for a shard of ``n_docs`` documents, or None."""
        h, d = self.hashes, self.docs
        if h.dtype != np.uint64 or d.dtype != np.uint32 or h.ndim != 1 or d.shape != h.shape:
            return f"its arrays have the wrong type or shape ({h.dtype} {h.shape}, {d.dtype} {d.shape})"
        if len(h) and (np.any(h[1:] < h[:-1]) or int(d.max()) >= n_docs):
            return "its fingerprints are not sorted or name documents the shard does not hold"
        if n_docs and (not len(h) or np.bincount(d, minlength=n_docs).min() == 0):
            return "some of the shard's documents have no fingerprints"
        return None

    def lookup(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Documents holding any of the ``query`` fingerprints (distinct uint64): (document numbers within the
        shard, how many of the query's fingerprints each holds), numbers ascending."""
        lo = np.searchsorted(self.hashes, query, side="left")
        hi = np.searchsorted(self.hashes, query, side="right")
        hit = hi > lo
        if not hit.any():
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        lo, hi = lo[hit], hi[hit]
        total = int((hi - lo).sum())
        # positions lo[i] .. hi[i] - 1 of every hit, without a Python loop
        starts = np.repeat(lo - np.concatenate([[0], np.cumsum(hi - lo)[:-1]]), hi - lo)
        positions = starts + np.arange(total)
        return np.unique(self.docs[positions].astype(np.int64), return_counts=True)


def lookup_shards(shards: Sequence[Fingerprints], starts: np.ndarray, query: np.ndarray,
                  limit: int | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Corpus documents sharing fingerprints with a query, over shards whose first document ids are ``starts``:
    (document ids, shared fingerprint counts), most shared first (then by id), at most ``limit`` of them, and how
    many documents share any."""
    ids, counts = [], []
    for shard, start in zip(shards, starts):
        found, shared = shard.lookup(query)
        ids.append(found + int(start))
        counts.append(shared)
    if not ids:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), 0
    ids, counts = np.concatenate(ids), np.concatenate(counts)
    order = np.lexsort((ids, -counts))[:limit]
    return ids[order], counts[order], len(ids)
