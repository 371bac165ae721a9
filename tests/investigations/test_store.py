"""The investigation store: persistence as rows arrive, collections, list/get/rename/delete, artifacts, threads,
and opening a store written by an older version."""

from __future__ import annotations

import math
import sqlite3
import subprocess
import sys
import threading
import uuid

import numpy as np
import pandas as pd
import pytest

from textgen import random_sentences
from provenance.documents import Document
from provenance import paths
from provenance.verdicts.verdict import decide
from provenance.investigations.store import (
    CREATED,
    FAILED,
    MAIN,
    REFERENCE,
    InvestigationStore,
    StoreError,
)
from provenance.files import sha256_text as text_sha256


@pytest.fixture
def store(tmp_path):
    s = InvestigationStore(tmp_path / "inv.sqlite")
    yield s
    s.close()


def docs(n: int, seed: int = 0) -> list[Document]:
    return [Document(f"doc{i}.txt", t) for i, t in enumerate(random_sentences(n, length=25, seed=seed))]


def row(name: str, loss: float) -> dict:
    return {"document": name, "tokens": 10, "nll": -loss, "perplexity": math.exp(-loss), "loss": loss}


# ---------------------------------------------------------------------------------------------------- basics


def test_location_argument_env_and_default(tmp_path, monkeypatch):
    monkeypatch.setenv("PROVENANCE_STORE", str(tmp_path / "env" / "x.sqlite"))
    assert paths.store_path() == tmp_path / "env" / "x.sqlite"
    with InvestigationStore() as s:
        assert s.path == tmp_path / "env" / "x.sqlite" and s.path.is_file()
    monkeypatch.delenv("PROVENANCE_STORE")
    monkeypatch.delenv("PROVENANCE_CACHE", raising=False)
    assert paths.store_path().name == "investigations.sqlite" and ".cache" in str(paths.store_path())
    monkeypatch.setenv("PROVENANCE_CACHE", str(tmp_path / "moved"))  # the cache setting moves the store too
    assert paths.store_path() == tmp_path / "moved" / "investigations.sqlite"
    with InvestigationStore(tmp_path / "arg.sqlite") as s:
        assert s.path == tmp_path / "arg.sqlite"


def test_wal_mode(store):
    assert store.journal_mode().lower() == "wal"


def test_create_get_find_list_rename_delete(store):
    a = store.create("First", model_spec="m", model_identity="id1", model_info={"name": "M"}, settings={"k": 0.2})
    b = store.create()
    c = store.create()
    assert a.status == CREATED and a.settings == {"k": 0.2} and a.model_name == "M"
    assert b.name.startswith("Investigation ") and c.name != b.name
    assert store.get(a.id).name == "First" and store.get("First").id == a.id
    assert store.find("nope") is None
    with pytest.raises(StoreError, match="already exists"):
        store.create("First")
    renamed = store.rename(a.id, "Renamed")
    assert renamed.name == "Renamed" and store.get("Renamed").id == a.id
    with pytest.raises(StoreError, match="already exists"):
        store.rename(b.id, "Renamed")
    with pytest.raises(StoreError, match="empty"):
        store.rename(b.id, "  ")
    assert {i.id for i in store.list()} == {a.id, b.id, c.id}
    table = store.table()
    assert list(table.columns[:4]) == ["id", "name", "status", "model"] and len(table) == 3
    store.add_documents(a.id, docs(2))
    store.put_artifact(a.id, "x", {"y": 1})
    store.delete(a.id)
    with pytest.raises(StoreError, match="no investigation"):
        store.get(a.id)
    con = sqlite3.connect(store.path)
    for t in ("documents", "results", "artifacts"):
        assert con.execute(f"SELECT COUNT(*) FROM {t} WHERE investigation_id = ?", (a.id,)).fetchone()[0] == 0
    con.close()


