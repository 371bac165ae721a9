"""Guided demo: the whole insert-then-detect story on one page, in plain language, for non-technical audiences."""

import random

import streamlit as st

from provenance.ghost import planting
from ui.demo import show_demo_model, show_demo_result, show_marked_article
from ui.widgets import Phase, Progress

NULL_DRAWS = 200
ALPHA = 0.01
EPOCHS = 8

st.title("Guided demo: can we prove a model read our text?")
st.markdown("An author wants to know whether an AI model was trained on her article. Reading the model's weights "
            "is impossible, so she uses a trick: **ghost sentences**, short random phrases she hides in her text. "
            "Nobody else in the world writes those exact phrases. If a model later finds them unusually "
            "*familiar*, it must have read her article. This page runs the whole story with a small model trained "
            "right here on this computer, in a minute or two on a laptop CPU (measured: 100 s on two CPU cores "
            "busy with other work), most of it training; each step shows its progress and the time left.")
show_demo_model()

st.header("1. The author hides ghost sentences in her article")
copies = st.slider("How many copies of the article end up in the training data (a web scrape often holds "
                   "several)", 1, 30, 10)
if st.button("Hide 3 ghost sentences in the article", type="primary"):
    # a seed in the session replays the same demo (same phrases, same training, same fresh draws)
    st.session_state["demo"] = planting.plan_article_demo(copies=copies,
                                                          rng=random.Random(st.session_state.get("demo_seed")))
    st.session_state.pop("demo_model", None)
    st.session_state.pop("demo_result", None)
demo = st.session_state.get("demo")
if demo is not None:
    show_marked_article(demo)

    st.header("2. Someone trains a model on text that includes the article")
    st.markdown(f"The training data: {len(demo.background)} other short documents, plus {demo.copies} copies of "
                "the marked article. (Many other random phrases of the same kind appear once each, so that every "
                "word of the ghost sentences is familiar to the model on its own; only the exact phrases are "
                "special.)")
    if st.button("Train the model", type="primary", disabled="demo_model" in st.session_state):
        training = Progress([("Training the demo model", "training steps")], key="demo_train",
                            stop="Stops the training; press Train the model again to start it over.")

        def on_step(step: int, total: int, loss: float) -> None:
            training.relabel(f"Training the demo model (loss {loss:.2f})")
            training(step, total)

        tuned, report = planting.train_article_model(demo, epochs=EPOCHS, progress=on_step)
        training.finish(f"Trained a {tuned.describe()['parameters_human']}-parameter model on "
                        f"{report.tokens_seen:,} tokens in {report.seconds:.0f} s.")
        st.session_state["demo_model"] = tuned
    if "demo_model" in st.session_state:
        st.success("The model is trained. It has never been told which phrases are ghost sentences.")

        st.header("3. The author tests the model")
        st.markdown(f"For each of her phrases, she measures how surprised the model is by it, and compares that with "
                    f"{NULL_DRAWS} brand-new random phrases of the same kind, which no model can have seen. If her "
                    "phrase is less surprising than almost all of them, that is evidence the model read it.")
        if st.button("Test the model for all 6 phrases", type="primary"):
            progress = Progress([Phase("Scoring brand-new phrases", "phrases"),
                                 Phase("Scoring the author's 6 phrases and asking the model to complete them",
                                       None)], key="demo_test")
            st.session_state["demo_result"] = planting.detect_article_demo(
                st.session_state["demo_model"], demo, n_null=NULL_DRAWS, alpha=ALPHA, on_draws=progress,
                rng=random.Random(st.session_state.get("demo_seed")))
            progress.finish(f"Done: {NULL_DRAWS} brand-new phrases and the author's 6 scored.")
        result = st.session_state.get("demo_result")
        if result is not None:
            show_demo_result(result)
