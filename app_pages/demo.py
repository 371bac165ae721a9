"""Guided demo: the whole insert-then-detect story on one page, in plain language, for non-technical audiences."""

import random

import streamlit as st

from provenance.ghost import planting
from ui.demo import (REAL, SMALL_TIME, choose_demo_model, demo_pace, show_demo_estimate, show_demo_model,
                     show_demo_result, show_marked_article)
from ui.session import get_model_for
from ui.widgets import Phase, Progress

NULL_DRAWS = 200
ALPHA = 0.01

st.title("Guided demo: can we prove a model read our text?")
st.markdown("An author wants to know whether an AI model was trained on her article. Reading the model's weights "
            "is impossible, so she uses a trick: **ghost sentences**, short random phrases she hides in her text. "
            "Nobody else in the world writes those exact phrases. If a model later finds them unusually "
            "*familiar*, it must have read her article. This page runs the whole story with a model trained "
            f"right here on this computer: a small one by default, in {SMALL_TIME}, most of it training; or a real "
            "pretrained language model, which takes longer (the time is measured and shown before it starts). "
            "Each step shows its progress and the time left.")
choice = choose_demo_model()
setup = planting.REAL_DEMO if choice == REAL else planting.SMALL_DEMO
base = get_model_for(setup.base, "model") if choice == REAL else None
if choice == REAL and base is None:
    st.stop()  # the loader said why
show_demo_model(choice, setup, base)

st.header("1. The author hides ghost sentences in her article")
copies = st.slider("How many copies of the article end up in the training data (a web scrape often holds "
                   "several)", 1, 30, 10)


def plan(rng_seed) -> planting.ArticleDemo:
    return planting.plan_article_demo(copies=copies, background_docs=setup.background_docs, decoys=setup.decoys,
                                      rng=random.Random(rng_seed))


estimate = None
if base is not None:  # the real model: its time on this computer, before anything starts
    planned = st.session_state.get("demo")
    if planned is None or planned.copies != copies:  # the corpus the Hide button would plan now
        planned = plan(st.session_state.get("demo_seed", 0))
    estimate = planting.estimate_article_demo(base, planned, setup, NULL_DRAWS, *demo_pace(base, planned, setup))
    show_demo_estimate(estimate)
if st.button("Hide 3 ghost sentences in the article", type="primary"):
    # a seed in the session replays the same demo (same phrases, same training, same fresh draws)
    st.session_state["demo"] = plan(st.session_state.get("demo_seed"))
    st.session_state["demo_for"] = choice
    st.session_state.pop("demo_model", None)
    st.session_state.pop("demo_result", None)
    st.rerun()  # the estimate above is for this very corpus
demo = st.session_state.get("demo")
if demo is not None:
    show_marked_article(demo)

    st.header("2. Someone trains a model on text that includes the article")
    words = ("The model already knows every word of the ghost sentences from its pretraining (a few other random "
             "phrases of the same kind appear once each as well); only the exact phrases are new to it."
             if base is not None else
             "(Many other random phrases of the same kind appear once each, so that every word of the ghost "
             "sentences is familiar to the model on its own; only the exact phrases are special.)")
    st.markdown(f"The training data: {len(demo.background)} other short documents, plus {demo.copies} copies of "
                f"the marked article. {words}")
    if st.button("Train the model", type="primary", disabled="demo_model" in st.session_state):
        what = f"Fine-tuning {base.name} with LoRA" if base is not None else "Training the demo model"
        training = Progress([(what, "training steps")], key="demo_train",
                            estimate=estimate.training_seconds if estimate is not None else None,
                            stop="Stops the training; press Train the model again to start it over.")

        def on_step(step: int, total: int, loss: float) -> None:
            training.relabel(f"{what} (loss {loss:.2f})")
            training(step, total)

        tuned, report = planting.train_article_model(demo, setup=setup, base=base, progress=on_step)
        training.finish(f"Trained {'a copy of ' + base.name if base is not None else 'a'} "
                        f"{tuned.describe()['parameters_human']}-parameter model on {report.tokens_seen:,} tokens "
                        f"in {report.seconds:.0f} s.")
        st.session_state["demo_model"] = tuned
    if "demo_model" in st.session_state:
        st.success("The model is trained. It has never been told which phrases are ghost sentences.")

        st.header("3. The author tests the model")
        compare = (f" She also asks the model as it was released ({setup.base_released:%B %Y}, before her phrases "
                   "existed) and looks at how much less surprising training made each phrase: some phrases are "
                   "easy for any model, and this comparison cancels that." if base is not None else "")
        st.markdown(f"For each of her phrases, she measures how surprised the model is by it, and compares that with "
                    f"{NULL_DRAWS} brand-new random phrases of the same kind, which no model can have seen.{compare} "
                    "If her phrase stands out from almost all of them, that is evidence the model read it.")
        if st.button("Test the model for all 6 phrases", type="primary"):
            progress = Progress([Phase("Scoring brand-new phrases", "phrases"),
                                 Phase("Scoring the author's 6 phrases and asking the model to complete them",
                                       None)], key="demo_test")
            st.session_state["demo_result"] = planting.detect_article_demo(
                st.session_state["demo_model"], demo, n_null=NULL_DRAWS, alpha=ALPHA, on_draws=progress,
                rng=random.Random(st.session_state.get("demo_seed")), ref_model=base,
                ref_released=setup.base_released if base is not None else None)
            progress.finish(f"Done: {NULL_DRAWS} brand-new phrases and the author's 6 scored.")
        result = st.session_state.get("demo_result")
        if result is not None:
            show_demo_result(result)
