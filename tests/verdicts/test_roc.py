"""Operating points a labelled sample can and cannot measure: with n non-members the smallest non-zero false-positive
rate is 1/n, so 'TPR at 1% FPR' with 12 non-members is really the TPR at zero false positives and must not be shown
as a measurement."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from provenance.verdicts.roc import (EVALUATION_COLUMNS, MEASURABLE_COLUMNS, evaluate_scores, fpr_is_measurable,
                                     lowest_measurable_fpr, measured_operating_points, non_members_needed,
                                     operating_point_note)


def labelled(n_members: int, n_non_members: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.r_[np.ones(n_members, dtype=int), np.zeros(n_non_members, dtype=int)]
    x = np.r_[rng.normal(1.5, 1, n_members), rng.normal(0, 1, n_non_members)]
    return pd.DataFrame({"loss": x, "zlib": -x}), y


def test_how_many_non_members_an_operating_point_needs():
    assert non_members_needed(0.01) == 100 and non_members_needed(0.001) == 1000 and non_members_needed(0.05) == 20
    assert lowest_measurable_fpr(12) == pytest.approx(1 / 12) and math.isnan(lowest_measurable_fpr(0))
    assert not fpr_is_measurable(0.01, 12) and fpr_is_measurable(0.01, 100) and not fpr_is_measurable(0.001, 999)


def test_twelve_non_members_cannot_measure_tpr_at_one_percent_fpr():
    table, y = labelled(12, 12)
    result = evaluate_scores(table, y, ["loss", "zlib"], n_bootstrap=50)
    assert list(result.columns) == EVALUATION_COLUMNS
    row = result.set_index("score").loc["loss"]
    assert row["lowest_measurable_fpr"] == pytest.approx(1 / 12)
    assert not row["tpr_at_1pct_fpr_measurable"] and not row["tpr_at_0_1pct_fpr_measurable"]
    assert pd.api.types.is_integer_dtype(result["n_members"]) and pd.api.types.is_integer_dtype(result["n_non_members"])
    shown = measured_operating_points(result)
    assert shown["tpr_at_1pct_fpr"].isna().all() and shown["tpr_at_0_1pct_fpr"].isna().all()
    assert result["tpr_at_1pct_fpr"].notna().all()  # the raw table keeps the TPR at zero false positives
    note = operating_point_note(12)
    assert "1/12" in note and "at least 100" in note and "at least 1,000" in note and "n/a" in note


def test_enough_non_members_keep_their_numbers():
    table, y = labelled(50, 150)
    result = evaluate_scores(table, y, ["loss"], n_bootstrap=50)
    shown = measured_operating_points(result).iloc[0]
    assert shown["tpr_at_1pct_fpr_measurable"] and not shown["tpr_at_0_1pct_fpr_measurable"]
    assert shown["tpr_at_1pct_fpr"] == pytest.approx(result["tpr_at_1pct_fpr"].iloc[0])
    assert math.isnan(shown["tpr_at_0_1pct_fpr"])
    assert "0.1% FPR needs at least 1,000" in operating_point_note(150) and operating_point_note(1000) is None


def test_tables_stored_before_the_flags_existed_are_completed():
    old = pd.DataFrame({"score": ["loss"], "auc": [0.9], "tpr_at_1pct_fpr": [0.5], "tpr_at_0_1pct_fpr": [0.5],
                        "n_members": [12], "n_non_members": [12]})
    shown = measured_operating_points(old)
    assert set(MEASURABLE_COLUMNS.values()) <= set(shown.columns)
    assert shown["tpr_at_1pct_fpr"].isna().all() and old["tpr_at_1pct_fpr"].notna().all()
