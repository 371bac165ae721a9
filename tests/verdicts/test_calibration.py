"""Calibrated verdicts: p-values, dataset inference, the shift check, ROC/AUC, the meta-classifier and ``sets`` CLI.

The model-based tests follow design.md, "Testing the statistics honestly": members and non-members are drawn from
one generator (random sequences over one shared vocabulary of pseudo-words) and split at random, so the only
difference between them is whether the model was fine-tuned on that exact sequence. Each document is distinctive
(30 words from 200, so its word pairs are nearly unique), which lets a tiny model memorise members in seconds.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kstest

from provenance import verdicts as cal
from provenance.scores import chunk_features
from provenance.verdicts.rank_tests import conformal_p_values
from provenance.documents import Document, labelled_documents_from_bytes, load_labelled_documents, parse_membership_label
from textgen import pseudo_words, word_documents

SCORES = ["loss", "zlib", "lowercase", "mink", "minkpp"]
N_SIDE = 100
N_NULL = 200


VOCABULARY = pseudo_words(200, seed=11)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def experiment(one_torch_thread):
    """A tiny Llama fine-tuned on 100 member documents; 100 + 200 non-members from the same generator, split at
    random from the same draw. Returns score tables, TokenStats and the model."""
    from provenance.scores.table import score_documents
    from provenance.lm.training import build_small_model, fine_tune

    texts = word_documents(VOCABULARY, 2 * N_SIDE + N_NULL, seed=1)
    random.Random(2).shuffle(texts)
    members, non_members, null = texts[:N_SIDE], texts[N_SIDE:2 * N_SIDE], texts[2 * N_SIDE:]
    # The tokenizer is trained on other draws of the same generator (it sees every word, not these documents).
    base = build_small_model(word_documents(VOCABULARY, 300, seed=99), vocab_size=1000, context_length=128,
                             name="calibration-test")
    model, report = fine_tune(base, members, epochs=30, learning_rate=3e-3, seed=0)
    docs = ([Document(f"member-{i}", t) for i, t in enumerate(members)]
            + [Document(f"non-member-{i}", t) for i, t in enumerate(non_members)]
            + [Document(f"null-{i}", t) for i, t in enumerate(null)])
    scored = score_documents(model, docs, SCORES)
    table = scored.table
    assert not scored.errors and len(table) == len(docs)
    kind = table["document"].str.rsplit("-", n=1).str[0]
    return {
        "model": model, "report": report, "stats": scored.stats, "table": table,
        "members": table[kind == "member"].reset_index(drop=True),
        "non_members": table[kind == "non-member"].reset_index(drop=True),
        "null": table[kind == "null"].reset_index(drop=True),
        "texts": {"members": members, "non_members": non_members, "null": null},
    }


def labelled(experiment) -> tuple[pd.DataFrame, np.ndarray]:
    table = pd.concat([experiment["members"], experiment["non_members"]], ignore_index=True)
    return table, np.r_[np.ones(N_SIDE, dtype=int), np.zeros(N_SIDE, dtype=int)]


# ---------------------------------------------------------------------------------------------------------------
# labelled sets: AUC, ROC, TPR


def test_loss_and_minkpp_separate_members_from_held_out_non_members(experiment):
    table, y = labelled(experiment)
    result = cal.evaluate_scores(table, y, SCORES, n_bootstrap=500)
    assert list(result.columns[:6]) == ["score", "auc", "auc_low", "auc_high", "tpr_at_1pct_fpr",
                                        "tpr_at_0_1pct_fpr"]
    assert list(result["auc"]) == sorted(result["auc"], reverse=True)
    by_score = result.set_index("score")
    assert by_score.loc["loss", "auc"] > 0.9
    assert by_score.loc["minkpp", "auc"] > 0.9
    assert (by_score["auc_low"] <= by_score["auc"]).all() and (by_score["auc"] <= by_score["auc_high"]).all()
    assert by_score.loc["loss", "tpr_at_1pct_fpr"] >= by_score.loc["loss", "tpr_at_0_1pct_fpr"]
    assert (by_score["n_members"] == N_SIDE).all()
    # every text is lower-case already, so 'lowercase' is constant and cannot separate anything
    assert by_score.loc["lowercase", "auc"] == pytest.approx(0.5)


def test_chunk_meta_classifier_is_cross_validated_and_separates(experiment):
    table, y = labelled(experiment)
    stats = experiment["stats"]
    features = np.stack([chunk_features.document_features(stats[name], chunk_tokens=10) for name in table["document"]])
    assert features.shape == (2 * N_SIDE, len(chunk_features.DOCUMENT_FEATURE_NAMES))
    chunks = chunk_features.chunk_features(stats[table["document"][0]], chunk_tokens=10)
    assert chunks.shape == (3, len(chunk_features.CHUNK_FEATURE_NAMES))  # 30 scored tokens -> 3 chunks of 10
    result = cal.meta_classifier(features, y, n_bootstrap=200)
    assert result.auc > 0.9
    assert result.out_of_fold.shape == (2 * N_SIDE,)
    # labels shuffled at random: an honest (out-of-fold) classifier must fall back to chance
    shuffled = np.random.default_rng(0).permutation(y)
    assert abs(cal.meta_classifier(features, shuffled, n_bootstrap=0).auc - 0.5) < 0.15


# ---------------------------------------------------------------------------------------------------------------
# dataset inference


def test_dataset_inference_detects_the_member_set(experiment):
    result = cal.dataset_inference(experiment["members"], experiment["non_members"], SCORES)
    assert result.p_value < 0.01
    assert (result.n_suspect, result.n_reference) == (N_SIDE, N_SIDE)
    assert set(result.weights) == set(SCORES)
    assert result.weights["lowercase"] == 0.0  # a constant score gets no weight
    assert len(result.split_p_values) == cal.DEFAULT_SPLITS
    assert result.verdict(0.01).words().startswith("evidence of training (p = ")


def test_dataset_inference_false_positive_mode_is_not_significant(experiment):
    p_values = [cal.dataset_inference_false_positive(experiment["non_members"], SCORES, seed=seed).p_value
                for seed in range(20)]
    assert sum(p > 0.05 for p in p_values) >= 18, p_values
    # held-out non-members against non-members, as suspect vs reference: no evidence either
    assert cal.dataset_inference(experiment["null"], experiment["non_members"], SCORES).p_value > 0.05


def test_split_p_values_are_combined_validly():
    from scipy.stats import combine_pvalues

    # identical splits (complete dependence): twice the median, never the product Fisher's method would assume
    assert cal.combine_split_p_values([0.04] * 10) == pytest.approx(0.08)
    assert cal.combine_split_p_values([0.001, 0.002, 0.003, 0.5, 0.9]) == pytest.approx(0.006)
    assert cal.combine_split_p_values([0.9, 0.8]) == 1.0
    # Monte Carlo under the null with strongly dependent splits (a shared component plus a little noise per split):
    # the combination keeps its level, while Fisher's method (which assumes independence) would not
    rng = np.random.default_rng(1)
    shared = rng.uniform(size=(5000, 1))
    splits = np.clip(shared + rng.normal(scale=0.02, size=(5000, 10)), 1e-6, 1)
    combined = np.array([cal.combine_split_p_values(row) for row in splits])
    assert np.mean(combined <= 0.05) <= 0.05
    fisher = np.array([combine_pvalues(row, method="fisher").pvalue for row in splits[:500]])
    assert np.mean(fisher <= 0.05) > 0.15


def test_dataset_inference_refuses_tiny_sets(experiment):
    with pytest.raises(ValueError, match="at least 10 scored documents"):
        cal.dataset_inference(experiment["members"].head(5), experiment["non_members"], SCORES)


# ---------------------------------------------------------------------------------------------------------------
# per-document p-values and verdicts


def test_document_p_values_are_uniform_under_the_null(experiment):
    from scipy.stats import ks_2samp

    reference = experiment["non_members"]
    for score in ("loss", "minkpp"):
        p = cal.empirical_p_values(experiment["null"][score], reference[score])
        # All p-values share one reference set of 100, which moves their distribution by about 1/sqrt(100) on
        # its own; the KS distance of the p-values from uniform is therefore judged with the two-sample KS
        # distribution (held-out scores vs reference scores), which accounts for both samples.
        distance = kstest(p, "uniform").statistic
        two_sample = ks_2samp(experiment["null"][score], reference[score])
        assert distance == pytest.approx(two_sample.statistic, abs=0.02), score
        assert two_sample.pvalue > 0.01, score
        assert np.mean(p <= 0.05) <= 0.1
        members = cal.empirical_p_values(experiment["members"][score], reference[score])
        assert np.median(members) < 0.05, score


def test_document_p_values_are_exactly_uniform_with_fresh_references():
    # Independent null draws, each with its own reference set of 999: p lies on the grid k/1000, uniformly.
    rng = np.random.default_rng(8)
    draws = rng.standard_t(df=3, size=(3000, 1000))
    p = np.array([cal.empirical_p_values(row[:1], row[1:])[0] for row in draws])
    assert kstest(p, "uniform").pvalue > 0.01
    assert abs(np.mean(p <= 0.05) - 0.05) < 0.015


def test_empirical_p_values_and_thresholds_agree():
    reference = np.array([3.0, 1.0, 2.0, 2.0, np.nan])
    p = cal.empirical_p_values([4.0, 2.0, 0.0, np.nan], reference)
    np.testing.assert_allclose(p[:3], [1 / 5, 4 / 5, 5 / 5])
    assert np.isnan(p[3])
    rng = np.random.default_rng(3)
    ref = rng.normal(size=199)
    x = rng.normal(size=2000) * 2
    for fpr in (0.01, 0.05, 0.2):
        t = cal.threshold_at_fpr(ref, fpr)
        np.testing.assert_array_equal(cal.empirical_p_values(x, ref) <= fpr, x > t)
    assert cal.threshold_at_fpr(ref[:50], 0.01) == np.inf  # 1/51 > 0.01: no score can reach it
    assert cal.min_reference_size(0.01) == 99 and cal.min_reference_size(0.05, n_scores=5) == 99


def test_document_verdicts_say_what_they_compared_against(experiment):
    suspect, reference = experiment["members"], experiment["non_members"]
    verdicts = cal.document_verdicts(suspect, reference, ["loss"], fpr=0.05, min_tokens=10)
    assert list(verdicts.columns) == ["document", "tokens", "p_loss", "p_value", "verdict_label", "verdict_reasons",
                                     "verdict"]
    assert (verdicts["verdict"].str.startswith("evidence of training (p = ")).mean() > 0.8
    assert verdicts["verdict"].str.contains("at FPR 0.05").all()
    held_out = cal.document_verdicts(experiment["null"], reference, ["loss"], fpr=0.05, min_tokens=10)
    assert held_out["verdict"].str.startswith("no evidence").mean() > 0.85
    # one statistic over five scores (their mean rank, each document pooled with the reference set): the p-value
    # floor stays 1 / (n + 1) however many scores are combined, where Bonferroni's would be five times higher
    combined = cal.document_verdicts(suspect, reference, SCORES, fpr=0.05, min_tokens=10)
    np.testing.assert_allclose(combined["p_value"], conformal_p_values(suspect, reference, SCORES))
    assert combined["p_value"].min() == pytest.approx(1 / (N_SIDE + 1))
    assert (combined["verdict_label"] == "evidence of training").mean() > 0.8
    short = cal.document_verdicts(suspect, reference, ["loss"], fpr=0.05, min_tokens=1000)
    assert short["verdict"].str.match(r"inconclusive \(too few tokens: \d+ scored, at least 1000 needed").all()
    small = cal.document_verdicts(suspect, reference.head(10), ["loss"], fpr=0.05, min_tokens=10)
    assert small["verdict"].str.contains("reference set too small: 10 reference texts").all()
    assert small["verdict"].str.contains("at least 19 are needed").all()


def test_confounded_sets_make_every_verdict_inconclusive(experiment):
    other = word_documents(pseudo_words(200, seed=5, consonants="chjwxy"), 60, seed=3)
    shift = cal.shift_check(experiment["texts"]["members"], other, n_bootstrap=200)
    assert shift.confounded
    verdicts = cal.document_verdicts(experiment["members"], experiment["non_members"], ["loss"], min_tokens=10,
                                     shift=shift)
    assert verdicts["verdict"].str.startswith("inconclusive (confounded sets: a word-count classifier").all()
    dataset = cal.dataset_inference(experiment["members"], experiment["non_members"], SCORES)
    assert dataset.verdict(0.05, shift).words().startswith("inconclusive (confounded sets")


# ---------------------------------------------------------------------------------------------------------------
# distribution-shift check (no model involved)


def test_shift_check_tells_different_vocabularies_apart():
    pool = pseudo_words(400, seed=7)
    a = word_documents(pool[:200], 100, seed=1)
    b = word_documents(pool[200:], 100, seed=2)
    shift = cal.shift_check(a, b, n_bootstrap=300)
    assert shift.auc > 0.9 and shift.confounded
    assert shift.auc_low <= shift.auc <= shift.auc_high
    assert shift.p_value == pytest.approx(1 / 101) and shift.n_permutations == 100
    assert "differ in what they say" in shift.reason and "not from training" in shift.reason


def test_shift_check_is_near_chance_for_a_random_split_of_one_set():
    # 200 a side: the out-of-fold AUC of a null split varies by about 0.03 (about 0.06 with 100 a side)
    texts = word_documents(VOCABULARY, 400, seed=0)
    shift = cal.shift_check(texts[:200], texts[200:], n_bootstrap=300)
    assert abs(shift.auc - 0.5) < 0.1
    assert not shift.confounded and "barely tells" in shift.reason
    assert shift.p_value > 0.05


def test_shift_check_does_not_cry_wolf_for_a_few_texts():
    # 3 texts against 100 from the same generator: the AUC alone swings widely (above 0.6 in about 40% of draws),
    # the permutation p-value keeps false "confounded" flags at its level
    flags = []
    for seed in range(10):
        texts = word_documents(VOCABULARY, 103, seed=100 + seed)
        flags.append(cal.shift_check(texts[:3], texts[3:], n_bootstrap=0, seed=seed).confounded)
    assert sum(flags) <= 2


# ---------------------------------------------------------------------------------------------------------------
# ROC helpers on known data


def test_auc_tpr_and_roc_on_known_data():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(5)
    y = np.r_[np.ones(300, dtype=int), np.zeros(700, dtype=int)]
    x = np.r_[rng.normal(1, 1, 300), rng.normal(0, 1, 700)]
    x[:5] = x[-5:]  # ties across classes count one half
    auc, low, high = cal.auc_confidence_interval(y, x, n_bootstrap=400)
    assert auc == pytest.approx(roc_auc_score(y, x))
    assert low < auc < high and high - low < 0.1
    # TPR at FPR t: members above the (1 - t) quantile of non-members
    cut = np.sort(x[y == 0])[-8]  # 7 non-members strictly above: FPR 0.01
    assert cal.tpr_at_fpr(y, x, 0.01) == pytest.approx(np.mean(x[y == 1] >= cut))
    roc = cal.roc_points(y, x)
    assert roc["fpr"].iloc[-1] == 1.0 and roc["tpr"].is_monotonic_increasing
    assert cal.auc_score(y, -x) == pytest.approx(1 - auc)
    with pytest.raises(ValueError, match="both members and non-members"):
        cal.auc_score(np.ones(5), np.arange(5))


# ---------------------------------------------------------------------------------------------------------------
# labelled inputs


@pytest.mark.parametrize("value, expected", [("member", 1), ("MEMBER", 1), ("Non-Member", 0), ("non member", 0),
                                             ("nonmember", 0), ("1", 1), ("0", 0), ("TRUE", 1), ("false", 0),
                                             (True, 1), (False, 0), (1, 1), (0, 0)])
def test_membership_labels_in_any_case(value, expected):
    assert parse_membership_label(value) == expected


def test_labelled_tables_keep_good_rows_and_explain_bad_ones(tmp_path):
    rows = [{"text": "alpha beta", "label": "member", "id": "a"}, {"text": "gamma", "label": False},
            {"text": "delta", "label": "maybe"}, {"text": "", "label": 1}, {"text": "eps"}]
    data = "\n".join(json.dumps(r) for r in rows).encode()
    docs, labels, errors = labelled_documents_from_bytes("set.jsonl", data)
    assert [d.name for d in docs] == ["set.jsonl:a", "set.jsonl:2"] and labels == [1, 0]
    messages = " | ".join(e.message for e in errors)
    assert "line 3: the label 'maybe' is not understood" in messages
    assert "line 4 has an empty 'text' field" in messages and "line 5 has no 'label' field" in messages
    (tmp_path / "set.csv").write_text("text,label\nfirst text,Member\nsecond text,NON-MEMBER\n", encoding="utf-8")
    (tmp_path / "unlabelled.csv").write_text("text\nsome text\n", encoding="utf-8")
    docs, labels, errors = load_labelled_documents([tmp_path / "set.csv", tmp_path / "unlabelled.csv"])
    assert [d.text for d in docs] == ["first text", "second text"] and labels == [1, 0]
    assert len(errors) == 1 and "has no 'label' column" in errors[0].message


# ---------------------------------------------------------------------------------------------------------------
# command line


def test_sets_cli_compare_and_evaluate(experiment, tmp_path, monkeypatch):
    from provenance.cli import main

    monkeypatch.setenv("PROVENANCE_CACHE", str(tmp_path / "cache"))
    model_dir = tmp_path / "model"
    experiment["model"].model.save_pretrained(model_dir)
    experiment["model"].tokenizer.save_pretrained(model_dir)
    texts = experiment["texts"]

    def write(name, records):
        path = tmp_path / name
        path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
        return str(path)

    suspect = write("suspect.jsonl", [{"id": i, "text": t} for i, t in enumerate(texts["members"])])
    reference = write("reference.jsonl", [{"id": i, "text": t} for i, t in enumerate(texts["non_members"])])
    out = tmp_path / "compare.csv"
    assert main(["sets", "compare", "--suspect", suspect, "--reference", reference, "--model", str(model_dir),
                 "--out", str(out), "--min-tokens", "10", "--splits", "5"]) == 0
    table = pd.read_csv(out)
    assert len(table) == N_SIDE and {"p_value", "verdict", "p_loss", "p_minkpp", "loss"} <= set(table.columns)
    summary = json.loads((tmp_path / "compare.summary.json").read_text())
    assert summary["dataset_inference"]["p_value"] < 0.01
    assert summary["dataset_inference"]["n_suspect"] == N_SIDE
    assert summary["false_positive_mode"]["p_value"] > 0.05
    assert not summary["shift_check"]["confounded"] and summary["verdict"]["label"] == "evidence of training"

    records = ([{"text": t, "label": "member"} for t in texts["members"]]
               + [{"text": t, "label": "non-member"} for t in texts["non_members"]])
    labelled_path = write("labelled.jsonl", records)
    out = tmp_path / "evaluate.csv"
    assert main(["sets", "evaluate", "--labelled", labelled_path, "--model", str(model_dir), "--out", str(out),
                 "--chunk-tokens", "10", "--bootstrap", "200", "--no-cache"]) == 0
    table = pd.read_csv(out)
    assert list(table.columns[:6]) == ["score", "auc", "auc_low", "auc_high", "tpr_at_1pct_fpr",
                                       "tpr_at_0_1pct_fpr"]
    assert set(table["score"]) == set(SCORES) | {"chunk_meta", "blind"}
    rows = table.set_index("score")
    assert rows.loc["loss", "auc"] > 0.9
    # members and non-members come from one generator: the blind baseline stays near chance and every score the
    # fine-tune separates is marked as beating it; the attack implies a positive privacy budget, the blind one not
    assert abs(rows.loc["blind", "auc"] - 0.5) < 0.15 and table["score"].iloc[-1] == "blind"
    assert not rows.loc["loss", "indistinguishable_from_blind"]
    assert not rows.loc["blind", "indistinguishable_from_blind"]
    assert rows.loc["loss", "epsilon_cp_lower"] > 0.5 and rows.loc["blind", "epsilon_lower"] < 0.5
    assert (rows["epsilon_cp_lower"] <= rows["epsilon_mean"] + 1e-9).all()

    one_sided = write("one_sided.jsonl", records[:5])
    assert main(["sets", "evaluate", "--labelled", one_sided, "--model", str(model_dir),
                 "--out", str(tmp_path / "x.csv")]) == 2
