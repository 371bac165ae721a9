"""AppTest: the History page lists saved investigations, reopens one as it was, compares two, renames and deletes.

Each test gets its own empty store (``ui.session.shared_store`` is patched for the test), so what one test saves
never shows up in another's list."""

import pandas as pd
import pytest
from textgen import random_sentences
from apptest_helpers import page_text, button, open_page

from provenance.documents import Document, IngestError
from provenance.lm.loading import load_model
from provenance.lm.token_stats import ScoringSettings
from provenance.investigations.scoring import score_set
from provenance.investigations.store import InvestigationStore

SETTINGS = ScoringSettings(top_k=5)


@pytest.fixture
def store(tmp_path, monkeypatch):
    import ui.session

    fresh = InvestigationStore(tmp_path / "history.sqlite")
    monkeypatch.setattr(ui.session, "shared_store", lambda: fresh)
    yield fresh
    fresh.close()


@pytest.fixture(scope="module")
def page_model(tiny_model_dir):
    """The tiny model loaded from its folder, as the sidebar loads it (same spec, same identity)."""
    return load_model(tiny_model_dir)


def _docs(n, seed, prefix="doc"):
    return [Document(f"{prefix}{i}.txt", t) for i, t in enumerate(random_sentences(n, length=40, seed=seed))]


def _run(store, name, model, documents, **kwargs):
    return score_set(store, name, model, documents, settings=SETTINGS, **kwargs).investigation


def _texts(at):
    parts = [e.value for kind in ("markdown", "caption", "info", "warning", "error", "success") for e in
             getattr(at, kind)]
    return " ".join(str(p) for p in parts)


def _plotly_keys(at):
    return [node.proto.id for node in at.get("plotly_chart")]


def test_empty_store_says_how_to_start(store):
    at = open_page("history")
    at.run()
    assert not at.exception
    assert at.title[0].value == "History"
    assert any("No investigations yet" in i.value and "Documents page" in i.value for i in at.info)
    assert not at.dataframe


def test_list_and_reopen_shows_tables_figures_and_artifacts(store, page_model):
    first = _run(store, "Novel chapters", page_model, _docs(3, seed=1) + [Document("tiny.txt", "a")],
                 ingest_errors=[IngestError("broken.pdf", "broken.pdf: the PDF is damaged.")])
    store.put_artifact(first.id, "ghost_detection", pd.DataFrame({"identifier": ["alpha beta"], "p_value": [0.01]}))
    store.put_artifact(first.id, "set_comparison", {"auc": 0.61, "note": "sets compared"})
    second = store.create("Half done", model_spec=page_model.spec, model_identity=page_model.identity,
                          model_info=page_model.describe())
    store.add_documents(second.id, _docs(2, seed=5))
    at = open_page("history")
    at.run()
    assert not at.exception, at.exception
    listing = at.dataframe[0].value
    assert set(listing["name"]) == {"Novel chapters", "Half done"}
    assert {"model", "status", "scored", "pending", "verdict", "created_at", "updated_at"} <= set(listing.columns)
    half = listing.set_index("name").loc["Half done"]
    assert half["pending"] == 2 and half["scored"] == 0 and half["status"] == "created"

    at.selectbox(key="history_open").set_value(first.id)
    at.run()
    assert not at.exception, at.exception
    results = at.dataframe[1].value
    assert list(results["document"]) == ["doc0.txt", "doc1.txt", "doc2.txt"]
    assert {"loss", "perplexity", "mink"} <= set(results.columns)
    keys = _plotly_keys(at)
    assert any("history_fig_perplexity" in k for k in keys) and any("history_fig_dist" in k for k in keys)
    text = _texts(at)
    assert "tiny.txt" in text  # the unscorable document says why
    assert "Stored results attached to this investigation" in text
    labels = [e.label for e in at.expander]
    assert {"Ghost detection", "Set comparison", "Ingest errors"} <= set(labels)
    tables = [d.value for d in at.dataframe]
    assert any("identifier" in t.columns for t in tables) and any("source" in t.columns for t in tables)
    assert at.json and '"auc"' in at.json[0].value

    at.selectbox(key="history_open").set_value(second.id)
    at.run()
    assert not at.exception
    assert "2 pending" in _texts(at) and "No document of this investigation has been scored yet" in _texts(at)


