"""A labelled-set evaluation as the Benchmark page shows it: the shift-check warning first, the best score, the AUC
table with downloads, ROC curves (linear and log-log), the dataset-inference verdict card and the notes."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from provenance import charts
from provenance.verdicts.sets import LabelledEvaluation
from provenance.verdicts.shift import ShiftCheck
from ui.widgets import download_table, show_figure, verdict_card


def shift_check_box(shift: ShiftCheck) -> None:
    """The distribution-shift check of members against non-members, red when it separates them."""
    box = st.error if shift.confounded else st.success
    box(f"**Distribution-shift check** (bag of words, no language model): AUC {shift.auc:.2f} "
        f"[{shift.auc_low:.2f}, {shift.auc_high:.2f}]. {shift.sentence}",
        icon=":material/error:" if shift.confounded else ":material/check_circle:")


def show_labelled_evaluation(result: LabelledEvaluation, key_prefix: str) -> None:
    """Draw ``result`` (``verdicts.sets.LabelledEvaluation``); widget keys start with ``key_prefix``."""
    if result.shift.confounded:
        st.error(f"**Members and non-members differ by themselves.** {result.shift.sentence} The AUCs below may "
                 "measure that difference rather than training.", icon=":material/error:")
    best = result.table.iloc[0]
    st.subheader(f"Best: {best['score']}, AUC {best['auc']:.3f} [{best['auc_low']:.3f}, {best['auc_high']:.3f}]")
    st.dataframe(result.table, hide_index=True, width="stretch", column_config={
        c: st.column_config.NumberColumn(format="%.3f") for c in result.table.columns if c != "score"})
    download_table(result.table, "auc-table", key=f"{key_prefix}_table")
    linear, loglog = st.tabs(["ROC curves", "ROC curves, log-log"])
    with linear:
        show_figure(charts.roc_figure(result.roc, result.table), "roc", f"fig_{key_prefix}_roc")
    with loglog:
        show_figure(charts.roc_figure(result.roc, result.table, log_scale=True), "roc-loglog",
                    f"fig_{key_prefix}_roc_log")
    if result.inference is not None:
        verdict_card("Dataset inference: members as the suspect set, non-members as the reference",
                     result.verdict, result.inference.details())
    for note in result.notes:
        st.caption(note)
    download_table(pd.DataFrame(result.roc), "roc-points", key=f"{key_prefix}_roc")
