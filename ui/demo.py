"""The guided demo's views: the choice of the model the demo trains (a small one from scratch, or the real default
model with LoRA) and which one it is (not the sidebar's), the real model's time measured before it starts, the
author's article with its ghost sentences highlighted, and the test's outcome in plain language (two verdict cards,
the null histogram with a legend, how to read it, the table)."""

from __future__ import annotations

import html
import inspect

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from provenance import charts
from provenance.ghost import planting
from provenance.ghost.planting import ArticleDemo, ArticleDemoDetection, DemoEstimate, DemoSetup
from provenance.lm.loading import SUGGESTED_MODELS
from ui.session import chosen_models
from ui.widgets import format_seconds, plain, show_figure, verdict_card

SMALL, REAL = "small", "real"
SMALL_TIME = "a minute or two on a laptop CPU (measured: 100 s on two CPU cores busy with other work)"


def choose_demo_model() -> str:
    """The model the demo trains: SMALL (built from scratch, the default: much faster) or REAL (the default model,
    fine-tuned with LoRA). Changing it starts the demo over."""
    choice = st.radio("The model in this demo", [SMALL, REAL], horizontal=True, key="demo_model_choice",
                      format_func=lambda c: {SMALL: f"A small model trained from scratch ({SMALL_TIME.split(' (')[0]})",
                                             REAL: "The real SmolLM2-135M, fine-tuned with LoRA (slower)"}[c],
                      help="The small model shows the whole story fastest. The real one is a pretrained language "
                           "model of 135 million parameters, as people use them; only small adapter matrices are "
                           "trained on this computer's processor (LoRA), so it takes longer.")
    if st.session_state.get("demo_for") not in (None, choice):  # a demo planned for the other model
        for key in ("demo", "demo_model", "demo_result"):
            st.session_state.pop(key, None)
    return choice

def demo_model_facts() -> dict:
    """The demo model's shape, from ``planting.small_model_for``'s defaults (the model the demo trains): layers,
    hidden size, vocabulary size, context length and its number of parameters (a Llama block with an MLP four
    times as wide as the hidden size, embeddings tied to the output layer)."""
    defaults = {name: p.default for name, p in inspect.signature(planting.small_model_for).parameters.items()
                if p.default is not inspect.Parameter.empty}
    h, layers, vocab = defaults["hidden_size"], defaults["layers"], defaults["vocab_size"]
    parameters = vocab * h + layers * (4 * h * h + 3 * h * 4 * h + 2 * h) + h
    return {"layers": layers, "hidden_size": h, "vocab_size": vocab, "context_length": defaults["context_length"],
            "parameters": parameters}


def show_demo_model(choice: str = SMALL, setup: DemoSetup | None = None, base=None) -> None:
    """Which model the demo trains and tests (``choice``; for REAL, the loaded ``base`` and the ``setup`` it is
    fine-tuned with), and that it is not the model chosen in the sidebar."""
    target = chosen_models()["target"]
    sidebar = SUGGESTED_MODELS.get(target, target).split(" (")[0].split(":")[0]
    if choice == REAL and base is not None and setup is not None:
        info = base.describe()
        st.info(f"**This demo runs on a real language model:** {plain(info['name'])} ({info['parameters_human']} "
                f"parameters, pretrained by its authors and released on {setup.base_released:%d %B %Y}). Step 2 "
                f"fine-tunes a private copy of it with LoRA (rank {setup.lora_rank}: small adapter matrices trained "
                f"for {setup.epochs} epochs, then merged into the weights); the model as released is kept as the "
                "reference for step 3. The model chosen in the sidebar "
                f"({plain(sidebar)}) is not used on this page.", icon=":material/memory:")
        return
    facts = demo_model_facts()
    st.info(f"**The model in this demo is its own:** a small Llama-architecture language model built from scratch "
            f"on this computer ({facts['layers']} layers, hidden size {facts['hidden_size']}, a "
            f"{facts['vocab_size']:,}-token vocabulary learned from the training texts, about "
            f"{facts['parameters'] / 1e6:.2f}M parameters), trained in step 2 below. The model chosen in the "
            f"sidebar ({plain(sidebar)}) is not used on this page.", icon=":material/memory:")


