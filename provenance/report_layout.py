"""The HTML report's layout: one page per kind of investigation, readable on screen and on paper.

What a reader needs first comes first: the verdict and its warning, then (for documents) a narrow table of each
document's verdict, p-value and tokens, then the figures (static SVG, ``svg_charts``), then the full tables with
numbers formatted and long names wrapped. Tables never scroll out of a printed page: they take the page's width,
repeat their header on every page and keep rows whole; figures and verdict boxes are never cut in two. Every
user-supplied text (names, identifiers, reasons) is escaped; nothing is written as Markdown or raw HTML.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import __version__
from . import svg_charts as svg
from .charts import COLORS
from .investigations.records import Kind
from .report_text import (evaluation_explanations, fmt, method_sentences, shift_summary,
                          shift_warning, summary_sentences, verdict_fpr, verdict_statement)
from .verdicts.baseline import (BLIND_SCORE_NAME, INDISTINGUISHABLE_COLUMN, blind_baseline_sentence, comparison_column,
                                display_name, mark_indistinguishable, privacy_budget_sentence)
from .verdicts.roc import measured_operating_points
from .verdicts.verdict import Label, format_p

if TYPE_CHECKING:
    from .report import ReportData

MAX_TABLE_ROWS = 500
MAX_BARS = 40  # more documents than this: distributions instead of one labelled bar each

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:1100px;margin:2rem auto;
padding:0 1rem;color:#222;line-height:1.5}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
h3{margin:1.6rem 0 .4rem}.meta{color:#666;font-size:.9rem}
.summary{background:#f4f7fb;border-left:4px solid #2f6db5;padding:.8rem 1.2rem}
.verdict{font-size:1.15rem;font-weight:600}.warning{background:#fff4e5;border-left:4px solid #e07b39;
padding:.8rem 1.2rem;font-weight:600}.note{font-size:.85rem;color:#444;margin:.3rem 0}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:.85rem;margin:.4rem 0 .6rem;width:100%}
th,td{border:1px solid #ddd;padding:.25rem .45rem;vertical-align:top;text-align:left}
th{background:#f2f2f2;font-weight:600}
th.num,td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td.text{overflow-wrap:anywhere}td.doc{min-width:11rem;overflow-wrap:anywhere}td.code{white-space:nowrap;
font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.8em}
td.hash{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.75rem;overflow-wrap:anywhere;min-width:9rem}
td.verdict-cell{white-space:nowrap;font-weight:600}
.evidence{color:#b03a2e}.no-evidence{color:#1e7b34}.inconclusive{color:#666}
table.facts{width:auto;min-width:50%}table.facts th{width:16rem}
figure{margin:1.2rem 0}svg.chart{width:100%;max-width:760px;height:auto;display:block}
figcaption{color:#555;font-size:.85rem;margin-top:.3rem}
pre{background:#f7f7f7;padding:.6rem;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.8rem}
@page{size:A4;margin:14mm 12mm 16mm}
@media print{
body{max-width:none;margin:0;padding:0;font-size:10pt;line-height:1.35}
h1{font-size:16pt}h2{font-size:13pt;margin-top:1.2rem}h3{font-size:11pt}
.scroll{overflow:visible}
table{font-size:7.5pt;page-break-inside:auto}th,td{padding:1.5pt 3pt}
thead{display:table-header-group}
tr,figure,svg,.verdict,.warning,.summary,table.facts{break-inside:avoid;page-break-inside:avoid}
h2,h3{break-after:avoid;page-break-after:avoid}
.summary,.warning,th{-webkit-print-color-adjust:exact;print-color-adjust:exact}
svg.chart{max-width:100%}
}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


# ---------------------------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Col:
    """A column of an HTML table: the DataFrame column, its header, and how its values read.

    kinds: text, doc (a document name), code (an identifier kept on one line), num (numbers with the same decimals
    down the column, about ``digits`` significant), int, p (p-value), verdict (a Label value), hash (SHA-256),
    flag (yes / no), label (1 / 0 as member / non-member)."""

    key: str
    header: str
    kind: str = "num"
    digits: int = 4


NUMERIC_KINDS = {"num", "int", "p"}


def column_decimals(values: pd.Series, digits: int = 4) -> int | None:
    """Decimals that give the column's typical (median absolute) value about ``digits`` significant digits, so
    numbers line up; None (significant digits per value) when the values span many orders of magnitude."""
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    v = np.abs(v[np.isfinite(v) & (v != 0)])
    if v.size == 0:
        return 0
    if v.max() / v.min() > 1e4:
        return None
    return int(min(6, max(0, digits - 1 - math.floor(math.log10(float(np.median(v)))))))


def _cell(value, col: Col, decimals: int | None = None) -> tuple[str, str]:
    """(css class, escaped text) of one cell; ``decimals`` fixes the decimals of a 'num' column."""
    missing = value is None or (isinstance(value, (float, np.floating)) and not math.isfinite(value))
    if col.kind == "verdict":
        label = str(value) if not missing else ""
        css = {Label.EVIDENCE.value: "evidence", Label.NO_EVIDENCE.value: "no-evidence"}.get(label, "inconclusive")
        return f"verdict-cell {css}", _e(label or "not judged")
    if col.kind == "p":
        return "num", _e(format_p(None if missing else float(value)))
    if col.kind == "hash":
        return "hash", _e("" if missing else value)
    if col.kind == "flag":
        return "text", _e("" if missing else ("yes" if bool(value) else "no"))
    if col.kind == "label":
        return "text", _e("" if missing else ("member" if int(value) == 1 else "non-member"))
    if col.kind in NUMERIC_KINDS:
        if missing:
            return "num", "n/a"
        if col.kind == "int":
            return "num", _e(f"{int(round(float(value))):,}")
        if decimals is not None:
            return "num", _e(f"{float(value):,.{decimals}f}")
        return "num", _e(fmt(value, col.digits))
    if isinstance(value, (list, tuple)):
        value = "; ".join(str(v) for v in value)
    return (col.kind if col.kind in ("doc", "code") else "text"), _e("" if missing else value)


def infer_columns(table: pd.DataFrame) -> list[Col]:
    """Column specs for a table shown as it is (numbers formatted, integers as integers, hashes monospaced)."""
    cols = []
    for c in table.columns:
        series = table[c]
        if c == "sha256":
            cols.append(Col(c, c, "hash"))
        elif c == "document" or c == "name":
            cols.append(Col(c, c, "doc"))
        elif pd.api.types.is_bool_dtype(series):
            cols.append(Col(c, c, "flag"))
        elif pd.api.types.is_integer_dtype(series):
            cols.append(Col(c, c, "int"))
        elif pd.api.types.is_numeric_dtype(series):
            cols.append(Col(c, c, "num"))
        else:
            cols.append(Col(c, c, "text"))
    return cols


def html_table(table: pd.DataFrame, columns: Sequence[Col] | None = None, *, max_rows: int = MAX_TABLE_ROWS,
               css: str = "") -> str:
    """A DataFrame as an escaped HTML table: the ``columns`` given (else every column, see ``infer_columns``),
    at most ``max_rows`` rows with a note saying where the rest are."""
    if table is None or table.empty:
        return "<p><em>No rows.</em></p>"
    columns = [c for c in (columns or infer_columns(table)) if c.key in table.columns]
    head = "".join(f"<th class='{'num' if c.kind in NUMERIC_KINDS else ''}' scope='col'>{_e(c.header)}</th>"
                   for c in columns)
    shown = table.head(max_rows)
    decimals = {c.key: column_decimals(shown[c.key], c.digits) for c in columns if c.kind == "num"}
    body = []
    for row in shown.to_dict("records"):
        cells = [_cell(row.get(c.key), c, decimals.get(c.key)) for c in columns]
        body.append("<tr>" + "".join(f"<td class='{cls}'>{text}</td>" for cls, text in cells) + "</tr>")
    note = (f"<p class='note'>Showing {max_rows:,} of {len(table):,} rows; the CSV and JSON reports hold all of "
            "them.</p>") if len(table) > max_rows else ""
    return (f"<div class='scroll'><table class='{css}'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}"
            f"</tbody></table></div>{note}")


def facts_table(facts: Sequence[tuple[str, object]]) -> str:
    """A two-column table of named values (numbers formatted, lists joined)."""
    rows = []
    for name, value in facts:
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        shown = fmt(value) if isinstance(value, (int, float, np.integer, np.floating, bool)) else str(value)
        rows.append(f"<tr><th scope='row'>{_e(name)}</th><td>{_e(shown)}</td></tr>")
    return f"<table class='facts'><tbody>{''.join(rows)}</tbody></table>" if rows else ""


def _plain_record(value: dict) -> list[tuple[str, object]]:
    """A recorded dict as (name, value) facts: nested dicts and lists of dicts written out as 'key: value'."""
    facts = []
    for key, item in value.items():
        if isinstance(item, dict):
            item = "; ".join(f"{k}: {fmt(v) if isinstance(v, (int, float)) else v}" for k, v in item.items())
        elif isinstance(item, list) and item and isinstance(item[0], dict):
            item = json.dumps(item, ensure_ascii=False)
        facts.append((key.replace("_", " "), item))
    return facts


# ---------------------------------------------------------------------------------------------- figures


class Figures:
    """Numbers the figures of one report (ids figure-1, figure-2, ...) and wraps each with its caption."""

    def __init__(self) -> None:
        self.count = 0

    def add(self, svg_text: str, caption: str) -> str:
        self.count += 1
        return (f'<figure id="figure-{self.count}">{svg_text}<figcaption>Figure {self.count}. {_e(caption)}'
                "</figcaption></figure>")


def _perplexity_figure(data: ReportData, figures: Figures) -> str:
    table = data.table
    if "perplexity" not in table or table["perplexity"].notna().sum() == 0:
        return ""
    if len(table) <= MAX_BARS:
        chart = svg.bar_figure(table["document"].astype(str).tolist(), table["perplexity"].astype(float).tolist(),
                               x_title="perplexity (lower = more predictable)", title="Perplexity per document")
        return figures.add(chart, "Perplexity of each document under the model: lower means the model finds the "
                                  "text more predictable, which is consistent with, not proof of, training.")
    groups = [("your documents", np.log10(table["perplexity"].astype(float)), COLORS["member"])]
    if "perplexity" in data.reference:
        groups.append(("reference texts", np.log10(data.reference["perplexity"].astype(float)),
                       COLORS["non_member"]))
    chart = svg.histogram_figure(groups, x_title="log10 perplexity (lower = more predictable)",
                                 title="Perplexity of the documents")
    return figures.add(chart, f"Perplexity of the {len(table):,} documents (log scale), as a histogram"
                              + (" beside the reference texts'" if len(groups) > 1 else "")
                              + "; each document's value is in the tables below.")


def _scores_figure(data: ReportData, figures: Figures, scores: Sequence[str]) -> str:
    scores = [s for s in scores if s in data.table]
    if not scores or data.table.empty:
        return ""
    if data.kind is Kind.LABELLED and "label" in data.table:
        members = data.table[data.table["label"] == 1]
        others = data.table[data.table["label"] == 0]
        groups = [("members", members, COLORS["member"]), ("non-members", others, COLORS["non_member"])]
        caption = "Each score for the members and the non-members (one point per text); higher = more likely a member."
    elif len(data.reference):
        groups = [("your documents", data.table, COLORS["member"]), ("reference", data.reference,
                                                                     COLORS["non_member"])]
        caption = ("Each score for your documents and for the reference texts (one point per text): documents above "
                   "most reference texts are the ones with small p-values. Higher = more likely a member.")
    else:
        groups = [("your documents", data.table, COLORS["primary"])]
        caption = "Each score across the documents (one point per document); higher means more likely a member."
    chart = svg.strip_figure([(s, groups) for s in scores], value_title="higher = more likely a member",
                             title="Score distributions")
    return figures.add(chart, caption)


# ---------------------------------------------------------------------------------------------- sections


def _score_columns(data: ReportData, table: pd.DataFrame) -> list[Col]:
    cols = [Col("document", "document", "doc")]
    if "label" in table:
        cols.append(Col("label", "label", "label"))
    cols += [Col("tokens", "tokens", "int"), Col("perplexity", "perplexity"), Col("nll", "NLL")]
    cols += [Col(s, s) for s in data.scores]
    return cols


def _scores_section(data: ReportData, heading: str = "Scores") -> str:
    table = data.table
    note = ("<p class='note'>Every score is oriented so that higher means more likely a member; perplexity and NLL "
            "are lower for text the model finds more predictable.</p>") if len(table) else ""
    return f"<h3>{_e(heading)}</h3>{note}{html_table(table, _score_columns(data, table))}"


def _document_verdicts_section(data: ReportData) -> str:
    table = data.table
    if "verdict_label" not in table or table.empty:
        return ""
    ordered = table.assign(_p=pd.to_numeric(table.get("p_value"), errors="coerce")).sort_values(
        "_p", kind="stable", na_position="last")
    reasons = [tuple(r) if isinstance(r, (list, tuple)) else () for r in ordered.get("verdict_reasons", [])]
    distinct = {r for r in reasons if r}
    cols = [Col("document", "document", "doc"), Col("verdict_label", "verdict", "verdict"),
            Col("p_value", "p-value", "p"), Col("tokens", "tokens", "int"), Col("perplexity", "perplexity")]
    shared = ""
    if len(distinct) == 1 and all(reasons):
        shared = (f"<p class='note'>Every document is inconclusive for the same reason: "
                  f"{_e('; '.join(next(iter(distinct))))}.</p>")
    elif distinct:
        ordered = ordered.assign(why=["; ".join(r) for r in reasons])
        cols.append(Col("why", "why inconclusive", "text"))
    fpr = verdict_fpr(data)
    comparison = data.artifacts.get("set_comparison") or {}
    used = comparison.get("verdict_scores") or data.scores
    n_ref = len(data.reference)
    floor = f"; with {n_ref:,} reference texts the smallest possible p-value is 1/{n_ref + 1:,}" if n_ref else ""
    note = (f"<p class='note'>Most evidence first. The p-value ranks each document's combined rank of "
            f"{_e(', '.join(used))} among the reference texts{_e(floor)}"
            + (f"; a document is called 'evidence of training' when p &le; {_e(f'{fpr:g}')} (the false-positive "
               "rate)" if fpr is not None else "") + ".</p>")
    return f"<h3>Verdict per document</h3>{note}{shared}{html_table(ordered, cols)}"


def _set_test_facts(test: dict | None, false_positive: dict | None = None) -> list[tuple[str, object]]:
    if not isinstance(test, dict):
        return []
    facts = [("test", test.get("test")), ("p-value", format_p(test.get("p_value"))),
             ("suspect documents", test.get("n_suspect")), ("reference documents", test.get("n_reference"))]
    if test.get("auc") is not None:
        facts.append(("chance a suspect document outranks a reference one", f"{test['auc']:.3f} (0.5 = no "
                                                                             "difference)"))
    if test.get("weights"):
        facts.append(("score weights", "; ".join(f"{k} {v:+.2f}" for k, v in test["weights"].items())))
    if test.get("method"):
        facts.append(("method", test["method"]))
    if isinstance(false_positive, dict):
        facts.append(("false-positive mode (reference half against reference half)",
                      f"p = {format_p(false_positive.get('p_value'))} (should not be significant)"))
    return facts


def _shift_section(data: ReportData, names: str) -> str:
    shift = shift_summary(data)
    if shift is None:
        return ""
    facts = [("compared", names), ("AUC (0.5 = cannot tell them apart)",
                                   f"{fmt(shift.get('auc'), 3)} (95% interval {fmt(shift.get('auc_low'), 3)} to "
                                   f"{fmt(shift.get('auc_high'), 3)})"),
             ("permutation p-value", format_p(shift.get("p_value"))),
             ("confounded", "yes" if shift.get("confounded") else "no"),
             ("words it relied on", shift.get("telling_words") or None)]
    return f"<h3>Distribution-shift check</h3>{facts_table(facts)}"


def _notes_html(data: ReportData) -> str:
    notes = data.artifacts.get("notes") or []
    return "".join(f"<p class='note'>{_e(n)}</p>" for n in notes if n)


def _unscorable_html(data: ReportData) -> str:
    out = ""
    if data.unscorable:
        items = "".join(f"<li><b>{_e(k)}</b>: {_e(v.removeprefix(f'{k}: '))}</li>" for k, v in data.unscorable.items())
        out += f"<h3>Documents that could not be scored</h3><ul>{items}</ul>"
    errors = data.artifacts.get("ingest_errors")
    if isinstance(errors, list) and errors:
        items = "".join(f"<li><b>{_e(e.get('source', ''))}</b>: {_e(e.get('message', ''))}</li>" for e in errors
                        if isinstance(e, dict))
        out += f"<h3>Files that could not be read</h3><ul>{items}</ul>"
    return out


SHOWN = {
    Kind.DOCUMENTS: {"ingest_errors", "reference_scores"},
    Kind.REFERENCE: {"ingest_errors", "reference_scores", "shift_check", "dataset_inference", "false_positive_mode",
                     "set_comparison", "notes"},
    Kind.LABELLED: {"ingest_errors", "labelled_evaluation", "roc_curves", "shift_check", "meta_classifier",
                    "dataset_inference", "notes", "labelled_evaluation_settings"},
    Kind.GHOST: {"ghost_detection", "null_draws", "null_differences", "ghost_test_settings"},
    Kind.MODELS: {"ingest_errors", "model_runs", "model_grid", "shift_check"},
}


def _other_artifacts(data: ReportData) -> str:
    """Every recorded result this kind's sections do not show, shown generically."""
    out = []
    for name, value in data.artifacts.items():
        if name in SHOWN[data.kind]:
            continue
        title = _e(name.replace("_", " ").capitalize())
        if isinstance(value, pd.DataFrame):
            out.append(f"<h3>{title}</h3>{html_table(value)}")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            out.append(f"<h3>{title}</h3>{html_table(pd.DataFrame(value))}")
        elif isinstance(value, dict):
            out.append(f"<h3>{title}</h3>{facts_table(_plain_record(value))}")
        else:
            out.append(f"<h3>{title}</h3><pre>{_e(json.dumps(value, indent=2, ensure_ascii=False, default=str))}</pre>")
    return "".join(out)


