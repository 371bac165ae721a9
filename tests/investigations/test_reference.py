"""Comparing a suspect set with a reference set as an investigation: both sets' rows recorded as they come, a stopped
run resumed to the same comparison, the set Verdict and per-document verdicts stored and read back unchanged."""

from __future__ import annotations

import pandas as pd
import pytest

from textgen import random_sentences
from provenance.documents import Document
from provenance.investigations.reference import compare_with_reference
from provenance.investigations.store import COMPLETE, INTERRUPTED, MAIN, REFERENCE, InvestigationStore
from provenance.verdicts.verdict import Verdict

SCORES = ("loss", "zlib", "mink")


@pytest.fixture
def store(tmp_path):
    s = InvestigationStore(tmp_path / "inv.sqlite")
    yield s
    s.close()


@pytest.fixture(scope="module")
def sets():
    texts = random_sentences(30, length=40, seed=11)
    suspect = [Document(f"doc{i}.txt", t) for i, t in enumerate(texts[:10])]
    reference = [Document(f"ref{i}.txt", t) for i, t in enumerate(texts[10:])]
    return suspect, reference


def compare(store, name, model, sets, **kwargs):
    suspect, reference = sets
    return compare_with_reference(store, name, model, suspect, reference, SCORES, n_splits=3, batch_documents=3,
                                  **kwargs)


def test_both_sets_are_recorded_as_they_come_and_a_stopped_run_resumes_to_the_same_comparison(store, tiny_model,
                                                                                              sets):
    seen = []
    stopped = compare(store, "stopped", tiny_model, sets, on_row=seen.append, on_reference_row=seen.append,
                      should_stop=lambda: len(seen) >= 12)
    assert stopped.cancelled and stopped.comparison is None
    inv = stopped.investigation
    assert inv.status == INTERRUPTED and inv.verdict is None
    assert inv.n_scored == 10 and 2 <= len(stopped.reference.table) < 20  # suspect set first, then the reference
    assert store.collections(inv.id) == {MAIN: 10, REFERENCE: 20}
    assert len(store.results(inv.id, collection=REFERENCE)) == len(seen) - 10

    resumed = compare(store, "stopped", tiny_model, sets)
    assert resumed.reference.skipped == len(seen) - 10 and resumed.suspect.skipped == 10
    assert resumed.reference.scored_now == 20 - resumed.reference.skipped
    assert resumed.investigation.status == COMPLETE and not resumed.cancelled

    direct = compare(store, "uninterrupted", tiny_model, sets)
    pd.testing.assert_frame_equal(resumed.comparison.documents, direct.comparison.documents)
    assert resumed.comparison.verdict.label == direct.comparison.verdict.label
    assert resumed.comparison.verdict.p_value == pytest.approx(direct.comparison.verdict.p_value)
    assert resumed.comparison.inference is not None  # 10 and 20 documents: dataset inference ran


def test_the_set_verdict_and_document_verdicts_read_back_unchanged(store, tiny_model, sets):
    result = compare(store, "verdicts", tiny_model, sets, fpr=0.1)
    stored = store.get(result.investigation.id)
    assert isinstance(stored.verdict, Verdict) and stored.verdict == result.comparison.verdict
    assert stored.verdict.fpr == 0.1
    table = store.results(stored.id)
    expected = result.comparison.documents.set_index("document")
    for column in ("p_value", "p_loss", "p_zlib", "p_mink", "verdict"):
        assert table.set_index("document")[column].tolist() == expected[column].tolist()
    assert table["verdict_label"].tolist() == [str(label) for label in expected["verdict_label"]]
    artifacts = store.artifacts(stored.id)
    assert {"shift_check", "dataset_inference", "false_positive_mode", "set_comparison"} <= set(artifacts)
    assert artifacts["set_comparison"]["documents"] == {"suspect": 10, "evidence": int(
        (expected["verdict_label"] == "evidence of training").sum()), "reference": 20}
    assert "Verdict for the set" in stored.message


def test_a_new_comparison_replaces_the_fields_of_the_old_one(store, tiny_model, sets):
    compare(store, "again", tiny_model, sets)
    assert "p_zlib" in store.results("again")
    again = compare(store, "again", tiny_model, sets, verdict_scores=["loss"], fpr=0.01)
    table = store.results("again")
    assert "p_zlib" not in table and "p_loss" in table  # no field of the first comparison lingers
    assert again.suspect.scored_now == 0 and again.reference.scored_now == 0  # nothing scored twice
    assert store.get("again").verdict.fpr == 0.01


def test_a_set_that_cannot_be_scored_is_said_not_compared(store, tiny_model, sets):
    suspect, _ = sets
    result = compare_with_reference(store, "no reference", tiny_model, suspect[:3], [Document("a.txt", "a")],
                                    SCORES)
    assert result.comparison is None and result.reference.errors
    inv = result.investigation
    assert inv.status == COMPLETE and inv.verdict is None
    assert "No document of the reference set could be scored" in inv.message
    assert store.get_artifact(inv.id, "notes") == [
        "No document of the reference set could be scored, so the sets were not compared."]


def test_the_set_level_test_can_be_chosen_and_is_recorded(store, tiny_model, sets):
    rank = compare(store, "rank", tiny_model, sets)
    split = compare(store, "split", tiny_model, sets, set_test="split_half")
    assert store.get_artifact("rank", "set_comparison")["set_test"] == "rank"
    assert store.get_artifact("split", "set_comparison")["set_test"] == "split_half"
    assert type(rank.comparison.inference) is not type(split.comparison.inference)
    assert store.get("split").verdict == split.comparison.verdict
