"""Two investigations side by side as the History page shows them: how their facts differ, then the scores of the
documents they share (a scatter of one chosen value, the table with downloads)."""

from __future__ import annotations

import streamlit as st

from provenance import charts
from provenance.investigations.comparison import InvestigationComparison
from ui.widgets import download_table, show_figure


def show_comparison(comparison: InvestigationComparison, key_prefix: str) -> None:
    """Draw ``comparison``; widget keys start with ``key_prefix``."""
    a, b, diff = comparison.first, comparison.second, comparison.scores
    st.markdown("**How the two investigations differ**")
    st.dataframe(comparison.facts, hide_index=True, width="stretch",
                 column_config={"first": a.name, "second": b.name, "same": "Same?"})
    if diff.empty:
        st.info("These investigations share no scored document (documents are matched by their exact text, "
                "whatever their names), so there are no scores to compare.", icon=":material/info:")
        return
    values = comparison.values
    column = st.selectbox("Value to compare", values, format_func=charts.score_label,
                          index=values.index("perplexity") if "perplexity" in values else 0,
                          key=f"{key_prefix}_compare_column")
    st.caption(f"{len(diff)} shared document(s). Points off the dashed line changed between the two; the table "
               "gives both values and the difference (second minus first).")
    show_figure(charts.comparison_scatter(diff, column, names=(a.name, b.name)), "comparison",
                f"{key_prefix}_fig_compare")
    st.dataframe(diff, hide_index=True, width="stretch")
    download_table(diff, f"comparison-{a.name}-{b.name}", key=f"{key_prefix}_compare")