def demo_pace(base, demo: ArticleDemo, setup: DemoSetup) -> tuple[float, float]:
    """This computer's training and scoring pace for ``base`` (tokens/s), measured once per model and session
    (``planting.measure_demo_pace``: a few training steps and a few fresh draws), with a spinner."""
    paces: dict = st.session_state.setdefault("demo_paces", {})
    if base.identity not in paces:
        with st.spinner(f"Measuring how fast this computer trains and runs {base.name} (a few training steps), to "
                        "say how long the demo will take..."):
            paces[base.identity] = planting.measure_demo_pace(base, demo, setup)
    return paces[base.identity]


def show_demo_estimate(estimate: DemoEstimate) -> None:
    """The real-model demo's time, said before anything starts, with the figures it comes from."""
    st.info(f"**About {format_seconds(estimate.seconds)} on this computer** for steps 2 and 3: training on "
            f"{estimate.training_tokens:,} tokens at {estimate.training_rate:,.0f} tokens/s (about "
            f"{format_seconds(estimate.training_seconds)}), then scoring {estimate.scoring_tokens:,} tokens at "
            f"{estimate.scoring_rate:,.0f} tokens/s, both paces measured just now on this computer. The small model "
            f"takes {SMALL_TIME}.", icon=":material/timer:")


def show_marked_article(demo: ArticleDemo) -> None:
    """The marked article in a quoted box, each planted ghost sentence highlighted, and the control group named."""
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


def with_legend(fig: go.Figure, alpha: float) -> go.Figure:
    """The null histogram with a legend for its markers: legend-only entries in the marker colours the chart
    uses (p <= 0.01: familiar to the model; above: not)."""
    for color, name in ((charts.COLORS["member"], f"an author's phrase with p ≤ {alpha:g}: familiar to the model"),
                        (charts.COLORS["primary"], f"an author's phrase with p > {alpha:g}: like a fresh one")):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=name, showlegend=True,
                                 marker=dict(color=color, size=11, symbol="triangle-up")))
    fig.update_layout(showlegend=True, legend=dict(orientation="h", yanchor="top", y=-0.25, x=0))
    return fig


def show_demo_result(result: ArticleDemoDetection) -> None:
    """One verdict card per group, the null histogram (with a legend) with the author's phrases marked, and the
    table; for a reference-calibrated test (the real model), the histogram and its reading are of the difference
    between the model before and after training."""
    cols = st.columns(2)
    for col, verdict, title in ((cols[0], result.published, "The 3 hidden in the article"),
                                (cols[1], result.unpublished, "The 3 never published")):
        with col:
            verdict_card(title, verdict)
    null = next(iter(result.detection.null.values()))
    calibrated = result.detection.statistic == "nll_difference"
    title = ("Grey: how much less surprising training made brand-new phrases. Markers: the author's 6 phrases"
             if calibrated else "Grey: how surprising brand-new phrases are. Markers: the author's 6 phrases")
    figure = charts.ghost_null_histogram(null, result.table, statistic=result.detection.statistic, title=title)
    show_figure(with_legend(figure, 0.01), "demo-null", "fig_demo")
    false_alarm = result.published.fpr
    if calibrated:
        reading = ("Each grey bar counts fresh random phrases by how much less surprising the trained model finds "
                   "them than the model before training did (some phrases are easy for any model; comparing with "
                   "the model before training cancels that). The phrases hidden in the article sit far to the "
                   "right, more changed by training than all the fresh ones: the model has seen them. The "
                   "unpublished phrases sit among the fresh ones: the model has not.")
    else:
        reading = ("Each grey bar counts fresh random phrases by how surprising the model found them. The phrases "
                   "hidden in the article sit far to the left, less surprising than all the fresh ones: the model "
                   "has seen them. The unpublished phrases sit among the fresh ones: the model has not.")
    st.markdown(f"**How to read this.** {reading} Because the fresh phrases were never published anywhere, the "
                f"chance of a false alarm is known exactly: 1 in {round(1 / false_alarm):,} at this setting.")
    shown = result.table[["identifier", "published", "p_value", "exposure_bits", "last_k_hit"]].rename(columns={
        "published": "hidden in the article", "p_value": "p-value", "exposure_bits": "exposure (bits)",
        "last_k_hit": "model completes it"})
    st.dataframe(pd.DataFrame(shown), hide_index=True, width="stretch")
