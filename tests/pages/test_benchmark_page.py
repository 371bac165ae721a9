"""AppTest: the Benchmark page with a labelled upload: shift check first, AUC table, ROC curves, dataset inference."""

import json

import pandas as pd

from apptest_helpers import page_text, button, open_page
from textgen import random_sentences


def _labelled_jsonl(n: int = 24) -> bytes:
    texts = random_sentences(n, length=40, seed=5)
    rows = [{"text": t, "label": "member" if i % 2 else "Non-Member"} for i, t in enumerate(texts)]
    return "\n".join(json.dumps(r) for r in rows).encode()


def test_labelled_upload_gives_auc_table_and_roc_curves(tiny_model_dir):
    at = open_page("benchmark", model=tiny_model_dir)
    at.run()
    assert button(at, "Evaluate").disabled
    at.file_uploader[0].set_value([("set.jsonl", _labelled_jsonl(), "application/json"),
                                   ("bad.jsonl", b'{"text": "no label here"}\nnot json\n', "application/json")])
    at.run()
    assert not at.exception
    assert "12 members, 12 non-members" in " ".join(m.value for m in at.markdown)
    # the shift check is shown before anything is scored: one generator for both labels, so no shift
    assert any("Distribution-shift check" in s.value for s in at.success)
    assert any("bad.jsonl" in w.value for w in at.warning)
    button(at, "Evaluate").click()
    at.run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert {"score", "auc", "auc_low", "auc_high", "tpr_at_1pct_fpr", "tpr_at_0_1pct_fpr"} <= set(table.columns)
    assert {"loss", "minkpp", "chunk_meta"} <= set(table["score"])
    assert (table["auc_low"] <= table["auc"]).all() and (table["auc"] <= table["auc_high"]).all()
    scores = table[table["score"] != "blind (bag-of-words, no model)"]
    assert list(scores["auc"]) == sorted(scores["auc"], reverse=True)
    assert len(at.get("plotly_chart")) == 2
    assert "Dataset inference" in page_text(at)
    # the blind baseline's row, last, with the same columns, and each score's comparison with it in words
    blind = table.iloc[-1]
    assert blind["score"] == "blind (bag-of-words, no model)" and blind["blind baseline"] == "blind baseline"
    assert all(pd.notna(blind[c]) for c in ("auc", "auc_low", "auc_high", "epsilon_mean", "epsilon_lower",
                                             "epsilon_cp_lower"))
    assert {"epsilon_mean", "epsilon_lower", "epsilon_cp_lower"} <= set(table.columns)
    for _, row in scores.iterrows():
        overlaps = row["auc_low"] <= blind["auc_high"] and row["auc_high"] >= blind["auc_low"]
        assert (row["blind baseline"] == "not distinguishable from the blind baseline") == overlaps
    # an untrained tiny model on one generator's texts: some score does no better than the texts alone
    assert (scores["blind baseline"] == "not distinguishable from the blind baseline").any()
    assert any("Privacy budget" in i.value and "epsilon = " in i.value for i in at.info)
    assert any("not distinguishable from it" in c.value for c in at.caption)


def test_one_sided_labels_explain_themselves(tiny_model_dir):
    at = open_page("benchmark", model=tiny_model_dir)
    at.run()
    rows = "\n".join(json.dumps({"text": t, "label": 1}) for t in random_sentences(5, seed=9)).encode()
    at.file_uploader[0].set_value([("members.jsonl", rows, "application/json")])
    at.run()
    assert any("at least 2 members and 2 non-members" in e.value for e in at.error)
    assert button(at, "Evaluate").disabled


def test_reference_and_observer_models_are_evaluated_beside_the_other_scores(tiny_model_dir):
    at = open_page("benchmark", model=tiny_model_dir, reference_model=tiny_model_dir)
    at.session_state["observer_args"] = (tiny_model_dir, None, None)
    at.run()
    assert {"ref", "binoculars"} <= set(at.multiselect(key="benchmark_scores").value)
    notes = " ".join(i.value for i in at.info)
    assert "base model the target was fine-tuned from" in notes and "older model of the same family" in notes
    at.file_uploader[0].set_value([("set.jsonl", _labelled_jsonl(), "application/json")])
    at.text_input[0].set_value("benchmark with reference")
    at.run()
    button(at, "Evaluate").click()
    at.run()
    assert not at.exception, at.exception
    assert {"ref", "binoculars", "loss"} <= set(at.dataframe[0].value["score"])
    from provenance.investigations.store import InvestigationStore

    inv = InvestigationStore().find("benchmark with reference")
    assert {"ref", "binoculars"} <= set(InvestigationStore().get_artifact(inv.id, "dataset_inference")["scores"])


def test_scores_from_the_literature_take_held_out_texts_and_say_so(tiny_model_dir):
    at = open_page("benchmark", model=tiny_model_dir)
    at.run()
    at.multiselect(key="benchmark_scores").set_value(["loss", "recall", "conrecall", "gapk"])
    at.file_uploader[0].set_value([("set.jsonl", _labelled_jsonl(), "application/json")])
    at.text_input[0].set_value("benchmark with literature scores")
    at.run()
    button(at, "Evaluate").click()
    at.run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert {"recall", "conrecall", "gapk"} <= set(table["score"])
    # 12 non-members: a quarter (3) are held out as declared texts and left out of recall's evaluation
    rows = table.set_index("score")
    assert rows.loc["recall", "n_non_members"] == 9 and rows.loc["loss", "n_non_members"] == 12
    assert rows.loc["conrecall", "n_members"] == 9
    notes = " ".join(c.value for c in at.caption)
    assert "held-out non-member(s) of the labelled set" in notes and "left out of the evaluation" in notes
