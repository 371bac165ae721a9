"""verdicts/privacy.py: the privacy budget (epsilon) an attack's error rates imply, on hand-computed cases."""

import math

import numpy as np
import pytest
from scipy.stats import beta

from provenance.verdicts.privacy import (ErrorCounts, bayesian_epsilon, best_threshold, clopper_pearson_lower,
                                         cross_fitted_counts, epsilon_from_rates, epsilon_posterior,
                                         estimate_epsilon)


def test_epsilon_from_rates_by_hand():
    # FPR 0.1, FNR 0.2: max(log(0.9 / 0.2), log(0.8 / 0.1)) = log 8
    assert epsilon_from_rates(0.1, 0.2) == pytest.approx(math.log(8))
    # with delta 0.1: max(log(0.8 / 0.2), log(0.7 / 0.1)) = log 7
    assert epsilon_from_rates(0.1, 0.2, delta=0.1) == pytest.approx(math.log(7))
    # chance (FPR + FNR = 1) and worse than chance imply nothing
    assert epsilon_from_rates(0.5, 0.5) == 0 and epsilon_from_rates(0.7, 0.6) == 0
    # a perfect attack implies no finite budget
    assert math.isinf(float(epsilon_from_rates(0.0, 0.0)))
    with pytest.raises(ValueError, match="delta"):
        epsilon_from_rates(0.1, 0.1, delta=1.5)


def test_clopper_pearson_bound_by_hand():
    # no error among 10 non-members and 10 members: both upper bounds are 1 - 0.025^(1/10) (exact CP at 0 errors)
    upper = 1 - 0.025 ** (1 / 10)
    assert beta.ppf(0.975, 1, 10) == pytest.approx(upper)
    expected = math.log((1 - upper) / upper)
    assert clopper_pearson_lower(ErrorCounts(fp=0, tn=10, fn=0, tp=10)) == pytest.approx(expected)
    # all errors: no bound
    assert clopper_pearson_lower(ErrorCounts(fp=10, tn=0, fn=10, tp=0)) == 0


def test_posterior_is_the_image_of_the_beta_posteriors():
    counts = ErrorCounts(fp=3, tn=47, fn=10, tp=40)
    samples = epsilon_posterior(counts, draws=50_000, seed=1)
    rng = np.random.default_rng(1)  # the same draws by hand: Jeffreys prior, a = b = 1/2
    fpr, fnr = rng.beta(3.5, 47.5, 50_000), rng.beta(10.5, 40.5, 50_000)
    assert samples == pytest.approx(np.maximum(0, np.maximum(np.log((1 - fpr) / fnr), np.log((1 - fnr) / fpr))))
    # seeded: the same counts and seed give the same figures; uniform prior adds an error each side, so less epsilon
    assert bayesian_epsilon(counts, seed=3) == bayesian_epsilon(counts, seed=3)
    assert bayesian_epsilon(counts, prior="uniform")[0] < bayesian_epsilon(counts)[0]
    with pytest.raises(ValueError, match="Unknown prior"):
        bayesian_epsilon(counts, prior="flat")


def _perfect(n: int) -> tuple[np.ndarray, np.ndarray]:
    y = np.r_[np.ones(n, dtype=int), np.zeros(n, dtype=int)]
    return y, y + np.random.default_rng(n).uniform(0, 0.5, 2 * n)


def test_perfect_attack_lower_bounds_are_large_and_grow_with_n():
    estimates = [estimate_epsilon(*_perfect(n)) for n in (10, 40, 160, 640)]
    for e in estimates:
        assert e.counts.fp == 0 and e.counts.fn == 0  # the cross-fitted threshold still separates the halves
        assert e.cp_lower < e.lower < e.mean  # the frequentist bound is the strictest
    for lower in ("lower", "cp_lower", "mean"):
        values = [getattr(e, lower) for e in estimates]
        assert values == sorted(values) and values[-1] > values[0] + 2
    # with 640 of each, no error at all: the CP bound is log((1 - u) / u), u = 1 - 0.025^(1/640)
    u = 1 - 0.025 ** (1 / 640)
    assert estimates[-1].cp_lower == pytest.approx(math.log((1 - u) / u))
    assert estimates[-1].cp_lower > 5


def test_random_attack_gives_a_lower_bound_near_zero():
    rng = np.random.default_rng(4)
    for n in (30, 300):
        y = np.r_[np.ones(n, dtype=int), np.zeros(n, dtype=int)]
        e = estimate_epsilon(y, rng.normal(size=2 * n), seed=n)
        assert e.cp_lower == pytest.approx(0, abs=0.05) and e.lower < 0.1
        assert e.cp_lower <= e.mean


def test_threshold_is_chosen_on_the_other_half():
    """Cross-fitting: a score that is perfect on no text but one per class cannot win by choosing its threshold on
    the texts it is measured on; every text is counted once."""
    y = np.r_[np.ones(20, dtype=int), np.zeros(20, dtype=int)]
    x = np.random.default_rng(0).normal(size=40)
    counts = cross_fitted_counts(y, x)
    assert counts.fp + counts.tn == 20 and counts.fn + counts.tp == 20
    assert cross_fitted_counts(y[:3], x[:3]) is None  # fewer than 2 non-members
    assert math.isnan(estimate_epsilon(np.array([1, 1, 0]), np.array([1.0, 2.0, 0.0])).mean)
    # best_threshold: the middle of the gap for a separable sample
    assert best_threshold(np.array([0, 0, 1, 1]), np.array([0.0, 1.0, 3.0, 4.0])) == pytest.approx(2.0)


def test_nan_scores_are_left_out():
    y, x = _perfect(40)
    x = x.copy()
    x[:5] = np.nan
    e = estimate_epsilon(y, x)
    assert e.counts.fn + e.counts.tp == 35 and e.counts.fp + e.counts.tn == 40
