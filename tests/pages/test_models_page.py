"""AppTest: the Documents page with several models side by side (the sidebar's and one added on the page, plus one
that cannot load): the heatmap, each model's verdict for the set read back, the refused model's reason, and the
same view reopened from the History page."""

from textgen import random_sentences
from apptest_helpers import button, open_page

from provenance.investigations.models import REFUSED, read_models
from ui.session import shared_store

CARD_HEADLINES = {"evidence of training": "Evidence of training", "no evidence": "No evidence of training",
                  "inconclusive": "Inconclusive"}


def _upload(texts, prefix):
    return [(f"{prefix}{i}.txt", t.encode(), "text/plain") for i, t in enumerate(texts)]


def _plotly_keys(at):
    return [node.proto.id for node in at.get("plotly_chart")]


def _everything(at) -> str:
    parts = [e.value for kind in ("text", "markdown", "caption", "info", "warning", "error", "success")
             for e in getattr(at, kind)]
    return " ".join(str(p) for p in parts)


def _check_models_view(at, runs, prefix):
    """The heatmap is drawn and every model's verdict (or reason) is on the page."""
    assert any(f"{prefix}_fig_models" in k for k in _plotly_keys(at))
    text = _everything(at)
    assert "How to read it." in text and "Each row is one of your documents, each column one model" in text
    texts = [t.value for t in at.text]
    for run in runs:
        if run.status == REFUSED:
            assert any("no results" in e.value and "no-such-model" in e.value for e in at.error)
        else:
            at_card = texts.index(run.label)  # the card's title, then its headline and its words
            assert texts[at_card + 1].lower().startswith(run.verdict.words()[:12].lower())
            assert any(f"[{CARD_HEADLINES[run.verdict.label.value]}]" in m.value for m in at.markdown)
    cells = next(d.value for d in at.dataframe if {"document", "model", "p_value"} <= set(d.value.columns))
    return cells


def test_two_models_side_by_side_then_reopened_from_history(tiny_model_dir, tiny_model_b_dir, tmp_path):
    at = open_page("documents", model=tiny_model_dir)
    at.run()
    assert not at.exception, at.exception
    missing = str(tmp_path / "no-such-model")
    at.text_input(key="documents_models_typed").input(f"{tiny_model_b_dir}, {missing}")
    at.file_uploader[0].set_value(_upload(random_sentences(4, length=50, seed=41), "doc"))
    at.file_uploader[1].set_value(_upload(random_sentences(20, length=50, seed=42), "ref"))
    next(t for t in at.text_input if t.label == "Investigation name").set_value("Three models")
    at.run()
    assert not at.exception, at.exception
    estimate = " ".join(c.value for c in at.caption)
    assert "tokens per model" in estimate and "for all 3 models" in estimate
    start = button(at, "Score")
    assert start.label == "Score 4 document(s) with 3 models"
    start.click()
    at.run()
    assert not at.exception, at.exception

    inv = shared_store().get("Three models")
    view = read_models(shared_store(), inv.id)
    assert [r.spec for r in view.runs] == [tiny_model_dir, tiny_model_b_dir, missing]
    assert [r.status for r in view.runs] == ["complete", "complete", REFUSED]
    cells = _check_models_view(at, view.runs, "documents")
    assert len(cells) == 12 and cells["p_value"].notna().sum() == 8
    assert "could not be loaded" in _everything(at)

    history = open_page("history")
    history.run()
    history.selectbox(key="history_open").set_value(inv.id)
    history.run()
    assert not history.exception, history.exception
    reopened = _check_models_view(history, view.runs, "history")
    assert reopened["p_value"].tolist()[:8] == cells["p_value"].tolist()[:8]
    listing = history.dataframe[0].value.set_index("name")
    assert listing.loc["Three models", "kind"] == "Several models side by side"
