"""AppTest: the Documents page scores pasted text with the real default model."""

import pytest
from streamlit.testing.v1 import AppTest


@pytest.mark.slow
def test_paste_and_score_with_default_model(dashboard_path):
    at = AppTest.from_file(dashboard_path, default_timeout=300)
    at.run()
    assert not at.exception
    assert at.title[0].value == "Documents"
    at.text_area[0].input("The weather was cold and wet, so the children stayed inside and read books.")
    at.run()  # as in the browser: leaving the text box reruns the page and enables the button
    at.button[0].click()
    at.run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "Perplexity" in labels
    assert len(at.dataframe) == 1
    table = at.dataframe[0].value
    assert {"loss", "zlib", "lowercase", "mink", "minkpp"} <= set(table.columns)
