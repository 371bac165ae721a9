"""Plotly figure builders: pure functions of data frames, shared by the dashboard pages and the HTML report.

Rules for every builder here:
- input is a pandas DataFrame (plus explicit column names and options); output is a ``plotly.graph_objects.Figure``;
- nothing is read from disk, no model is run, no Streamlit is imported; the same input gives the same figure;
- an empty or unusable table gives a figure that says so in words (``empty_figure``), never an exception;
- hover text always names the document, and axis titles say which way is "more likely a member".

Sections: shared helpers, per-document scores, comparisons between investigations. Add new builders to the
section they belong to (or a new section) and keep them independent of each other.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

# One palette for the whole product, so a colour means the same thing on every page and in every report.
COLORS = {
    "primary": "#2f6db5",
    "secondary": "#e07b39",
    "neutral": "#8c8c8c",
    "member": "#c0392b",
    "non_member": "#2f6db5",
    "grid": "#e6e6e6",
}
FONT_FAMILY = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"

SCORE_LABELS = {
    "loss": "loss (−NLL)",
    "zlib": "zlib ratio",
    "lowercase": "lowercase ratio",
    "mink": "Min-K% Prob",
    "minkpp": "Min-K%++",
    "ref": "reference-model difference",
    "gradnorm": "gradient norm (negated)",
    "binoculars": "Binoculars (negated)",
    "perplexity": "perplexity",
    "nll": "NLL (nats/token)",
    "tokens": "scored tokens",
}


# ---------------------------------------------------------------------------------------------- shared helpers


def score_label(column: str) -> str:
    """A readable axis label for a score or table column."""
    return SCORE_LABELS.get(column, column.replace("_", " "))


def empty_figure(message: str, *, height: int = 220) -> go.Figure:
    """A blank figure that shows ``message`` in its middle (for tables with nothing to plot)."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font=dict(size=14, color=COLORS["neutral"]))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return apply_style(fig, height=height)


def apply_style(fig: go.Figure, *, title: str | None = None, height: int | None = None) -> go.Figure:
    """The house style: white background, light grid, readable font, compact margins."""
    fig.update_layout(template="plotly_white", font=dict(family=FONT_FAMILY, size=13),
                      margin=dict(l=10, r=10, t=50 if title else 20, b=10), hoverlabel=dict(namelength=-1))
    if title:
        fig.update_layout(title=dict(text=title, x=0, xanchor="left"))
    if height:
        fig.update_layout(height=height)
    return fig


def _short(name: str, limit: int = 40) -> str:
    return name if len(name) <= limit else "…" + name[-(limit - 1):]


def _finite_rows(table: pd.DataFrame, column: str) -> pd.DataFrame:
    if column not in table:
        return table.iloc[0:0]
    values = pd.to_numeric(table[column], errors="coerce")
    return table[np.isfinite(values.to_numpy(dtype=float))]


# ---------------------------------------------------------------------------------------------- per-document scores


