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


def test_the_page_names_its_own_model_and_promises_an_honest_time(tiny_model_dir):
    at = open_page("demo", model=tiny_model_dir)
    at.run()
    assert not at.exception
    named = " ".join(i.value for i in at.info)
    assert "The model in this demo is its own" in named and "not used on this page" in named
    assert "2 layers" in named and "0.26M parameters" in named
    assert "in about a minute" not in page_text(at) and "a minute or two on a laptop CPU" in page_text(at)


def test_the_null_histogram_has_a_legend_for_the_markers():
    import numpy as np
    import pandas as pd
    from ui.demo import with_legend

    from provenance import charts

    table = pd.DataFrame({"identifier": ["Hidden one.", "Never published."], "nll": [1.0, 7.5],
                          "p_value": [0.005, 0.6]})
    fig = with_legend(charts.ghost_null_histogram(np.random.default_rng(0).normal(7, 1, 200), table), 0.01)
    legend = [t.name for t in fig.data if t.showlegend is not False]
    assert fig.layout.showlegend and legend[0] == "200 fresh draws"
    assert any("familiar to the model" in name for name in legend)
    assert any("like a fresh one" in name for name in legend)
