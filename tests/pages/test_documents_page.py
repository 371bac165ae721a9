"""AppTest: the Documents page, from upload to verdict cards, with broken files and a stop/resume."""

import pytest
from textgen import random_sentences
from apptest_helpers import page_text, button, open_page


def _upload(texts, prefix):
    return [(f"{prefix}{i}.txt", t.encode(), "text/plain") for i, t in enumerate(texts)]


@pytest.mark.slow
def test_paste_and_score_with_default_model():
    at = open_page("documents")
    at.run()
    assert not at.exception
    assert at.title[0].value == "Documents"
    at.text_area[0].input("The weather was cold and wet, so the children stayed inside and read books.")
    at.run()  # as in the browser: leaving the text box reruns the page and enables the button
    button(at, "Score").click()
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert {"loss", "zlib", "lowercase", "mink", "minkpp", "perplexity"} <= set(table.columns)
    assert len(table) == 1


def test_upload_with_reference_set_gives_verdicts_and_keeps_good_files(tiny_model_dir):
    at = open_page("documents", model=tiny_model_dir)
    at.run()
    suspect = random_sentences(6, length=50, seed=1)
    reference = random_sentences(24, length=50, seed=2)
    files = _upload(suspect, "doc") + [("broken.pdf", b"%PDF-1.4 not really", "application/pdf"),
                                        ("empty.txt", b"", "text/plain")]
    at.file_uploader[0].set_value(files)
    at.file_uploader[1].set_value(_upload(reference, "ref"))
    at.run()
    warnings = " ".join(w.value for w in at.warning)
    assert "broken.pdf" in warnings and "empty.txt" in warnings
    start = button(at, "Score")
    assert start.label == "Score 6 document(s)"
    start.click()
    at.run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert len(table) == 6 and {"p_value", "verdict"} <= set(table.columns)
    assert table["verdict"].str.match(r"^(evidence of training|no evidence|inconclusive)").all()
    cards = page_text(at)
    assert "Your documents as a set" in cards
    assert any(h in cards for h in ("Evidence of training", "No evidence of training", "Inconclusive"))
    # the same files and name again: everything is already done, nothing is lost or scored twice
    button(at, "Score").click()
    at.run()
    assert len(at.dataframe[0].value) == 6


def test_nothing_to_score_keeps_button_disabled(tiny_model_dir):
    at = open_page("documents", model=tiny_model_dir)
    at.run()
    start = button(at, "Score")
    assert start.disabled
    at.file_uploader[0].set_value([("bad.docx", b"PK\x03\x04garbage", "application/octet-stream")])
    at.run()
    assert any("bad.docx" in w.value for w in at.warning)
    assert button(at, "Score").disabled
