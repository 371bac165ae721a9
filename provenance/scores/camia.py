"""CAMIA (Chang et al. 2025, "Context-Aware Membership Inference Attacks against Pre-trained Large Language
Models", EMNLP 2025; code github.com/changhongyan123/context_aware_mia).

CAMIA reads how a text's per-token log-probabilities evolve along the text rather than their mean alone, and
calibrates every signal against a population of non-members. The signals here, each oriented higher = member, are
the paper's code's ``collect_all_features`` and ``count_above_pre`` signals that need no second pass:
- mean l_t over all scored tokens, the first 200 and the first 300;
- the share of the first 200 tokens with l_t >= tau, tau in {-1, -2, -3};
- the "calibrated loss": mean l_t divided by the text's token diversity (distinct / all scored token ids), over all
  tokens, the first 200 and the first 300 (repetitive text is easy for every model);
- the share of positions t >= 1 whose l_t exceeds the mean of the earlier l (the loss still falling with context),
  over all tokens, the first 200 and the first 300.
Each signal's value is turned into its percentile among the same signal on the declared non-members (SciPy's
``percentileofscore``, kind "rank", divided by 100), and ``camia`` is the mean percentile, in [0, 1]: higher =
member. This is the reference's "agg" aggregation (it reports minus the mean p-value of signals oriented lower =
member, which is this value minus 1). Differences from the reference: the signal orientation is fixed here in
advance (the reference flips each signal towards the labels it evaluates on); the reference's slices ``[0:-1]``
drop the last token, here every scored token counts; its repetition signals (the text fed twice) and the
Lempel-Ziv / approximate-entropy / slope signals are left out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..lm.token_stats import TokenStats, require_scored

CUTS = (None, 200, 300)  # None: all scored tokens
THRESHOLDS = (-1.0, -2.0, -3.0)
COUNT_CUT = 200


def count_above_previous_mean(logprob: np.ndarray) -> float:
    """Share of positions t >= 1 with l_t > mean(l_0 .. l_{t-1}); 0 for fewer than 2 values."""
    x = np.asarray(logprob, dtype=np.float64)
    if len(x) < 2:
        return 0.0
    running = np.cumsum(x)[:-1] / np.arange(1, len(x))
    return float(np.mean(x[1:] > running))


def signals(stats: TokenStats) -> np.ndarray:
    """The signal vector of one text (see the module docstring for the order), float64, higher = member."""
    require_scored(stats)
    l = stats.logprob.astype(np.float64)
    ids = np.asarray(stats.token_ids[1:])
    out = [float(np.mean(l[:cut])) for cut in CUTS]
    out += [float(np.mean(l[:COUNT_CUT] >= tau)) for tau in THRESHOLDS]
    out += [float(np.mean(l[:cut])) / (len(np.unique(ids[:cut])) / len(ids[:cut])) for cut in CUTS]
    out += [count_above_previous_mean(l[:cut]) for cut in CUTS]
    return np.array(out)


def percentile_rank(value: float, population: np.ndarray) -> float:
    """SciPy's percentileofscore(population, value, kind='rank') / 100, in [0, 1]: with L = #{population < value}
    and R = #{population <= value}, (L + R + [L < R]) / (2 n) (the average rank of the tied values)."""
    population = np.asarray(population, dtype=np.float64)
    population = population[np.isfinite(population)]
    if not len(population) or not np.isfinite(value):
        return float("nan")
    left, right = int(np.sum(population < value)), int(np.sum(population <= value))
    return (left + right + int(left < right)) / (2 * len(population))


def camia(stats: TokenStats, population: Sequence[np.ndarray]) -> float:
    """Mean over signals of the text's percentile among the population's signals (higher = member)."""
    if not len(population):
        return float("nan")
    own = signals(stats)
    pop = np.vstack(population)
    ranks = [percentile_rank(own[j], pop[:, j]) for j in range(len(own))]
    return float(np.nanmean(ranks))
