"""verdicts.py: the suspect-vs-reference path shared by the CLI and the dashboard."""

import numpy as np
import pandas as pd
import pytest

from provenance.verdicts.sets import compare_sets, evaluate_labelled, set_verdict_from_documents, simes
from provenance.verdicts.verdict import Label
from textgen import random_sentences


def _table(n: int, shift: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"document": [f"d{seed}-{i}" for i in range(n)], "tokens": 100,
                         "loss": rng.normal(shift, 1, n), "minkpp": rng.normal(shift, 1, n)})


def test_small_reference_set_makes_the_set_verdict_inconclusive_too():
    suspect, reference = _table(2, 3.0, 1), _table(6, 0.0, 2)
    texts_s, texts_r = random_sentences(2, seed=1), random_sentences(6, seed=2)
    result = compare_sets(texts_s, suspect, texts_r, reference, ["loss", "minkpp"], fpr=0.05)
    assert result.documents["verdict"].str.startswith("inconclusive (reference set too small").all()
    assert result.verdict.words().startswith("inconclusive (reference set too small")
    assert result.inference is None and any("Dataset inference needs" in n for n in result.notes)


def test_clear_separation_with_enough_documents_is_evidence_and_false_positive_mode_is_not():
    suspect, reference = _table(40, 2.0, 3), _table(60, 0.0, 4)
    # one generator for both sets; the shift check's own false-alarm rate (about 5%) is tested in test_calibration,
    # so this uses texts it does not flag
    texts = random_sentences(100, seed=0)
    result = compare_sets(texts[:40], suspect, texts[40:], reference, ["loss", "minkpp"], fpr=0.05)
    assert result.verdict.words().startswith("evidence of training")
    assert result.verdict.label is Label.EVIDENCE
    assert result.inference.p_value < 0.01 and result.false_positive.p_value > 0.01
    assert not result.shift.confounded
    assert set(result.summary()) >= {"verdict", "dataset_inference", "false_positive_mode", "shift_check"}


def test_set_verdict_uses_only_conclusive_documents():
    docs = pd.DataFrame({"p_value": [0.001, 0.5], "verdict_label": ["evidence of training", "inconclusive"]})
    assert set_verdict_from_documents(docs, 0.05, None).words().startswith("evidence of training (p = 0.001")


def test_set_verdict_agrees_with_documents_that_are_each_evidence():
    """Three documents each "evidence" at FPR 0.05 (p = 0.03): Bonferroni would say 0.09, "no evidence", for the
    set; Simes' combination says 0.03, as each of them does."""
    docs = pd.DataFrame({"p_value": [0.03, 0.03, 0.03], "verdict_label": ["evidence of training"] * 3})
    verdict = set_verdict_from_documents(docs, 0.05, None)
    assert verdict.label is Label.EVIDENCE and verdict.p_value == pytest.approx(0.03)
    one = pd.DataFrame({"p_value": [0.03, 0.6, 0.9], "verdict_label": ["evidence of training", "no evidence",
                                                                      "no evidence"]})
    assert set_verdict_from_documents(one, 0.05, None).p_value == pytest.approx(0.09)  # one of three: n * p_(1)


def test_simes_is_uniform_under_the_null_with_a_shared_reference_set():
    """Conformal p-values of 3 null documents against one shared reference set of 39 texts: the Simes p-value
    stays valid (rejections at 0.05 at most about 5% over many seeds)."""
    from provenance.verdicts.rank_tests import conformal_p_values

    rng = np.random.default_rng(0)
    rejected = 0
    for _ in range(2000):
        reference = pd.DataFrame({"loss": rng.normal(size=39)})
        suspect = pd.DataFrame({"loss": rng.normal(size=3)})
        p = conformal_p_values(suspect, reference, ["loss"])
        rejected += simes(p) <= 0.05
    assert rejected / 2000 < 0.065


def test_set_verdict_is_inconclusive_for_the_shared_reason_when_no_document_is_conclusive():
    docs = pd.DataFrame({"p_value": [0.001, 0.5], "verdict_label": ["inconclusive", "inconclusive"]})
    verdict = set_verdict_from_documents(docs, 0.05, None, problems=["reference set too small: 5 reference texts"])
    assert verdict.label is Label.INCONCLUSIVE and verdict.reasons == ("reference set too small: 5 reference texts",)


def test_evaluate_labelled_sorts_by_auc_and_needs_both_labels():
    texts = random_sentences(40, seed=7)
    labels = [i % 2 for i in range(40)]
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"document": [f"d{i}" for i in range(40)], "label": labels,
                          "good": np.array(labels) * 2 + rng.normal(0, 1, 40), "noise": rng.normal(0, 1, 40)})
    result = evaluate_labelled(texts, labels, table, ["noise", "good"], n_bootstrap=200)
    assert list(result.table["score"]) == ["good", "noise", "blind"]  # scores best first, the blind baseline last
    assert result.table.iloc[0]["auc"] > 0.8 and set(result.roc["score"]) == {"good", "noise", "blind"}
    with pytest.raises(ValueError, match="both members and non-members"):
        evaluate_labelled(texts, [1] * 40, table.assign(label=1), ["good"])
