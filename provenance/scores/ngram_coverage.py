"""N-gram coverage: a black-box membership score from sampled continuations (design.md, ``ngram_coverage``).

The model continues the first half of a text several times (sampling, fixed seed). For each continuation, the
coverage at length L is the fraction of its words that lie inside some run of at least L consecutive words that
also occurs, contiguously, in the text's true second half. The score sums the coverages over L = 2..12 and takes
the best continuation: a model that saw the text tends to reproduce long runs of it, so higher = member. It needs
only generated text, not probabilities, which is why it also works against APIs.

Words are case-folded runs of word characters (punctuation ignored): ``provenance.documents.words``, the one
definition corpus overlap uses too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..documents.words import word_spans, words
from ..lm.interface import LanguageModel

DEFAULT_MIN_N = 2
DEFAULT_MAX_N = 12
DEFAULT_SAMPLES = 5
DEFAULT_MAX_NEW_TOKENS = 256


def split_halves(text: str) -> tuple[str, str]:
    """(first half, second half) of a text, split between words.

    With W words the first half holds the first ceil(W / 2) words and ends right after the last of them (no
    trailing space, so the prompt is the text exactly as written); the second half starts at the next word.
    A text with fewer than 2 words has an empty second half.
    """
    spans = word_spans(text)[1]
    if len(spans) < 2:
        return text, ""
    k = (len(spans) + 1) // 2
    return text[: int(spans[k - 1, 1])], text[int(spans[k, 0]):]


def longest_match_ends(generated: Sequence[str], reference: Sequence[str]) -> np.ndarray:
    """For each generated word position e, the length of the longest run of generated words ending at e that also
    occurs contiguously in ``reference``. Shape (len(generated),), int64.

    Dynamic programming over common suffixes, one numpy row per generated word: O(len(generated) x len(reference)).
    """
    out = np.zeros(len(generated), dtype=np.int64)
    if not generated or not reference:
        return out
    vocab: dict[str, int] = {}
    ref = np.array([vocab.setdefault(w, len(vocab)) for w in reference], dtype=np.int64)
    prev = np.zeros(len(ref) + 1, dtype=np.int64)
    for e, w in enumerate(generated):
        cur = np.zeros_like(prev)
        wid = vocab.get(w)
        if wid is not None:
            same = ref == wid
            cur[1:] = np.where(same, prev[:-1] + 1, 0)
        out[e] = cur.max()
        prev = cur
    return out


def coverage_profile(generated: Sequence[str], reference: Sequence[str], min_n: int = DEFAULT_MIN_N,
                     max_n: int = DEFAULT_MAX_N) -> np.ndarray:
    """Coverage of generated words by reference n-grams for L = min_n..max_n: shape (max_n - min_n + 1,), each in
    [0, 1]. Entry L is the fraction of generated words inside a run of >= L words that occurs in ``reference``."""
    if min_n < 1 or max_n < min_n:
        raise ValueError(f"The n-gram lengths must satisfy 1 <= min_n <= max_n; got {min_n} and {max_n}.")
    lengths = np.arange(min_n, max_n + 1)
    if not generated:
        return np.zeros(len(lengths))
    ends = longest_match_ends(generated, reference)
    profile = np.zeros(len(lengths))
    for col, L in enumerate(lengths):
        covered = np.zeros(len(generated) + 1, dtype=np.int64)  # difference array of covered intervals
        for e in np.flatnonzero(ends >= L):
            covered[e - ends[e] + 1] += 1
            covered[e + 1] -= 1
        profile[col] = np.count_nonzero(np.cumsum(covered[:-1])) / len(generated)
    return profile


def coverage_score(samples: Sequence[str], reference: str, min_n: int = DEFAULT_MIN_N,
                   max_n: int = DEFAULT_MAX_N) -> float:
    """max over samples of the summed coverage profile: a value in [0, max_n - min_n + 1] (0 with no samples)."""
    ref = words(reference)
    return max((float(coverage_profile(words(s), ref, min_n, max_n).sum()) for s in samples), default=0.0)


def ngram_coverage(model: LanguageModel, text: str, *, num_samples: int = DEFAULT_SAMPLES,
                   min_n: int = DEFAULT_MIN_N, max_n: int = DEFAULT_MAX_N, max_new_tokens: int | None = None,
                   temperature: float = 1.0, top_p: float = 1.0, seed: int = 0) -> float:
    """N-gram coverage membership score of one text (higher = more likely a member), in [0, max_n - min_n + 1].

    The model continues ``split_halves(text)[0]`` ``num_samples`` times; each continuation is as many tokens long
    as the true second half (at most ``max_new_tokens``, default 256, and half the model's context). Returns the best continuation's coverage
    summed over L = min_n..max_n. A text whose second half has no words scores 0 (nothing can be covered).
    """
    prefix, reference = split_halves(text)
    if not words(reference):
        return 0.0
    n_ref_tokens = model.count_tokens(reference, special_tokens=False)
    budget = DEFAULT_MAX_NEW_TOKENS if max_new_tokens is None else max_new_tokens
    # at most half the context, so the prompt always keeps the other half
    n_new = max(1, min(n_ref_tokens, budget, model.context_length // 2))
    samples = model.sampled_continuations(prefix, num_samples=num_samples, max_new_tokens=n_new,
                                          temperature=temperature, top_p=top_p, seed=seed)
    return coverage_score(samples, reference, min_n, max_n)
