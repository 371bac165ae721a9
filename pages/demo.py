"""Guided demo: the whole insert-then-detect story on one page, in plain language, for non-technical audiences."""

import html
import random

import pandas as pd
import streamlit as st

from provenance import charts
from provenance import ghost
from provenance.ghost import planting
from ui.widgets import Progress, show_figure, verdict_card

NULL_DRAWS = 200
ALPHA = 0.01

st.title("Guided demo: can we prove a model read our text?")
st.markdown("An author wants to know whether an AI model was trained on her article. Reading the model's weights "
            "is impossible, so she uses a trick: **ghost sentences**, short random phrases she hides in her text. "
            "Nobody else in the world writes those exact phrases. If a model later finds them unusually "
            "*familiar*, it must have read her article. This page runs the whole story in about a minute, with a "
            "small model trained right here on this computer.")

st.header("1. The author hides ghost sentences in her article")
copies = st.slider("How many copies of the article end up in the training data (a web scrape often holds "
                   "several)", 1, 30, 10)
if st.button("Hide 3 ghost sentences in the article", type="primary"):
    # a seed in the session replays the same demo (same phrases, same training, same fresh draws)
    seed = st.session_state.get("demo_seed")
    demo = planting.plan_article_demo(planting.sample_article(), copies=copies, rng=random.Random(seed))
    st.session_state["demo"] = demo
    st.session_state.pop("demo_model", None)
    st.session_state.pop("demo_result", None)
demo = st.session_state.get("demo")
if demo is not None:
    marked = html.escape(demo.marked)
    for entry in demo.planted:
        marked = marked.replace(html.escape(entry.identifier),
                                f"<mark style='background:#ffe08a'>{html.escape(entry.identifier)}</mark>")
    st.markdown(f"<div style='border-left:4px solid #ccc;padding:0.5em 1em;white-space:pre-wrap'>{marked}</div>",
                unsafe_allow_html=True)
    st.caption(f"Highlighted: the {len(demo.planted)} ghost sentences. The author also drew "
               f"{len(demo.unpublished)} more that she never published anywhere: "
               + "; ".join(f"“{e.identifier}”" for e in demo.unpublished)
               + ". They are the control group.")

    st.header("2. Someone trains a model on text that includes the article")
    st.markdown(f"The training data: {len(demo.background)} other short documents, plus {demo.copies} copies of "
                "the marked article. (Many other random phrases of the same kind appear once each, so that every "
                "word of the ghost sentences is familiar to the model on its own; only the exact phrases are "
                "special.)")
    if st.button("Train the model", type="primary", disabled="demo_model" in st.session_state):
        bar = st.progress(0.0, text="Training...")

        def on_step(step: int, total: int, loss: float) -> None:
            bar.progress(step / total, text=f"Training: step {step} of {total}, loss {loss:.2f}")

        model = planting.small_model_for(demo.background, demo.plan.generator, name="demo model")
        tuned, report = planting.train_on_plan(model, demo.plan, epochs=8, progress=on_step)
        bar.progress(1.0, text=f"Trained a {model.describe()['parameters_human']}-parameter model on "
                               f"{report.tokens_seen:,} tokens in {report.seconds:.0f} s.")
        st.session_state["demo_model"] = tuned
    if "demo_model" in st.session_state:
        st.success("The model is trained. It has never been told which phrases are ghost sentences.")

        st.header("3. The author tests the model")
        st.markdown(f"For each of her phrases, she measures how surprised the model is by it, and compares that with "
                    f"{NULL_DRAWS} brand-new random phrases of the same kind, which no model can have seen. If her "
                    "phrase is less surprising than almost all of them, that is evidence the model read it.")
        if st.button("Test the model for all 6 phrases", type="primary"):
            progress = Progress(NULL_DRAWS, label="Scoring fresh phrases")
            st.session_state["demo_result"] = planting.detect_planted(st.session_state["demo_model"], demo.plan,
                                                                      n_null=NULL_DRAWS, alpha=ALPHA,
                                                                      progress=progress, rng=random.Random(
                                                                          st.session_state.get("demo_seed")))
            progress.finish("Done.")
        result = st.session_state.get("demo_result")
        if result is not None:
            table = result.table.assign(published=result.table["repetitions"] > 0)
            cols = st.columns(2)
            for col, published, title in ((cols[0], True, "The 3 hidden in the article"),
                                          (cols[1], False, "The 3 never published")):
                group = table[table["published"] == published]
                combined = ghost.fisher_combined(group["p_value"].tolist())
                with col:
                    verdict_card(title, ghost.verdict_for(combined, len(group), result.n_null, ALPHA))
            null = next(iter(result.null.values()))
            show_figure(charts.ghost_null_histogram(null, table, title="Grey: how surprising brand-new phrases are. "
                                                    "Markers: the author's 6 phrases"), "demo-null", "fig_demo")
            st.markdown("**How to read this.** Each grey bar counts fresh random phrases by how surprising the model "
                        "found them. The phrases hidden in the article sit far to the left, less surprising than "
                        "all the fresh ones: the model has seen them. The unpublished phrases sit among the fresh "
                        "ones: the model has not. Because the fresh phrases were never published anywhere, the "
                        "chance of a false alarm is known exactly: 1 in 100 at this setting.")
            shown = table[["identifier", "published", "p_value", "exposure_bits", "last_k_hit"]].rename(columns={
                "published": "hidden in the article", "p_value": "p-value", "exposure_bits": "exposure (bits)",
                "last_k_hit": "model completes it"})
            st.dataframe(pd.DataFrame(shown), hide_index=True, width="stretch")
