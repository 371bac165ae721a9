"""A labelled-set evaluation (a benchmark) as the pages show it: the shift-check warning first, the best score, the
AUC table with downloads, ROC curves (linear and log-log), the set-level verdict card and the notes.

The same drawing serves a fresh evaluation on the Benchmark page (``show_labelled_evaluation``, from the
``LabelledEvaluation`` value) and a benchmark reopened from History (``show_stored_evaluation``, from what
``investigations.labelled`` recorded), so a reopened benchmark looks as it did. Operating points the sample cannot
measure (fewer than 1 / FPR non-members) read n/a, with a sentence saying why; the row ``chunk_meta`` is explained
wherever it appears.
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from provenance import charts
from provenance.investigations.records import Investigation
from provenance.investigations.store import InvestigationStore
from provenance.report_text import evaluation_explanations
from provenance.verdicts.baseline import (BLIND_SCORE_NAME, INDISTINGUISHABLE_COLUMN, blind_baseline_sentence,
                                          comparison_column, display_name, mark_indistinguishable,
                                          privacy_budget_sentence)
from provenance.verdicts.roc import OPERATING_POINTS, lowest_measurable_fpr, measured_operating_points
from provenance.verdicts.sets import LabelledEvaluation
from provenance.verdicts.shift import ShiftCheck
from provenance.verdicts.verdict import Verdict
from ui.widgets import download_table, show_figure, verdict_card

SET_TEST_TITLE = "Dataset inference: members as the suspect set, non-members as the reference"


def shift_check_box(shift: ShiftCheck) -> None:
    """The distribution-shift check of members against non-members, red when it separates them."""
    box = st.error if shift.confounded else st.success
    box(f"**Distribution-shift check** (bag of words, no language model): AUC {shift.auc:.2f} "
        f"[{shift.auc_low:.2f}, {shift.auc_high:.2f}]. {shift.sentence}",
        icon=":material/error:" if shift.confounded else ":material/check_circle:")


def set_test_details(summary: dict | None) -> str:
    """One line for the set-level verdict card, from the test's recorded summary (rank test or split-half)."""
    if not summary:
        return ""
    counts = f"{summary.get('n_suspect')} members and {summary.get('n_reference')} non-members"
    if summary.get("weights"):
        weights = ", ".join(f"{s} {w:+.2f}" for s, w in summary["weights"].items())
        return f"{counts}; score weights: {weights}."
    if summary.get("auc") is not None:
        return (f"{counts}; a member outranks a non-member with probability {summary['auc']:.2f} "
                "(0.5 = no difference).")
    return counts + "."


EPSILON_LABELS = {"epsilon_mean": "ε mean", "epsilon_lower": "ε lower (95% credible)",
                  "epsilon_cp_lower": "ε lower (Clopper-Pearson 95%)"}


def evaluation_table(table: pd.DataFrame, key_prefix: str) -> None:
    """The AUC table as people read it: unmeasurable TPRs as n/a, three decimals, counts as integers, the blind
    baseline's row by its full name and, per score, how it compares with that baseline in words; then the privacy
    budget in one sentence, why some operating points are n/a, and what chunk_meta and blind are. The downloads
    keep the numbers (NaN where n/a) and the boolean column."""
    if BLIND_SCORE_NAME in set(table["score"]) and INDISTINGUISHABLE_COLUMN not in table:
        table = mark_indistinguishable(table)  # recorded by a version that did not store the column
    measured = measured_operating_points(table)
    shown = measured.copy()
    for column in OPERATING_POINTS:  # n/a in words: a blank cell would read as a missing value
        shown[column] = [f"{v:.3f}" if pd.notna(v) else "n/a" for v in shown[column]]
    if INDISTINGUISHABLE_COLUMN in shown:
        shown.insert(int(shown.columns.get_loc(INDISTINGUISHABLE_COLUMN)), "blind baseline", comparison_column(shown))
        shown = shown.drop(columns=[INDISTINGUISHABLE_COLUMN])
    shown["score"] = [display_name(s) for s in shown["score"]]
    config = {c: st.column_config.NumberColumn(format="%.3f") for c in shown.columns
              if c not in ("score", "n_members", "n_non_members") and pd.api.types.is_float_dtype(shown[c])}
    config |= {"n_members": st.column_config.NumberColumn("members", format="%d"),
               "n_non_members": st.column_config.NumberColumn("non-members", format="%d"),
               "lowest_measurable_fpr": st.column_config.NumberColumn("lowest measurable FPR", format="%.3f")}
    config |= {c: st.column_config.CheckboxColumn(c.replace("_", " ")) for c in shown.columns
               if c.endswith("_measurable")}
    config |= {c: st.column_config.NumberColumn(label, format="%.2f") for c, label in EPSILON_LABELS.items()
               if c in shown}
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config)
    privacy = privacy_budget_sentence(table)
    if privacy:
        st.info(f"**Privacy budget.** {privacy}", icon=":material/lock_open:")
    blind = blind_baseline_sentence(table)
    if blind:
        st.caption(blind)
    n0 = pd.to_numeric(table.get("n_non_members"), errors="coerce").max() if "n_non_members" in table else math.nan
    for note in evaluation_explanations(table, int(n0) if pd.notna(n0) else None):
        st.caption(note)
    download_table(measured, "auc-table", key=f"{key_prefix}_auc_table")


