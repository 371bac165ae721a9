"""The insert-then-detect experiment's bookkeeping: what is planted how often, and how detections are counted."""

import random

import pandas as pd

from provenance import ghost
from provenance.ghost import planting
from provenance.verdicts.verdict import decide


def test_plan_plants_each_identifier_as_often_as_it_says():
    background = planting.background_corpus(40, seed=3)
    plan = planting.plan_planting(background, [1, 4], per_count=2, absent=3, decoys=20,
                                  generator=ghost.GhostGenerator(words=4), rng=random.Random(5))
    text = "\n".join(plan.corpus)
    assert len(plan.tested) == 2 * 2 + 3 and len(plan.decoys) == 20
    for e in plan.tested:
        assert text.count(e.identifier) == plan.repetitions[e.id]
    assert sorted(plan.repetitions.values()) == [0, 0, 0, 1, 1, 4, 4]
    assert all(text.count(d.identifier) == 1 for d in plan.decoys)
    assert set(plan.exclude) == {e.identifier for e in plan.tested + plan.decoys}  # never drawn as nulls


def test_summary_counts_a_detection_exactly_where_the_verdict_says_evidence():
    """p = alpha is evidence of training for decide(), so it is a detection in the summary too."""
    alpha = 0.01
    table = pd.DataFrame({"repetitions": [0, 0, 5, 5], "p_value": [0.5, 0.02, alpha, 1 / 1001],
                          "exposure_bits": [1.0, 5.6, 6.6, 9.97], "last_k_hit": [False, False, True, True],
                          "last_3_hit": [False, False, False, True]})
    summary = planting.summarise(table, alpha).set_index("repetitions")
    assert summary.loc[0, "detection_rate"] == 0.0 and summary.loc[5, "detection_rate"] == 1.0
    assert decide(alpha, alpha).is_evidence
    assert summary.loc[5, "identifiers"] == 2 and summary.loc[5, "last_k_hit_rate"] == 1.0
    assert summary.loc[5, "last_3_hit_rate"] == 0.5 and summary.loc[0, "median_p"] == 0.26