def _documents_evidence(data: ReportData, figures: Figures) -> str:
    parts = [_document_verdicts_section(data)]
    if data.kind is Kind.REFERENCE:
        test = data.artifacts.get("dataset_inference")
        facts = _set_test_facts(test, data.artifacts.get("false_positive_mode"))
        if facts:
            parts.append(f"<h3>The set as a whole</h3>{facts_table(facts)}")
        parts.append(_notes_html(data))
        parts.append(_shift_section(data, "your documents against the reference texts"))
    if data.kind is Kind.REFERENCE:
        parts += [_scores_figure(data, figures, data.scores), _perplexity_figure(data, figures),
                  _scores_section(data)]
    else:  # scores only: the table is what there is to read first
        parts += [_scores_section(data), _scores_figure(data, figures, data.scores),
                  _perplexity_figure(data, figures)]
    p_columns = [c for c in data.table.columns if c.startswith("p_") and c != "p_value"]
    if p_columns:
        cols = [Col("document", "document", "doc")] + [Col(c, c.removeprefix("p_"), "p") for c in p_columns]
        parts.append("<h3>p-value of each score on its own</h3><p class='note'>For reading only: each score ranked "
                     "alone among the reference texts. The verdict rests on the one combined p-value above, fixed "
                     "before looking at the data.</p>" + html_table(data.table, cols))
    parts += [_unscorable_html(data), _other_artifacts(data)]
    return "".join(parts)


