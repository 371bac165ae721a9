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


def test_cli_finds_an_excerpt_of_a_much_longer_document_and_writes_every_outcome(tmp_path, docs, capsys):
    from provenance.cli import main

    rng = random.Random(17)
    preamble = random_text(rng, 120)
    licence = " ".join([random_text(rng, 900), preamble, random_text(rng, 900)])  # 16 times longer
    corpus_dir = tmp_path / "corpus"
    corpus_dir.mkdir()
    (corpus_dir / "licence.txt").write_text(licence)
    for d in docs[:40]:
        (corpus_dir / f"{d.name}.txt").write_text(d.text)
    (tmp_path / "preamble.txt").write_text(preamble)
    (tmp_path / "other.txt").write_text(random_text(random.Random(78), 120))
    idx = tmp_path / "idx"
    assert main(["overlap", "build", str(corpus_dir), "--index", str(idx), "--exact-min-words", "12"]) == 0
    assert json.loads((idx / "overlap-index.json").read_text())["params"]["exact_min_words"] == 12
    queries = [str(tmp_path / "preamble.txt"), str(tmp_path / "other.txt")]
    capsys.readouterr()
    assert main(["overlap", "query", *queries, "--index", str(idx), "--out", str(tmp_path / "m.csv")]) == 0
    err = capsys.readouterr().err
    matches = pd.read_csv(tmp_path / "m.csv")
    assert matches["match"].tolist() == [str(corpus_dir / "licence.txt")]
    assert matches["found_by"].tolist() == ["exact excerpt"] and matches["containment_exact"].tolist() == [1.0]
    documents = pd.read_csv(tmp_path / "m.documents.csv")  # written beside --out by default
    assert [d.rsplit("/", 1)[-1] for d in documents["document"]] == ["preamble.txt", "other.txt"]
    assert documents["outcome"].tolist() == ["contained", "no match found (not proof of absence)"]
    assert "preamble.txt: contained. It is contained in" in err
    assert "other.txt: no match found (not proof of absence). None of the 41 corpus documents is a near-dup" in err
    assert f"every document's outcome -> {tmp_path / 'm.documents.csv'}" in err

    # without the exact-excerpt index the MinHash indexes miss it; the outcome table says so, where asked
    assert main(["overlap", "query", *queries, "--index", str(idx), "--out", str(tmp_path / "n.jsonl"),
                 "--no-exact", "--documents-out", str(tmp_path / "outcomes.parquet")]) == 0
    outcomes = pd.read_parquet(tmp_path / "outcomes.parquet")
    assert outcomes["outcome"].tolist() == ["no match found (not proof of absence)"] * 2
    assert "exact-excerpt index was not used" in outcomes["detail"].iloc[0]
    assert main(["overlap", "query", *queries, "--index", str(idx), "--out", str(tmp_path / "m.csv"),
                 "--documents-out", str(tmp_path / "outcomes.txt")]) == 2
    assert "outcomes.txt" in capsys.readouterr().err
