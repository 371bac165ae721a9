"""AppTest: the guided demo plants identifiers, trains a small model on the page, and detects the planted ones and
not the unpublished ones."""

import time

import pytest
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


def test_the_real_model_option_says_its_model_and_time_before_starting_and_runs_the_calibrated_test(
        tiny_model_dir, monkeypatch):
    """The real-model path's wiring, with the tiny model standing in for the default one (the bench
    bench/demo_real_model.py measures the real one): the page names the model, says the time measured on this
    computer before anything starts, fine-tunes a copy with LoRA and tests it against the model as released."""
    from datetime import date

    from provenance.ghost import planting
    from provenance.lm.loading import load_model
    from provenance.lm.training import training_tokens
    from ui.demo import REAL

    setup = planting.DemoSetup(base=tiny_model_dir, background_docs=4, decoys=4, epochs=2, learning_rate=2e-3,
                               batch_size=2, lora_rank=4, base_released=date(2020, 1, 1))
    monkeypatch.setattr(planting, "REAL_DEMO", setup)
    at = open_page("demo", model=tiny_model_dir)
    at.session_state["demo_seed"] = 0
    at.run()
    assert not at.exception, at.exception
    assert at.radio(key="demo_model_choice").value == "small"  # the small model stays the default: much faster
    at.radio(key="demo_model_choice").set_value(REAL)
    at.run()
    assert not at.exception, at.exception
    said = " ".join(i.value for i in at.info)
    assert "This demo runs on a real language model" in said and "LoRA (rank 4" in said
    assert "released on 01 January 2020" in said
    assert "on this computer" in said and "tokens/s" in said and "measured just now" in said
    assert "demo_model" not in at.session_state  # said before anything was trained
    button(at, "Hide 3 ghost sentences").click()
    at.run()
    demo = at.session_state["demo"]
    trained = training_tokens(load_model(tiny_model_dir), demo.plan.corpus) * setup.epochs
    assert f"training on {trained:,} tokens" in " ".join(i.value for i in at.info)
    assert "already knows every word" in page_text(at)
    button(at, "Train the model").click()
    at.run()
    assert not at.exception, at.exception
    tuned = at.session_state["demo_model"]
    assert "The model is trained" in at.success[0].value
    button(at, "Test the model").click()
    at.run()
    assert not at.exception, at.exception
    result = at.session_state["demo_result"]
    assert result.detection.statistic == "nll_difference" and tuned.identity != result.detection.reference
    assert "minus its NLL under the tested model" in result.published.method
    assert "model before training" in page_text(at) and len(at.get("plotly_chart")) == 1


@pytest.mark.slow
def test_the_real_default_model_option_measures_this_computer_before_it_starts():
    """With the real default model (SmolLM2-135M): the estimate is shown before anything starts, from paces
    measured on this computer, and names the model."""
    from ui.demo import REAL

    at = open_page("demo", timeout=600)
    at.session_state["demo_seed"] = 0
    at.run()
    at.radio(key="demo_model_choice").set_value(REAL)
    at.run()
    assert not at.exception, at.exception
    said = " ".join(i.value for i in at.info)
    assert "SmolLM2" in said and "135" in said and "LoRA" in said
    assert "on this computer" in said and "tokens/s" in said
    assert "demo" not in at.session_state and "demo_model" not in at.session_state
