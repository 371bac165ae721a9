"""Ghost sentences: what a test will cost, said before it starts, and the draws a p-value floor needs."""

import math
import random

import pytest

from provenance import ghost
from provenance.ghost.estimates import (draws_for_floor, estimate_ghost_test, measure_scoring_rate, p_floor,
                                        recommended_draws, tokens_per_draw)


def test_floors_and_recommended_draws():
    assert p_floor(199) == pytest.approx(0.005)
    for floor in (0.1, 0.05, 0.01, 0.005, 0.001, 0.0005):
        m = draws_for_floor(floor)
        assert p_floor(m) <= floor < p_floor(m - 1)
    assert recommended_draws(0.05) == 100 and recommended_draws(0.01) == 200 and recommended_draws(0.001) == 2000
    with pytest.raises(ValueError):
        draws_for_floor(0)


def test_estimate_counts_the_tokens_the_test_will_score(tiny_model):
    generators = [ghost.GhostGenerator(words=4), ghost.GhostGenerator(words=6)]
    entries = [e for g in generators for e in ghost.new_entries(ghost.Registry(), g, 2, rng=random.Random(8))]
    per_draw = tokens_per_draw(tiny_model, generators[0])
    totals = []
    ghost.null_nll(tiny_model, generators[0], 200, rng=random.Random(9), progress=lambda d, t: totals.append(t))
    assert totals[-1] / 200 == pytest.approx(per_draw, rel=0.15)  # a seeded sample of draws is representative
    draws = []
    ghost.detect(tiny_model, entries, n_null=50, last_k=(), rng=random.Random(2),
                 on_draws=lambda d, t: draws.append((d, t)))
    assert draws[-1] == (100, 100) and all(t == 100 for _, t in draws)  # both generators' nulls, counted together
    rate = measure_scoring_rate(tiny_model, generators[0])
    assert rate > 0 and math.isfinite(rate)
    estimate = estimate_ghost_test(tiny_model, entries, 1000, rate, alpha=0.01)
    assert estimate.draws == 2000 and estimate.floor == pytest.approx(1 / 1001)
    assert estimate.seconds == pytest.approx(estimate.tokens / rate)
    assert estimate.tokens >= 1000 * (per_draw + tokens_per_draw(tiny_model, generators[1]))
    assert estimate.fewest_draws == ghost.detection.fewest_null_draws(4, 0.01)
