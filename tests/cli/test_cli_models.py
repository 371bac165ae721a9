"""python -m provenance score / sets compare with several models: one row per (document, model), each model judged
against the same reference set, a model that cannot load gets its reason, one model keeps the old output."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from textgen import random_sentences
from provenance.cli import main
from provenance.investigations.records import Kind
from provenance.investigations.store import InvestigationStore
from provenance.verdicts.verdict import Label


def save(model, folder) -> str:
    model.model.save_pretrained(folder, safe_serialization=True)
    model.tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def model_dirs(tiny_model, tiny_model_b, tmp_path_factory):
    return save(tiny_model, tmp_path_factory.mktemp("tiny-a")), save(tiny_model_b, tmp_path_factory.mktemp("tiny-b"))


def write_jsonl(path, texts) -> str:
    path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts)), encoding="utf-8")
    return str(path)


def test_sets_compare_with_two_models_judges_each_against_the_same_reference(model_dirs, tmp_path, monkeypatch,
                                                                             capsys):
    monkeypatch.setenv("PROVENANCE_CACHE", str(tmp_path / "cache"))
    texts = random_sentences(24, length=40, seed=31)
    suspect = write_jsonl(tmp_path / "s.jsonl", texts[:4])
    reference = write_jsonl(tmp_path / "r.jsonl", texts[4:])
    a, b = model_dirs
    out, store_path = tmp_path / "grid.csv", tmp_path / "inv.sqlite"
    assert main(["sets", "compare", "--suspect", suspect, "--reference", reference, "--model", a, "--model",
                 f"{b},{tmp_path / 'missing-model'}", "--out", str(out), "--fpr", "0.1",
                 "--investigation", "three", "--store", str(store_path)]) == 0
    err = capsys.readouterr().err
    grid = pd.read_csv(out)
    assert len(grid) == 12 and grid["spec"].tolist().count(a) == 4
    scored = grid[grid["status"] == "scored"]
    assert set(scored["spec"]) == {a, b} and scored["p_value"].between(0, 1).all()
    assert set(scored["verdict_label"]) <= {label.value for label in Label}
    missing = grid[grid["spec"].str.endswith("missing-model")]
    assert (missing["status"] == "refused").all() and missing["p_value"].isna().all()
    summary = json.loads((tmp_path / "grid.summary.json").read_text())
    assert [m["status"] for m in summary["models"]] == ["complete", "complete", "refused"]
    assert summary["reference"] == 20
    assert "missing-model: no results." in err and "Saved in investigation 'three'" in err
    with InvestigationStore(store_path) as store:
        inv = store.get("three")
        assert inv.kind is Kind.MODELS and inv.status == "complete"
        for run in summary["models"][:2]:  # each model's own run, against the same 20 reference texts
            own = store.get(run["investigation_id"])
            assert own.kind is Kind.REFERENCE and own.verdict is not None
            assert len(store.documents(own.id, collection="reference")) == 20
            assert f"{run['label']}: {own.verdict.sentence()}" in err


def test_score_with_two_models_and_with_one(model_dirs, tmp_path, monkeypatch):
    monkeypatch.setenv("PROVENANCE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PROVENANCE_STORE", str(tmp_path / "default.sqlite"))
    docs = write_jsonl(tmp_path / "d.jsonl", random_sentences(3, length=30, seed=32))
    a, b = model_dirs
    assert main(["score", docs, "--model", f"{a},{b}", "--out", str(tmp_path / "two.csv")]) == 0
    two = pd.read_csv(tmp_path / "two.csv")
    assert len(two) == 6 and (two["status"] == "scored").all() and two["value"].equals(two["loss"])
    assert not (tmp_path / "default.sqlite").exists()  # without --investigation nothing is kept
    assert main(["score", docs, "--model", a, "--out", str(tmp_path / "one.csv")]) == 0
    one = pd.read_csv(tmp_path / "one.csv")
    assert list(one.columns[:4]) == ["document", "tokens", "nll", "perplexity"] and "model" not in one
    assert one["loss"].tolist() == pytest.approx(two[two["spec"] == a]["loss"].tolist())
