"""AppTest: the Ghost sentences page: generate, download, embed, detect (with a tiny model), and bad registries."""

import io
import json
import zipfile

from apptest_helpers import button, open_page, page_text

from provenance.investigations.store import InvestigationStore
from provenance.verdicts.verdict import Verdict


def test_generate_embed_and_detect(tiny_model_dir):
    at = open_page("ghost_sentences", model=tiny_model_dir)
    at.run()
    assert not at.exception
    at.number_input[1].set_value(4)  # how many identifiers
    button(at, "Generate").click()
    at.run()
    assert "Added 4 identifier(s)" in at.success[0].value
    registry = at.session_state["ghost_registry"]
    assert len(registry.entries) == 4 and len(set(registry.identifiers)) == 4
    assert len(at.dataframe[0].value) == 4

    original = "First sentence here. Second sentence follows. A third one ends it."
    at.file_uploader(key="ghost_embed_files").set_value([("story.txt", original.encode(), "text/plain")])
    at.selectbox(key="ghost_embed_count_mode").set_value("fixed")  # the default scales the count to the length
    at.run()
    button(at, "Embed").click()
    at.run()
    assert not at.exception
    data, manifest = at.session_state["ghost_embedded"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        marked = archive.read("story.txt").decode()
        assert json.loads(archive.read("manifest.json"))["documents"][0]["output"] == "story.txt"
    assert sum(marked.count(i) for i in registry.identifiers) == 4 * 3  # every identifier, 3 repetitions

    at.select_slider[0].set_value(100)  # fresh draws
    at.run()
    button(at, "Test the model").click()
    at.run()
    assert not at.exception, at.exception
    table = at.dataframe[-1].value
    assert {"identifier", "nll", "p_value", "last_k_hit"} <= set(table.columns)
    assert ((table["p_value"] > 0) & (table["p_value"] <= 1)).all()
    cards = page_text(at)
    assert "Were your identifiers trained on?" in cards and ("FPR" in cards or "false-positive rate" in cards)
    assert len(at.get("plotly_chart")) >= 1
    stored = InvestigationStore().get(at.session_state["ghost_investigation"]).verdict
    assert isinstance(stored, Verdict) and stored == at.session_state["ghost_result"].verdict  # the value, unparsed


def test_tampered_registry_upload_is_refused_with_a_sentence(tiny_model_dir):
    at = open_page("ghost_sentences", model=tiny_model_dir)
    at.run()
    at.radio[0].set_value("Upload a registry")
    at.run()
    bad = {"format": "provenance-ghost-registry", "version": 1, "entries": [{"identifier": "x"}]}
    at.file_uploader(key="ghost_detect_registry").set_value(("reg.json", json.dumps(bad).encode(), "application/json"))
    at.run()
    assert not at.exception
    assert any("reg.json" in e.value for e in at.error)
    assert button(at, "Test the model").disabled


def _registry_with(at, name: str, count: int) -> None:
    at.selectbox(key="ghost_registry_choice").set_value("A new registry...")
    at.run()
    at.text_input(key="ghost_new_registry_name").set_value(name)
    at.number_input[1].set_value(count)
    at.run()
    button(at, "Generate").click()
    at.run()


def _texts_of(at) -> str:
    return " ".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [w.value for w in at.warning]
                    + [i.value for i in at.info] + [s.value for s in at.success])


def test_registry_is_kept_in_the_store_and_the_page_warns_until_it_is_downloaded(tiny_model_dir):
    from provenance.investigations.registries import RegistryStore

    at = open_page("ghost_sentences", model=tiny_model_dir)
    at.run()
    _registry_with(at, "Kept registry", 3)
    assert not at.exception, at.exception
    assert "Download this registry now" in _texts_of(at) and "only copy" in _texts_of(at)
    identifiers = at.session_state["ghost_registry"].identifiers

    later = open_page("ghost_sentences", model=tiny_model_dir)  # a new browser session
    later.run()
    later.selectbox(key="ghost_registry_choice").set_value("Kept registry")
    later.run()
    assert later.session_state["ghost_registry"].identifiers == identifiers
    assert "Download this registry now" in _texts_of(later)
    RegistryStore(InvestigationStore()).mark_downloaded("Kept registry")  # what the download button records
    later.run()
    assert "Download this registry now" not in _texts_of(later) and "last downloaded" in _texts_of(later)


