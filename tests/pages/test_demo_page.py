"""AppTest: the guided demo plants identifiers, trains a small model on the page, and detects the planted ones and
not the unpublished ones."""

import time

from apptest_helpers import button, open_page, page_text


def test_plant_train_detect_story():
    at = open_page("demo", timeout=600)
    at.session_state["demo_seed"] = 0  # a replayable demo: the exact null makes any unseeded run fail 1% of the time
    at.run()
    assert not at.exception
    button(at, "Hide 3 ghost sentences").click()
    at.run()
    demo = at.session_state["demo"]
    assert all(e.identifier in demo.marked for e in demo.planted)
    assert not any(e.identifier in demo.marked for e in demo.unpublished)
    assert "<mark" in " ".join(m.value for m in at.markdown)
    start = time.time()
    button(at, "Train the model").click()
    at.run()
    assert not at.exception, at.exception
    assert "The model is trained" in at.success[0].value
    button(at, "Test the model").click()
    at.run()
    assert not at.exception, at.exception
    table = at.session_state["demo_result"].table
    planted = table[table["repetitions"] > 0]["p_value"]
    unpublished = table[table["repetitions"] == 0]["p_value"]
    assert (planted < 0.01).all(), table
    assert (unpublished > 0.01).all(), table
    cards = page_text(at)
    assert "Evidence of training" in cards and "No evidence of training" in cards
    assert len(at.get("plotly_chart")) == 1
    print(f"demo train + detect: {time.time() - start:.0f} s")