def _labelled_evidence(data: ReportData, figures: Figures) -> str:
    evaluation = data.artifacts.get("labelled_evaluation")
    settings = data.artifacts.get("labelled_evaluation_settings") or {}
    parts = []
    if isinstance(evaluation, pd.DataFrame) and not evaluation.empty:
        if BLIND_SCORE_NAME in set(evaluation["score"]) and INDISTINGUISHABLE_COLUMN not in evaluation:
            evaluation = mark_indistinguishable(evaluation)
        shown = measured_operating_points(evaluation)
        shown["interval"] = [f"{fmt(lo, 3)} to {fmt(hi, 3)}" for lo, hi in zip(shown["auc_low"], shown["auc_high"])]
        shown["blind"] = comparison_column(shown)
        shown["score"] = [display_name(s) for s in shown["score"]]
        cols = [Col("score", "score", "text"), Col("auc", "AUC", digits=3), Col("interval", "95% interval", "text"),
                Col("tpr_at_1pct_fpr", "TPR at 1% FPR", digits=3),
                Col("tpr_at_0_1pct_fpr", "TPR at 0.1% FPR", digits=3)]
        cols += [Col(c, header, digits=3) for c, header in (("epsilon_mean", "epsilon_mean"),
                                                             ("epsilon_lower", "epsilon_lower (95% credible)"),
                                                             ("epsilon_cp_lower", "epsilon_cp_lower (Clopper-Pearson)"))
                 if c in shown]
        cols += [Col("blind", "compared with the blind baseline", "text"),
                 Col("lowest_measurable_fpr", "lowest measurable FPR", digits=3),
                 Col("n_members", "members", "int"), Col("n_non_members", "non-members", "int")]
        notes = [s for s in (blind_baseline_sentence(evaluation), privacy_budget_sentence(evaluation)) if s]
        n0 = int(settings.get("non_members") or evaluation["n_non_members"].max())
        notes += evaluation_explanations(evaluation, n0)
        parts.append("<h3>How well each score tells members from non-members</h3>" + html_table(shown, cols)
                     + "".join(f"<p class='note'>{_e(n)}</p>" for n in notes))
        roc = data.artifacts.get("roc_curves")
        if isinstance(roc, pd.DataFrame) and not roc.empty:
            lowest = 1.0 / n0 if n0 else None
            parts.append(figures.add(svg.roc_svg(roc, evaluation, lowest_fpr=lowest),
                                     "ROC curves: for every threshold, the share of members found against the share "
                                     "of non-members wrongly called members. The dashed diagonal is chance"
                                     + ("; the long-dashed dark curve is the blind baseline (no model)."
                                        if BLIND_SCORE_NAME in set(roc["score"]) else ".")))
            parts.append(figures.add(svg.roc_svg(roc, evaluation, log_scale=True, lowest_fpr=lowest),
                                     "The same curves on log-log axes, where the low false-positive rates that "
                                     "matter for verdicts are visible"
                                     + (f"; the shaded band is below 1/{n0:,}, what {n0:,} non-members can "
                                        "measure." if lowest else ".")))
    else:
        parts.append("<p><em>The evaluation has not been computed yet.</em></p>")
    facts = _set_test_facts(data.artifacts.get("dataset_inference"))
    if facts:
        parts.append("<h3>Set-level test: members as the suspect set, non-members as the reference</h3>"
                     + facts_table(facts))
    meta = data.artifacts.get("meta_classifier")
    if isinstance(meta, dict):
        parts.append("<h3>Chunk meta-classifier (chunk_meta)</h3>" + facts_table(
            [("AUC", f"{fmt(meta.get('auc'), 3)} (95% interval {fmt(meta.get('auc_low'), 3)} to "
                     f"{fmt(meta.get('auc_high'), 3)})"), ("cross-validation folds", meta.get("folds")),
             ("chunk size (tokens)", settings.get("chunk_tokens"))]))
    parts.append(_notes_html(data))
    parts.append(_shift_section(data, "members against non-members"))
    parts.append(_scores_figure(data, figures, data.scores))
    parts.append(_scores_section(data, "Scores of the labelled texts"))
    parts += [_unscorable_html(data), _other_artifacts(data)]
    return "".join(parts)


