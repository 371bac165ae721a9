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
