"""AppTest: the shell (dashboard.py) renders its navigation and the sidebar model picker without waiting."""

from streamlit.testing.v1 import AppTest

from apptest_helpers import ROOT


def test_shell_renders_navigation_and_model_picker():
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=300)
    at.run()
    assert not at.exception
    keys = [s.key for s in at.sidebar.selectbox]
    assert {"model_choice", "ref_model_choice", "device", "dtype"} <= set(keys)
    assert at.session_state["model_args"][0] == "default"
    # the default model was loaded after the page and its facts are shown in the sidebar
    facts = " ".join(m.value for m in at.sidebar.markdown)
    assert "SmolLM2-135M-Instruct" in facts and "135M parameters" in facts and "float32" in facts
