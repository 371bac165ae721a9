"""The Verdict value: one decision path, a round trip through plain values, words for people."""

import json
import math

import pytest

from provenance.verdicts.verdict import Label, Verdict, decide, format_p


class _Shift:
    def __init__(self, confounded: bool):
        self.confounded = confounded
        self.reason = "a bag-of-words classifier tells the sets apart (AUC 0.91)"


def test_decide_labels_by_p_value_and_fpr():
    assert decide(0.01, 0.05).label is Label.EVIDENCE
    assert decide(0.05, 0.05).label is Label.EVIDENCE  # p <= FPR
    assert decide(0.2, 0.05).label is Label.NO_EVIDENCE
    assert decide(float("nan"), 0.05).label is Label.INCONCLUSIVE
    assert decide(None, 0.05).reasons == ("no score could be computed",)


def test_a_confounded_comparison_is_never_evidence():
    verdict = decide(1e-6, 0.05, shift=_Shift(True))
    assert verdict.label is Label.INCONCLUSIVE and not verdict.is_evidence
    assert verdict.reasons[0].startswith("confounded sets: a bag-of-words classifier")
    assert decide(1e-6, 0.05, shift=_Shift(False)).is_evidence


def test_words_and_sentence():
    assert decide(0.001, 0.05).words() == "evidence of training (p = 0.001, at FPR 0.05)"
    assert decide(0.4, 0.01).words() == "no evidence (p = 0.4, at FPR 0.01)"
    inconclusive = decide(0.001, 0.05, problems=["too few tokens: 3 scored, at least 32 needed"])
    assert inconclusive.words() == "inconclusive (too few tokens: 3 scored, at least 32 needed)"
    sentence = decide(0.2, 0.05, method="ranked among 99 reference texts").sentence()
    assert sentence == "No evidence (p = 0.2, at FPR 0.05). Method: ranked among 99 reference texts."
    assert format_p(1.5e-5) == "1.50e-05" and format_p(float("nan")) == "n/a"


@pytest.mark.parametrize("verdict", [decide(0.003, 0.05, method="m"), decide(float("nan"), 0.01, problems=["x", "y"]),
                                     decide(0.9, 0.1)])
def test_round_trip_through_plain_json(verdict):
    again = Verdict.from_dict(json.loads(json.dumps(verdict.to_dict())))
    assert again.label is verdict.label and again.fpr == verdict.fpr and again.reasons == verdict.reasons
    assert again.method == verdict.method
    assert (math.isnan(again.p_value) and math.isnan(verdict.p_value)) or again.p_value == verdict.p_value
