"""Rank tests that use every document: exact under the null (per document and per set), and more powerful than the
split-half procedure on the same documents."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kstest

from provenance import verdicts
from provenance.verdicts.rank_tests import combined_ranks, conformal_p_values, rank_test, rank_test_false_positive


def _table(values: np.ndarray, scores=("loss", "minkpp", "zlib")) -> pd.DataFrame:
    return pd.DataFrame(values, columns=list(scores)).assign(document=[f"d{i}" for i in range(len(values))])


def _correlated(rng, n: int, shift: float = 0.0) -> np.ndarray:
    """n documents x 3 correlated scores (one shared component), moved up by ``shift`` (members score higher)."""
    shared = rng.standard_t(df=4, size=(n, 1))
    return shared + 0.5 * rng.normal(size=(n, 3)) + shift


def test_combined_ranks_average_the_per_score_ranks():
    table = np.array([[1.0, 10.0], [2.0, 30.0], [3.0, 20.0], [3.0, 0.0]])
    # ranks per column: [1, 2, 3.5, 3.5] and [2, 4, 3, 1] -> means [1.5, 3, 3.25, 2.25], over n = 4
    np.testing.assert_allclose(combined_ranks(table), np.array([1.5, 3.0, 3.25, 2.25]) / 4)


def test_one_score_gives_the_plain_empirical_p_value():
    rng = np.random.default_rng(0)
    suspect, reference = _table(_correlated(rng, 30, 0.5)), _table(_correlated(rng, 40))
    np.testing.assert_allclose(conformal_p_values(suspect, reference, ["loss"]),
                               verdicts.empirical_p_values(suspect["loss"], reference["loss"]))


def test_per_document_p_values_are_exact_under_the_null_with_several_scores():
    # each null document with its own fresh reference set of 19: p on the grid k/20, uniformly; the floor 1/20
    rng = np.random.default_rng(1)
    p = np.array([conformal_p_values(_table(_correlated(rng, 1)), _table(_correlated(rng, 19)),
                                     ["loss", "minkpp", "zlib"])[0] for _ in range(3000)])
    assert p.min() == pytest.approx(1 / 20)
    assert abs(np.mean(p <= 0.05) - 0.05) < 0.012
    assert kstest(p - rng.uniform(0, 1 / 20, size=len(p)), "uniform").pvalue > 0.01  # p - U(0, 1/20) ~ U(0, 1)


def test_twenty_reference_texts_are_enough_for_evidence_at_five_percent():
    """Issue: with five scores Bonferroni-combined, 20 reference texts could never give evidence at FPR 0.05."""
    rng = np.random.default_rng(2)
    suspect, reference = _table(_correlated(rng, 3, shift=8.0)), _table(_correlated(rng, 20))
    table = verdicts.document_verdicts(suspect.assign(tokens=100), reference, ["loss", "minkpp", "zlib"], fpr=0.05)
    assert (table["verdict_label"] == "evidence of training").all()
    assert table["p_value"].max() == pytest.approx(1 / 21)


def test_set_level_rank_test_keeps_its_level_over_many_seeds():
    rng = np.random.default_rng(3)
    p = np.array([rank_test(_table(_correlated(rng, 20)), _table(_correlated(rng, 25)),
                            ["loss", "minkpp", "zlib"]).p_value for _ in range(400)])
    assert np.mean(p <= 0.05) <= 0.07 and np.mean(p <= 0.01) <= 0.02
    assert kstest(p, "uniform").pvalue > 0.001


def test_false_positive_mode_halves_of_one_reference_set_stay_quiet():
    rng = np.random.default_rng(4)
    reference = _table(_correlated(rng, 60))
    p = np.array([rank_test_false_positive(reference, ["loss", "minkpp"], seed=s).p_value for s in range(100)])
    assert np.mean(p <= 0.05) <= 0.08


def test_rank_test_has_more_power_than_split_half_on_the_same_documents():
    # a modest effect, 15 documents a side: the rank test uses all 30; split-half fits on half and tests on half
    rng = np.random.default_rng(5)
    rank_hits = split_hits = 0
    for seed in range(30):
        suspect, reference = _table(_correlated(rng, 15, shift=1.0)), _table(_correlated(rng, 15))
        rank_hits += rank_test(suspect, reference, ["loss", "minkpp", "zlib"]).p_value <= 0.01
        split_hits += verdicts.dataset_inference(suspect, reference, ["loss", "minkpp", "zlib"],
                                                 seed=seed).p_value <= 0.01
    assert rank_hits >= split_hits + 8, (rank_hits, split_hits)


def test_rank_test_refuses_tiny_sets_with_a_sentence():
    rng = np.random.default_rng(6)
    with pytest.raises(ValueError, match="at least 5 scored documents in each set; the suspect set has 3"):
        rank_test(_table(_correlated(rng, 3)), _table(_correlated(rng, 30)), ["loss"])
