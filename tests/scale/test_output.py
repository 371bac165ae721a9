"""The output folder of a scaled run: manifest refusals, atomic shards, resume keys, rows read back once."""

import json

import pandas as pd
import pytest

from provenance.scale import output

SETTINGS = {"model": "tiny", "scores": ["loss", "zlib"], "k": 0.2, "window": None, "stride": None, "top_k": 0,
            "max_window": 2048, "ref_model": None, "observer": None, "dtype": None, "trust_remote_code": False}


def _row(name, sha, loss=-1.5, error=None):
    if error:
        return {"document": name, "sha256": sha, "error": error}
    return {"document": name, "sha256": sha, "tokens": 10, "nll": 1.5, "perplexity": 4.48, "loss": loss,
            "zlib": -0.01, "error": None}


def test_a_new_folder_gets_a_manifest_with_the_single_process_columns(tmp_path):
    manifest = output.open_output(tmp_path / "out", SETTINGS, [tmp_path / "corpus"])
    assert manifest["columns"] == ["document", "tokens", "nll", "perplexity", "loss", "zlib", "sha256", "error"]
    on_disk = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert on_disk["settings"] == SETTINGS and on_disk["inputs"] == [str((tmp_path / "corpus").resolve())]


def test_other_settings_are_refused_with_a_sentence_naming_them(tmp_path):
    output.open_output(tmp_path / "out", SETTINGS, [])
    with pytest.raises(output.OutputFolderError, match=r"other settings \(k: 0.2 there, 0.5 now\).*another folder"):
        output.open_output(tmp_path / "out", {**SETTINGS, "k": 0.5}, [])
    with pytest.raises(output.OutputFolderError, match="model: 'tiny' there, 'other' now"):
        output.open_output(tmp_path / "out", {**SETTINGS, "model": "other"}, [])
    output.open_output(tmp_path / "out", SETTINGS, [])  # the same settings resume


def test_a_folder_of_other_files_is_refused(tmp_path):
    (tmp_path / "mine.txt").write_text("x")
    with pytest.raises(output.OutputFolderError, match="not the output of a scoring run"):
        output.open_output(tmp_path, SETTINGS, [])
    (tmp_path / "file.csv").write_text("x")
    with pytest.raises(output.OutputFolderError, match="is a file"):
        output.open_output(tmp_path / "file.csv", SETTINGS, [])


def test_a_different_model_identity_is_refused(tmp_path):
    manifest = output.open_output(tmp_path, SETTINGS, [])
    output.record_identity(tmp_path, manifest, "a" * 24)
    assert output.read_manifest(tmp_path)["model_identity"] == "a" * 24
    with pytest.raises(output.OutputFolderError, match="not the one this folder was scored with"):
        output.record_identity(tmp_path, output.read_manifest(tmp_path), "b" * 24)


def test_shards_are_atomic_keyed_and_read_back_once(tmp_path):
    manifest = output.open_output(tmp_path, SETTINGS, [])
    columns = manifest["columns"]
    first = output.write_shard(tmp_path, [_row("a", "1"), _row("b", "2", error="b: too short to score.")], columns,
                               "id1")
    output.write_shard(tmp_path, [_row("a", "1"), _row("c", "3", loss=-2.0)], columns, "id1")  # a retried batch
    assert output.shard_identity(first) == "id1"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert output.done_keys(tmp_path) == {output.row_key("a", "1"), output.row_key("b", "2"),
                                          output.row_key("c", "3")}
    rows = output.read_rows(tmp_path)
    assert list(rows.columns) == columns
    assert sorted(rows["document"]) == ["a", "b", "c"]
    b = rows.set_index("document").loc["b"]
    assert b["error"] == "b: too short to score." and b["tokens"] is pd.NA
    assert rows.set_index("document").loc["c", "loss"] == -2.0


def test_a_failed_shard_write_leaves_nothing_behind(tmp_path):
    manifest = output.open_output(tmp_path, SETTINGS, [])
    with pytest.raises(Exception):
        output.write_shard(tmp_path, [{"document": "a", "sha256": "1", "tokens": "not a number"}],
                           manifest["columns"], "id")
    assert output.shard_paths(tmp_path) == [] and output.read_rows(tmp_path).empty
