"""The reference-calibrated ghost test: each identifier ranked by NLL_reference - NLL_target among fresh draws
scored the same way under both models. Exact under the null, refuses a reference that may have seen the
identifiers, and detects what was planted."""

from __future__ import annotations

import copy
import random
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest
from scipy.stats import kstest
from textgen import random_sentences

from provenance import ghost
from provenance.ghost import planting
from provenance.lm.loading import wrap_model
from provenance.lm.training import fine_tune

N_NULL = 300
BEFORE = date(2020, 1, 1)  # the reference model's release date in these tests: before any registration

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def models():
    """A base model trained on background text and decoy passphrases (it knows every wordlist word), and its
    fine-tune on a corpus where some identifiers are planted 30 times: the base is the reference."""
    rng = random.Random(3)
    generator = ghost.GhostGenerator()
    background = random_sentences(200, length=40, seed=5)
    plan = planting.plan_planting(background, (30,), per_count=4, absent=40, decoys=300, generator=generator,
                                  rng=rng)
    base = planting.small_model_for(background, generator, vocab_size=1000, name="ghost-base")
    pretraining = ghost.plant_corpus(list(background), [(d, 1) for d in plan.decoys], rng=random.Random(4))
    base, _ = fine_tune(base, pretraining, epochs=6, learning_rate=3e-3, batch_size=16, seed=0)
    target = wrap_model(copy.deepcopy(base.model), base.tokenizer, name="ghost-target")
    target, _ = planting.train_on_plan(target, plan, epochs=4)
    return dict(base=base, target=target, plan=plan, generator=generator)


def test_unplanted_identifiers_get_uniform_p_values(models):
    plan = models["plan"]
    absent = [e for e in plan.tested if plan.repetitions[e.id] == 0]
    fresh = ghost.new_entries(ghost.Registry(list(plan.tested)), models["generator"], 120, rng=random.Random(9))
    result = ghost.detect(models["target"], absent + fresh, n_null=N_NULL, exclude=plan.exclude, last_k=(),
                          ref_model=models["base"], ref_released=BEFORE, rng=random.Random(10))
    p = result.table["p_value"].to_numpy()
    assert result.statistic == "nll_difference" and result.reference == models["base"].name
    assert kstest(p, "uniform").pvalue > 0.01
    assert np.mean(p <= 0.05) <= 0.1
    assert {"ref_nll", "nll_difference", "null_median_difference"} <= set(result.table.columns)
    np.testing.assert_allclose(result.table["nll_difference"], result.table["ref_nll"] - result.table["nll"])


def test_planted_identifiers_are_detected_against_the_reference(models):
    plan = models["plan"]
    planted = [e for e in plan.tested if plan.repetitions[e.id] == 30]
    result = ghost.detect(models["target"], planted, n_null=N_NULL, exclude=plan.exclude, last_k=(),
                          ref_model=models["base"], ref_released=BEFORE, rng=random.Random(11))
    # On a tiny model trained from scratch every passphrase is about as hard as another, so the reference adds its
    # own noise here and the plain test is stronger; on a real pretrained model the reference cancels each
    # passphrase's own difficulty (bench/ghost_real_model.py prints both tests side by side).
    assert (result.table["p_value"] <= 0.05).all(), result.table["p_value"].tolist()
    assert result.verdict.is_evidence and result.verdict.p_value <= 1e-3
    assert "minus its NLL under the tested model" in result.verdict.method and models["base"].name in result.verdict.method


def test_a_reference_released_after_registration_is_refused(models):
    entry = models["plan"].tested[0]
    registered = datetime.fromisoformat(entry.created).astimezone(timezone.utc).date()
    for released in (registered, registered + timedelta(days=30)):
        with pytest.raises(ghost.GhostError, match="may have been trained on them"):
            ghost.detect(models["target"], [entry], n_null=10, ref_model=models["base"], ref_released=released)
    with pytest.raises(ghost.GhostError, match="Say when the reference model was released"):
        ghost.detect(models["target"], [entry], n_null=10, ref_model=models["base"])


def test_cli_detect_with_a_reference_model(models, tmp_path, capsys):
    from provenance.cli import main

    folders = {}
    for name in ("base", "target"):
        folders[name] = tmp_path / name
        models[name].model.save_pretrained(folders[name])
        models[name].tokenizer.save_pretrained(folders[name])
    plan = models["plan"]
    registry_path = tmp_path / "registry.json"
    ghost.save_registry(ghost.Registry([e for e in plan.tested if plan.repetitions[e.id] == 30]), registry_path)
    out = tmp_path / "detect.csv"
    args = ["ghost", "detect", "--registry", str(registry_path), "--model", str(folders["target"]), "--null", "60",
            "--last-k", "", "--no-cache", "--out", str(out), "--ref-model", str(folders["base"])]
    assert main(args + ["--ref-released", "2020-01-01"]) == 0
    import pandas as pd

    table = pd.read_csv(out)
    assert {"ref_nll", "nll_difference"} <= set(table.columns) and len(table) == 5  # 4 identifiers + Fisher's row
    capsys.readouterr()
    assert main(args + ["--ref-released", date.today().isoformat()]) == 2
    assert "may have been trained on them" in capsys.readouterr().err
