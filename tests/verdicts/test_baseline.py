"""verdicts/baseline.py: the blind baseline row beside every AUC and the scores it cannot be told apart from."""

import numpy as np
import pandas as pd
import pytest

from provenance.verdicts.baseline import (BLIND_LABEL, INDISTINGUISHABLE_COLUMN, INDISTINGUISHABLE_WORDS,
                                          blind_baseline_sentence, comparison_column, display_name,
                                          mark_indistinguishable, privacy_budget_sentence)
from provenance.verdicts.roc import EVALUATION_COLUMNS
from provenance.verdicts.sets import evaluate_labelled
from provenance.verdicts.shift import blind_scores, shift_check
from textgen import random_sentences

TOPIC_WORDS = "court judge ruling appeal verdict statute lawyer trial jury witness evidence motion".split()


def _labelled(members: list[str], non_members: list[str], seed: int = 0) -> tuple[list[str], list[int], pd.DataFrame]:
    texts, labels = members + non_members, [1] * len(members) + [0] * len(non_members)
    rng = np.random.default_rng(seed)
    y = np.array(labels)
    table = pd.DataFrame({"document": [f"d{i}" for i in range(len(texts))], "label": labels,
                          "good": y * 3 + rng.normal(0, 1, len(y)), "noise": rng.normal(0, 1, len(y))})
    return texts, labels, table


def test_same_generator_blind_row_is_near_chance_and_scores_are_marked():
    """Members and non-members from one generator: the blind row sits near 0.5 with every column a score has, a
    score that separates the sets lies clear of it and a noise score is marked not distinguishable."""
    texts = random_sentences(120, length=40, seed=31)
    texts, labels, table = _labelled(texts[:60], texts[60:])
    result = evaluate_labelled(texts, labels, table, ["noise", "good"], n_bootstrap=300)
    rows = result.table.set_index("score")
    assert list(result.table["score"])[-1] == "blind"
    assert set(EVALUATION_COLUMNS) | {INDISTINGUISHABLE_COLUMN} <= set(result.table.columns)
    blind = rows.loc["blind"]
    assert abs(blind["auc"] - 0.5) < 0.12 and blind["auc_low"] < 0.5 < blind["auc_high"]
    assert blind["n_members"] == 60 and blind["n_non_members"] == 60
    assert all(np.isfinite(blind[c]) for c in ("epsilon_mean", "epsilon_lower", "epsilon_cp_lower",
                                                 "tpr_at_1pct_fpr", "tpr_at_0_1pct_fpr"))
    assert blind["auc"] == pytest.approx(result.shift.auc)  # one classifier: the shift check's own predictions
    assert rows[INDISTINGUISHABLE_COLUMN].to_dict() == {"good": False, "noise": True, "blind": False}
    assert set(result.roc["score"]) == {"good", "noise", "blind"}
    assert result.summary()["blind_baseline"]["auc"] == pytest.approx(blind["auc"])
    assert comparison_column(result.table) == ["above the blind baseline", INDISTINGUISHABLE_WORDS,
                                               "blind baseline"]
    assert "1 of 2 score(s) are not distinguishable from it (noise)" in blind_baseline_sentence(result.table)


def test_shifted_sets_give_a_high_blind_auc_that_swallows_a_score():
    """Non-members about another topic: the blind baseline separates the sets by their words alone, and a score
    that separates them as well is not distinguishable from it."""
    rng = np.random.default_rng(2)
    members = random_sentences(40, length=30, seed=32)
    non_members = [t[:-1] + " " + " ".join(rng.choice(TOPIC_WORDS, 6)) + "." for t in random_sentences(40, length=24,
                                                                                                        seed=33)]
    texts, labels, _ = _labelled(members, non_members)
    blind = blind_scores(texts, labels)
    table = pd.DataFrame({"document": [f"d{i}" for i in range(80)], "label": labels, "copy": blind})
    result = evaluate_labelled(texts, labels, table, ["copy"], n_bootstrap=300)
    rows = result.table.set_index("score")
    assert rows.loc["blind", "auc"] > 0.95 and result.shift.confounded
    assert rows.loc["copy", INDISTINGUISHABLE_COLUMN]
    assert "may measure how the two sets differ" in privacy_budget_sentence(result.table)
    with pytest.raises(ValueError, match="at least 2 members and 2 non-members"):
        blind_scores(texts[:3], [1, 0, 0])


def test_overlap_by_hand_and_names():
    table = pd.DataFrame({"score": ["a", "b", "c", "d", "blind"], "auc": [0.9, 0.7, 0.62, 0.3, 0.6],
                          "auc_low": [0.8, 0.65, 0.5, 0.2, 0.55], "auc_high": [0.95, 0.75, 0.7, 0.4, 0.65],
                          "epsilon_lower": [1.2, 0.3, 0.0, 0.0, 0.2], "epsilon_mean": [1.5, 0.5, 0.1, 0.0, 0.3],
                          "epsilon_cp_lower": [0.9, 0.1, 0.0, 0.0, 0.1]})
    marked = mark_indistinguishable(table)
    # b touches the blind interval at 0.65: overlapping ends count as overlap
    assert marked[INDISTINGUISHABLE_COLUMN].tolist() == [False, True, True, False, False]
    assert comparison_column(marked) == ["above the blind baseline", INDISTINGUISHABLE_WORDS, INDISTINGUISHABLE_WORDS,
                                         "below the blind baseline", "blind baseline"]
    assert not mark_indistinguishable(table[table["score"] != "blind"])[INDISTINGUISHABLE_COLUMN].any()
    assert display_name("blind") == BLIND_LABEL == "blind (bag-of-words, no model)" and display_name("a") == "a"
    sentence = privacy_budget_sentence(marked)
    assert "The strongest attack here, a," in sentence and "epsilon = 1.20" in sentence and "3.3-fold" in sentence
    assert "No attack here shows measurable leakage" in privacy_budget_sentence(marked.iloc[2:])


def test_shift_check_is_unchanged_by_the_shared_classifier():
    texts = random_sentences(30, length=30, seed=34)
    first = shift_check(texts[:15], texts[15:], n_permutations=20)
    again = shift_check(texts[:15], texts[15:], n_permutations=20)
    assert first.auc == again.auc and first.out_of_fold is not None and len(first.out_of_fold) == 30
    assert "out_of_fold" not in first.summary()
