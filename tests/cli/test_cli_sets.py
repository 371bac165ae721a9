"""python -m provenance sets compare / sets evaluate --investigation NAME: the run is saved in the store as it goes
(rows, verdict, artifacts) and running the command again resumes it instead of scoring anything twice."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from textgen import random_sentences
from provenance.cli import main
from provenance.investigations.store import REFERENCE, InvestigationStore
from provenance.verdicts.verdict import Verdict


@pytest.fixture(scope="module")
def model_dir(tiny_model, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-model-sets")
    tiny_model.model.save_pretrained(folder, safe_serialization=True)
    tiny_model.tokenizer.save_pretrained(folder)
    return str(folder)


def write_jsonl(path, records) -> str:
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return str(path)


def test_sets_compare_saves_and_resumes_an_investigation(model_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PROVENANCE_CACHE", str(tmp_path / "cache"))
    texts = random_sentences(30, length=40, seed=21)
    first = write_jsonl(tmp_path / "first.jsonl", [{"id": i, "text": t} for i, t in enumerate(texts[:6])])
    second = write_jsonl(tmp_path / "second.jsonl", [{"id": i, "text": t} for i, t in enumerate(texts[6:10])])
    reference = write_jsonl(tmp_path / "reference.jsonl", [{"id": i, "text": t} for i, t in enumerate(texts[10:])])
    store_path, out = tmp_path / "inv.sqlite", tmp_path / "compare.csv"
    run = ["sets", "compare", "--reference", reference, "--model", model_dir, "--out", str(out), "--splits", "3",
           "--investigation", "my sets", "--store", str(store_path)]

    assert main(run[:2] + ["--suspect", first] + run[2:]) == 0
    with InvestigationStore(store_path) as store:
        inv = store.get("my sets")
        assert inv.n_scored == 6 and len(store.results(inv.id, collection=REFERENCE)) == 20
        summary = json.loads((tmp_path / "compare.summary.json").read_text())
        assert isinstance(inv.verdict, Verdict) and inv.verdict == Verdict.from_dict(summary["verdict"])
    assert "Saved in investigation 'my sets'" in capsys.readouterr().err

    # more suspect files under the same name: only they are scored, the reference set is not scored again
    assert main(run[:2] + ["--suspect", first, second] + run[2:]) == 0
    with InvestigationStore(store_path) as store:
        inv = store.get("my sets")
        assert inv.n_scored == 10 and inv.status == "complete"
        assert inv.message.startswith("4 suspect and 0 reference document(s) scored in this run (6 and 20 were "
                                      "already done)")
        table = pd.read_csv(out)
        assert len(table) == 10 and table["p_value"].tolist() == pytest.approx(store.results(inv.id)["p_value"])
        assert inv.verdict == Verdict.from_dict(json.loads((tmp_path / "compare.summary.json").read_text())["verdict"])


def test_sets_compare_without_investigation_keeps_nothing(model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("PROVENANCE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PROVENANCE_STORE", str(tmp_path / "default.sqlite"))
    texts = random_sentences(8, length=30, seed=22)
    suspect = write_jsonl(tmp_path / "s.jsonl", [{"text": t} for t in texts[:3]])
    reference = write_jsonl(tmp_path / "r.jsonl", [{"text": t} for t in texts[3:]])
    assert main(["sets", "compare", "--suspect", suspect, "--reference", reference, "--model", model_dir,
                 "--out", str(tmp_path / "c.csv"), "--no-cache"]) == 0
    assert len(pd.read_csv(tmp_path / "c.csv")) == 3
    assert not (tmp_path / "default.sqlite").exists()


def test_sets_evaluate_saves_and_resumes_an_investigation(model_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PROVENANCE_CACHE", str(tmp_path / "cache"))
    texts = random_sentences(24, length=40, seed=23)
    records = [{"id": i, "text": t, "label": "member" if i % 2 else "non-member"} for i, t in enumerate(texts)]
    first = write_jsonl(tmp_path / "first.jsonl", records[:16])
    second = write_jsonl(tmp_path / "second.jsonl", records[16:])
    store_path, out = tmp_path / "inv.sqlite", tmp_path / "evaluate.csv"
    run = ["sets", "evaluate", "--model", model_dir, "--out", str(out), "--chunk-tokens", "16", "--bootstrap", "50",
           "--investigation", "labelled", "--store", str(store_path)]

    assert main(run + ["--labelled", first]) == 0
    with InvestigationStore(store_path) as store:
        inv = store.get("labelled")
        assert inv.n_scored == 16 and store.results(inv.id)["label"].sum() == 8
    assert "Saved in investigation 'labelled'" in capsys.readouterr().err

    assert main(run + ["--labelled", first, second]) == 0  # the first 16 are not scored again
    err = capsys.readouterr().err
    # the terminal table: the blind row by its name, the comparison in words, the epsilon columns, the sentence
    assert "blind (bag-of-words, no model)" in err and "epsilon_cp_lower" in err and "blind baseline" in err
    assert ("not distinguishable from the blind baseline" in err or "above the blind baseline" in err
            or "below the blind baseline" in err)
    assert "differentially private model" in err or "No attack here shows measurable leakage" in err
    with InvestigationStore(store_path) as store:
        inv = store.get("labelled")
        assert inv.n_scored == 24 and inv.message.startswith("8 document(s) scored in this run, 16 were already done")
        stored = store.get_artifact(inv.id, "labelled_evaluation")
        table = pd.read_csv(out)
        assert len(table) == 7 and table["auc"].tolist() == pytest.approx(stored["auc"].tolist())
        # the blind baseline last, with the privacy-budget columns and the boolean marking in the CSV
        assert table["score"].iloc[-1] == "blind" and table["indistinguishable_from_blind"].dtype == bool
        assert {"epsilon_mean", "epsilon_lower", "epsilon_cp_lower"} <= set(table.columns)
        assert table[["epsilon_mean", "epsilon_lower", "epsilon_cp_lower"]].notna().all().all()
        summary = json.loads((tmp_path / "evaluate.summary.json").read_text())
        assert isinstance(inv.verdict, Verdict) and inv.verdict == Verdict.from_dict(summary["verdict"])


def test_sets_take_a_reference_model_and_the_set_test(model_dir, tiny_model, tmp_path, monkeypatch, capsys):
    """`sets compare --ref-model` adds the ref score to the tables, tests and verdicts; `--set-test split_half`
    runs Maini et al.'s procedure instead of the rank test; `sets evaluate --ref-model` evaluates ref too."""
    import copy

    from provenance.lm.loading import wrap_model
    from provenance.lm.training import fine_tune

    monkeypatch.setenv("PROVENANCE_CACHE", str(tmp_path / "cache"))
    texts = random_sentences(40, length=30, seed=23)
    members, others = texts[:20], texts[20:]
    tuned, _ = fine_tune(wrap_model(copy.deepcopy(tiny_model.model), tiny_model.tokenizer, name="tuned"), members,
                         epochs=3, learning_rate=3e-3, seed=0)
    tuned_dir = tmp_path / "tuned"
    tuned.model.save_pretrained(tuned_dir)
    tuned.tokenizer.save_pretrained(tuned_dir)
    suspect = write_jsonl(tmp_path / "s.jsonl", [{"text": t} for t in members])
    reference = write_jsonl(tmp_path / "r.jsonl", [{"text": t} for t in others])
    for set_test in ("rank", "split_half"):
        out = tmp_path / f"c-{set_test}.csv"
        assert main(["sets", "compare", "--suspect", suspect, "--reference", reference, "--model", str(tuned_dir),
                     "--ref-model", model_dir, "--set-test", set_test, "--out", str(out), "--no-cache"]) == 0
        table = pd.read_csv(out)
        assert "ref" in table.columns and "p_ref" in table.columns
        summary = json.loads((tmp_path / f"c-{set_test}.summary.json").read_text())
        assert summary["dataset_inference"]["test"] == ("rank test" if set_test == "rank" else
                                                         "split-half dataset inference")
        assert "ref" in summary["scores"]
    labelled = write_jsonl(tmp_path / "l.jsonl", [{"text": t, "label": "member"} for t in members]
                           + [{"text": t, "label": "non-member"} for t in others])
    assert main(["sets", "evaluate", "--labelled", labelled, "--model", str(tuned_dir), "--ref-model", model_dir,
                 "--out", str(tmp_path / "e.csv"), "--no-cache", "--bootstrap", "50"]) == 0
    evaluation = pd.read_csv(tmp_path / "e.csv").set_index("score")
    assert evaluation.loc["ref", "n_members"] == 20 and 0.0 <= evaluation.loc["ref", "auc"] <= 1.0


