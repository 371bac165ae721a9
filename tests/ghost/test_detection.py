"""Ghost sentences, step 4: exact-null detection (p-values, exposure, Fisher, verdicts), the last-k words test,
null-draw caching and the 'ghost detect' command, on a tiny model trained with planted identifiers."""

import hashlib
import json
import math
import random
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.stats import kstest
from textgen import random_sentences

from provenance import ghost
from provenance.cli import main as cli_main
from provenance.ghost import planting
from provenance.ghost.detection import fewest_null_draws, smallest_combined_p
from provenance.lm.statistics import ScoringSettings, TokenStats
from provenance.verdicts.verdict import Label, Verdict, format_p

PLANT_COUNTS = (5, 20, 50)
N_PER_COUNT = 2
N_ABSENT = 8
N_DECOYS = 300
N_NULL = 1000


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_p_value_rank_and_exposure_follow_the_definitions():
    null = np.array([1.0, 2.0, 3.0, 4.0])
    assert ghost.empirical_p_value(0.5, null) == (1 / 5, 1)
    assert ghost.empirical_p_value(2.0, null) == (3 / 5, 3)  # ties count against the identifier
    assert ghost.empirical_p_value(9.0, null) == (1.0, 5)
    assert ghost.exposure_bits(1, 1000) == pytest.approx(np.log2(1001))
    assert ghost.exposure_bits(1001, 1000) == 0.0
    assert ghost.fisher_combined([0.5]) == 0.5
    assert ghost.fisher_combined([1e-3, 1e-3]) < 1e-3


def test_span_nll_scores_only_the_identifier_after_its_context():
    stats = TokenStats(text="ctx ab", token_ids=np.arange(4), offsets=np.array([[0, 0], [0, 3], [3, 5], [5, 6]]),
                       logprob=np.array([-9.0, -1.0, -3.0], dtype=np.float32), mu=np.zeros(3), sigma=np.ones(3),
                       rank=np.ones(3, dtype=np.int64))
    assert ghost.span_nll(stats, 0) == pytest.approx(13 / 3)
    assert ghost.span_nll(stats, 3) == pytest.approx(2.0)
    with pytest.raises(ghost.GhostError, match="too short"):
        ghost.span_nll(stats, 6)


def test_verdict_words_and_false_positive_rate():
    assert ghost.verdict_for(1e-5, 3, 1000, 0.01).words() == "evidence of training (p = 1.00e-05, at FPR 0.01)"
    verdict = ghost.verdict_for(0.3, 3, 1000, 0.01)
    assert verdict.label == "no evidence" and "0.01" in verdict.sentence()
    assert ghost.verdict_for(1 / 51, 1, 50, 0.01).words().startswith("inconclusive (too few null draws")


def test_null_cache_keys_stay_those_already_on_disk():
    """Null draws cached before the move to files.sha256_text keep their file names (keys)."""
    model = SimpleNamespace(identity="model-identity", context_length=128)
    generator, settings, context = ghost.GhostGenerator(lead_in="Note:"), ScoringSettings(), "Caf\u00e9 context. "
    parts = [model.identity, generator.key(), settings.key(model.context_length),
             hashlib.sha256(context.encode("utf-8")).hexdigest()]
    assert ghost.NullCache.key(model, generator, settings, context) == \
        hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def test_fewest_null_draws_is_the_smallest_number_that_can_reach_the_false_positive_rate():
    assert fewest_null_draws(1, 0.01) == 99  # p = 1 / (M + 1) <= 0.01
    for n in (1, 2, 3, 6):
        for alpha in (0.05, 0.01, 0.001):
            m = fewest_null_draws(n, alpha)
            assert smallest_combined_p(n, m) <= alpha
            assert m == 1 or smallest_combined_p(n, m - 1) > alpha


