"""python -m provenance score: inputs, outputs by extension, extra scores, clear errors."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from provenance.cli import main

REQUIRED = ["document", "tokens", "nll", "perplexity", "loss", "zlib", "lowercase", "mink", "minkpp"]


@pytest.fixture(scope="module")
def model_dir(tiny_model, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-model")
    tiny_model.model.save_pretrained(folder, safe_serialization=True)
    tiny_model.tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def inputs(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("The cat sat on the mat by the river.")
    (tmp_path / "docs" / "b.md").write_text("# Notes\n\nThe dog ran under the big tree.")
    (tmp_path / "docs" / "empty.txt").write_text("")
    (tmp_path / "t.jsonl").write_text('{"id": "x", "text": "A small red bird flew over the house."}\n'
                                      'not json\n{"text": "The river was dark and far."}\n')
    pd.DataFrame({"text": ["Then the old dog sat happily.", "Bright blue river near the tree."]}).to_csv(
        tmp_path / "t.csv", index=False)
    return tmp_path


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_score_writes_one_row_per_document(model_dir, inputs, suffix, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PROVENANCE_CACHE", str(tmp_path / "cache"))
    out = tmp_path / f"scores{suffix}"
    code = main(["score", str(inputs / "docs"), str(inputs / "t.jsonl"), str(inputs / "t.csv"),
                 "--model", str(model_dir), "--out", str(out)])
    assert code == 0
    table = {".csv": pd.read_csv, ".jsonl": lambda p: pd.read_json(p, lines=True),
             ".parquet": pd.read_parquet}[suffix](out)
    assert list(table.columns)[: len(REQUIRED)] == REQUIRED
    assert len(table) == 6
    assert any(d.endswith("t.jsonl:x") for d in table["document"])
    err = capsys.readouterr().err
    assert "empty.txt: the file is empty" in err and "line 2 is not valid JSON" in err


def test_extra_scores_with_reference_and_observer(model_dir, inputs, tmp_path, monkeypatch):
    monkeypatch.setenv("PROVENANCE_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "s.csv"
    code = main(["score", str(inputs / "docs" / "a.txt"), "--model", str(model_dir), "--out", str(out),
                 "--scores", "ref,binoculars,gradnorm", "--ref-model", str(model_dir), "--observer", str(model_dir)])
    assert code == 0
    table = pd.read_csv(out)
    assert {"ref", "binoculars", "gradnorm"} <= set(table.columns)
    assert table["ref"].iloc[0] == pytest.approx(0.0, abs=1e-6)  # a model against itself


def test_scores_that_read_declared_texts_take_them_from_reference_and_members(model_dir, inputs, tmp_path,
                                                                             monkeypatch, capsys):
    monkeypatch.setenv("PROVENANCE_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "s.csv"
    base = ["score", str(inputs / "docs"), "--model", str(model_dir), "--out", str(out)]
    assert main(base + ["--scores", "recall,dcpdd"]) == 2
    assert "'recall' score needs texts you declare non-members" in capsys.readouterr().err
    assert main(base + ["--scores", "recall,conrecall,dcpdd,camia,tagtab,gapk,pac", "--reference", str(inputs / "t.csv"),
                        "--members", str(inputs / "t.jsonl")]) == 0
    table = pd.read_csv(out)
    assert len(table) == 2 and table[["recall", "conrecall", "dcpdd", "camia", "tagtab", "gapk", "pac"]].notna().all().all()


def test_errors_are_sentences_with_exit_status_2(model_dir, inputs, tmp_path, capsys):
    assert main(["score", str(inputs / "docs"), "--model", str(model_dir), "--out", str(tmp_path / "x.xlsx")]) == 2
    assert "use an output file ending in" in capsys.readouterr().err
    assert main(["score", str(tmp_path / "missing.txt"), "--model", str(model_dir), "--out",
                 str(tmp_path / "x.csv")]) == 2
    assert "No document could be read" in capsys.readouterr().err
    assert main(["score", str(inputs / "docs"), "--model", str(model_dir), "--out", str(tmp_path / "x.csv"),
                 "--scores", "ref"]) == 2
    assert "needs a reference model" in capsys.readouterr().err


def test_module_entry_point_runs(model_dir, inputs, tmp_path):
    out = tmp_path / "s.jsonl"
    proc = subprocess.run([sys.executable, "-m", "provenance", "score", str(inputs / "docs" / "a.txt"), "--model",
                           str(model_dir), "--out", str(out), "--no-cache"], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text().splitlines()[0])["tokens"] > 3
