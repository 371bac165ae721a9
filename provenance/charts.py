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

from .scores import registry
from .verdicts.baseline import BLIND_LABEL, BLIND_SCORE_NAME

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



# ---------------------------------------------------------------------------------------------- shared helpers


# Rows of an evaluation that are not registry scores.
EXTRA_LABELS = {"chunk_meta": "chunk meta-classifier", BLIND_SCORE_NAME: BLIND_LABEL}
# The blind baseline's curve (a classifier that never sees the model) is drawn dashed, in this colour.
BLIND_COLOR = "#333333"


def score_label(column: str) -> str:
    """A readable axis label for a score or table column (the score registry's label)."""
    return EXTRA_LABELS.get(column) or registry.label(column)


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


__all__ = ["BUCKET_COLORS", "COLORS", "apply_style", "bucket_shares", "comparison_scatter", "empty_figure",
           "documents_vs_reference", "ghost_null_histogram", "perplexity_bar", "roc_figure", "score_distributions",
           "score_label", "similarity_histogram",
           "rank_histogram"]


# ---------------------------------------------------------------------------------------------- per-token view

BUCKET_COLORS = {"top 10": "#b8e6b0", "top 100": "#fbe79a", "top 1000": "#f6b3a4", "beyond 1000": "#d4b8e8"}


def rank_histogram(tokens: pd.DataFrame, *, title: str | None = "How highly the model ranked each actual token"
                   ) -> go.Figure:
    """GLTR's histograms beside the coloured text (``scores.table.token_table`` output): how many tokens fall in each
    rank bucket (top 10 ... beyond 1000), and the distribution of the actual tokens' probabilities. A memorised
    text piles up in the top-10 bar and at high probabilities."""
    if tokens.empty:
        return empty_figure("No scored tokens to show.")
    counts = tokens["bucket"].value_counts()
    fig = make_subplots(rows=1, cols=2, subplot_titles=["tokens per rank bucket", "probability of the actual token"],
                        horizontal_spacing=0.12)
    fig.add_trace(go.Bar(x=list(BUCKET_COLORS), y=[int(counts.get(b, 0)) for b in BUCKET_COLORS],
                         marker_color=list(BUCKET_COLORS.values()), showlegend=False,
                         hovertemplate="%{x}: %{y} tokens<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Histogram(x=tokens["probability"].astype(float), xbins=dict(start=0, end=1, size=0.05),
                               marker_color=COLORS["member"], showlegend=False,
                               hovertemplate="probability %{x}: %{y} tokens<extra></extra>"), row=1, col=2)
    fig.update_yaxes(title="tokens", row=1, col=1)
    fig.update_xaxes(title="probability the model gave the actual token", range=[0, 1], row=1, col=2)
    return apply_style(fig, title=title, height=320)


def bucket_shares(tokens: pd.DataFrame) -> pd.DataFrame:
    """Fraction of a document's tokens in each rank bucket (columns bucket, share), in bucket order."""
    counts = tokens["bucket"].value_counts(normalize=True) if not tokens.empty else pd.Series(dtype=float)
    return pd.DataFrame({"bucket": list(BUCKET_COLORS), "share": [float(counts.get(b, 0.0)) for b in BUCKET_COLORS]})


# ---------------------------------------------------------------------------------------------- documents vs reference


def documents_vs_reference(documents: pd.DataFrame, reference: pd.DataFrame, scores: Sequence[str], *,
                           document: str = "document",
                           title: str | None = "Your documents against the reference set") -> go.Figure:
    """One panel per score: the suspect documents' scores beside the reference texts' (texts the model cannot have
    seen). Documents sitting above most of the reference are the ones with small p-values."""
    present = [s for s in scores if s in documents and s in reference and not _finite_rows(documents, s).empty]
    if not present or reference.empty:
        return empty_figure("Add a reference set to compare your documents against.")
    fig = make_subplots(rows=1, cols=len(present), subplot_titles=[score_label(s) for s in present],
                        horizontal_spacing=min(0.08, 0.4 / len(present)))
    groups = (("your documents", documents, COLORS["member"]), ("reference", reference, COLORS["non_member"]))
    for j, score in enumerate(present, start=1):
        for label, table, color in groups:
            rows = _finite_rows(table, score)
            names = rows[document].astype(str).tolist() if document in rows else [""] * len(rows)
            fig.add_trace(go.Box(y=rows[score].to_numpy(dtype=float), name=label, boxpoints="all", jitter=0.4,
                                 pointpos=0, marker=dict(color=color, size=6, opacity=0.75), line=dict(color=color),
                                 fillcolor="rgba(0,0,0,0)", text=names, legendgroup=label, showlegend=j == 1,
                                 hovertemplate="%{text}<br>%{y:.4g}<extra>" + label + "</extra>"), row=1, col=j)
        fig.update_xaxes(showticklabels=False, row=1, col=j)
    fig.update_yaxes(title="higher = more likely a member", row=1, col=1)
    return apply_style(fig, title=title, height=400)


