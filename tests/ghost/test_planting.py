"""The insert-then-detect experiment's bookkeeping: what is planted how often."""

import random

from provenance import ghost
from provenance.ghost import planting


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

