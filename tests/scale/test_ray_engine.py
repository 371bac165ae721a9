"""The Ray engine on a local two-actor cluster: the same numbers as the single-process ``score``, bad documents as
error rows, a killed run resumed without rescoring, other settings refused; the default model agrees to 1e-5."""

import json
import os

import pandas as pd
import pytest
from scale_corpus import BAD_ROWS, GOOD_CSV, GOOD_JSONL

from provenance.cli import main
from provenance.documents import load_documents
from provenance.lm.loading import load_model
from provenance.scale import output
from provenance.scores import registry
from provenance.scores.table import score_documents

SCORES = list(registry.default_scores())
NUMBERS = ["tokens", "nll", "perplexity", *SCORES]
RAY = ["--engine", "ray", "--actors", "2", "--cpus-per-actor", "1", "--batch-size", "4"]


def _score(corpus, model, out, *extra):
    return main(["score", str(corpus), "--model", str(model), "--out", str(out), *RAY, *extra])


def _assert_same_numbers(rows: pd.DataFrame, expected: pd.DataFrame) -> None:
    scored = rows[rows["error"].isna()].set_index("document")
    expected = expected.set_index("document")
    assert sorted(scored.index) == sorted(expected.index)
    for column in NUMBERS:
        diff = (scored.loc[expected.index, column].astype(float) - expected[column].astype(float)).abs().max()
        assert diff <= 1e-5, (column, diff)


def test_two_actors_give_the_single_process_rows_and_resume_without_rescoring(ray_cluster, tiny_model_dir, corpus,
                                                                             tmp_path, capsys):
    out = tmp_path / "out"
    assert _score(corpus, tiny_model_dir, out) == 0
    final = capsys.readouterr().err.strip().splitlines()[-1]
    documents = GOOD_JSONL + GOOD_CSV + BAD_ROWS + 1  # + notes.bin, a file type that is not read
    assert final.startswith(f"Scored {documents} document(s), ") and "tokens/s) on 2 actor(s); 4 failed row(s)" in final

    rows = output.read_rows(out)
    single, _ = load_documents([corpus])
    expected = score_documents(load_model(tiny_model_dir), single, SCORES).table
    assert list(rows.columns) == list(expected.columns) + ["sha256", "error"]
    _assert_same_numbers(rows, expected)
    errors = rows.dropna(subset=["error"]).set_index("document")["error"]
    assert len(errors) == 4 and errors.str.contains("not valid JSON|empty 'text'|too short|not supported").all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model_identity"] == load_model(tiny_model_dir).identity
    assert manifest["runs"][-1]["status"] == "complete" and manifest["runs"][-1]["documents"] == documents

    # run again: everything is done, nothing is scored or written
    shards = output.shard_paths(out)
    assert len(shards) >= 5  # 20 documents in batches of 4
    assert _score(corpus, tiny_model_dir, out) == 0
    assert "Scored 0 document(s)" in capsys.readouterr().err and output.shard_paths(out) == shards

    # a run killed with two batches in flight lost those shards only: resuming scores exactly their documents
    lost = [s for s in shards if output.read_shard(s)["error"].isna().all()][:2]
    lost_documents = set().union(*(set(output.read_shard(s)["document"]) for s in lost))
    for shard in lost:
        os.unlink(shard)
    kept = {s: s.stat().st_mtime_ns for s in output.shard_paths(out)}
    assert _score(corpus, tiny_model_dir, out) == 0
    new = [s for s in output.shard_paths(out) if s not in kept]
    assert set().union(*(set(output.read_shard(s)["document"]) for s in new)) == lost_documents
    assert all(s.stat().st_mtime_ns == t for s, t in kept.items())
    _assert_same_numbers(output.read_rows(out), expected)
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith(f"Scored {len(lost_documents)} document(s)")


def test_other_settings_into_the_same_folder_are_refused(tiny_model_dir, corpus, tmp_path, capsys):
    out = tmp_path / "out"
    output.open_output(out, {"model": tiny_model_dir, "scores": SCORES, "k": 0.2, "window": None, "stride": None,
                             "top_k": 0, "max_window": 2048, "ref_model": None, "observer": None, "dtype": None,
                             "trust_remote_code": False}, [corpus])
    assert _score(corpus, tiny_model_dir, out, "--k", "0.3") == 2
    message = capsys.readouterr().err
    assert "holds scores computed with other settings (k: 0.2 there, 0.3 now)" in message
    assert _score(corpus, tiny_model_dir, tmp_path / "scores.csv") == 2
    assert "names a folder for the Parquet shards" in capsys.readouterr().err


def test_a_model_the_workers_cannot_load_stops_the_run_with_its_sentence(ray_cluster, corpus, tmp_path, capsys):
    assert _score(corpus, tmp_path / "no-such-model", tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "error: " in err and "no-such-model' is not a local model folder" in err
    assert output.read_rows(tmp_path / "out")["error"].notna().all()  # only notes.bin's row: nothing was scored


@pytest.mark.slow
def test_the_default_model_on_two_actors_agrees_with_one_process(ray_cluster, default_model, tmp_path):
    from textgen import random_sentences

    corpus = tmp_path / "docs.jsonl"
    corpus.write_text("".join(json.dumps({"id": f"d{i}", "text": t}) + "\n"
                              for i, t in enumerate(random_sentences(6, length=45, seed=11))), encoding="utf-8")
    assert main(["score", str(corpus), "--model", "default", "--out", str(tmp_path / "out"), "--engine", "ray",
                 "--actors", "2", "--cpus-per-actor", "1", "--batch-size", "3"]) == 0
    single, _ = load_documents([corpus])
    _assert_same_numbers(output.read_rows(tmp_path / "out"), score_documents(default_model, single, SCORES).table)


def test_sets_compare_scores_both_sets_on_the_cluster_and_compares_them(ray_cluster, tiny_model_dir, corpus,
                                                                        tmp_path, capsys):
    from textgen import random_sentences

    reference = tmp_path / "later.jsonl"
    reference.write_text("".join(json.dumps({"id": f"r{i}", "text": t}) + "\n"
                                 for i, t in enumerate(random_sentences(12, length=30, seed=8))), encoding="utf-8")
    out = tmp_path / "cmp"
    assert main(["sets", "compare", "--suspect", str(corpus), "--reference", str(reference), "--model",
                 tiny_model_dir, "--out", str(out), "--splits", "3", "--investigation", "on the cluster",
                 "--store", str(tmp_path / "inv.sqlite"), *RAY]) == 0
    err = capsys.readouterr().err
    assert "Verdict for the set:" in err and "Saved in investigation 'on the cluster'" in err
    verdicts = pd.read_parquet(out / "verdicts.parquet")
    assert len(verdicts) == GOOD_JSONL + GOOD_CSV and {"p_value", "verdict_label"} <= set(verdicts.columns)
    assert json.loads((out / "verdicts.summary.json").read_text())["documents"]["reference"] == 12
    assert len(output.read_rows(out / "reference")) == 12 and output.read_manifest(out / "suspect")["model_identity"]
