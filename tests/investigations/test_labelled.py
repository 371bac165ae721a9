"""Evaluating a labelled set as an investigation: rows (with their labels) recorded as they come, a stopped run
resumed to the same evaluation, the evaluation table, ROC points and Verdict stored and read back unchanged."""

from __future__ import annotations

import pandas as pd
import pytest

from textgen import random_sentences
from provenance.documents import Document
from provenance.investigations.labelled import evaluate_labelled_set
from provenance.investigations.store import COMPLETE, INTERRUPTED, InvestigationStore
from provenance.verdicts.verdict import Verdict

SCORES = ("loss", "zlib", "mink")


@pytest.fixture
def store(tmp_path):
    s = InvestigationStore(tmp_path / "inv.sqlite")
    yield s
    s.close()


@pytest.fixture(scope="module")
def labelled():
    texts = random_sentences(24, length=40, seed=31)
    return [Document(f"t{i}.txt", t) for i, t in enumerate(texts)], [i % 2 for i in range(24)]


def evaluate(store, name, model, labelled, **kwargs):
    documents, labels = labelled
    return evaluate_labelled_set(store, name, model, documents, labels, SCORES, n_bootstrap=50, chunk_tokens=16,
                                 batch_documents=4, **kwargs)


def test_rows_are_recorded_with_labels_and_a_stopped_run_resumes_to_the_same_evaluation(store, tiny_model,
                                                                                        labelled):
    seen = []
    stopped = evaluate(store, "stopped", tiny_model, labelled, on_row=seen.append,
                       should_stop=lambda: len(seen) >= 5)
    assert stopped.cancelled and stopped.evaluation is None and stopped.investigation.status == INTERRUPTED
    rows = store.results(stopped.investigation.id)
    assert 5 <= len(rows) < 24 and len(rows) == len(seen)
    assert rows["label"].tolist() == [int(d[1:].split(".")[0]) % 2 for d in rows["document"]]  # saved with the row

    resumed = evaluate(store, "stopped", tiny_model, labelled)
    assert resumed.scores.skipped == len(seen) and resumed.scores.scored_now == 24 - len(seen)
    assert resumed.investigation.status == COMPLETE and "Best score" in resumed.investigation.message
    direct = evaluate(store, "uninterrupted", tiny_model, labelled)
    pd.testing.assert_frame_equal(resumed.evaluation.table, direct.evaluation.table)
    pd.testing.assert_frame_equal(resumed.evaluation.roc, direct.evaluation.roc)
    assert resumed.evaluation.verdict.label == direct.evaluation.verdict.label
    assert resumed.evaluation.verdict.p_value == pytest.approx(direct.evaluation.verdict.p_value)


def test_evaluation_roc_points_and_verdict_read_back_unchanged(store, tiny_model, labelled):
    result = evaluate(store, "stored", tiny_model, labelled)
    evaluation = result.evaluation
    assert {"loss", "zlib", "mink", "chunk_meta", "blind"} == set(evaluation.table["score"])
    assert "blind baseline (no model) AUC" in result.investigation.message
    inv = store.get(result.investigation.id)
    assert isinstance(inv.verdict, Verdict) and inv.verdict == evaluation.verdict  # 12 + 12: dataset inference ran
    pd.testing.assert_frame_equal(store.get_artifact(inv.id, "labelled_evaluation"), evaluation.table)
    pd.testing.assert_frame_equal(store.get_artifact(inv.id, "roc_curves"), evaluation.roc, check_dtype=False)
    assert store.get_artifact(inv.id, "shift_check") == evaluation.shift.summary()
    assert store.get_artifact(inv.id, "labelled_evaluation_settings")["members"] == 12
    assert store.results(inv.id)["label"].sum() == 12


def test_labels_are_checked_before_anything_is_scored(store, tiny_model, labelled):
    documents, _ = labelled
    with pytest.raises(ValueError, match="both members"):
        evaluate_labelled_set(store, "one-sided", tiny_model, documents, [1] * len(documents))
    with pytest.raises(ValueError, match="one label each"):
        evaluate_labelled_set(store, "short", tiny_model, documents, [0, 1])
    assert store.list() == []
