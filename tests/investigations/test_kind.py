"""Every investigation records what it asks (its kind), from the use case that ran it: the view, the figures and the
report follow the recorded kind, never a guess from its text. Stores written before kinds were recorded get them
from what their use cases recorded."""

from __future__ import annotations

import random
import sqlite3

import pytest

from textgen import random_sentences
from provenance import ghost
from provenance.documents import Document
from provenance.investigations.ghost_test import run_ghost_test
from provenance.investigations.labelled import evaluate_labelled_set
from provenance.investigations.records import Kind
from provenance.investigations.reference import compare_with_reference
from provenance.investigations.scoring import score_set
from provenance.investigations.store import REFERENCE, InvestigationStore, StoreError

SCORES = ("loss", "zlib")


@pytest.fixture
def store(tmp_path):
    s = InvestigationStore(tmp_path / "inv.sqlite")
    yield s
    s.close()


def docs(n: int, seed: int, prefix: str = "d") -> list[Document]:
    return [Document(f"{prefix}{i}.txt", t) for i, t in enumerate(random_sentences(n, length=25, seed=seed))]


def test_each_use_case_records_its_kind(store, tiny_model):
    scored = score_set(store, "scores", tiny_model, docs(2, 1), SCORES).investigation
    compared = compare_with_reference(store, "compared", tiny_model, docs(2, 2), docs(5, 3, "r"), SCORES)
    labelled = evaluate_labelled_set(store, "bench", tiny_model, docs(6, 4), [0, 1] * 3, SCORES, n_bootstrap=20,
                                     chunk_tokens=16)
    entries = ghost.new_entries(ghost.Registry(), ghost.GhostGenerator(words=4), 2, rng=random.Random(5))
    tested = run_ghost_test(store, "ghost", tiny_model, entries, n_null=20, last_k=(), rng=random.Random(6))
    kinds = {name: store.get(name).kind for name in ("scores", "compared", "bench", "ghost")}
    assert kinds == {"scores": Kind.DOCUMENTS, "compared": Kind.REFERENCE, "bench": Kind.LABELLED,
                     "ghost": Kind.GHOST}
    assert compared.investigation.kind is Kind.REFERENCE and labelled.investigation.kind is Kind.LABELLED
    assert tested.investigation.kind is Kind.GHOST and scored.kind is Kind.DOCUMENTS
    listing = store.table().set_index("name")
    assert listing.loc["bench", "kind"] == "labelled" and listing.loc["ghost", "kind"] == "ghost"
    assert store.get("ghost").as_dict()["kind"] == "ghost"


def test_documents_may_gain_a_reference_set_but_kinds_never_mix(store, tiny_model):
    score_set(store, "mine", tiny_model, docs(2, 1), SCORES)
    compare_with_reference(store, "mine", tiny_model, docs(2, 1), docs(5, 3, "r"), SCORES)
    assert store.get("mine").kind is Kind.REFERENCE
    score_set(store, "mine", tiny_model, docs(3, 1), SCORES)  # scoring more documents keeps the comparison's kind
    assert store.get("mine").kind is Kind.REFERENCE
    evaluate_labelled_set(store, "bench", tiny_model, docs(6, 4), [0, 1] * 3, SCORES, n_bootstrap=20,
                          chunk_tokens=16)
    with pytest.raises(StoreError, match="benchmark"):
        score_set(store, "bench", tiny_model, docs(2, 1), SCORES)
    assert store.get("bench").kind is Kind.LABELLED


def test_a_store_written_before_kinds_gets_them_from_what_was_recorded(tmp_path):
    path = tmp_path / "old.sqlite"
    with InvestigationStore(path) as store:
        for name in ("plain", "compared", "bench", "ghost"):
            store.create(name)
        store.add_documents("compared", docs(1, 1, "r"), collection=REFERENCE)
        store.put_artifact("bench", "labelled_evaluation_settings", {"members": 3})
        store.put_artifact("ghost", "ghost_test_settings", {"identifiers": ["g1"]})
    con = sqlite3.connect(path)
    con.execute("ALTER TABLE investigations DROP COLUMN kind")
    con.execute("PRAGMA user_version = 2")
    con.commit()
    con.close()
    with InvestigationStore(path) as store:
        kinds = {inv.name: inv.kind for inv in store.list()}
    assert kinds == {"plain": Kind.DOCUMENTS, "compared": Kind.REFERENCE, "bench": Kind.LABELLED,
                     "ghost": Kind.GHOST}