def draw_evaluation(table: pd.DataFrame, roc: pd.DataFrame, *, confounded: bool, shift_sentence: str,
                    verdict: Verdict | None, details: str, notes: list[str], key_prefix: str) -> None:
    """The evaluation from plain values (what a fresh run returns and what the store keeps alike)."""
    if confounded:
        st.error(f"**Members and non-members differ by themselves.** {shift_sentence} The AUCs below may measure "
                 "that difference rather than training.", icon=":material/error:")
    best = table.iloc[0]
    st.subheader(f"Best: {best['score']}, AUC {best['auc']:.3f} [{best['auc_low']:.3f}, {best['auc_high']:.3f}]")
    evaluation_table(table, key_prefix)
    n0 = int(pd.to_numeric(table["n_non_members"], errors="coerce").max()) if "n_non_members" in table else 0
    lowest = lowest_measurable_fpr(n0) if n0 else None
    linear, loglog = st.tabs(["ROC curves", "ROC curves, log-log"])
    with linear:
        show_figure(charts.roc_figure(roc, table, lowest_fpr=lowest), "roc", f"fig_{key_prefix}_roc")
    with loglog:
        show_figure(charts.roc_figure(roc, table, log_scale=True, lowest_fpr=lowest), "roc-loglog",
                    f"fig_{key_prefix}_roc_log")
    if verdict is not None:
        verdict_card(SET_TEST_TITLE, verdict, details)
    for note in notes:
        st.caption(note)
    download_table(pd.DataFrame(roc), "roc-points", key=f"{key_prefix}_roc")


def show_labelled_evaluation(result: LabelledEvaluation, key_prefix: str) -> None:
    """Draw ``result`` (``verdicts.sets.LabelledEvaluation``); widget keys start with ``key_prefix``."""
    draw_evaluation(result.table, result.roc, confounded=result.shift.confounded,
                    shift_sentence=result.shift.sentence, verdict=result.verdict,
                    details=set_test_details(result.inference.summary() if result.inference else None),
                    notes=list(result.notes), key_prefix=key_prefix)


def show_stored_evaluation(store: InvestigationStore, inv: Investigation, key_prefix: str) -> bool:
    """Draw a benchmark reopened from the store as it was drawn when it ran. False (nothing drawn) when the
    evaluation was never recorded (the run was stopped before it)."""
    table = store.get_artifact(inv.id, "labelled_evaluation")
    roc = store.get_artifact(inv.id, "roc_curves")
    if not isinstance(table, pd.DataFrame) or table.empty or not isinstance(roc, pd.DataFrame):
        return False
    shift = store.get_artifact(inv.id, "shift_check") or {}
    try:  # the check as the Benchmark page showed it before the run
        shift_check_box(ShiftCheck(**{k: v for k, v in shift.items() if k != "sentence"}))
    except TypeError:  # recorded by another version with other fields: its finding is still shown below
        pass
    reason = str(shift.get("reason") or "")
    draw_evaluation(table, roc, confounded=bool(shift.get("confounded")),
                    shift_sentence=str(shift.get("sentence") or reason[:1].upper() + reason[1:] + "."),
                    verdict=inv.verdict, details=set_test_details(store.get_artifact(inv.id, "dataset_inference")),
                    notes=list(store.get_artifact(inv.id, "notes") or []), key_prefix=key_prefix)
    return True