def test_too_few_null_draws_make_the_verdict_inconclusive(tiny_model):
    """No result can reach the false-positive rate: the verdict says so, with how many draws are needed, whatever
    the p-value; with that many draws the same test is conclusive."""
    entries = ghost.new_entries(ghost.Registry(), ghost.GhostGenerator(), 2, rng=random.Random(3))
    result = ghost.detect(tiny_model, entries, n_null=20, alpha=0.001, last_k=(), rng=random.Random(4))
    verdict = result.verdict
    assert isinstance(verdict, Verdict) and verdict.label is Label.INCONCLUSIVE and not verdict.is_conclusive
    floor, needed = smallest_combined_p(2, 20), fewest_null_draws(2, 0.001)
    assert verdict.reasons == (f"too few null draws: the smallest possible p = {format_p(floor)} is above the "
                               f"false-positive rate 0.001, so at least {needed} draws are needed",)
    assert verdict.words() == f"inconclusive ({verdict.reasons[0]})"
    assert math.isfinite(verdict.p_value) and floor <= verdict.p_value <= 1 and verdict.fpr == 0.001
    assert Verdict.from_dict(json.loads(json.dumps(verdict.to_dict()))) == verdict
    enough = ghost.detect(tiny_model, entries, n_null=needed, alpha=0.001, last_k=(), rng=random.Random(4))
    assert enough.verdict.is_conclusive, enough.verdict.words()


def test_context_is_scored_but_only_the_identifier_counts(tiny_model):
    ids = ghost.generate_identifiers(ghost.GhostGenerator(), 3, rng=random.Random(2))
    alone, n_alone = ghost.identifier_nll(tiny_model, ids)
    after, n_after = ghost.identifier_nll(tiny_model, ids, context="The cat sat on the mat. ")
    assert np.all(n_after >= n_alone) and np.all(n_after <= n_alone + 1)  # + the token that was first alone
    assert not np.allclose(alone, after)


def test_detect_refuses_a_last_k_as_long_as_the_identifier(tiny_model):
    entries = ghost.new_entries(ghost.Registry(), ghost.GhostGenerator(words=3), 1)
    with pytest.raises(ghost.GhostError, match="k between 1 and 2"):
        ghost.detect(tiny_model, entries, n_null=10, last_k=(1, 3))


# ------------------------------------------------------------------------------------------------ detection


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """A tiny model fine-tuned on background text where identifiers are planted 5, 20 and 50 times, 400 decoys from
    the same generator appear once each (so every wordlist word is familiar), and other identifiers are absent.

    The tokenizer is trained on clean background text plus the whole wordlist, never on the planted corpus, so
    planted and fresh identifiers are tokenised alike."""
    rng = random.Random(0)
    generator = ghost.GhostGenerator()
    background = random_sentences(200, length=40, seed=1)
    plan = planting.plan_planting(background, PLANT_COUNTS, per_count=N_PER_COUNT, absent=N_ABSENT,
                                  decoys=N_DECOYS, generator=generator, rng=rng)
    model = planting.small_model_for(background, generator, vocab_size=1000, name="ghost")
    model, report = planting.train_on_plan(model, plan, epochs=8)
    registry = ghost.Registry(list(plan.tested))
    by_count = {c: [e for e in plan.tested if plan.repetitions[e.id] == c] for c in PLANT_COUNTS}
    absent = [e for e in plan.tested if plan.repetitions[e.id] == 0]
    decoys, exclude = plan.decoys, plan.exclude
    # One set of M null draws, scored once and shared by the tests through the cache (as in real use).
    null_dir = tmp_path_factory.mktemp("nulls")
    null_cache = ghost.NullCache(null_dir)
    null = ghost.null_nll(model, generator, N_NULL, exclude=exclude, null_cache=null_cache, rng=random.Random(12))
    return dict(model=model, registry=registry, by_count=by_count, absent=absent, decoys=decoys, exclude=exclude,
                report=report, null_cache=null_cache, null_dir=null_dir, null=null)


def test_pvalues_of_fresh_identifiers_are_uniform(planted):
    """The false-positive rate is what the verdict claims: 200 identifiers the model never saw (drawn from the
    generator whose decoys it did see) get p-values a KS test cannot tell from uniform."""
    model, generator = planted["model"], ghost.GhostGenerator()
    fresh = ghost.generate_identifiers(generator, 200, exclude=planted["exclude"], rng=random.Random(11))
    null = planted["null"]
    assert len(null) == N_NULL and not set(fresh) & set(planted["null_cache"].load(
        ghost.NullCache.key(model, generator, ScoringSettings(), ""))[0])
    observed, _ = ghost.identifier_nll(model, fresh)
    p = np.array([ghost.empirical_p_value(x, null)[0] for x in observed])
    assert kstest(p, "uniform").pvalue > 0.01
    assert 0.0 <= np.mean(p < 0.05) <= 0.1