# ---------------------------------------------------------------------------------------------- labelled sets


def roc_figure(roc: pd.DataFrame, evaluation: pd.DataFrame | None = None, *, log_scale: bool = False,
               title: str | None = None, lowest_fpr: float | None = None) -> go.Figure:
    """ROC curves of every score (``calibration.roc_curves`` long table: score, fpr, tpr), with the chance line.
    ``log_scale`` draws both axes in log scale, where the low-FPR region that matters for verdicts is visible
    (Carlini et al. 2022). With ``evaluation`` (score, auc) the legend shows each AUC, best first.
    ``lowest_fpr`` (1 / the number of non-members, ``verdicts.roc.lowest_measurable_fpr``) shades the false-positive
    rates below it: the sample cannot measure them, so the curve there only says what happens at zero false
    positives. The blind baseline (score ``blind``, verdicts/baseline.py) is drawn dashed in dark grey."""
    if roc.empty:
        return empty_figure("No ROC curve to show yet.")
    auc = dict(zip(evaluation["score"], evaluation["auc"])) if evaluation is not None else {}
    order = sorted(roc["score"].unique(), key=lambda s: -auc.get(s, 0.0))
    fig = go.Figure()
    floor = 1e-3
    chance = np.logspace(-3, 0, 50) if log_scale else np.array([0.0, 1.0])
    fig.add_trace(go.Scatter(x=chance, y=chance, mode="lines", name="chance", line=dict(color=COLORS["neutral"],
                                                                                          dash="dash"),
                             hoverinfo="skip"))
    for score in order:
        part = roc[roc["score"] == score]
        x, y = part["fpr"].to_numpy(dtype=float), part["tpr"].to_numpy(dtype=float)
        if log_scale:
            x, y = np.clip(x, floor, 1), np.clip(y, floor, 1)
        label = f"{score_label(score)} (AUC {auc[score]:.3f})" if score in auc else score_label(score)
        line = dict(shape="hv")
        if score == BLIND_SCORE_NAME:
            line |= dict(dash="dash", color=BLIND_COLOR, width=2.5)
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=label, line=line,
                                 hovertemplate=f"{score}<br>FPR %{{x:.3g}}<br>TPR %{{y:.3g}}<extra></extra>"))
    if lowest_fpr is not None and np.isfinite(lowest_fpr) and lowest_fpr > (floor if log_scale else 0.0):
        fig.add_vrect(x0=floor if log_scale else 0.0, x1=lowest_fpr, fillcolor=COLORS["neutral"], opacity=0.18,
                      line_width=0)
        # in paper coordinates: an annotation's data x on a log axis would have to be given as a log
        fig.add_annotation(text=f"not measurable: FPR below 1/{round(1 / lowest_fpr):,}", x=0.01, y=0.99,
                           xref="paper", yref="paper", xanchor="left", yanchor="top", showarrow=False,
                           font=dict(size=11, color="#555"))
    axis = dict(type="log", range=[np.log10(floor), 0]) if log_scale else dict(range=[0, 1])
    fig.update_xaxes(title="false-positive rate (non-members called members)", **axis)
    fig.update_yaxes(title="true-positive rate (members found)", **axis)
    default = "ROC curves, log-log (low false-positive rates)" if log_scale else "ROC curves"
    return apply_style(fig, title=title or default, height=460)


# ---------------------------------------------------------------------------------------------- ghost sentences


GHOST_STATISTIC_AXES = {
    "nll": ("NLL", "NLL per token (lower = more familiar to the model)"),
    "nll_difference": ("NLL difference", "reference model's NLL minus the tested model's, per token "
                                         "(higher = more familiar to the tested model)"),
}