def test_documents_results_and_pending(store):
    inv = store.create("x")
    given = docs(4)
    stored = store.add_documents(inv.id, given + [Document("doc0.txt", given[0].text)])
    assert [d.name for d in stored][-1] == "doc0.txt (2)"
    assert store.documents(inv.id)[0] == given[0]
    store.add_result(inv.id, row("doc0.txt", -3.0))
    store.add_results(inv.id, [row("doc1.txt", -2.5)])
    store.add_unscorable(inv.id, "doc2.txt", "too short to score.")
    pending = store.pending_documents(inv.id, given)
    assert [d.name for d in pending] == ["doc3.txt"]
    got = store.get(inv.id)
    assert (got.n_documents, got.n_scored, got.n_unscorable, got.n_pending) == (5, 2, 1, 2)
    table = store.results(inv.id)
    assert list(table["document"]) == ["doc0.txt", "doc1.txt"]
    assert list(table.columns[:4]) == ["document", "tokens", "nll", "perplexity"] and table.columns[-1] == "sha256"
    assert table["sha256"].iloc[0] == text_sha256(given[0].text)
    assert store.unscorable(inv.id) == {"doc2.txt": "too short to score."}
    status = store.documents_table(inv.id).set_index("name")["status"]
    assert status["doc0.txt"] == "scored" and status["doc2.txt"] == "error" and status["doc3.txt"] == "pending"
    with pytest.raises(StoreError, match="no document named"):
        store.add_result(inv.id, row("missing.txt", -1.0))


def test_changed_text_is_rescored(store):
    inv = store.create("x")
    store.add_documents(inv.id, [Document("a.txt", "old text")])
    store.add_result(inv.id, row("a.txt", -1.0))
    assert store.pending_documents(inv.id, [Document("a.txt", "old text")]) == []
    store.add_documents(inv.id, [Document("a.txt", "new text")])
    assert store.results(inv.id).empty
    assert [d.text for d in store.pending_documents(inv.id, [Document("a.txt", "new text")])] == ["new text"]


def test_nan_scores_and_extra_fields_survive(store):
    inv = store.create("x")
    store.add_documents(inv.id, [Document("a.txt", "alpha")])
    store.add_result(inv.id, {"document": "a.txt", "tokens": 3, "nll": 1.0, "perplexity": math.e,
                              "lowercase": float("nan"), "loss": np.float32(-1.0)})
    store.update_result_fields(inv.id, "a.txt", {"p_value": np.float64(0.01), "verdict": "no evidence"})
    table = store.results(inv.id)
    assert math.isnan(table["lowercase"].iloc[0]) and table["loss"].iloc[0] == -1.0
    assert table["p_value"].iloc[0] == 0.01 and table["verdict"].iloc[0] == "no evidence"


def test_verdict_and_status(store):
    inv = store.create("x")
    store.set_verdict(inv.id, decide(0.4, 0.01))
    store.set_status(inv.id, FAILED, "boom")
    got = store.get(inv.id)
    assert got.verdict == decide(0.4, 0.01) and got.verdict.label == "no evidence" and got.status == FAILED and got.message == "boom"
    with pytest.raises(StoreError, match="Unknown status"):
        store.set_status(inv.id, "weird")


def test_artifacts_json_and_tables(store):
    inv = store.create("x")
    table = pd.DataFrame({"identifier": ["a b c", "d e f"], "p_value": [0.001, 0.5], "n": [3, 0]})
    store.put_artifact(inv.id, "ghost_detection", table)
    store.put_artifact(inv.id, "calibration", {"auc": np.float64(0.9), "thresholds": np.array([1.0, 2.0])})
    pd.testing.assert_frame_equal(store.get_artifact(inv.id, "ghost_detection"), table)
    assert store.get_artifact(inv.id, "calibration") == {"auc": 0.9, "thresholds": [1.0, 2.0]}
    assert set(store.artifacts(inv.id)) == {"ghost_detection", "calibration"}
    assert store.get_artifact(inv.id, "missing", "default") == "default"
    store.put_artifact(inv.id, "calibration", {"auc": 0.5})
    assert store.get_artifact(inv.id, "calibration") == {"auc": 0.5}
    store.delete_artifact(inv.id, "calibration")
    assert store.get_artifact(inv.id, "calibration") is None
    store.put_artifacts(inv.id, {"calibration": {"auc": 0.7}, "ghost_detection": None, "notes": ["a note"]})
    assert store.artifacts(inv.id) == {"calibration": {"auc": 0.7}, "notes": ["a note"]}


