"""The guided demo's views: which model the demo trains (its own, not the sidebar's), the author's article with its
ghost sentences highlighted, and the test's outcome in plain language (two verdict cards, the null histogram with a
legend, how to read it, the table)."""

from __future__ import annotations

import html
import inspect

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from provenance import charts
from provenance.ghost import planting
from provenance.ghost.planting import ArticleDemo, ArticleDemoDetection
from provenance.lm.loading import SUGGESTED_MODELS
from ui.session import chosen_models
from ui.widgets import plain, show_figure, verdict_card


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


def show_demo_model() -> None:
    """Which model the demo trains and tests, and that it is not the model chosen in the sidebar."""
    facts = demo_model_facts()
    target = chosen_models()["target"]
    sidebar = SUGGESTED_MODELS.get(target, target).split(" (")[0].split(":")[0]
    st.info(f"**The model in this demo is its own:** a small Llama-architecture language model built from scratch "
            f"on this computer ({facts['layers']} layers, hidden size {facts['hidden_size']}, a "
            f"{facts['vocab_size']:,}-token vocabulary learned from the training texts, about "
            f"{facts['parameters'] / 1e6:.2f}M parameters), trained in step 2 below. The model chosen in the "
            f"sidebar ({plain(sidebar)}) is not used on this page.", icon=":material/memory:")


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
    table."""
    cols = st.columns(2)
    for col, verdict, title in ((cols[0], result.published, "The 3 hidden in the article"),
                                (cols[1], result.unpublished, "The 3 never published")):
        with col:
            verdict_card(title, verdict)
    null = next(iter(result.detection.null.values()))
    figure = charts.ghost_null_histogram(null, result.table, title="Grey: how surprising brand-new phrases are. "
                                         "Markers: the author's 6 phrases")
    show_figure(with_legend(figure, 0.01), "demo-null", "fig_demo")
    false_alarm = result.published.fpr
    st.markdown("**How to read this.** Each grey bar counts fresh random phrases by how surprising the model "
                "found them. The phrases hidden in the article sit far to the left, less surprising than all the "
                "fresh ones: the model has seen them. The unpublished phrases sit among the fresh ones: the model "
                "has not. Because the fresh phrases were never published anywhere, the chance of a false alarm is "
                f"known exactly: 1 in {round(1 / false_alarm):,} at this setting.")
    shown = result.table[["identifier", "published", "p_value", "exposure_bits", "last_k_hit"]].rename(columns={
        "published": "hidden in the article", "p_value": "p-value", "exposure_bits": "exposure (bits)",
        "last_k_hit": "model completes it"})
    st.dataframe(pd.DataFrame(shown), hide_index=True, width="stretch")
