"""python -m provenance overlap build / query."""

from __future__ import annotations

import json
import random

import pandas as pd
import pytest
from corpus_texts import corpus, perturb, random_text


@pytest.fixture(scope="module")
def docs():
    return corpus()


def test_cli_build_and_query(tmp_path, docs, capsys):
    from provenance.cli import main

    corpus_file = tmp_path / "corpus.jsonl"
    with open(corpus_file, "w") as fh:
        for d in docs[:60]:
            fh.write(json.dumps({"id": d.name, "text": d.text}) + "\n")
    (tmp_path / "near.txt").write_text(perturb(docs[12].text, random.Random(6), 2))
    (tmp_path / "other.txt").write_text(random_text(random.Random(77), 120))
    assert main(["overlap", "build", str(corpus_file), "--index", str(tmp_path / "idx")]) == 0
    assert main(["overlap", "build", str(corpus_file), "--index", str(tmp_path / "idx")]) == 2
    assert "--append" in capsys.readouterr().err
    out = tmp_path / "matches.csv"
    assert main(["overlap", "query", str(tmp_path / "near.txt"), str(tmp_path / "other.txt"), "--index",
                 str(tmp_path / "idx"), "--out", str(out), "--spans-out", str(tmp_path / "spans.jsonl")]) == 0
    table = pd.read_csv(out)
    for col in ("document", "match", "jaccard_est", "containment_est", "jaccard_exact", "containment_exact"):
        assert col in table.columns
    assert list(table["match"]) == [f"{corpus_file}:doc12"]
    assert table["document"].iloc[0].endswith("near.txt")
    assert len(pd.read_json(tmp_path / "spans.jsonl", lines=True)) >= 1
    assert main(["overlap", "query", str(tmp_path / "near.txt"), "--index", str(tmp_path / "nope"),
                 "--out", str(out)]) == 2
    assert "no such folder" in capsys.readouterr().err
