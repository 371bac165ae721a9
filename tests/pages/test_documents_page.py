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


def _texts_of(at) -> str:
    """Every plain text, Markdown, caption, warning and info the page shows."""
    return " ".join([t.value for t in at.text] + [m.value for m in at.markdown] + [c.value for c in at.caption]
                    + [w.value for w in at.warning] + [i.value for i in at.info])


def test_page_says_before_scoring_how_many_texts_a_verdict_needs_and_counts_uploads(tiny_model_dir):
    import json
    from sample_files import make_zip

    at = open_page("documents", model=tiny_model_dir)
    at.run()
    suspect = random_sentences(2, length=50, seed=3)
    bundle = make_zip({"one.txt": suspect[0].encode(), "two.txt": suspect[1].encode()})
    table = "\n".join(json.dumps({"text": t}) for t in random_sentences(3, length=50, seed=4)).encode()
    at.file_uploader[0].set_value([("bundle.zip", bundle, "application/zip"),
                                   ("table.jsonl", table, "application/json")])
    at.file_uploader[1].set_value(_upload(random_sentences(3, length=50, seed=5), "ref"))
    at.run()
    assert not at.exception, at.exception
    shown = _texts_of(at)
    # each upload's count, as plain text
    assert "Read 5 texts from 2 uploads: bundle.zip 2, table.jsonl 3." in [t.value for t in at.text]
    assert "Read 3 reference texts from 3 uploads" in shown
    # exactly what the default 5% false-positive rate needs, counted against the uploads, before anything is scored
    assert "3 of the 19 reference texts needed" in shown
    assert "at least 5 documents and 5 reference texts" in shown and "You have 5 documents: enough." in shown
    assert not at.dataframe
    at.select_slider(key="documents_fpr").set_value(0.01)
    at.run()
    assert "3 of the 99 reference texts needed" in _texts_of(at)
    at.select_slider(key="documents_fpr").set_value(0.001)
    at.run()
    assert "3 of the 999 reference texts needed" in _texts_of(at)
    assert "at least 7 documents and 7 reference texts" in _texts_of(at)  # 5 against 5 cannot reach 0.001


def test_advised_numbers_are_the_fewest_that_can_give_a_verdict():
    """The page's advice, checked against the verdict code itself: with the advised number of reference texts a
    document above all of them is evidence, with one fewer no document can be; the advised set size lets the
    set-level rank test reach the false-positive rate, one fewer does not."""
    import pandas as pd
    from ui.documents import requirements_lines, set_test_size, smallest_set_p

    from provenance.verdicts.pvalues import document_verdicts, min_reference_size
    from provenance.verdicts.verdict import Label

    for fpr in (0.001, 0.01, 0.05, 0.1):
        n = min_reference_size(fpr)
        for n_reference, expected in ((n, Label.EVIDENCE), (n - 1, Label.INCONCLUSIVE)):
            reference = pd.DataFrame({"document": [f"r{i}" for i in range(n_reference)], "tokens": 100,
                                      "loss": [-5.0 - i / n_reference for i in range(n_reference)]})
            top = pd.DataFrame({"document": ["mine"], "tokens": [100], "loss": [-1.0]})
            assert document_verdicts(top, reference, ["loss"], fpr=fpr)["verdict_label"][0] == expected, (fpr, n)
        size = set_test_size(fpr)
        assert smallest_set_p(size, size) <= fpr
        assert size == 5 or smallest_set_p(size - 1, size - 1) > fpr
        assert f"needs at least {n} reference texts" in requirements_lines(0, 0, fpr)[0][1]


def test_short_documents_warned_and_every_document_gets_its_verdict(tiny_model_dir):
    at = open_page("documents", model=tiny_model_dir)
    at.run()
    suspect = random_sentences(5, length=50, seed=11)
    at.file_uploader[0].set_value(_upload(suspect, "doc") + [("tiny.txt", b"Too short.", "text/plain")])
    at.file_uploader[1].set_value(_upload(random_sentences(8, length=50, seed=12), "ref"))
    at.run()
    warnings = " ".join(w.value for w in at.warning)
    assert "too short to judge" in warnings and "tiny.txt" in warnings and "doc0.txt" not in warnings
    at.text_input[0].set_value("every verdict")
    button(at, "Score 6").click()
    at.run()
    assert not at.exception, at.exception
    assert "Every document's verdict (6)" in _texts_of(at)
    every = at.dataframe[0].value
    assert list(every["document"]) == [f"doc{i}.txt" for i in range(5)] + ["tiny.txt"]  # all, not the top three
    assert every["verdict"].str.len().gt(0).all()
    assert every.loc[every["document"] == "tiny.txt", "verdict"].str.contains("too few tokens|not scored").all()