def test_reopen_with_verdict_and_per_token_view(store, page_model, tiny_model_dir):
    from provenance.investigations.reference import compare_with_reference

    compare_with_reference(store, "With verdict", page_model, _docs(4, seed=2), _docs(20, seed=3, prefix="ref"),
                           settings=SETTINGS, fpr=0.05, verdict_scores=["loss", "zlib", "mink"])

    # another model is selected in the sidebar: a sentence says which one to pick, nothing is loaded
    at = open_page("history")
    at.run()
    at.toggle(key="history_token_toggle").set_value(True)
    at.run()
    assert not at.exception, at.exception
    cards = page_text(at)
    assert "Your documents as a set" in cards
    assert any(h in cards for h in ("Evidence of training", "No evidence of training", "Inconclusive"))
    assert {"p_value", "verdict"} <= set(at.dataframe[1].value.columns)
    # four documents, three cards: a line counts every document's verdict and says where the others are
    verdicts = at.dataframe[1].value["verdict_label"].value_counts()
    summary = next(m.value for m in at.markdown if "document(s) judged" in m.value)
    assert summary.startswith("**4 document(s) judged:**") and "in the table" in summary
    assert all(f"{n} {label}" in summary for label, n in verdicts.items())
    assert any(tiny_model_dir in i.value and "sidebar" in i.value for i in at.info)
    assert not any("history_fig_tokens" in k for k in _plotly_keys(at))

    # the investigation's own model is selected: the per-token view is computed on demand
    at = open_page("history", model=tiny_model_dir)
    at.run()
    at.selectbox(key="history_token_doc").set_value("doc1.txt")
    at.toggle(key="history_token_toggle").set_value(True)
    at.run()
    assert not at.exception, at.exception
    assert any("history_fig_tokens" in k for k in _plotly_keys(at))
    assert any("the first token is never scored" in m.value for m in at.markdown)  # the coloured text itself
    assert any("Share of tokens the model ranked" in c.value for c in at.caption)


def test_compare_two_investigations(store, page_model):
    shared = _docs(3, seed=4)
    a = _run(store, "First run", page_model, shared)
    b = _run(store, "Second run", page_model, [Document(f"renamed-{d.name}", d.text) for d in shared[:2]], k=0.5)
    at = open_page("history")
    at.run()
    at.selectbox(key="history_compare_a").set_value(a.id)
    at.selectbox(key="history_compare_b").set_value(b.id)
    at.run()
    assert not at.exception, at.exception
    facts = next(d.value for d in at.dataframe if "fact" in d.value.columns)
    k_row = facts.set_index("fact").loc["setting: k"]
    assert k_row["first"] == "0.2" and k_row["second"] == "0.5" and not k_row["same"]
    diff = next(d.value for d in at.dataframe if "perplexity_diff" in d.value.columns)
    assert len(diff) == 2 and list(diff["document_b"]) == ["renamed-doc0.txt", "renamed-doc1.txt"]
    assert (diff["perplexity_diff"].abs() < 1e-6).all()  # same model, same texts: same perplexity
    assert any("history_fig_compare" in k for k in _plotly_keys(at))
    at.selectbox(key="history_compare_column").set_value("mink")
    at.run()
    assert not at.exception

    # the same investigation twice, and two with nothing in common, say so
    at.selectbox(key="history_compare_b").set_value(a.id)
    at.run()
    assert any("two different" in i.value for i in at.info)
    c = _run(store, "Unrelated", page_model, _docs(2, seed=9, prefix="other"))
    at.run()
    at.selectbox(key="history_compare_b").set_value(c.id)
    at.run()
    assert any("share no scored document" in i.value for i in at.info)


