"""Membership score formulas over TokenStats: one function per score, exactly as defined in design.md (registered
with their names, labels and needs in registry.py).

Every score is oriented "higher = more likely a member". NLL is the mean negative log-likelihood (nats per scored
token); K = max(1, floor(k * n)) for n scored tokens, so no score is NaN for a text with at least one scored token.
A text with no scored token raises NoScoredTokensError with a sentence for the user.
"""

from __future__ import annotations

import math
import zlib as _zlib

import numpy as np

from ..lm.token_stats import TokenStats, bits_per_byte, require_scored

DEFAULT_K = 0.2  # the share of tokens Min-K% and Min-K%++ average over (their papers' default)

# Floors that keep ratios and z-scores finite; they only matter for degenerate, near-certain predictions.
_TINY_NLL = 1e-12
_TINY_SIGMA = 1e-6


def nll(stats: TokenStats) -> float:
    """Mean negative log-likelihood over scored tokens, in nats (>= 0)."""
    return stats.nll


def loss(stats: TokenStats) -> float:
    """-NLL: higher = the model finds the text more likely."""
    return -stats.nll


def perplexity(stats: TokenStats) -> float:
    """exp(NLL), reported beside ``loss`` (lower perplexity = more likely a member)."""
    return math.exp(stats.nll)


def zlib_score(stats: TokenStats) -> float:
    """-NLL / len(zlib.compress(text.encode('utf-8'))): likelihood relative to the text's own redundancy."""
    return -stats.nll / len(_zlib.compress(stats.text.encode("utf-8")))


def lowercase(stats: TokenStats, lower_stats: TokenStats) -> float:
    """NLL(text.lower()) / NLL(text): a member loses more likelihood when its exact casing is changed."""
    return lower_stats.nll / max(stats.nll, _TINY_NLL)


def lowest_k_count(n: int, k: float) -> int:
    """K = max(1, floor(k * n)) for n scored tokens."""
    if not 0 < k <= 1:
        raise ValueError(f"k must be in (0, 1]; got {k}.")
    return max(1, int(math.floor(k * n)))


def mink(stats: TokenStats, k: float = DEFAULT_K) -> float:
    """Min-K% Prob: mean of the K lowest token log-probabilities (Shi et al. 2023)."""
    require_scored(stats)
    K = lowest_k_count(stats.n_scored, k)
    return float(np.mean(np.sort(stats.logprob.astype(np.float64))[:K]))


def standardised_logprob(stats: TokenStats) -> np.ndarray:
    """z_t = (l_t - mu_t) / sigma_t, shape (n_scored,), float64."""
    sigma = np.maximum(stats.sigma.astype(np.float64), _TINY_SIGMA)
    return (stats.logprob.astype(np.float64) - stats.mu.astype(np.float64)) / sigma


def minkpp(stats: TokenStats, k: float = DEFAULT_K) -> float:
    """Min-K%++: mean of the K lowest standardised log-probabilities z_t (Zhang et al. 2024)."""
    require_scored(stats)
    K = lowest_k_count(stats.n_scored, k)
    return float(np.mean(np.sort(standardised_logprob(stats))[:K]))


def ref(target_stats: TokenStats, ref_stats: TokenStats, same_tokenizer: bool = True) -> float:
    """NLL_ref - NLL_target: the target finds the text easier than a reference model does.

    Across different tokenizers per-token NLLs are not comparable, so both are taken in bits per byte.
    """
    if same_tokenizer:
        return ref_stats.nll - target_stats.nll
    return bits_per_byte(ref_stats) - bits_per_byte(target_stats)


def binoculars(stats: TokenStats) -> float:
    """-(NLL_performer / mean cross-entropy(observer -> performer)) (Hans et al. 2024); needs ``stats.xent``."""
    require_scored(stats)
    if len(stats.xent) != stats.n_scored:
        raise ValueError("Binoculars needs statistics computed with an observer model (pass --observer).")
    return -stats.nll / max(float(np.mean(stats.xent, dtype=np.float64)), _TINY_NLL)


def gradnorm(parameter_norms: np.ndarray) -> float:
    """-(mean over parameter tensors of the L-infinity gradient norm of NLL): members sit near a minimum."""
    return -float(np.mean(parameter_norms))
