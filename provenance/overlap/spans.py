"""Exact verification of a candidate match: n-gram set overlap, and the longest runs of identical words shared by
two texts with their character offsets (what a page highlights side by side)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..documents.words import word_spans
from .minhash import shingles

_MAX_SEED_POSITIONS = 64  # span search: positions followed per repeated n-gram, bounds repetitive texts


@dataclass(frozen=True)
class Span:
    """A run of identical words in two texts: character offsets [start, end) in each, and its length in words."""

    words: int
    query_start: int
    query_end: int
    match_start: int
    match_end: int


def exact_overlap(query_words: Sequence[str], match_words: Sequence[str], n: int) -> dict[str, float | int]:
    """Exact n-gram set overlap of two word sequences.

    Returns ``jaccard`` = |Q n X| / |Q u X|, ``containment`` = |Q n X| / |Q| (how much of the query is inside the
    match), ``match_containment`` = |Q n X| / |X|, and the set sizes ``shared``, ``query_ngrams``, ``match_ngrams``.
    """
    q, x = set(shingles(query_words, n)), set(shingles(match_words, n))
    shared = len(q & x)
    union = len(q) + len(x) - shared
    return {
        "jaccard": shared / union if union else 0.0,
        "containment": shared / len(q) if q else 0.0,
        "match_containment": shared / len(x) if x else 0.0,
        "shared": shared,
        "query_ngrams": len(q),
        "match_ngrams": len(x),
    }


def maximal_matches(a: Sequence[str], b: Sequence[str], min_words: int) -> list[tuple[int, int, int]]:
    """All maximal runs of equal words shared by ``a`` and ``b`` that are at least ``min_words`` long.

    Seed-and-extend: every ``min_words``-gram of ``b`` found in ``a`` is extended forward along its diagonal;
    a seed inside an already extended run is skipped. Returns (start in a, start in b, length) tuples. Each
    n-gram follows at most 64 of its positions in ``a``, which bounds the work on very repetitive texts.
    """
    min_words = max(1, min_words)
    if len(a) < min_words or len(b) < min_words:
        return []
    seeds: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i in range(len(a) - min_words + 1):
        positions = seeds[tuple(a[i: i + min_words])]
        if len(positions) < _MAX_SEED_POSITIONS:
            positions.append(i)
    reached: dict[int, int] = {}  # diagonal (i - j) -> first b position after the last run extended on it
    runs = []
    for j in range(len(b) - min_words + 1):
        for i in seeds.get(tuple(b[j: j + min_words]), ()):
            if reached.get(i - j, -1) > j:
                continue
            k = min_words
            while i + k < len(a) and j + k < len(b) and a[i + k] == b[j + k]:
                k += 1
            reached[i - j] = j + k
            runs.append((i, j, k))
    return runs


def matching_spans(query_text: str, match_text: str, *, min_words: int = 5, max_spans: int = 5) -> list[Span]:
    """The longest runs of identical words (case-folded, punctuation ignored) shared by two texts.

    Longest first, at most ``max_spans``, no two overlapping in the query; each has character offsets in both
    texts so a page can highlight them side by side.
    """
    qw, qs = word_spans(query_text)
    mw, ms = word_spans(match_text)
    runs = sorted(maximal_matches(qw, mw, min_words), key=lambda r: (-r[2], r[0], r[1]))
    chosen: list[Span] = []
    taken = np.zeros(len(qw), dtype=bool)
    for i, j, k in runs:
        if len(chosen) >= max_spans:
            break
        if taken[i: i + k].any():
            continue
        taken[i: i + k] = True
        chosen.append(Span(words=k, query_start=int(qs[i, 0]), query_end=int(qs[i + k - 1, 1]),
                           match_start=int(ms[j, 0]), match_end=int(ms[j + k - 1, 1])))
    return chosen
