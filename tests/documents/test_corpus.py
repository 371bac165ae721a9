"""documents.corpus: a reference corpus from folders, .jsonl / .csv / .parquet tables and .zip archives."""

from __future__ import annotations

import json
import zipfile

import pandas as pd
import pytest
from corpus_texts import corpus

from provenance.documents.corpus import read_corpus


@pytest.fixture(scope="module")
def docs():
    return corpus()


def test_read_corpus_folder_jsonl_csv_parquet_zip(tmp_path, docs):
    folder = tmp_path / "corpus"
    folder.mkdir()
    with open(folder / "a.jsonl", "w") as fh:
        for d in docs[:5]:
            fh.write(json.dumps({"id": d.name, "text": d.text}) + "\n")
    pd.DataFrame({"id": [d.name for d in docs[5:10]], "text": [d.text for d in docs[5:10]]}).to_csv(
        folder / "b.csv", index=False)
    pd.DataFrame({"text": [d.text for d in docs[10:15]] + [None]}).to_parquet(folder / "c.parquet")
    parquet_bytes = (folder / "c.parquet").read_bytes()
    with zipfile.ZipFile(folder / "d.zip", "w") as zf:
        zf.writestr("texts/one.txt", docs[15].text)
        zf.writestr("texts/table.parquet", parquet_bytes)
        zf.writestr("inner.zip", b"PK")
    pd.DataFrame({"body": ["x"]}).to_parquet(tmp_path / "wrong.parquet")

    got, errors = read_corpus([folder, tmp_path / "wrong.parquet", tmp_path / "missing"])
    texts = [d.text for d in got]
    assert texts[:15] == [d.text for d in docs[:15]]
    assert docs[15].text in texts and texts.count(docs[10].text) == 2  # parquet inside the zip too
    assert any(d.name == f"{folder / 'a.jsonl'}:doc0" for d in got)
    messages = " | ".join(str(e) for e in errors)
    assert "empty or non-text 'text' value" in messages
    assert "no 'text' column" in messages and "archives inside archives" in messages
    assert "no such file or folder" in messages
