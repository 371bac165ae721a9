"""Scoring a set as an investigation: rows recorded as they come, resume after a stop or a crash, refusals."""

from __future__ import annotations

import pandas as pd
import pytest

from textgen import random_sentences
from provenance.documents import Document, IngestError
from provenance.scores.table import score_documents
from provenance.lm.token_stats import ScoringSettings
from provenance.investigations.scoring import score_set
from provenance.investigations.store import COMPLETE, FAILED, INTERRUPTED, InvestigationStore, StoreError

SCORES = ("loss", "zlib", "mink")


@pytest.fixture
def store(tmp_path):
    s = InvestigationStore(tmp_path / "inv.sqlite")
    yield s
    s.close()


def docs(n: int, seed: int = 0) -> list[Document]:
    return [Document(f"doc{i}.txt", t) for i, t in enumerate(random_sentences(n, length=25, seed=seed))]


def test_score_set_records_everything(store, tiny_model):
    documents = docs(5) + [Document("short.txt", "a")]
    errors = [IngestError("broken.pdf", "the PDF is damaged.")]
    rows_seen = []
    ticks = []
    run = score_set(store, "first run", tiny_model, documents, SCORES, batch_documents=2,
                    ingest_errors=errors, on_row=rows_seen.append, progress=lambda d, t: ticks.append((d, t)))
    assert run.investigation.status == COMPLETE and not run.cancelled
    assert run.scored_now == 5 and run.skipped == 0 and len(rows_seen) == 5
    assert "short.txt" in run.errors
    inv = run.investigation
    assert inv.model_identity == tiny_model.identity and inv.model_info["name"] == tiny_model.name
    assert inv.settings["scores"] == list(SCORES)
    assert store.get_artifact(inv.id, "ingest_errors") == [{"source": "broken.pdf", "message": "the PDF is damaged."}]
    assert ticks and ticks[-1][0] == ticks[-1][1] and all(d <= t for d, t in ticks)
    direct = score_documents(tiny_model, documents, SCORES).table
    pd.testing.assert_frame_equal(run.table.drop(columns="sha256"), direct, check_dtype=False)
    again = score_set(store, "first run", tiny_model, documents, SCORES)
    assert again.scored_now == 0 and again.skipped == 6


def test_interrupted_run_resumes_and_matches_an_uninterrupted_one(store, tiny_model):
    documents = docs(7, seed=3)
    rows = []
    run = score_set(store, "resume", tiny_model, documents, SCORES, batch_documents=2,
                    on_row=rows.append, should_stop=lambda: len(rows) >= 3)
    assert run.cancelled and run.investigation.status == INTERRUPTED
    assert 3 <= run.investigation.n_scored < 7
    done_first = run.investigation.n_scored
    resumed = score_set(store, "resume", tiny_model, documents, SCORES, batch_documents=2)
    assert resumed.skipped == done_first and resumed.scored_now == 7 - done_first
    assert resumed.investigation.status == COMPLETE
    full = score_set(store, "uninterrupted", tiny_model, documents, SCORES)
    pd.testing.assert_frame_equal(resumed.table, full.table)


def test_crash_mid_run_keeps_committed_rows(store, tiny_model):
    documents = docs(6, seed=5)
    seen = []

    def crash_after_two(r):
        seen.append(r)
        if len(seen) == 2:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        score_set(store, "crash", tiny_model, documents, SCORES, batch_documents=3, on_row=crash_after_two)
    with InvestigationStore(store.path) as fresh:  # another connection, as after a restart
        inv = fresh.get("crash")
        assert inv.status == FAILED and inv.n_scored == 2
        resumed = score_set(fresh, "crash", tiny_model, documents, SCORES)
        assert resumed.scored_now == 4 and resumed.investigation.n_scored == 6


def test_resume_refuses_other_model_or_settings(store, tiny_model, fresh_tiny_model):
    documents = docs(2)
    score_set(store, "fixed", tiny_model, documents, SCORES)
    with pytest.raises(StoreError, match="different settings"):
        score_set(store, "fixed", tiny_model, documents, SCORES, k=0.5)
    with pytest.raises(StoreError, match="different settings"):
        score_set(store, "fixed", tiny_model, documents, SCORES, settings=ScoringSettings(window=16))
    with torch_no_grad():
        next(fresh_tiny_model.model.parameters()).add_(1.0)
    from provenance.lm.loading import wrap_model

    changed = wrap_model(fresh_tiny_model.model, tiny_model.tokenizer, name="changed")
    with pytest.raises(StoreError, match="was run with the model"):
        score_set(store, "fixed", changed, documents, SCORES)


def torch_no_grad():
    import torch

    return torch.no_grad()


class ScriptStopped(BaseException):
    """What a dashboard rerun raises inside a running script (Streamlit's StopException is a BaseException)."""


def test_a_run_stopped_from_outside_is_interrupted_not_failed(store, tiny_model):
    def stop_after_one(r):
        raise ScriptStopped()

    with pytest.raises(ScriptStopped):
        score_set(store, "stopped", tiny_model, docs(3, seed=6), SCORES, batch_documents=1, on_row=stop_after_one)
    inv = store.get("stopped")
    assert inv.status == INTERRUPTED and inv.message == "Stopped; run it again to resume." and inv.n_scored == 1


def test_sessions_creating_the_same_new_name_at_once_share_one_investigation(tmp_path, tiny_model):
    """Find-or-create is one transaction: eight writers racing on a new name never see 'already exists'."""
    import threading

    from provenance.investigations.scoring import open_investigation
    from provenance.investigations.store import InvestigationStore

    store = InvestigationStore(tmp_path / "race.sqlite")
    for round_ in range(15):
        barrier, results, errors = threading.Barrier(8), [], []

        def open_it() -> None:
            barrier.wait()
            try:
                results.append(open_investigation(store, f"race {round_}", tiny_model, {"scores": ["loss"]}).id)
            except Exception as exc:  # noqa: BLE001 - the test reports any failure
                errors.append(exc)

        threads = [threading.Thread(target=open_it) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        assert len(set(results)) == 1
    assert len(store.list()) == 15
