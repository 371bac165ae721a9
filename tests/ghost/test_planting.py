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


def test_the_real_model_demo_trains_a_private_copy_and_its_estimate_counts_what_it_will_do(tiny_model):
    """The guided demo on a pretrained model: the time said before it starts counts the tokens training and testing
    go through (the test scored under both models when reference-calibrated), at paces measured on this machine
    without touching the shared model; training works on a copy and leaves the model as it was (the reference)."""
    from datetime import date

    import torch

    from provenance.lm.loading import weights_fingerprint
    from provenance.lm.training import training_tokens

    setup = planting.DemoSetup(base="tiny", background_docs=4, decoys=4, epochs=2, learning_rate=2e-3,
                               batch_size=2, lora_rank=4, base_released=date(2020, 1, 1))
    demo = planting.plan_article_demo(copies=3, background_docs=setup.background_docs, decoys=setup.decoys,
                                      rng=random.Random(0))
    before = weights_fingerprint(tiny_model.model)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        training_rate, scoring_rate = planting.measure_demo_pace(tiny_model, demo, setup)
        assert weights_fingerprint(tiny_model.model) == before and training_rate > 0 and scoring_rate > 0
        estimate = planting.estimate_article_demo(tiny_model, demo, setup, 50, training_rate, scoring_rate)
        assert estimate.training_tokens == training_tokens(tiny_model, demo.plan.corpus) * 2
        one_pass = (50 + len(demo.plan.tested)) * ghost.estimates.tokens_per_draw(tiny_model, demo.plan.generator)
        assert estimate.scoring_tokens == round(2 * one_pass)  # the reference scores the same draws
        assert estimate.seconds == estimate.training_tokens / training_rate + estimate.scoring_tokens / scoring_rate

        tuned, report = planting.train_article_model(demo, setup=setup, base=tiny_model)
        assert report.tokens_seen == estimate.training_tokens and report.epochs == 2
        assert weights_fingerprint(tiny_model.model) == before  # the base is the untouched reference
        assert tuned.identity != tiny_model.identity
        assert [n for n, _ in tuned.model.named_parameters()] == [n for n, _ in tiny_model.model.named_parameters()]
        result = planting.detect_article_demo(tuned, demo, n_null=30, alpha=0.05, rng=random.Random(1),
                                              ref_model=tiny_model, ref_released=setup.base_released)
    finally:
        torch.set_num_threads(threads)
    assert result.detection.statistic == "nll_difference" and result.detection.reference == tiny_model.name
    assert "minus its NLL under the tested model" in result.published.method
    assert sorted(result.table["published"]) == [False] * 3 + [True] * 3