def test_planted_identifiers_are_detected_and_absent_ones_are_not(planted):
    model = planted["model"]
    entries = [e for c in PLANT_COUNTS for e in planted["by_count"][c]] + planted["absent"]
    result = ghost.detect(model, entries, n_null=N_NULL, exclude=planted["exclude"], null_cache=planted["null_cache"])
    assert np.array_equal(result.null[ghost.GhostGenerator().key()], planted["null"])
    table = result.table.set_index("id")
    floor = 1 / (N_NULL + 1)
    for c in (20, 50):
        ps = table.loc[[e.id for e in planted["by_count"][c]], "p_value"]
        assert (ps < 0.01).all(), f"identifiers planted {c} times: p = {ps.tolist()}"
        assert ps.max() == pytest.approx(floor)
    absent = table.loc[[e.id for e in planted["absent"]]]
    assert (absent["p_value"] >= 0.01).all(), absent["p_value"].tolist()
    assert not absent["last_k_hit"].any()
    high = table.loc[[e.id for e in planted["by_count"][50]]]
    assert high["last_1_hit"].mean() >= 2 / 3
    assert result.verdict.words().startswith("evidence of training (p = ") and "at FPR 0.01" in result.verdict.words()
    assert set(table.columns) >= {"identifier", "nll", "p_value", "exposure_bits", "last_k_hit", "rank", "tokens"}
    only_absent = ghost.detect(model, planted["absent"], n_null=N_NULL, exclude=planted["exclude"],
                               null_cache=planted["null_cache"], last_k=())
    assert only_absent.verdict.label == "no evidence", only_absent.verdict.sentence()


def test_detect_gives_a_verdict_value_that_round_trips(planted):
    """The verdict is a value made by decide(): label, p-value (Fisher's method over the table), false-positive rate
    and the method in words; its dict form (what the store and reports keep) gives back the same value."""
    result = ghost.detect(planted["model"], planted["by_count"][50], n_null=N_NULL, exclude=planted["exclude"],
                          null_cache=planted["null_cache"], last_k=())
    verdict = result.verdict
    assert isinstance(verdict, Verdict) and verdict.label is Label.EVIDENCE and verdict.reasons == ()
    assert verdict.p_value == result.combined_p == ghost.fisher_combined(result.table["p_value"].to_numpy())
    assert verdict.fpr == result.alpha == ghost.DEFAULT_ALPHA
    assert verdict.method == (f"{N_PER_COUNT} identifier(s), each ranked by its NLL among {N_NULL} fresh draws from "
                              "its generator (never published, so never trained on); combined with Fisher's method")
    assert Verdict.from_dict(verdict.to_dict()) == verdict
    assert Verdict.from_dict(json.loads(json.dumps(verdict.to_dict()))) == verdict
    assert verdict.sentence() == f"{verdict.words()[:1].upper()}{verdict.words()[1:]}. Method: {verdict.method}."


def test_null_draws_are_cached_per_model_and_generator(planted):
    model, generator = planted["model"], ghost.GhostGenerator()
    assert len(list(planted["null_dir"].glob("*.json"))) == 1
    calls = []
    again = ghost.null_nll(model, generator, 300, null_cache=ghost.NullCache(planted["null_dir"]),
                           exclude=planted["exclude"], progress=lambda d, t: calls.append(t))
    assert not calls and np.array_equal(again, planted["null"][:300])  # read back from disk, nothing scored
    other = ghost.null_nll(model, ghost.GhostGenerator(lead_in="Note:"), 20, null_cache=planted["null_cache"],
                           progress=lambda d, t: calls.append(t))
    assert len(other) == 20 and calls and len(list(planted["null_dir"].glob("*.json"))) == 2