def ghost_null_histogram(null_nll: np.ndarray, identifiers: pd.DataFrame, *, statistic: str = "nll",
                         title: str | None = "Your identifiers among fresh, never-published draws") -> go.Figure:
    """Histogram of the null: the test statistic of M fresh passphrases from the same generator, which no model can
    have trained on; a vertical marker for each registered identifier (``identifiers`` with columns identifier,
    p_value and the ``statistic`` column: "nll", nats/token, lower = more familiar, or "nll_difference", the
    reference-calibrated test's NLL_ref - NLL_target, higher = more familiar). An identifier far on the familiar
    side of the null has a small p-value."""
    name, axis = GHOST_STATISTIC_AXES[statistic]
    null = np.asarray(null_nll, dtype=float)
    null = null[np.isfinite(null)]
    if null.size == 0:
        return empty_figure("No null draws to show.")
    fig = go.Figure(go.Histogram(x=null, nbinsx=min(60, max(10, null.size // 15)), name=f"{null.size} fresh draws",
                                 marker_color=COLORS["neutral"], opacity=0.6,
                                 hovertemplate=name + " %{x:.3g}: %{y} draws<extra></extra>"))
    for row in identifiers.itertuples(index=False):
        value = float(getattr(row, statistic))
        if not np.isfinite(value):
            continue
        color = COLORS["member"] if row.p_value <= 0.01 else COLORS["primary"]
        fig.add_vline(x=value, line=dict(color=color, width=2))
        fig.add_trace(go.Scatter(x=[value], y=[0], mode="markers", marker=dict(color=color, size=11,
                                                                                   symbol="triangle-up"),
                                 name=_short(str(row.identifier), 30), showlegend=False,
                                 hovertemplate=f"{row.identifier}<br>{name} %{{x:.3g}}<br>p = {row.p_value:.3g}"
                                               "<extra></extra>"))
    fig.update_xaxes(title=axis)
    fig.update_yaxes(title="fresh draws")
    return apply_style(fig, title=title, height=380)


# ---------------------------------------------------------------------------------------------- corpus overlap


def similarity_histogram(matches: pd.DataFrame, *, jaccard_threshold: float | None = None,
                         containment_threshold: float | None = None, bin_size: float = 0.05,
                         title: str | None = "Similarity of the candidates to your documents") -> go.Figure:
    """Histograms of the candidates' similarities (``matches`` from ``overlap.query_index``: one row per query
    document and candidate, columns jaccard_est, jaccard_exact, containment_est, containment_exact in [0, 1]).

    Two panels share the y axis: Jaccard (near-duplicates) and containment (share of your document inside the
    corpus document), each with the MinHash estimate and the exact value overlaid, and a dashed line at the
    threshold a match must reach. Higher = more of your text is in the corpus."""
    panels = [("jaccard", "Jaccard (near-duplicate)", jaccard_threshold),
              ("containment", "containment (your text inside)", containment_threshold)]
    columns = [f"{m}_{kind}" for m, _, _ in panels for kind in ("est", "exact")]
    if matches is None or not len(matches) or not any(c in matches for c in columns):
        return empty_figure("No candidates to show: nothing in the corpus resembles your documents.")
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.06,
                        subplot_titles=[label[0].upper() + label[1:] for _, label, _ in panels])
    styles = {"est": ("estimated (MinHash)", COLORS["neutral"]), "exact": ("exact", COLORS["primary"])}
    for col, (measure, label, threshold) in enumerate(panels, start=1):
        for kind, (kind_label, color) in styles.items():
            column = f"{measure}_{kind}"
            values = pd.to_numeric(matches[column], errors="coerce").to_numpy(dtype=float) if column in matches \
                else np.empty(0)
            values = values[np.isfinite(values)]
            if values.size == 0:
                continue
            fig.add_trace(go.Histogram(
                x=np.clip(values, 0.0, 1.0), xbins=dict(start=0.0, end=1.0 + 1e-9, size=bin_size),
                name=kind_label, legendgroup=kind, showlegend=col == 1, marker_color=color, opacity=0.6,
                hovertemplate=f"{label}, {kind_label} %{{x}}: %{{y}} candidate(s)<extra></extra>"), row=1, col=col)
        if threshold is not None and np.isfinite(threshold):
            fig.add_vline(x=float(threshold), line=dict(color=COLORS["member"], width=2, dash="dash"), row=1,
                          col=col, annotation_text=f"threshold {threshold:g}", annotation_position="top left")
        fig.update_xaxes(title=f"{label} (higher = more of your text in the corpus)", range=[0, 1.0], row=1,
                         col=col)
    fig.update_yaxes(title="candidates", row=1, col=1)
    fig.update_layout(barmode="overlay", legend=dict(orientation="h", y=-0.25))
    return apply_style(fig, title=title, height=400)



# ---------------------------------------------------------------------------------------------- several models


# White to the member colour: the darker a cell, the stronger the evidence (or the higher the score).
HEATMAP_SCALE = [(0.0, "#ffffff"), (0.5, "#eba59d"), (1.0, COLORS["member"])]
VERDICT_SHORT = {"evidence of training": "evidence", "no evidence": "no evidence", "inconclusive": "inconclusive"}


def model_grid_cells(grid: pd.DataFrame, value: str = "p_value") -> dict:
    """The cells of a documents x models heatmap from a grid with one row per (document, model) (columns
    ``document``, ``model``, ``value``, and where present ``verdict_label``, ``p_value``, ``status``, ``reason``,
    ``tokens``), shared by the Plotly and the SVG heatmaps so both say the same.

    Returns ``documents`` and ``models`` (in first-seen order), ``z`` (documents x models floats: -log10 p for
    p-values, so darker = smaller p = more evidence; the score itself otherwise; NaN where a cell has no number),
    ``text`` (what a cell says: the verdict and p-value, the score, or 'no result'), ``hover`` (the full story,
    reason included) and ``colour_title``."""
    documents = list(dict.fromkeys(grid["document"].astype(str))) if len(grid) else []
    models = list(dict.fromkeys(grid["model"].astype(str))) if len(grid) else []
    z = np.full((len(documents), len(models)), np.nan)
    text = [["" for _ in models] for _ in documents]
    hover = [["" for _ in models] for _ in documents]
    where = {(d, m): (i, j) for i, d in enumerate(documents) for j, m in enumerate(models)}
    for row in grid.to_dict("records"):
        i, j = where[str(row["document"]), str(row["model"])]
        number = pd.to_numeric(pd.Series([row.get("value")]), errors="coerce").iloc[0]
        label = row.get("verdict_label")
        reason = str(row.get("reason") or "")
        if not np.isfinite(number):
            text[i][j] = "no result"
            hover[i][j] = f"{row['document']}<br>{row['model']}<br>no result: {reason or 'not scored'}"
            continue
        if value == "p_value":
            z[i, j] = -np.log10(max(float(number), 1e-300))
            words = VERDICT_SHORT.get(label, "not judged") if isinstance(label, str) else "not judged"
            text[i][j] = f"{words}<br>p = {float(number):.3g}"
        else:
            z[i, j] = float(number)
            text[i][j] = f"{float(number):.4g}"
        tokens = row.get("tokens")
        hover[i][j] = (f"{row['document']}<br>{row['model']}<br>{score_label(value)}: {float(number):.4g}"
                       + (f"<br>verdict: {row.get('verdict')}" if isinstance(row.get("verdict"), str) else "")
                       + (f"<br>{int(tokens)} tokens scored" if pd.notna(tokens) else ""))
    colour_title = ("-log10 p (darker = more evidence)" if value == "p_value"
                    else f"{score_label(value)} (higher = more likely a member)")
    return {"documents": documents, "models": models, "z": z, "text": text, "hover": hover,
            "colour_title": colour_title}


def models_heatmap(grid: pd.DataFrame, *, value: str = "p_value", set_verdicts: dict[str, str] | None = None,
                   title: str | None = "Documents x models") -> go.Figure:
    """A heatmap with one row per document and one column per model (``model_grid_cells``): each cell is that
    document's p-value (with its verdict) against the reference set under that model, or its score when there is
    no reference set. ``set_verdicts`` (model -> a few words) is written under each model's name. Cells without a
    number (a model that could not compute the score, a document too short) are blank and say why on hover. The
    colour bar is titled briefly ('-log10 p': darker = smaller p = more evidence; or 'score': higher = more likely a
    member); the x axis title says it in full."""
    cells = model_grid_cells(grid, value)
    if not cells["documents"] or not cells["models"]:
        return empty_figure("No model has scored any document yet.")
    columns = [m + (f"<br><i>set: {set_verdicts[m]}</i>" if set_verdicts and set_verdicts.get(m) else "")
               for m in cells["models"]]
    rows = _unique_labels([_short(d) for d in cells["documents"]])
    z = cells["z"]
    finite = z[np.isfinite(z)]
    zmin, zmax = (0.0, max(2.0, float(finite.max()) if finite.size else 2.0)) if value == "p_value" else (
        (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0))
    fig = go.Figure(go.Heatmap(
        z=z, x=columns, y=rows, text=cells["text"], texttemplate="%{text}", customdata=cells["hover"],
        hovertemplate="%{customdata}<extra></extra>", colorscale=[[p, c] for p, c in HEATMAP_SCALE],
        zmin=zmin, zmax=zmax if zmax > zmin else zmin + 1, xgap=2, ygap=2,
        colorbar=dict(title=dict(text="-log10 p" if value == "p_value" else "score", side="top"))))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(side="top", type="category")
    fig.update_layout(xaxis_title=dict(text=f"colour: {cells['colour_title']}", standoff=6, font=dict(size=12)))
    return apply_style(fig, title=title, height=max(260, min(1800, 140 + 34 * len(rows))))
