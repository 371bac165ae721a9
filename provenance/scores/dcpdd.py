"""DC-PDD (Zhang et al. 2024, "Pretraining Data Detection for Large Language Models: A Divergence-based
Calibration Method"; code github.com/zhang-wei-chao/DC-PDD).

A token's probability under the model is calibrated by its frequency in a reference corpus: for every token that
occurs in the text for the first time (first occurrences only, among the scored tokens 1..n-1),
``alpha_t = p(x_t) * -log f(x_t)`` with ``f`` the Laplace-smoothed corpus frequency
``f(v) = (count(v) + 1) / (N + V)`` (N tokens counted, V the model's vocabulary size, as in the paper's
``fre_dis_smo``), each clipped at ``a`` = 0.01; ``dcpdd`` is their mean. A member's tokens are more probable than
their corpus frequency explains: higher = member (the reference reports ``-mean``, lower = member, and its AUC
negates it again; the peer tool fast-mia skips the smoothing and keeps the reference's negation).

The counts come from texts the user declares (the reference set, or held-out labelled non-members), tokenised with
the model's own tokenizer (special tokens included, as the reference's ``tokenizer.encode`` counts them).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..lm.token_stats import TokenStats, require_scored

DEFAULT_CLIP = 0.01  # the paper's hyper-parameter a


def token_counts(token_ids: Iterable[np.ndarray], vocab_size: int) -> np.ndarray:
    """Counts of every token id over the given token-id arrays: shape (max(vocab_size, largest id + 1),), int64."""
    arrays = [np.asarray(ids, dtype=np.int64) for ids in token_ids]
    width = max([vocab_size] + [int(a.max()) + 1 for a in arrays if a.size])
    counts = np.zeros(width, dtype=np.int64)
    for a in arrays:
        np.add.at(counts, a, 1)
    return counts


def smoothed_frequencies(counts: np.ndarray) -> np.ndarray:
    """Laplace smoothing: (count + 1) / (N + V), shape (V,), float64, all > 0."""
    counts = np.asarray(counts, dtype=np.float64)
    return (counts + 1.0) / (counts.sum() + len(counts))


def first_occurrences(ids: np.ndarray) -> np.ndarray:
    """Indices (ascending) of the first occurrence of each distinct id in ``ids``."""
    _, first = np.unique(np.asarray(ids), return_index=True)
    return np.sort(first)


def dcpdd(stats: TokenStats, frequencies: np.ndarray, clip: float = DEFAULT_CLIP) -> float:
    """mean over first occurrences t of min(p(x_t) * -log f(x_t), clip); ``frequencies`` from
    ``smoothed_frequencies`` (higher = member)."""
    require_scored(stats)
    ids = np.asarray(stats.token_ids[1:], dtype=np.int64)
    idx = first_occurrences(ids)
    p = np.exp(stats.logprob[idx].astype(np.float64))
    f = frequencies[ids[idx]]
    return float(np.mean(np.minimum(p * -np.log(f), clip)))