def test_embedding_scales_to_length_says_how_often_and_previews_each_document(tiny_model_dir):
    from textgen import random_sentences

    at = open_page("ghost_sentences", model=tiny_model_dir)
    at.run()
    _registry_with(at, "Embedding registry", 5)
    note = " ".join(random_sentences(17, length=10, seed=1))  # 170 words
    article = " ".join(random_sentences(100, length=10, seed=2))  # 1,000 words
    at.file_uploader(key="ghost_embed_files").set_value([("note.txt", note.encode(), "text/plain"),
                                                         ("article.txt", article.encode(), "text/plain")])
    at.run()
    button(at, "Embed").click()
    at.run()
    assert not at.exception, at.exception
    data, manifest = at.session_state["ghost_embedded"]
    assert [len(d["placements"]) for d in manifest["documents"]] == [1, 4]  # one per 250 words, at least one
    counts = next(d.value for d in at.dataframe if "times placed" in d.value.columns)
    assert counts["times placed"].sum() == 5 and len(counts) == 5  # each of the 5 placed once, and said so
    previews = [e.label for e in at.expander if e.label.startswith("Preview")]
    assert previews == ["Preview: note.txt (1 identifier(s) in 170 words)",
                        "Preview: article.txt (4 identifier(s) in 1,000 words)"]
    assert sum(m.value.count("<mark>") for m in at.markdown) == 5


def test_detection_says_its_time_and_floor_before_starting_and_a_stop_keeps_the_draws(tiny_model_dir):
    import random

    from provenance.investigations.ghost_test import recorded_null_draws, run_ghost_test
    from provenance.lm.loading import load_model

    at = open_page("ghost_sentences", model=tiny_model_dir)
    at.run()
    _registry_with(at, "Timed registry", 2)
    assert at.select_slider[0].value == 200  # the default at FPR 0.01: a floor of 1/201, not 1,000 draws
    estimate = " ".join(i.value for i in at.info)
    assert "About" in estimate and "tokens/s" in estimate and "1/201" in estimate
    assert "one identifier on its own needs at least 99 draws" in estimate
    at.select_slider[0].set_value(1000)
    at.run()
    assert "1/1,001" in " ".join(i.value for i in at.info)

    store = InvestigationStore()  # a test stopped after its first batch of draws, as the Stop button does
    entries = at.session_state["ghost_registry"].entries
    run_ghost_test(store, "stopped test", load_model(tiny_model_dir), entries, n_null=250, last_k=(1,),
                   rng=random.Random(1), should_stop=lambda: recorded_null_draws(store, "stopped test") >= 100)
    at.session_state["ghost_running"] = "stopped test"  # the page marks a test as running until it ends
    at.run()
    assert "Stopped. 100 fresh draws were scored and are kept in the investigation 'stopped test'" in _texts_of(at)


def test_reference_model_qualifies_by_release_date_and_the_test_ranks_differences(tiny_model_dir,
                                                                                   tiny_reference_dir):
    from datetime import date

    from provenance.report import render_report
    from ui.session import CUSTOM

    at = open_page("ghost_sentences", model=tiny_model_dir)
    at.session_state["ghost_default_name"] = "Reference-calibrated page test"
    at.run()
    _registry_with(at, "Reference registry", 2)
    registered = date.today()  # generated just now: the registry records today
    explained = " ".join(m.value for m in at.markdown)
    assert f"registered on **{registered.isoformat()}**" in explained and "Which models qualify" in explained
    assert "NLL under the reference minus NLL under the tested model" in explained and "still exact" in explained
    at.select_slider[0].set_value(100)
    at.selectbox(key="ghost_ref_choice").set_value(CUSTOM)
    at.run()
    at.text_input(key="ghost_ref_custom").set_value(tiny_reference_dir)
    at.run()
    assert not at.exception, at.exception
    assert any("Say when the reference model was released" in i.value for i in at.info)
    assert button(at, "Test the model").disabled

    at.date_input(key="ghost_ref_released").set_value(registered)  # released the day they were registered: refused
    at.run()
    refused = " ".join(e.value for e in at.error)
    assert f"released on {registered.isoformat()}" in refused and "may have been trained on them" in refused
    assert button(at, "Test the model").disabled

    at.date_input(key="ghost_ref_released").set_value(date(2020, 1, 1))
    at.run()
    assert not at.error and any("qualifies as a reference" in s.value for s in at.success)
    estimate = " ".join(i.value for i in at.info)
    assert "on the reference" in estimate  # its scoring is in the time said before the test
    button(at, "Test the model").click()
    at.run()
    assert not at.exception, at.exception
    result = at.session_state["ghost_result"]
    assert result.statistic == "nll_difference"
    assert "minus its NLL under the tested model" in result.verdict.method
    table = at.dataframe[-1].value
    assert {"ref_nll", "nll_difference", "exposure_bits", "p_value"} <= set(table.columns)
    assert "Were your identifiers trained on?" in page_text(at) and len(at.get("plotly_chart")) == 1
    assert any("Reference-calibrated test against" in c.value and "2020-01-01" in c.value for c in at.caption)
    inv = InvestigationStore().get(at.session_state["ghost_investigation"])
    assert inv.settings["reference_released"] == "2020-01-01" and inv.settings["reference_model_name"]
    report = render_report(InvestigationStore(), inv.id, "html").decode()
    assert "reference model" in report and "2020-01-01" in report and "NLL_reference - NLL_tested" in report