def test_tables_keep_infinities_nan_and_types(store):
    """A ROC table starts at threshold +inf: stored tables keep every float as it was (pandas' JSON writer turns
    infinities into null), and tables written by an older store are still read."""
    inv = store.create("x")
    roc = pd.DataFrame({"score": ["loss", "loss", "zlib"], "fpr": [0.0, 0.5, float("nan")],
                        "threshold": [float("inf"), -1.25, float("-inf")], "n": [1, 2, 3], "hit": [True, False, True]})
    store.put_artifact(inv.id, "roc_curves", roc)
    pd.testing.assert_frame_equal(store.get_artifact(inv.id, "roc_curves"), roc)
    older = pd.DataFrame({"identifier": ["a b"], "p_value": [0.25]})
    with store._write() as con:
        con.execute("INSERT INTO artifacts VALUES (?, 'older', 'table', ?, '2024-01-01')",
                    (inv.id, older.to_json(orient="split")))
    pd.testing.assert_frame_equal(store.get_artifact(inv.id, "older"), older)


def test_collections_keep_their_own_documents_and_rows(store):
    """A reference set (or any other collection) lives beside the investigation's own documents: same names allowed,
    rows and pending work kept apart, and the investigation's counts are about its own documents only."""
    inv = store.create("x")
    store.add_documents(inv.id, [Document("a.txt", "suspect a"), Document("b.txt", "suspect b")])
    store.add_documents(inv.id, [Document("a.txt", "reference a"), Document("r.txt", "reference r"),
                                 Document("short.txt", "r")], collection=REFERENCE)
    store.add_result(inv.id, row("a.txt", -1.0))
    store.add_results(inv.id, [row("a.txt", -2.0), row("r.txt", -3.0)], collection=REFERENCE)
    store.add_unscorable(inv.id, "short.txt", "too short to score.", collection=REFERENCE)
    got = store.get(inv.id)
    assert (got.n_documents, got.n_scored, got.n_unscorable, got.n_pending) == (2, 1, 0, 1)
    assert store.collections(inv.id) == {MAIN: 2, REFERENCE: 3}
    assert [d.text for d in store.documents(inv.id, collection=REFERENCE)] == ["reference a", "reference r", "r"]
    assert store.results(inv.id)["loss"].tolist() == [-1.0]
    assert store.results(inv.id, collection=REFERENCE)["loss"].tolist() == [-2.0, -3.0]
    assert store.unscorable(inv.id) == {} and store.unscorable(inv.id, collection=REFERENCE) == {
        "short.txt": "too short to score."}
    assert [d.name for d in store.pending_documents(inv.id, store.documents(inv.id))] == ["b.txt"]
    assert store.pending_documents(inv.id, store.documents(inv.id, collection=REFERENCE), collection=REFERENCE) == []
    status = store.documents_table(inv.id, collection=REFERENCE).set_index("name")["status"]
    assert status.to_dict() == {"a.txt": "scored", "r.txt": "scored", "short.txt": "error"}
    store.add_documents(inv.id, [Document("a.txt", "changed reference a")], collection=REFERENCE)
    assert store.results(inv.id, collection=REFERENCE)["document"].tolist() == ["r.txt"]
    assert store.results(inv.id)["document"].tolist() == ["a.txt"]  # the suspect row of that name stays
    store.delete(inv.id)
    assert store.list() == []


def test_set_result_fields_merges_and_drops_in_one_go(store):
    inv = store.create("x")
    store.add_documents(inv.id, [Document(n, n) for n in ("a", "b", "c")])
    store.add_results(inv.id, [row("a", -1.0), row("b", -2.0), row("c", -3.0)])
    store.set_result_fields(inv.id, {"a": {"p_loss": 0.1, "p_value": 0.1}, "b": {"p_loss": 0.2, "p_value": 0.2},
                                     "c": {"p_loss": 0.3, "p_value": 0.3}})
    store.set_result_fields(inv.id, {"a": {"p_value": 0.5}, "b": {"p_value": 0.6}}, drop=["p_loss", "p_value"])
    table = store.results(inv.id).set_index("document")
    assert "p_loss" not in table and table["p_value"].tolist()[:2] == [0.5, 0.6]
    assert math.isnan(table.loc["c", "p_value"])  # dropped everywhere, merged where given
    with pytest.raises(StoreError, match="no score row for 'missing'"):
        store.set_result_fields(inv.id, {"a": {"label": 1}, "missing": {"label": 0}})
    assert "label" not in store.results(inv.id)  # nothing was changed


