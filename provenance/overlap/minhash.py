"""Texts -> word shingles -> MinHash signatures (datasketch's affine32 scheme, vectorised with numpy), and what
signatures estimate: Jaccard similarity, containment, and the standard error of an estimate."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from datasketch import MinHash

from ..documents.words import words

if TYPE_CHECKING:
    from .index import IndexParams

TOKENIZER_NAME = "casefold-words-v1"  # how texts become shingles; part of the format
SCHEME = "affine32"  # datasketch's MinHash permutation scheme (uint32 hash values)

_SIGNATURE_BATCH_SHINGLES = 8192  # shingles permuted per numpy batch (8192 x 128 perms x 4 bytes = 4 MiB: cache-sized)


def shingles(words: Sequence[str], n: int) -> list[str]:
    """Word n-grams joined by single spaces, in text order (with repeats).

    A text with fewer than ``n`` (but at least one) words is one shingle of all its words, so short texts can
    still match; a text without words has no shingles.
    """
    if not words:
        return []
    if len(words) < n:
        return [" ".join(words)]
    return [" ".join(words[i: i + n]) for i in range(len(words) - n + 1)]


def shingle_hashes(items: Iterable[str]) -> np.ndarray:
    """Unique 32-bit hashes of shingles, shape (n_unique,), uint32.

    The hash is datasketch's default ``sha1_hash32`` (first 4 bytes of SHA-1 of the UTF-8 text, little-endian), so
    signatures equal those of ``datasketch.MinHash.update_batch`` on the encoded shingles.
    """
    sha1 = hashlib.sha1
    blob = b"".join(sha1(s.encode("utf-8")).digest()[:4] for s in items)
    return np.unique(np.frombuffer(blob, dtype="<u4").astype(np.uint32))


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, as datasketch's affine32 scheme applies it before permuting."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def permutations(num_perm: int, seed: int) -> np.ndarray:
    """datasketch's affine32 permutation parameters for (num_perm, seed), shape (2, num_perm), uint32."""
    return MinHash(num_perm=num_perm, seed=seed, scheme=SCHEME).permutations


def minhash_signatures(hash_sets: Sequence[np.ndarray], num_perm: int = 128, seed: int = 1) -> np.ndarray:
    """MinHash signatures of sets of 32-bit hashes, vectorised over sets.

    Parameters
    ----------
    hash_sets: one uint32 array per set (from ``shingle_hashes``); every set must be non-empty.

    Returns an array of shape (n_sets, num_perm), uint32, equal to ``datasketch.MinHash(num_perm, seed).hashvalues``
    after ``update_batch`` with the same items.
    """
    a, b = permutations(num_perm, seed)
    out = np.empty((len(hash_sets), num_perm), dtype=np.uint32)
    start = 0
    while start < len(hash_sets):
        stop, total = start, 0
        while stop < len(hash_sets) and (stop == start or total + len(hash_sets[stop]) <= _SIGNATURE_BATCH_SHINGLES):
            total += len(hash_sets[stop])
            stop += 1
        batch = hash_sets[start:stop]
        lengths = np.array([len(h) for h in batch], dtype=np.int64)
        if np.any(lengths == 0):
            raise ValueError("Every set needs at least one element to have a MinHash signature.")
        mixed = _fmix32(np.concatenate(batch).astype(np.uint32, copy=False))
        permuted = np.multiply.outer(mixed, a)  # (n_items, num_perm), wraps mod 2^32
        permuted += b
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        out[start:stop] = np.minimum.reduceat(permuted, offsets, axis=0)
        start = stop
    return out


def text_signature(text: str, params: IndexParams) -> tuple[np.ndarray, int] | None:
    """(signature of shape (num_perm,) uint32, number of unique shingles) of one text, or None if it has no words."""
    hashes = shingle_hashes(shingles(words(text), params.ngram))
    if len(hashes) == 0:
        return None
    return minhash_signatures([hashes], params.num_perm, params.seed)[0], int(len(hashes))


def estimated_jaccard(signature: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Fraction of equal MinHash values: shape (num_perm,) against (k, num_perm) -> (k,) float64 in [0, 1]."""
    return np.mean(others == signature[None, :], axis=1, dtype=np.float64)


def containment_from_jaccard(jaccard: np.ndarray, size_query: int, size_other: np.ndarray) -> np.ndarray:
    """|Q n X| / |Q| from a Jaccard similarity and the two set sizes: |Q n X| = J (|Q| + |X|) / (1 + J).

    Shapes broadcast; the result is clipped to [0, 1].
    """
    jaccard = np.asarray(jaccard, dtype=np.float64)
    inter = jaccard * (size_query + np.asarray(size_other, dtype=np.float64)) / (1.0 + jaccard)
    return np.clip(inter / max(size_query, 1), 0.0, 1.0)



def jaccard_standard_error(jaccard: float, num_perm: int) -> float:
    """Standard error of a MinHash Jaccard estimate: sqrt(J (1 - J) / num_perm)."""
    return math.sqrt(max(jaccard * (1.0 - jaccard), 0.0) / num_perm)