def test_rename_and_name_clash(store, page_model):
    a = _run(store, "Old name", page_model, _docs(1, seed=6))
    _run(store, "Taken", page_model, _docs(1, seed=7))
    at = open_page("history")
    at.run()
    at.selectbox(key="history_open").set_value(a.id)
    at.run()
    at.text_input(key=f"history_rename_{a.id}").input("Taken")
    button(at, "Rename").click()
    at.run()
    assert not at.exception
    assert any("already exists" in e.value for e in at.error)
    assert store.get(a.id).name == "Old name"
    at.text_input(key=f"history_rename_{a.id}").input("New name")
    button(at, "Rename").click()
    at.run()
    assert not at.exception
    assert any("Renamed to 'New name'" in s.value for s in at.success)
    assert store.get(a.id).name == "New name"
    assert "New name" in set(at.dataframe[0].value["name"])


def test_delete_asks_for_confirmation(store, page_model):
    keep = _run(store, "Keep me", page_model, _docs(1, seed=8))
    doomed = _run(store, "Delete me", page_model, _docs(2, seed=9))
    at = open_page("history")
    at.run()
    at.selectbox(key="history_open").set_value(doomed.id)
    at.run()
    button(at, "Delete").click()
    at.run()
    assert any("cannot be undone" in w.value and "Delete me" in w.value for w in at.warning)
    assert store.find(doomed.id) is not None  # nothing is deleted before the confirmation
    button(at, "Cancel").click()
    at.run()
    assert not any("cannot be undone" in w.value for w in at.warning)
    assert store.find(doomed.id) is not None
    button(at, "Delete").click()
    at.run()
    button(at, "Yes, delete it").click()
    at.run()
    assert not at.exception, at.exception
    assert store.find(doomed.id) is None and store.find(keep.id) is not None
    assert any("Deleted 'Delete me'" in s.value for s in at.success)
    assert list(at.dataframe[0].value["name"]) == ["Keep me"]
    assert at.selectbox(key="history_open").value == keep.id


# ---------------------------------------------------------------------------------------------------------------
# issue 11: every kind reopened in its own view, every verdict listed, renames and deletes that show


@pytest.fixture
def every_kind(store, page_model):
    """One investigation of each kind, each run by its use case (small, fast settings)."""
    import random

    from provenance import ghost
    from provenance.investigations.ghost_test import run_ghost_test
    from provenance.investigations.labelled import evaluate_labelled_set

    _run(store, "Scores only", page_model, _docs(2, seed=11))
    evaluate_labelled_set(store, "Bench", page_model, _docs(12, seed=12, prefix="t"), [i % 2 for i in range(12)],
                          ("loss", "zlib"), settings=SETTINGS, n_bootstrap=20, chunk_tokens=16)
    entries = ghost.new_entries(ghost.Registry(), ghost.GhostGenerator(words=4), 2, rng=random.Random(13))
    run_ghost_test(store, "Ghosts", page_model, entries, n_null=30, last_k=(), settings=SETTINGS,
                   rng=random.Random(14))
    return {inv.name: inv.id for inv in store.list()}


def test_the_list_shows_every_investigations_kind_and_verdict(store, every_kind):
    at = open_page("history")
    at.run()
    assert not at.exception, at.exception
    listing = at.dataframe[0].value.set_index("name")
    assert listing.loc["Bench", "kind"] == "Benchmark (labelled set)"
    assert listing.loc["Ghosts", "kind"] == "Ghost-sentence test"
    assert listing.loc["Scores only", "kind"] == "Documents (scores only)"
    assert all(isinstance(v, str) and v for v in listing["verdict"])
    assert listing.loc["Scores only", "verdict"].startswith("none: scores only")
    assert listing.loc["Ghosts", "verdict"] == store.get("Ghosts").verdict.words()


