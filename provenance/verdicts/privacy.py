"""The privacy budget an attack implies: how large a differential-privacy epsilon must be for a training procedure
to allow a membership attack with the error rates observed on a labelled set.

If training is (epsilon, delta)-differentially private, every membership test T has (Kairouz et al. 2015)
    FPR + e^epsilon * FNR >= 1 - delta   and   FNR + e^epsilon * FPR >= 1 - delta,
so a test with rates (FPR, FNR) shows that training is at best epsilon-DP with
    epsilon(FPR, FNR) = max(0, log((1 - FPR - delta) / FNR), log((1 - FNR - delta) / FPR)).
Here one test per score: "member when score >= t" (every score is oriented higher = member) at one threshold t.

Two ways from the observed counts to a statement about epsilon, each reported:
- **Bayesian** (Zanella-Beguelin et al., "Bayesian estimation of differential privacy", ICML 2023): FPR and FNR get
  independent Beta posteriors from their counts, FPR ~ Beta(FP + a, TN + b) and FNR ~ Beta(FN + a, TP + b), with the
  Jeffreys prior a = b = 1/2 by default (``prior="uniform"`` gives a = b = 1). The prior is our choice: that paper
  builds its posterior from Beta posteriors on the two rates under a prior the user picks; Jeffreys is the
  reparametrisation-invariant non-informative one and adds half an error to each count, uniform adds one. The
  epsilon posterior is the image of that joint posterior under epsilon(FPR, FNR), estimated by Monte Carlo (seeded
  draws); we report its mean and its 5% quantile, a 95% credible lower bound.
- **Clopper-Pearson** (Jagielski et al. 2020, "Auditing differentially private machine learning"; Nasr et al.
  2021): exact binomial 95% intervals for FPR and FNR; epsilon at the upper ends of both intervals is a lower bound
  on epsilon holding with confidence at least 95% jointly (each interval misses with probability at most 2.5% at
  its upper end, union bound). It is the frequentist guarantee and usually lies below the Bayesian bound.

The threshold. Choosing t to maximise epsilon on the same data it is measured on biases epsilon upwards (the best
of many thresholds looks better than it is, most of all with few texts). So the threshold is **cross-fitted**: the
texts are split at random into two halves, stratified by label; on each half, t is the threshold that maximises
the Clopper-Pearson lower bound on the *other* half, and the errors are counted on this half only. The two halves'
counts are pooled: they are the errors of the randomised test "pick a half's threshold in proportion to its size",
and since each half's errors are independent of its threshold the bounds above stay valid (the pooled counts vary
less than one binomial, so the intervals are, if anything, conservative). Every text is used once for measuring.

Everything here is a pure function of labels and scores (numpy arrays); SciPy supplies the Beta distribution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .checks import check_fraction

DEFAULT_DELTA = 0.0
DEFAULT_DRAWS = 20_000
DEFAULT_CREDIBILITY = 0.95
PRIORS = {"jeffreys": (0.5, 0.5), "uniform": (1.0, 1.0)}
DEFAULT_PRIOR = "jeffreys"

# The columns each labelled evaluation gains (verdicts.roc.EVALUATION_COLUMNS).
EPSILON_COLUMNS = ["epsilon_mean", "epsilon_lower", "epsilon_cp_lower"]


@dataclass(frozen=True)
class ErrorCounts:
    """The outcome of one membership test on a labelled sample: false / true positives among the non-members and
    members (``fp + tn`` non-members, ``fn + tp`` members)."""

    fp: int
    tn: int
    fn: int
    tp: int

    @property
    def fpr(self) -> float:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else math.nan

    @property
    def fnr(self) -> float:
        return self.fn / (self.fn + self.tp) if self.fn + self.tp else math.nan

    def __add__(self, other: ErrorCounts) -> ErrorCounts:
        return ErrorCounts(self.fp + other.fp, self.tn + other.tn, self.fn + other.fn, self.tp + other.tp)


@dataclass(frozen=True)
class EpsilonEstimate:
    """What the error rates of one score's attack say about epsilon (see the module docstring).

    ``mean`` and ``lower``: the posterior mean and 95% credible lower bound (Bayesian, ``prior``); ``cp_lower``: the
    Clopper-Pearson 95% lower bound; ``counts``: the pooled cross-fitted errors they rest on; ``delta``: the delta
    assumed. All NaN (and ``counts`` None) when the sample is too small to split (fewer than 2 members or 2
    non-members)."""

    mean: float
    lower: float
    cp_lower: float
    counts: ErrorCounts | None
    delta: float = DEFAULT_DELTA
    prior: str = DEFAULT_PRIOR

    def columns(self) -> dict[str, float]:
        """The values of EPSILON_COLUMNS."""
        return dict(zip(EPSILON_COLUMNS, (self.mean, self.lower, self.cp_lower)))


def epsilon_from_rates(fpr: ArrayLike, fnr: ArrayLike, delta: float = DEFAULT_DELTA) -> np.ndarray:
    """epsilon(FPR, FNR) = max(0, log((1 - FPR - delta) / FNR), log((1 - FNR - delta) / FPR)), elementwise (nats).

    A rate of 0 gives infinity when the other side's numerator is positive; a numerator <= 0 contributes nothing.
    0 for a test no better than chance (FPR + FNR >= 1 - delta)."""
    if not 0 <= delta < 1:
        raise ValueError(f"delta must be at least 0 and below 1 (e.g. 0 or 1e-5); got {delta}.")
    a = np.asarray(fpr, dtype=np.float64)
    b = np.asarray(fnr, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        one = np.where(1 - a - delta > 0, np.log(np.maximum(1 - a - delta, 1e-300)) - np.log(b), -np.inf)
        two = np.where(1 - b - delta > 0, np.log(np.maximum(1 - b - delta, 1e-300)) - np.log(a), -np.inf)
    return np.maximum(0.0, np.maximum(one, two))


def _cp_upper(errors: np.ndarray, n: np.ndarray, confidence: float) -> np.ndarray:
    """Upper ends of two-sided Clopper-Pearson intervals at level ``confidence`` for ``errors`` out of ``n``."""
    from scipy.stats import beta

    errors, n = np.asarray(errors, dtype=np.float64), np.asarray(n, dtype=np.float64)
    q = 1 - (1 - confidence) / 2
    with np.errstate(invalid="ignore"):
        upper = beta.ppf(q, errors + 1, np.maximum(n - errors, 1e-12))
    return np.where(errors >= n, 1.0, upper)


def clopper_pearson_lower(counts: ErrorCounts, *, delta: float = DEFAULT_DELTA,
                          confidence: float = DEFAULT_CREDIBILITY) -> float:
    """Lower confidence bound on epsilon: epsilon at the upper Clopper-Pearson bounds of FPR and FNR (two-sided
    intervals at ``confidence`` each; the bound holds with probability at least ``confidence``)."""
    check_fraction(confidence, "The confidence level")
    fpr_hi = _cp_upper(np.array([counts.fp]), np.array([counts.fp + counts.tn]), confidence)[0]
    fnr_hi = _cp_upper(np.array([counts.fn]), np.array([counts.fn + counts.tp]), confidence)[0]
    return float(epsilon_from_rates(fpr_hi, fnr_hi, delta))


def epsilon_posterior(counts: ErrorCounts, *, delta: float = DEFAULT_DELTA, prior: str = DEFAULT_PRIOR,
                      draws: int = DEFAULT_DRAWS, seed: int = 0) -> np.ndarray:
    """``draws`` samples (draws,) of epsilon from its posterior: FPR ~ Beta(FP + a, TN + b), FNR ~ Beta(FN + a,
    TP + b) independently, (a, b) = PRIORS[prior], mapped through ``epsilon_from_rates``."""
    if prior not in PRIORS:
        raise ValueError(f"Unknown prior '{prior}'. Choose one of: {', '.join(PRIORS)}.")
    if draws < 1:
        raise ValueError(f"The number of posterior draws must be at least 1 (got {draws}).")
    a, b = PRIORS[prior]
    rng = np.random.default_rng(seed)
    fpr = rng.beta(counts.fp + a, counts.tn + b, draws)
    fnr = rng.beta(counts.fn + a, counts.tp + b, draws)
    return epsilon_from_rates(fpr, fnr, delta)


def bayesian_epsilon(counts: ErrorCounts, *, delta: float = DEFAULT_DELTA, prior: str = DEFAULT_PRIOR,
                     draws: int = DEFAULT_DRAWS, credibility: float = DEFAULT_CREDIBILITY,
                     seed: int = 0) -> tuple[float, float]:
    """(mean, lower): the epsilon posterior's mean and its ``1 - credibility`` quantile (a one-sided credible lower
    bound: epsilon exceeds it with posterior probability ``credibility``)."""
    check_fraction(credibility, "The credibility level")
    samples = epsilon_posterior(counts, delta=delta, prior=prior, draws=draws, seed=seed)
    return float(samples.mean()), float(np.quantile(samples, 1 - credibility))


def _candidate_thresholds(x: np.ndarray) -> np.ndarray:
    """Midpoints between consecutive distinct values of ``x`` (each splits the sample differently)."""
    values = np.unique(x)
    return (values[:-1] + values[1:]) / 2 if len(values) > 1 else values


def counts_at(y: np.ndarray, x: np.ndarray, threshold: float) -> ErrorCounts:
    """Errors of "member when score >= threshold" on labels ``y`` (1 = member) and scores ``x``."""
    called = x >= threshold
    return ErrorCounts(fp=int((called & (y == 0)).sum()), tn=int((~called & (y == 0)).sum()),
                       fn=int((~called & (y == 1)).sum()), tp=int((called & (y == 1)).sum()))


def best_threshold(y: np.ndarray, x: np.ndarray, *, delta: float = DEFAULT_DELTA,
                   confidence: float = DEFAULT_CREDIBILITY) -> float:
    """The threshold whose Clopper-Pearson lower bound on epsilon is largest on (``y``, ``x``) (the middle one of
    equally good thresholds). The bound rather than the point estimate, so that a threshold with a handful of
    error-free calls does not win by an infinite point estimate."""
    candidates = _candidate_thresholds(x)
    called = x[None, :] >= candidates[:, None]
    n0, n1 = int((y == 0).sum()), int((y == 1).sum())
    fp = (called & (y == 0)).sum(axis=1)
    fn = (~called & (y == 1)).sum(axis=1)
    bounds = epsilon_from_rates(_cp_upper(fp, np.full(len(fp), n0), confidence),
                                _cp_upper(fn, np.full(len(fn), n1), confidence), delta)
    best = np.flatnonzero(bounds >= bounds.max() - 1e-12)
    return float(candidates[best[len(best) // 2]])


def cross_fitted_counts(labels: ArrayLike, scores: ArrayLike, *, delta: float = DEFAULT_DELTA,
                        confidence: float = DEFAULT_CREDIBILITY, seed: int = 0) -> ErrorCounts | None:
    """Pooled errors of a threshold chosen on one random half (stratified by label) and counted on the other,
    both ways round (see the module docstring). None with fewer than 2 members or 2 non-members. NaN scores are
    left out."""
    y = np.asarray(labels).ravel().astype(int)
    x = np.asarray(scores, dtype=np.float64).ravel()
    keep = np.isfinite(x)
    y, x = y[keep], x[keep]
    if min(int((y == 1).sum()), int((y == 0).sum())) < 2:
        return None
    rng = np.random.default_rng(seed)
    half = np.zeros(len(y), dtype=bool)
    for label in (0, 1):
        where = rng.permutation(np.flatnonzero(y == label))
        half[where[: len(where) // 2]] = True
    total = ErrorCounts(0, 0, 0, 0)
    for choose, measure in ((half, ~half), (~half, half)):
        t = best_threshold(y[choose], x[choose], delta=delta, confidence=confidence)
        total = total + counts_at(y[measure], x[measure], t)
    return total


def estimate_epsilon(labels: ArrayLike, scores: ArrayLike, *, delta: float = DEFAULT_DELTA,
                     prior: str = DEFAULT_PRIOR, draws: int = DEFAULT_DRAWS,
                     credibility: float = DEFAULT_CREDIBILITY, seed: int = 0) -> EpsilonEstimate:
    """The privacy budget one score's attack implies on a labelled sample (``labels`` (n,) 1 = member, ``scores``
    (n,) higher = member): cross-fitted threshold, then the Bayesian posterior mean and credible lower bound and
    the Clopper-Pearson lower bound, all in nats (see the module docstring)."""
    counts = cross_fitted_counts(labels, scores, delta=delta, confidence=credibility, seed=seed)
    if counts is None:
        return EpsilonEstimate(math.nan, math.nan, math.nan, None, delta, prior)
    mean, lower = bayesian_epsilon(counts, delta=delta, prior=prior, draws=draws, credibility=credibility,
                                   seed=seed)
    return EpsilonEstimate(mean, lower, clopper_pearson_lower(counts, delta=delta, confidence=credibility), counts,
                           delta, prior)