def test_reference_and_observer_models_join_scores_tables_and_verdicts(tiny_model_dir):
    at = open_page("documents", model=tiny_model_dir, reference_model=tiny_model_dir)
    at.session_state["observer_args"] = (tiny_model_dir, None, None)
    at.run()
    assert not at.exception, at.exception
    assert {"ref", "binoculars"} <= set(at.multiselect(key="documents_scores").value)
    assert at.selectbox(key="documents_verdict_statistic").value == "ref"  # the strongest evidence, by default
    assert "base model the target was fine-tuned from" in _texts_of(at)
    at.file_uploader[0].set_value(_upload(random_sentences(5, length=50, seed=21), "doc"))
    at.file_uploader[1].set_value(_upload(random_sentences(19, length=50, seed=22), "ref"))
    at.text_input[0].set_value("with a reference model")
    at.run()
    button(at, "Score 5").click()
    at.run()
    assert not at.exception, at.exception
    scores = next(d.value for d in at.dataframe if "loss" in d.value.columns)
    assert {"ref", "binoculars", "p_ref", "verdict"} <= set(scores.columns)
    from provenance.investigations.store import InvestigationStore

    store = InvestigationStore()
    inv = store.find("with a reference model")
    assert store.get_artifact(inv.id, "set_comparison")["verdict_scores"] == ["ref"]
    assert "the score ref" in inv.verdict.method  # the set-level rank test ranks the same one statistic


def test_without_a_reference_model_ref_is_not_offered_and_says_why(tiny_model_dir):
    at = open_page("documents", model=tiny_model_dir)
    at.run()
    options = at.multiselect(key="documents_scores").options
    assert not any(o.startswith(("ref:", "binoculars:")) for o in options)
    assert any(o.startswith("gradnorm:") for o in options) and any(o.startswith("ngram_coverage:") for o in options)
    assert "ref needs a reference model" in _texts_of(at) and "binoculars needs an observer model" in _texts_of(at)


def test_names_in_the_short_document_warning_are_shown_as_written(tiny_model_dir):
    at = open_page("documents", model=tiny_model_dir)
    at.run()
    at.file_uploader[0].set_value([("![x](http://example.invalid/a.png).txt", b"Too short.", "text/plain")])
    at.run()
    warning = next(w.value for w in at.warning if "too short to judge" in w.value)
    assert "!\\[x\\]\\(http://example.invalid/a.png\\).txt" in warning  # escaped: no image is fetched


def test_scores_that_read_declared_texts_wait_for_a_reference_set(tiny_model_dir):
    at = open_page("documents", model=tiny_model_dir)
    at.run()
    options = at.multiselect(key="documents_scores").options
    assert not any(o.startswith(("recall:", "dcpdd:", "camia:", "tagtab:", "conrecall:")) for o in options)
    assert all(any(o.startswith(f"{s}:") for o in options) for s in ("pac", "neighbor", "gapk", "samia"))
    assert "recall needs a reference set" in _texts_of(at)
    at.file_uploader[1].set_value(_upload(random_sentences(12, length=30, seed=3), "ref"))
    at.run()
    options = at.multiselect(key="documents_scores").options
    assert all(any(o.startswith(f"{s}:") for o in options) for s in ("recall", "dcpdd", "camia", "tagtab"))
    assert not any(o.startswith("conrecall:") for o in options)
    assert "conrecall needs texts declared members" in _texts_of(at)


def test_the_offered_name_never_resumes_an_investigation_started_in_the_same_second(tiny_model_dir):
    """Two runs started within one second were offered the same dated name, and the second resumed the first's
    investigation (its table showed the other run's document). The offered name is now free in the store."""
    from datetime import datetime, timedelta

    from provenance.investigations.store import InvestigationStore

    store = InvestigationStore()
    now = datetime.now()
    taken = [f"Documents {now + timedelta(seconds=s):%Y-%m-%d %H:%M:%S}" for s in range(0, 10)]
    for name in taken:
        store.create(name)
    at = open_page("documents", model=tiny_model_dir)
    at.run()
    offered = next(t.value for t in at.text_input if t.label == "Investigation name")
    assert offered not in taken and offered.endswith(" (2)") and offered[:-4] in taken