def test_a_reopened_benchmark_shows_its_roc_curves_and_auc_table(store, every_kind):
    at = open_page("history")
    at.run()
    at.selectbox(key="history_open").set_value(every_kind["Bench"])
    at.run()
    assert not at.exception, at.exception
    assert "Add a reference set" not in _texts(at)
    keys = _plotly_keys(at)
    assert any("fig_history_roc" in k for k in keys) and any("fig_history_roc_log" in k for k in keys)
    auc = next(d.value for d in at.dataframe if "auc" in d.value.columns)
    assert {"loss", "zlib", "chunk_meta"} <= set(auc["score"])
    assert (auc["tpr_at_1pct_fpr"] == "n/a").all()  # 6 non-members cannot measure 1% FPR
    assert auc["lowest_measurable_fpr"].tolist() == pytest.approx([1 / 6] * len(auc))
    assert any("lowest false-positive rate this sample can measure is 1/6" in c.value for c in at.caption)
    assert any("chunk_meta is the chunk meta-classifier" in c.value for c in at.caption)
    # reopened as it was drawn: the blind baseline's row, the comparison in words and the privacy budget
    blind = auc.iloc[-1]
    assert blind["score"] == "blind (bag-of-words, no model)" and blind["blind baseline"] == "blind baseline"
    assert {"epsilon_mean", "epsilon_lower", "epsilon_cp_lower"} <= set(auc.columns)
    assert any("Privacy budget" in i.value for i in at.info)
    assert "Dataset inference" in page_text(at)
    scores = next(d.value for d in at.dataframe if "label" in d.value.columns)
    assert len(scores) == 12


def test_a_reopened_ghost_test_shows_its_null_histogram_and_identifiers(store, every_kind):
    at = open_page("history")
    at.run()
    at.selectbox(key="history_open").set_value(every_kind["Ghosts"])
    at.run()
    assert not at.exception, at.exception
    assert "Were your identifiers trained on?" in page_text(at)
    assert any("fig_history_null_0" in k for k in _plotly_keys(at))
    identifiers = next(d.value for d in at.dataframe if "identifier" in d.value.columns)
    assert len(identifiers) == 2 and "p_value" in identifiers
    assert "0 of 0 document" not in _texts(at) and "2 identifier(s) tested" in _texts(at)


def test_a_rename_shows_the_new_name_in_the_selector(store, page_model):
    a = _run(store, "Old name", page_model, _docs(1, seed=15))
    _run(store, "Other", page_model, _docs(1, seed=16))
    at = open_page("history")
    at.run()
    at.selectbox(key="history_open").set_value(a.id)
    at.run()
    at.text_input(key=f"history_rename_{a.id}").input("New name")
    button(at, "Rename").click()
    at.run()
    assert not at.exception
    selector = at.selectbox(key="history_open")
    # the page pushes the renamed label to the browser; without it the selector keeps showing 'Old name'
    assert selector.proto.set_value and selector.proto.raw_value == "New name"
    assert selector.value == a.id


def test_the_delete_confirmation_is_in_sight_not_in_the_closed_expander(store, page_model):
    doomed = _run(store, "Delete me", page_model, _docs(1, seed=17))
    at = open_page("history")
    at.run()
    at.selectbox(key="history_open").set_value(doomed.id)
    at.run()
    button(at, "Delete").click()
    at.run()
    expander = next(e for e in at.expander if e.label == "Rename or delete")
    assert not any("cannot be undone" in w.value for w in expander.warning)
    assert any("cannot be undone" in w.value for w in at.warning)
    assert not any(b.label.startswith("Yes, delete") for b in expander.button)


def test_names_are_shown_as_text_never_as_markdown(store, page_model):
    """An investigation name holding Markdown image syntax must not make the browser fetch that URL."""
    name = "![pixel](http://127.0.0.1:9/track.png) _mine_"
    _run(store, name, page_model, _docs(1, seed=9))
    at = open_page("history")
    at.run()
    assert not at.exception, at.exception
    rendered = [e.value for kind in ("markdown", "subheader", "header", "caption", "info", "warning", "error",
                                     "success") for e in at.get(kind)]
    assert not any("![pixel](" in str(v) or "](http" in str(v) for v in rendered), rendered