def test_sets_evaluate_holds_out_declared_texts_and_says_so(model_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PROVENANCE_CACHE", str(tmp_path / "cache"))
    texts = random_sentences(16, length=30, seed=24)
    records = [{"text": t, "label": i % 2} for i, t in enumerate(texts)]
    labelled = write_jsonl(tmp_path / "l.jsonl", records)
    out = tmp_path / "e.csv"
    run = ["sets", "evaluate", "--labelled", labelled, "--model", model_dir, "--out", str(out), "--chunk-tokens", "16",
           "--bootstrap", "50", "--scores", "recall,conrecall,dcpdd"]
    assert main(run) == 0
    err = capsys.readouterr().err
    assert "Note: recall, conrecall, dcpdd: prefixes / frequency tables / population from 2 held-out non-member(s) of " \
           "the labelled set and 2 held-out member(s) of the labelled set, left out of the evaluation" in err
    table = pd.read_csv(out).set_index("score")
    assert table.loc["recall", "n_non_members"] == 6 and table.loc["loss", "n_non_members"] == 8
    assert table.loc["conrecall", "n_members"] == 6 and table.loc["recall", "n_members"] == 8

    reference = write_jsonl(tmp_path / "r.jsonl", [{"text": t} for t in random_sentences(4, length=30, seed=25)])
    assert main(run + ["--reference", reference, "--investigation", "with reference", "--store",
                       str(tmp_path / "s.sqlite")]) == 0
    err = capsys.readouterr().err
    assert "from 4 reference text(s) you gave and 2 held-out member(s)" in err
    assert pd.read_csv(out).set_index("score").loc["recall", "n_non_members"] == 8


def test_sets_compare_takes_declared_texts_from_a_held_out_part_of_the_reference_set(model_dir, tmp_path,
                                                                                      monkeypatch, capsys):
    monkeypatch.setenv("PROVENANCE_CACHE", str(tmp_path / "cache"))
    texts = random_sentences(15, length=30, seed=26)
    suspect = write_jsonl(tmp_path / "s.jsonl", [{"text": t} for t in texts[:3]])
    reference = write_jsonl(tmp_path / "r.jsonl", [{"text": t} for t in texts[3:]])
    store_path = tmp_path / "c.sqlite"
    assert main(["sets", "compare", "--suspect", suspect, "--reference", reference, "--model", model_dir,
                 "--out", str(tmp_path / "c.csv"), "--scores", "recall,dcpdd", "--investigation", "declared",
                 "--store", str(store_path)]) == 0
    assert "Note: recall, dcpdd: prefixes / frequency tables / population from 3 held-out reference text(s), left " \
           "out of the comparison" in capsys.readouterr().err
    assert pd.read_csv(tmp_path / "c.csv")[["recall", "dcpdd"]].notna().all().all()
    with InvestigationStore(store_path) as store:
        inv = store.get("declared")
        rows = store.results(inv.id, collection=REFERENCE)
        assert rows["recall"].isna().sum() == 3 and rows["loss"].notna().all()
        assert inv.settings["declared_texts"]["non_members"] == 3
