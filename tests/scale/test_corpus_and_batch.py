"""Corpus rows for a scaled run (names and error sentences as the single-process reader gives them) and one batch
scored with the single-process scorer (same numbers; a bad document is a row with an error, never a failed batch)."""

import numpy as np
import pytest
from scale_corpus import BAD_ROWS, GOOD_CSV, GOOD_JSONL

from provenance.documents import load_documents
from provenance.scale import batch as batch_module
from provenance.scale.batch import score_rows
from provenance.scale.corpus import corpus_files, corpus_texts, document_rows, file_documents, file_rows
from provenance.scale.output import row_key
from provenance.scores import registry
from provenance.scores.table import score_documents

SCORES = list(registry.default_scores())


def _all_rows(corpus):
    files, errors = corpus_files([corpus])
    rows = [r for path, name in files for r in file_rows({"path": path, "name": name})]
    return rows, errors


def test_rows_carry_the_single_process_names_and_texts(corpus):
    rows, listing = _all_rows(corpus)
    single, _ = load_documents([corpus])
    readable = {r["document"]: r["text"] for r in rows if not r["error"]}
    assert readable == {d.name: d.text for d in single}
    assert len(readable) == GOOD_JSONL + GOOD_CSV + 1  # + the one-word text, refused later by the scorer
    assert corpus_texts([corpus]) == readable
    problems = [r["error"] for r in rows if r["error"]]
    assert any("not valid JSON" in p for p in problems) and any("empty 'text'" in p for p in problems)
    assert [e.source.endswith("notes.bin") and "not supported" in e.message for e in listing] == [True]


def test_a_file_that_cannot_be_read_is_a_row_with_its_sentence(tmp_path):
    (tmp_path / "bad.jsonl").write_bytes(b"")
    docs, errors = file_documents(tmp_path / "bad.jsonl", "bad.jsonl")
    rows = document_rows(docs, errors)
    assert rows == [{"document": "bad.jsonl", "text": "", "sha256": rows[0]["sha256"], "error": "the file is empty."}]
    assert file_rows({"path": str(tmp_path / "bad.jsonl"), "name": "bad.jsonl"},
                     done={row_key("bad.jsonl", rows[0]["sha256"])}) == []


def test_done_rows_are_skipped_by_name_and_text_hash(corpus):
    rows, _ = _all_rows(corpus)
    first = next(r for r in rows if not r["error"])
    files, _ = corpus_files([corpus])
    again = [r for path, name in files for r in file_rows({"path": path, "name": name},
                                                          done={row_key(first["document"], first["sha256"])})]
    assert len(again) == len(rows) - 1 and first["document"] not in {r["document"] for r in again}
    changed = [r for path, name in files for r in file_rows({"path": path, "name": name},
                                                            done={row_key(first["document"], "other text")})]
    assert len(changed) == len(rows)


def test_a_batch_has_the_single_process_numbers_and_error_rows(tiny_model, corpus):
    rows, _ = _all_rows(corpus)
    scored = score_rows(tiny_model, rows, SCORES)
    single, _ = load_documents([corpus])
    expected = score_documents(tiny_model, single, SCORES).table.set_index("document")
    got = {r["document"]: r for r in scored.rows}
    for name, row in expected.iterrows():
        for column in ["tokens", "nll", "perplexity", *SCORES]:
            assert got[name][column] == pytest.approx(row[column], abs=1e-5), (name, column)
        assert got[name]["error"] is None
    errors = [r for r in scored.rows if r["error"]]
    assert scored.failed == len(errors) == BAD_ROWS
    assert any("too short to score" in r["error"] and r["document"].endswith(":short") for r in errors)
    assert scored.tokens == int(expected["tokens"].sum())


def test_a_document_that_breaks_the_scorer_fails_alone(tiny_model, corpus, monkeypatch):
    rows, _ = _all_rows(corpus)
    rows = [r for r in rows if not r["error"]][:4]
    real = score_documents

    def breaks_on_second(model, documents, scores, **kwargs):
        if any(d.name == rows[1]["document"] for d in documents):
            raise RuntimeError("the device ran out of memory")
        return real(model, documents, scores, **kwargs)

    monkeypatch.setattr("provenance.scores.table.score_documents", breaks_on_second)
    scored = score_rows(tiny_model, rows, SCORES)
    by_name = {r["document"]: r for r in scored.rows}
    assert len(by_name) == 4 and scored.failed == 1
    assert "could not be scored (RuntimeError: the device ran out of memory)" in by_name[rows[1]["document"]]["error"]
    assert all(np.isfinite(by_name[r["document"]]["loss"]) for r in rows if r is not rows[1])
    assert batch_module.ScoredBatch  # the batch's value type is public
