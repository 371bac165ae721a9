"""The guided demo's views: the author's article with its ghost sentences highlighted, and the test's outcome in
plain language (two verdict cards, the null histogram, how to read it, the table)."""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from provenance import charts
from provenance.ghost.planting import ArticleDemo, ArticleDemoDetection
from ui.widgets import show_figure, verdict_card


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


def show_demo_result(result: ArticleDemoDetection) -> None:
    """One verdict card per group, the null histogram with the author's phrases marked, and the table."""
    cols = st.columns(2)
    for col, verdict, title in ((cols[0], result.published, "The 3 hidden in the article"),
                                (cols[1], result.unpublished, "The 3 never published")):
        with col:
            verdict_card(title, verdict)
    null = next(iter(result.detection.null.values()))
    show_figure(charts.ghost_null_histogram(null, result.table, title="Grey: how surprising brand-new phrases are. "
                                            "Markers: the author's 6 phrases"), "demo-null", "fig_demo")
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