def test_null_draws_are_kept_chunk_by_chunk_and_a_stopped_run_scores_only_what_is_missing(tiny_model, tmp_path):
    """The draws are kept before scoring and the NLLs after every chunk: a stop loses at most one chunk, and the next
    call scores exactly the missing draws, so the null equals the one an uninterrupted run computes."""
    from provenance.lm.token_stats import ScoringCancelled

    generator = ghost.GhostGenerator(words=4)
    cache = ghost.NullCache(tmp_path / "nulls")
    key = ghost.NullCache.key(tiny_model, generator, ScoringSettings(), "")
    with pytest.raises(ScoringCancelled):
        ghost.null_nll(tiny_model, generator, 30, null_cache=cache, rng=random.Random(5), chunk=10,
                       should_stop=lambda: len(cache.load(key)[1]) >= 10)
    texts, values = ghost.NullCache(tmp_path / "nulls").load(key)  # what a new process finds on disk
    assert len(texts) == 30 and len(values) == 10
    ticks = []
    resumed = ghost.null_nll(tiny_model, generator, 30, null_cache=ghost.NullCache(tmp_path / "nulls"),
                             rng=random.Random(99), chunk=10, progress=lambda d, t: ticks.append((d, t)))
    assert ticks[-1][0] == ticks[-1][1] and all(d <= t for d, t in ticks)  # progress over the 20 missing draws
    uninterrupted = ghost.null_nll(tiny_model, generator, 30, null_cache=ghost.NullCache(), rng=random.Random(5))
    assert resumed == pytest.approx(uninterrupted)
    assert ghost.NullCache(tmp_path / "nulls").load(key)[0] == texts  # the same draws, none drawn anew


def test_batched_greedy_decoding_matches_one_prompt_at_a_time(planted):
    model = planted["model"]
    prompts = [ghost.last_k_prompts(e, 2)[0] for e in planted["by_count"][50] + planted["absent"][:2]]
    batched = model.greedy_continuations(prompts, max_new_tokens=8)
    single = [model.greedy_continuations([p], max_new_tokens=8)[0] for p in prompts]
    assert batched == single


def test_cli_detect_writes_one_row_per_identifier_and_the_combined_p(planted, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PROVENANCE_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "model"
    planted["model"].model.save_pretrained(folder, safe_serialization=True)
    planted["model"].tokenizer.save_pretrained(folder)
    reg = tmp_path / "reg.json"
    entries = planted["by_count"][50] + planted["absent"][:1]
    ghost.save_registry(ghost.Registry(entries), reg)
    out = tmp_path / "detect.csv"
    assert cli_main(["ghost", "detect", "--registry", str(reg), "--model", str(folder), "--device", "cpu",
                     "--null", "200", "--out", str(out)]) == 0
    import pandas as pd

    table = pd.read_csv(out)
    assert list(table["id"]) == [e.id for e in entries] + ["combined (Fisher)"]
    assert {"identifier", "nll", "p_value", "last_k_hit"} <= set(table.columns)
    assert table["p_value"].iloc[0] == pytest.approx(1 / 201)
    verdict = capsys.readouterr().out
    assert verdict.startswith("evidence of training (p = ") and "at FPR 0.01" in verdict, verdict
    assert table["verdict"].iloc[-1].startswith("evidence of training")
    assert table["label"].iloc[-1] == "evidence of training" and table["fpr"].iloc[-1] == 0.01
    assert list((tmp_path / "cache" / "ghost_nulls").glob("*.json"))


@pytest.mark.slow
def test_default_model_fresh_identifiers_are_not_flagged(default_model):
    """Integration on the real model: identifiers drawn now cannot be in its training data."""
    registry = ghost.Registry()
    entries = ghost.new_entries(registry, ghost.GhostGenerator(), 2, rng=random.Random(21))
    result = ghost.detect(default_model, entries, n_null=100, last_k=(1,), rng=random.Random(22))
    assert len(result.table) == 2 and result.table["p_value"].between(1 / 101, 1).all()
    assert result.verdict.words().startswith(("no evidence", "inconclusive"))