def _appendix(data: ReportData) -> str:
    inv = data.investigation
    parts = []
    if data.kind is not Kind.GHOST or len(data.documents):
        docs = data.documents.rename(columns={"name": "document"})
        cols = [Col("position", "#", "int"), Col("document", "document", "doc"),
                Col("characters", "characters", "int"), Col("status", "status", "text"),
                Col("sha256", "SHA-256 of the text", "hash")]
        parts.append("<h3>Documents</h3><p class='note'>The SHA-256 hash identifies each text exactly: anyone holding "
                     "the text can recompute it and check that it is the one scored.</p>" + html_table(docs, cols))
    if len(data.reference):
        refs = data.reference_documents.rename(columns={"name": "document"})
        parts.append("<h3>Reference texts</h3><p class='note'>Texts the model cannot have seen, the comparison for "
                     "every verdict.</p>" + html_table(refs, [Col("document", "document", "doc"),
                                                              Col("characters", "characters", "int"),
                                                              Col("sha256", "SHA-256 of the text", "hash")]))
        parts.append("<h3>Reference texts' scores</h3>" + html_table(data.reference,
                                                                     _score_columns(data, data.reference)))
    model_json = json.dumps(inv.model_info, indent=2, ensure_ascii=False, default=str)
    settings_json = json.dumps(inv.settings, indent=2, ensure_ascii=False, default=str)
    parts.append(f"<h3>Model</h3><pre>{_e(model_json)}</pre><h3>Settings</h3><pre>{_e(settings_json)}</pre>")
    return "".join(parts)