def test_a_reopened_reference_calibrated_ghost_test_shows_the_same_null_histogram(store, page_model,
                                                                                  tiny_reference_dir):
    """The null of a reference-calibrated test is NLL_reference - NLL_target of each fresh draw, recorded when the
    test runs: reopened, the page draws the histogram of those differences, the same values the test ranked."""
    import json
    import random
    from datetime import date

    import numpy as np

    from provenance import ghost
    from provenance.investigations.ghost_test import run_ghost_test

    entries = ghost.new_entries(ghost.Registry(), ghost.GhostGenerator(words=4), 2, rng=random.Random(21))
    test = run_ghost_test(store, "Calibrated ghosts", page_model, entries, n_null=40, last_k=(), settings=SETTINGS,
                          rng=random.Random(22), ref_model=load_model(tiny_reference_dir),
                          ref_released=date(2020, 1, 1))
    ran = next(iter(test.detection.null.values()))
    at = open_page("history")
    at.run()
    at.selectbox(key="history_open").set_value(test.investigation.id)
    at.run()
    assert not at.exception, at.exception
    charts = [node for node in at.get("plotly_chart") if "fig_history_null_0" in node.proto.id]
    assert len(charts) == 1
    figure = json.loads(charts[0].proto.spec)
    drawn = next(trace for trace in figure["data"] if trace["type"] == "histogram")["x"]
    if isinstance(drawn, dict):  # plotly's typed-array encoding of a numpy array
        import base64

        drawn = np.frombuffer(base64.b64decode(drawn["bdata"]), dtype=drawn["dtype"])
    np.testing.assert_allclose(np.asarray(drawn, dtype=float), ran)  # the differences, in the order drawn
    assert "reference model's NLL minus" in json.dumps(figure["layout"]["xaxis"]["title"])
    assert any("Reference-calibrated test against" in c.value and "2020-01-01" in c.value for c in at.caption)


def _scored_folder(tmp_path, model, texts, name):
    """A folder as ``score --engine ray`` writes it (manifest + one shard), without a cluster."""
    import json

    from provenance.scale import output
    from provenance.scale.batch import score_rows
    from provenance.scale.corpus import corpus_files, file_rows

    corpus = tmp_path / f"{name}.jsonl"
    corpus.write_text("".join(json.dumps({"id": f"d{i}", "text": t}) + "\n" for i, t in enumerate(texts)))
    out = tmp_path / name
    scores = ["loss", "zlib"]
    manifest = output.open_output(out, {"model": model.spec, "scores": scores, "k": 0.2, "window": None,
                                        "stride": None, "top_k": 0, "max_window": 2048, "ref_model": None,
                                        "observer": None, "dtype": None, "trust_remote_code": False}, [corpus])
    [(path, doc_name)], _ = corpus_files([corpus])
    rows = score_rows(model, file_rows({"path": path, "name": doc_name}), scores).rows
    output.write_shard(out, rows, manifest["columns"], model.identity)
    output.record_identity(out, manifest, model.identity)
    return out


def test_a_scored_folder_opens_as_an_investigation_with_verdicts(store, page_model, tmp_path):
    texts = random_sentences(30, length=40, seed=21)
    suspect = _scored_folder(tmp_path, page_model, texts[:6], "cluster-run")
    reference = _scored_folder(tmp_path, page_model, texts[6:], "after-release")
    at = open_page("history")
    at.run()
    at.text_input(key="history_folder").set_value(str(tmp_path / "nowhere"))
    button(at, "Open folder").click()
    at.run()
    assert not at.exception and "There is no folder at" in at.error[0].value

    at.text_input(key="history_folder").set_value(str(suspect))
    at.text_input(key="history_folder_reference").set_value(str(reference))
    button(at, "Open folder").click()
    at.run()
    assert not at.exception, at.exception
    assert "Opened as 'cluster-run'" in at.success[0].value and "Verdict for the set" in at.success[0].value
    listing = at.dataframe[0].value.set_index("name")
    assert listing.loc["cluster-run", "scored"] == 6 and listing.loc["cluster-run", "kind"] == "Documents against a reference set"
    inv = store.find("cluster-run")
    assert at.selectbox(key="history_open").value == inv.id
    assert inv.verdict is not None and inv.verdict.words().split(" (")[0] in listing.loc["cluster-run", "verdict"]
