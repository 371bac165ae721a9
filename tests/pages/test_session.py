"""The sidebar's models: the cold-start spinner mentions the GGUF conversion only when it will happen, and the
observer model (for binoculars) can be chosen beside the reference model."""

from streamlit.testing.v1 import AppTest
from ui.session import loading_message, needs_conversion

from apptest_helpers import ROOT
from provenance.lm.loading import converted_gguf_dir


def test_spinner_mentions_the_conversion_only_when_it_happens(tmp_path, monkeypatch, tiny_model_dir):
    monkeypatch.setenv("PROVENANCE_CACHE", str(tmp_path / "cache"))
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF not really")
    assert needs_conversion(str(gguf))
    assert "converted once" in loading_message(str(gguf))
    folder = converted_gguf_dir(gguf)
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"")
    assert not needs_conversion(str(gguf))
    assert loading_message(str(gguf)) == f"Loading the model {gguf}..."
    assert "GGUF" not in loading_message(tiny_model_dir, "reference model")  # a folder is never converted
    assert "GGUF" not in loading_message("EleutherAI/pythia-160m")


def test_sidebar_offers_an_observer_model():
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=300)
    at.run()
    assert not at.exception
    observer = at.sidebar.selectbox(key="observer_choice")
    assert observer.value is None and observer.options[:2] == ["None", "SmolLM2-135M-Instruct (bundled, offline)"]
    assert "same tokenizer" in observer.help
    assert at.session_state["observer_args"] is None
    reference = at.sidebar.selectbox(key="ref_model_choice")
    assert "base model the target was fine-tuned from" in reference.help