def _when(timestamp: str) -> str:
    """An ISO timestamp for reading: 'YYYY-MM-DD HH:MM:SS UTC'."""
    return _e(f"{timestamp[:19].replace('T', ' ')} UTC") if timestamp else "unknown"


def _ghost_evidence(data: ReportData, figures: Figures) -> str:
    from .report_ghost import ghost_evidence  # it builds on this module's tables

    return ghost_evidence(data, figures)


def _models_evidence(data: ReportData, figures: Figures) -> str:
    from .report_models import models_evidence  # it builds on this module's tables

    return models_evidence(data, figures)


EVIDENCE = {Kind.DOCUMENTS: _documents_evidence, Kind.REFERENCE: _documents_evidence,
            Kind.LABELLED: _labelled_evidence, Kind.GHOST: _ghost_evidence, Kind.MODELS: _models_evidence}


def render(data: ReportData) -> str:
    """The whole report page for ``data``'s kind: summary, evidence, method and caveats, appendix."""
    inv = data.investigation
    statement = verdict_statement(data)
    warning = shift_warning(data)
    summary = summary_sentences(data)
    verdict_html = f"<p class='verdict'>Verdict: {_e(statement)}</p>" if statement else ""
    warning_html = f"<p class='warning'>{_e(warning)}</p>" if warning else ""
    summary_html = "".join(f"<p>{_e(s)}</p>" for s in summary if s != warning and not s.startswith("Verdict:"))
    evidence = EVIDENCE[data.kind](data, Figures())
    method = "".join(f"<h3>{_e(head)}</h3><p>{_e(text)}</p>" for head, text in method_sentences(data).items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Provenance report: {_e(inv.name)}</title><style>{CSS}</style></head>
<body>
<h1>Provenance report: {_e(inv.name)}</h1>
<p class="meta">{_e(inv.kind.label)} · {'models' if inv.kind is Kind.MODELS else 'model'} {_e(inv.model_name)} · investigation {_e(inv.id)}
· status {_e(inv.status)} · created {_when(inv.created_at)} · last updated {_when(inv.updated_at)}
· report generated {_when(data.generated_at)} by provenance {_e(__version__)}</p>
<h2>Summary</h2>
{verdict_html}{warning_html}<div class="summary">{summary_html}</div>
<h2>Evidence</h2>
{evidence}
<h2>Method and caveats</h2>
{method}
<h2>Appendix</h2>
{_appendix(data)}
</body></html>
"""


__all__ = ["CSS", "Col", "Figures", "facts_table", "html_table", "infer_columns", "render"]
