"""The report of several models side by side (``Kind.MODELS``, ``investigations.models.compare_models``): its
summary, its evidence (the documents x models heatmap, each model's verdict for the set, every cell as a table) and
its method, in the same layout as the other kinds (``report_layout``) and with the same words for the same things
(``report_text``).

Read from the investigation: the artifacts ``model_runs`` (one record per model) and ``model_grid`` (one row per
(document, model)), its settings (``value``: what a cell holds, ``fpr``) and, with a reference set, the model-free
``shift_check``. Each model's full evidence is in the report of its own investigation, named in the tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from .report_text import CAVEATS, _progress_sentences, fmt, plural, shift_warning
from .scores import registry
from .verdicts.verdict import Label, Verdict, format_p

if TYPE_CHECKING:
    from .report import ReportData
    from .report_layout import Figures

CELL_MEANING_P = ("Each cell is one document under one model: its p-value is the share of the reference texts "
                  "(plus one) that this model finds at least as familiar as the document, so a small p-value means "
                  "the model finds the document more familiar than texts it cannot have seen. The verdict in the "
                  "cell compares that p-value with the false-positive rate. Darker cells have smaller p-values.")
CELL_MEANING_SCORE = ("Each cell is one document's score under one model (higher = more likely a member). Without a "
                      "reference set there is no verdict: a score is not evidence until it is compared with texts "
                      "the model cannot have seen, and scores of different models are not on one scale (their "
                      "tokenizers and training differ), so compare the order of the documents within a column, not "
                      "numbers across columns.")


def runs_of(data: ReportData) -> list[dict]:
    """The ``model_runs`` records (one per model, in the order they were questioned)."""
    runs = data.artifacts.get("model_runs")
    return [r for r in runs if isinstance(r, dict)] if isinstance(runs, list) else []


def grid_of(data: ReportData) -> pd.DataFrame:
    grid = data.artifacts.get("model_grid")
    return grid if isinstance(grid, pd.DataFrame) else pd.DataFrame(columns=["document", "model", "value"])


def value_of(data: ReportData) -> str:
    return str(data.investigation.settings.get("value") or "p_value")


def run_verdict(run: dict) -> Verdict | None:
    verdict = run.get("verdict")
    return Verdict.from_dict(verdict) if isinstance(verdict, dict) else None


def set_verdict_words(runs: list[dict]) -> dict[str, str]:
    """Model label -> the few words under its column: the set verdict, or why it has none."""
    out = {}
    for run in runs:
        verdict = run_verdict(run)
        if verdict is not None:
            out[run.get("label", run["spec"])] = (f"{verdict.label.value} (p = {format_p(verdict.p_value)})"
                                                  if verdict.label is not Label.INCONCLUSIVE else verdict.label.value)
        elif run.get("status") == "refused":
            out[run.get("label", run["spec"])] = "no results"
        elif run.get("status") != "complete":
            out[run.get("label", run["spec"])] = str(run.get("status") or "")
    return out


def _evidence_count(grid: pd.DataFrame, model: str) -> tuple[int, int]:
    cells = grid[(grid["model"] == model) & grid["value"].notna()] if len(grid) else grid
    flagged = int((cells["verdict_label"] == Label.EVIDENCE.value).sum()) if "verdict_label" in cells else 0
    return flagged, len(cells)


# ---------------------------------------------------------------------------------------------- words


def models_summary(data: ReportData) -> list[str]:
    """The plain-language summary: what was asked of which models, then one sentence per model."""
    inv, runs, grid = data.investigation, runs_of(data), grid_of(data)
    n_reference = len(data.reference_documents)
    against = (f", each judged against the same {plural(n_reference, 'reference text')} the models cannot have "
               "seen" if n_reference else "")
    out = [f"This investigation, '{inv.name}', asks which of {plural(len(runs), 'language model')} "
           f"({', '.join(r.get('label', r['spec']) for r in runs)}) were trained on "
           f"{plural(inv.n_documents, 'document')}{against}."]
    out += _progress_sentences(data)
    fpr = data.investigation.settings.get("fpr")
    for run in runs:
        label = run.get("label", run["spec"])
        verdict = run_verdict(run)
        if run.get("status") == "refused":
            out.append(f"{label}: no results. {run.get('reason', '')}")
        elif verdict is not None:
            flagged, judged = _evidence_count(grid, label)
            out.append(f"{label}: {verdict.sentence()} Per document, {flagged} of {judged} show evidence of training"
                       + (f" at FPR {float(fpr):g}." if fpr is not None else "."))
        elif n_reference:
            why = run.get("reason") or "see its own investigation"
            out.append(f"{label}: no verdict for the set ({run.get('status')}; {why}).")
        else:
            out.append(f"{label}: scored, no verdict (no reference set).")
    if len(runs) > 1 and n_reference and fpr is not None:
        out.append(f"Each model is judged on its own. With {len(runs)} models each tested at FPR {float(fpr):g}, the "
                   f"chance that at least one is called 'evidence of training' by chance alone is up to "
                   f"{min(1.0, len(runs) * float(fpr)):.2g}; a model flagged with a p-value below "
                   f"{float(fpr) / len(runs):.2g} stays flagged after allowing for that (Bonferroni).")
    if not n_reference:
        out.append("No verdict was computed: without texts the models cannot have seen, scores neither show nor rule "
                   "out training.")
    warning = shift_warning(data)
    if warning:
        out.append(warning)
    return out


def models_method(data: ReportData) -> dict[str, str]:
    """Method and caveats for several models side by side."""
    scores = list(data.investigation.settings.get("scores") or [])
    listed = "; ".join(f"{s}: {registry.description(s)}" for s in scores if s in registry.SCORES)
    method = {
        "How the models were compared": (
            "Every model was questioned separately with the same documents, the same scores and settings and, where "
            "there is one, the same reference set, one model after another. Each model's run is its own "
            "investigation with its own report (named in the table of models), computed exactly as for a single "
            "model. All scores are oriented so that higher means 'more likely a member of the training data'."
            + (f" Scores: {listed}." if listed else "")),
        "What a cell means": CELL_MEANING_P if value_of(data) == "p_value" else CELL_MEANING_SCORE,
        "Models that have no results": (
            "A model that could not be loaded, or cannot compute a requested score (a served model that returns no "
            "full next-token distribution cannot give Min-K%++, for instance), has an empty column with the reason; "
            "the other models are not affected."),
        "What a verdict means": CAVEATS["what_it_means"],
        "What a verdict does not mean": CAVEATS["what_it_does_not_mean"],
        "False-positive rate": CAVEATS["false_positive_rate"] + (
            f" Each model's verdicts were set at FPR {fmt(data.investigation.settings.get('fpr'), 2)}."
            if len(data.reference_documents) else " No verdict was computed here, so no false-positive rate applies."),
    }
    if not len(data.reference_documents):
        method["Raw scores are not verdicts"] = CAVEATS["raw_scores"]
    return method


# ---------------------------------------------------------------------------------------------- evidence


def models_evidence(data: ReportData, figures: Figures) -> str:
    """The heatmap, each model's verdict for the set, every cell as a table, the shift check and what could not be
    read or scored."""
    from . import report_layout as layout
    from .svg_heatmap import models_heatmap_svg

    runs, grid, value = runs_of(data), grid_of(data), value_of(data)
    verdict_words = set_verdict_words(runs)
    meaning = CELL_MEANING_P if value == "p_value" else CELL_MEANING_SCORE
    parts = [figures.add(models_heatmap_svg(grid, value=value, set_verdicts=verdict_words),
                         "Documents (rows) by models (columns). " + meaning)]
    rows = []
    for run in runs:
        label = run.get("label", run["spec"])
        verdict = run_verdict(run)
        flagged, judged = _evidence_count(grid, label)
        rows.append({"model": label, "spec": run["spec"], "parameters": run.get("parameters") or "",
                     "verdict_label": verdict.label.value if verdict is not None else None,
                     "p_value": verdict.p_value if verdict is not None else None,
                     "documents": f"{flagged} of {judged}" if value == "p_value" else str(judged),
                     "investigation": run.get("investigation_name") or "",
                     "why": run.get("reason") or (verdict.method if verdict is not None else "")})
    cols = [layout.Col("model", "model", "code"), layout.Col("spec", "spec", "text"),
            layout.Col("parameters", "parameters", "text"), layout.Col("verdict_label", "set verdict", "verdict"),
            layout.Col("p_value", "set p-value", "p"),
            layout.Col("documents", "documents with evidence" if value == "p_value" else "documents scored", "text"),
            layout.Col("investigation", "its own investigation", "text"), layout.Col("why", "test or reason", "text")]
    parts.append("<h3>Verdict per model for the set</h3><p class='note'>Each model's whole set of documents tested "
                 "against the reference texts (its own set-level test); the full evidence for a model is in the "
                 "report of its own investigation.</p>" + layout.html_table(pd.DataFrame(rows), cols))
    cell_cols = [layout.Col("document", "document", "doc"), layout.Col("model", "model", "code")]
    if value == "p_value":
        cell_cols += [layout.Col("verdict_label", "verdict", "verdict"), layout.Col("p_value", "p-value", "p")]
    else:
        cell_cols.append(layout.Col("value", value))
    cell_cols += [layout.Col("tokens", "tokens", "int"), layout.Col("reason", "why no result", "text")]
    parts.append("<h3>Every document under every model</h3>" + layout.html_table(grid, cell_cols))
    parts.append(layout._shift_section(data, "your documents against the reference texts"))
    parts += [layout._unscorable_html(data), layout._other_artifacts(data)]
    if len(data.reference_documents):
        refs = data.reference_documents.rename(columns={"name": "document"})
        parts.append("<h3>Reference texts</h3><p class='note'>The same texts for every model.</p>" + layout.html_table(
            refs, [layout.Col("document", "document", "doc"), layout.Col("characters", "characters", "int"),
                   layout.Col("sha256", "SHA-256 of the text", "hash")]))
    return "".join(parts)