def test_a_store_from_before_collections_is_brought_up_to_date(tmp_path):
    """Schema 1 had no collections: opening such a file keeps every investigation, document and row, in MAIN."""
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.executescript("""
CREATE TABLE investigations (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, status TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '', model_spec TEXT NOT NULL DEFAULT '', model_identity TEXT NOT NULL DEFAULT '',
    model_info TEXT NOT NULL DEFAULT '{}', settings TEXT NOT NULL DEFAULT '{}', verdict TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE documents (investigation_id TEXT NOT NULL REFERENCES investigations(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, name TEXT NOT NULL, sha256 TEXT NOT NULL, text TEXT NOT NULL, added_at TEXT NOT NULL,
    PRIMARY KEY (investigation_id, name));
CREATE TABLE results (investigation_id TEXT NOT NULL REFERENCES investigations(id) ON DELETE CASCADE,
    document TEXT NOT NULL, sha256 TEXT NOT NULL, kind TEXT NOT NULL, row TEXT NOT NULL, computed_at TEXT NOT NULL,
    PRIMARY KEY (investigation_id, document));
CREATE TABLE artifacts (investigation_id TEXT NOT NULL REFERENCES investigations(id) ON DELETE CASCADE,
    name TEXT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (investigation_id, name));
PRAGMA user_version = 1;
""")
    con.execute("INSERT INTO investigations (id, name, status, created_at, updated_at) VALUES "
                "('i1', 'old one', 'complete', '2024-01-01', '2024-01-01')")
    for i, text in enumerate(["first text", "second text"]):
        con.execute("INSERT INTO documents VALUES ('i1', ?, ?, ?, ?, '2024-01-01')",
                    (i, f"d{i}", text_sha256(text), text))
    con.execute("INSERT INTO results VALUES ('i1', 'd0', ?, 'scored', ?, '2024-01-01')",
                (text_sha256("first text"), '{"document": "d0", "tokens": 2, "nll": 1.0, "loss": -1.0}'))
    con.commit()
    con.close()
    with InvestigationStore(path) as s:
        inv = s.get("old one")
        assert (inv.n_documents, inv.n_scored, inv.n_pending) == (2, 1, 1)
        assert s.results(inv.id)["loss"].tolist() == [-1.0] and s.collections(inv.id) == {MAIN: 2}
        s.add_documents(inv.id, [Document("d0", "a reference")], collection=REFERENCE)  # the new key works
        assert s.collections(inv.id) == {MAIN: 2, REFERENCE: 1}
        assert s._read("PRAGMA user_version")[0][0] == 2
    with InvestigationStore(path) as s:  # opening it again changes nothing
        assert s.get("old one").n_scored == 1


def test_corrupt_store_file_is_a_sentence(tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="could not be opened"):
        InvestigationStore(bad)


# ---------------------------------------------------------------------------------------------------- durability


def test_rows_survive_a_killed_process(tmp_path):
    """A process that writes rows and dies without closing anything loses nothing that was committed."""
    path = tmp_path / "killed.sqlite"
    script = f"""
import os
from provenance.documents import Document
from provenance.investigations.store import InvestigationStore
s = InvestigationStore({str(path)!r})
inv = s.create("killed")
s.add_documents(inv.id, [Document(f"d{{i}}", f"text {{i}}") for i in range(5)])
for i in range(3):
    s.add_result(inv.id, {{"document": f"d{{i}}", "tokens": 2, "nll": 1.0, "perplexity": 2.7, "loss": -1.0}})
os._exit(1)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    with InvestigationStore(path) as s:
        inv = s.get("killed")
        assert inv.n_scored == 3 and inv.n_pending == 2
        assert [d.name for d in s.pending_documents(inv.id, s.documents(inv.id))] == ["d3", "d4"]


def test_many_threads_write_one_store(store):
    inv = store.create("threads")
    names = [f"t{t}-{i}" for t in range(4) for i in range(25)]
    store.add_documents(inv.id, [Document(n, n) for n in names])
    failures = []

    def worker(t: int) -> None:
        try:
            for i in range(25):
                store.add_result(inv.id, row(f"t{t}-{i}", -float(i)))
                store.get(inv.id)
        except Exception as exc:  # noqa: BLE001
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert store.get(inv.id).n_scored == 100


def test_unique_store_per_test_is_isolated(tmp_path):
    path = tmp_path / f"{uuid.uuid4().hex}.sqlite"
    with InvestigationStore(path) as s:
        assert s.list() == []


def test_an_unused_name_is_the_base_or_the_first_free_numbered_one(tmp_path):
    with InvestigationStore(tmp_path / "s.sqlite") as store:
        assert store.unused_name("Run") == "Run"
        store.create("Run")
        store.create("Run (2)")
        assert store.unused_name("Run") == "Run (3)"
