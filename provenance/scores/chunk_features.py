"""Chunk-level token features of a document, the input of the document-level meta-classifier (Meeus et al. 2024,
Did the Neurons Read your Book?).
"""

from __future__ import annotations

import math

import numpy as np

from ..lm.token_stats import TokenStats
from .formulas import DEFAULT_K, lowest_k_count, standardised_logprob

DEFAULT_CHUNK_TOKENS = 128
LOGPROB_BIN_EDGES = (-np.inf, -12.0, -9.0, -7.0, -5.0, -3.0, -2.0, -1.0, -0.5, -0.1, np.inf)
RANK_BUCKETS = (1, 10, 100, 1000)
CHUNK_FEATURE_NAMES = (
    ["mean_logprob", "std_logprob", "mink_logprob", "mean_z", "mink_z", "mean_log_rank"]
    + [f"frac_rank_le_{r}" for r in RANK_BUCKETS]
    + [f"frac_logprob_bin_{i}" for i in range(len(LOGPROB_BIN_EDGES) - 1)]
)
AGGREGATES = ("mean", "min", "max", "std")
DOCUMENT_FEATURE_NAMES = [f"{agg}_{name}" for agg in AGGREGATES for name in CHUNK_FEATURE_NAMES]


def chunk_features(stats: TokenStats, chunk_tokens: int = DEFAULT_CHUNK_TOKENS, k: float = DEFAULT_K) -> np.ndarray:
    """Per-chunk token features of one document: array (n_chunks, len(CHUNK_FEATURE_NAMES)), float64.

    The scored tokens are cut into ceil(n / chunk_tokens) nearly equal chunks. For each chunk: mean and standard
    deviation of the token log-probabilities (nats), the mean of its K lowest (Min-K%), the mean and Min-K% of the
    standardised log-probabilities z_t (Min-K%++), the mean natural log of the rank, the fraction of tokens with
    rank <= 1, 10, 100, 1000 (GLTR buckets) and a normalised histogram of log-probabilities over LOGPROB_BIN_EDGES.
    Higher log-probabilities and lower ranks point towards membership.
    """
    if chunk_tokens < 1:
        raise ValueError(f"chunk_tokens must be at least 1; got {chunk_tokens}.")
    if stats.n_scored == 0:
        raise ValueError("A document without scored tokens has no chunk features.")
    lp = stats.logprob.astype(np.float64)
    z = standardised_logprob(stats)
    rank = stats.rank.astype(np.float64)
    rows = []
    for idx in np.array_split(np.arange(stats.n_scored), math.ceil(stats.n_scored / chunk_tokens)):
        c_lp, c_z, c_rank = lp[idx], z[idx], rank[idx]
        K = lowest_k_count(len(idx), k)
        hist = np.histogram(c_lp, bins=np.array(LOGPROB_BIN_EDGES))[0] / len(idx)
        rows.append(np.r_[c_lp.mean(), c_lp.std(), np.sort(c_lp)[:K].mean(), c_z.mean(), np.sort(c_z)[:K].mean(),
                          np.log(c_rank).mean(), [(c_rank <= r).mean() for r in RANK_BUCKETS], hist])
    return np.array(rows)


def document_features(stats: TokenStats, chunk_tokens: int = DEFAULT_CHUNK_TOKENS, k: float = DEFAULT_K) -> np.ndarray:
    """Chunk features aggregated over one document's chunks by mean, min, max and standard deviation:
    array (len(DOCUMENT_FEATURE_NAMES),), float64 (see ``chunk_features``)."""
    chunks = chunk_features(stats, chunk_tokens, k)
    return np.concatenate([chunks.mean(axis=0), chunks.min(axis=0), chunks.max(axis=0), chunks.std(axis=0)])
