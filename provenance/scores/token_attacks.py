"""Scores that select or smooth per-token statistics: Gap-K% and Tag&Tab.

- Gap-K% (Kwak & Kim 2026, "Gap-K%: Measuring Top-1 Prediction Gap for Detecting Pretraining Data"; code
  github.com/meaoww/gap-k): per scored token ``g_t = (l_t - max_v log p_t(v)) / sigma_t`` (<= 0: how far the
  observed token falls below the model's first choice, in units of the distribution's spread), smoothed by a moving
  average over ``window`` = 3 consecutive tokens (no smoothing for shorter texts), then the mean of the K lowest
  smoothed values, K = max(1, floor(k * m)) for m smoothed values, k = 0.2. Training pushes the observed token to
  the top, so members have smaller gaps: higher = member. Needs the top-1 log-probability (top-k) and sigma
  (moments).
- Tag&Tab (Antebi et al. 2025, "Tag&Tab: Pretraining Data Detection in Large Language Models Using Keyword-Based
  Membership Inference Attack"; code github.com/sagivantebi/Tag-Tab): in every sentence, tag the ``keywords`` = 4
  words of lowest entropy ``-p log2 p`` (p = the word's relative frequency in a reference corpus: the rarest words;
  words the corpus never saw have p = 0 and entropy 0, so they come first, as unknown words do under the paper's
  word-frequency table), then average the log-probabilities of every token that overlaps one of them: higher =
  member. Words are whitespace-separated, lower-cased, punctuation stripped, as in the reference. Differences from
  the reference: word frequencies come from texts the user declares (the reference uses the ``wordfreq`` package's
  English table, a dependency this project does not have and one tuned to English only), named
  entities are not added (spaCy's models cannot be installed offline), and every sentence counts (the reference
  keeps sentences of 7 or more words).
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable

import numpy as np

from ..lm.token_stats import TokenStats, require_scored
from .formulas import DEFAULT_K, lowest_k_count

GAPK_WINDOW = 3
TAGTAB_KEYWORDS = 4
_TINY_SIGMA = 1e-6
_PUNCTUATION = str.maketrans("", "", string.punctuation)
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")


def top1_gaps(stats: TokenStats) -> np.ndarray:
    """g_t = (l_t - top-1 log-probability) / sigma_t, shape (n_scored,), float64; needs ``stats.top_logprobs``."""
    if stats.top_logprobs.ndim != 2 or stats.top_logprobs.shape[1] < 1 or len(stats.top_logprobs) != stats.n_scored:
        raise ValueError("Gap-K% needs statistics computed with at least the top-1 alternative (top_k >= 1).")
    top1 = stats.top_logprobs[:, 0].astype(np.float64)
    sigma = np.maximum(stats.sigma.astype(np.float64), _TINY_SIGMA)
    return (stats.logprob.astype(np.float64) - top1) / sigma


def moving_average(x: np.ndarray, window: int) -> np.ndarray:
    """Means of every ``window`` consecutive values (len(x) - window + 1 of them); ``x`` itself when shorter."""
    x = np.asarray(x, dtype=np.float64)
    if window <= 1 or len(x) < window:
        return x
    return np.convolve(x, np.ones(window) / window, mode="valid")


def gapk(stats: TokenStats, k: float = DEFAULT_K, window: int = GAPK_WINDOW) -> float:
    """Gap-K%: mean of the K lowest moving averages of the normalised top-1 gaps (higher = member)."""
    require_scored(stats)
    smoothed = moving_average(top1_gaps(stats), window)
    return float(np.mean(np.sort(smoothed)[:lowest_k_count(len(smoothed), k)]))


def normalise_word(word: str) -> str:
    """Lower-cased, punctuation removed (the reference's ``_normalize_token``)."""
    return re.sub(r"\s+", "", word.lower().translate(_PUNCTUATION))


def word_counts(texts: Iterable[str]) -> Counter:
    """Counts of normalised whitespace-separated words over ``texts``."""
    counts: Counter = Counter()
    for text in texts:
        counts.update(w for w in (normalise_word(x) for x in text.split()) if w)
    return counts


def word_entropy(word: str, counts: Counter, total: int) -> float:
    """-p log2 p with p = counts[word] / total (0 for a word never counted)."""
    p = counts.get(word, 0) / total if total else 0.0
    return -p * math.log2(p) if p > 0 else 0.0


def keyword_spans(text: str, counts: Counter, keywords: int = TAGTAB_KEYWORDS) -> list[tuple[int, int]]:
    """Character spans (start, end) in ``text`` of each sentence's ``keywords`` lowest-entropy distinct words (first
    occurrence in the sentence; ties keep the sentence's order)."""
    total = sum(counts.values())
    spans: list[tuple[int, int]] = []
    for sentence in _SENTENCE.finditer(text):
        first: dict[str, tuple[int, int]] = {}
        for m in re.finditer(r"\S+", sentence.group()):
            w = normalise_word(m.group())
            if w and w not in first:
                first[w] = (sentence.start() + m.start(), sentence.start() + m.end())
        chosen = sorted(first, key=lambda w: word_entropy(w, counts, total))[:keywords]
        spans.extend(first[w] for w in chosen)
    return spans


def tagtab(stats: TokenStats, counts: Counter, keywords: int = TAGTAB_KEYWORDS) -> float:
    """Tag&Tab: mean log-probability of the scored tokens that overlap a keyword (higher = member); NaN when no
    scored token does."""
    require_scored(stats)
    spans = keyword_spans(stats.text, counts, keywords)
    starts, ends = stats.offsets[1:, 0], stats.offsets[1:, 1]
    mask = np.zeros(stats.n_scored, dtype=bool)
    for a, b in spans:
        mask |= (starts < b) & (ends > a)
    if not mask.any():
        return math.nan
    return float(np.mean(stats.logprob[mask], dtype=np.float64))