def perplexity_bar(table: pd.DataFrame, *, value: str = "perplexity", document: str = "document",
                   sort: bool = False, title: str | None = "Perplexity per document") -> go.Figure:
    """Horizontal bars of one value per document (default: perplexity; lower = the model finds the text more
    predictable, which is consistent with, not proof of, training). Long names are shortened on the axis and shown
    in full on hover. ``sort`` orders bars from most to least predictable."""
    rows = _finite_rows(table, value)
    if rows.empty or document not in rows:
        return empty_figure(f"No {score_label(value)} to show yet.")
    if sort:
        rows = rows.sort_values(value, ascending=value == "perplexity")
    names = rows[document].astype(str).tolist()
    labels = _unique_labels([_short(n) for n in names])
    custom = np.column_stack([names, rows["tokens"].to_numpy() if "tokens" in rows else np.full(len(rows), "")])
    fig = go.Figure(go.Bar(
        x=rows[value].to_numpy(dtype=float), y=labels, orientation="h", marker_color=COLORS["primary"],
        customdata=custom,
        hovertemplate="%{customdata[0]}<br>" + score_label(value) + ": %{x:.4g}<br>tokens: %{customdata[1]}"
                      "<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category")
    axis = score_label(value) + (" (lower = more predictable)" if value == "perplexity" else "")
    fig.update_xaxes(title=axis)
    return apply_style(fig, title=title, height=max(220, min(1600, 80 + 26 * len(rows))))


def _unique_labels(labels: list[str]) -> list[str]:
    """Category axes merge equal labels; add invisible-enough suffixes so every document keeps its bar."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        n = seen.get(label, 0) + 1
        seen[label] = n
        out.append(label if n == 1 else f"{label} [{n}]")
    return out


def score_distributions(table: pd.DataFrame, scores: Sequence[str], *, document: str = "document",
                        title: str | None = "Score distributions") -> go.Figure:
    """One panel per score: a box plot with every document as a point (hover names it). Scores have different
    units, so each panel has its own axis; higher = more likely a member for every score."""
    present = [s for s in scores if s in table and not _finite_rows(table, s).empty]
    if not present:
        return empty_figure("No scores to show yet.")
    fig = make_subplots(rows=1, cols=len(present), subplot_titles=[score_label(s) for s in present],
                        horizontal_spacing=min(0.08, 0.4 / len(present)))
    for j, score in enumerate(present, start=1):
        rows = _finite_rows(table, score)
        names = rows[document].astype(str).tolist() if document in rows else [""] * len(rows)
        fig.add_trace(go.Box(y=rows[score].to_numpy(dtype=float), name=score_label(score), boxpoints="all",
                             jitter=0.4, pointpos=0, marker=dict(color=COLORS["primary"], size=7, opacity=0.8),
                             line=dict(color=COLORS["neutral"]), fillcolor="rgba(0,0,0,0)", text=names,
                             hovertemplate="%{text}<br>%{y:.4g}<extra></extra>", showlegend=False), row=1, col=j)
        fig.update_xaxes(showticklabels=False, row=1, col=j)
    fig.update_yaxes(title="higher = more likely a member", row=1, col=1)
    return apply_style(fig, title=title, height=380)


# ---------------------------------------------------------------------------------------------- comparisons


def comparison_scatter(compare: pd.DataFrame, column: str = "perplexity", *, names: tuple[str, str] = ("A", "B"),
                       title: str | None = None) -> go.Figure:
    """Two investigations' values of one column for their shared documents (``store.compare`` output: columns
    ``<column>_a`` and ``<column>_b``), with the line of equal values; points off the line changed."""
    a, b = f"{column}_a", f"{column}_b"
    if compare.empty or a not in compare or b not in compare:
        return empty_figure("The two investigations share no scored document.")
    x, y = compare[a].to_numpy(dtype=float), compare[b].to_numpy(dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return empty_figure(f"No shared document has a {score_label(column)} in both investigations.")
    docs = compare["document"].astype(str).to_numpy()[ok]
    lo, hi = float(min(x[ok].min(), y[ok].min())), float(max(x[ok].max(), y[ok].max()))
    pad = (hi - lo) * 0.05 or 1.0
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[lo - pad, hi + pad], y=[lo - pad, hi + pad], mode="lines", name="equal",
                             line=dict(color=COLORS["neutral"], dash="dash"), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x[ok], y=y[ok], mode="markers", name="documents", text=docs,
                             marker=dict(color=COLORS["primary"], size=9),
                             hovertemplate="%{text}<br>" + f"{names[0]}: " + "%{x:.4g}<br>" + f"{names[1]}: "
                                           + "%{y:.4g}<extra></extra>"))
    fig.update_xaxes(title=f"{score_label(column)} in {names[0]}")
    fig.update_yaxes(title=f"{score_label(column)} in {names[1]}")
    return apply_style(fig, title=title or f"{score_label(column)}: {names[0]} vs {names[1]}", height=420)


__all__ = ["COLORS", "apply_style", "comparison_scatter", "empty_figure", "perplexity_bar", "score_distributions",
           "score_label"]
