"""Benchmark (research): every membership score side by side on a labelled set of members and non-members."""

from datetime import datetime

import pandas as pd
import streamlit as st

from provenance import verdicts
from provenance import charts
from provenance.scores import registry
from provenance.scores.formulas import DEFAULT_K
from provenance.lm.cache import cached_token_statistics
from provenance.documents import labelled_documents_from_bytes, unique_names
from provenance.lm.token_stats import ScoringSettings
from provenance.investigations.scoring import score_set
from provenance.investigations.store import StoreError
from provenance.verdicts.sets import evaluate_labelled
from ui.results import report_downloads
from ui.session import get_model, get_reference_model, shared_stats_cache, shared_store
from ui.widgets import Progress, download_table, show_figure, verdict_card

SETTINGS = ScoringSettings()

st.title("Benchmark")
st.caption("For researchers and auditors: a labelled set of members (texts the model was trained on) and "
           "non-members, every attack side by side, reported the way published tools report it: ROC curves, AUC "
           "with a bootstrap confidence interval, and the true-positive rate at 1% and 0.1% false-positive rate.")

files = st.file_uploader("Labelled set (.jsonl or .csv with 'text' and 'label' columns)", type=["jsonl", "csv"],
                         accept_multiple_files=True,
                         help="label: member / non-member, 1 / 0 or true / false, in any case")
with st.expander("Settings", icon=":material/tune:"):
    has_ref_model = st.session_state.get("ref_model_args") is not None
    options = list(registry.default_scores()) + ["gradnorm"] + (["ref"] if has_ref_model else [])
    scores = st.multiselect("Scores", options, default=list(registry.default_scores()) + (["ref"] if has_ref_model else []),
                            format_func=lambda s: f"{s}: {registry.description(s)}")
    k = st.slider("k for mink and minkpp", 0.05, 1.0, DEFAULT_K, 0.05)
    n_bootstrap = st.select_slider("Bootstrap resamples for confidence intervals", [200, 500, 1000, 2000], 1000)

@st.cache_data(show_spinner="Checking whether members and non-members differ by themselves...", max_entries=20)
def member_shift(members: list[str], non_members: list[str]) -> verdicts.ShiftCheck:
    """The shift check (cross-validation and permutation refits: seconds) once per labelled set, not per rerun."""
    return verdicts.shift_check(members, non_members, names=("member", "non-member"))


documents, labels, errors = [], [], []
for f in files or []:
    got, got_labels, errs = labelled_documents_from_bytes(f.name, f.getvalue())
    documents += got
    labels += got_labels
    errors += errs
for err in errors:
    st.warning(f"Skipped {err}", icon=":material/warning:")
named = unique_names(documents)
label_of = {d.name: y for d, y in zip(named, labels)}

if named:
    n_members = sum(labels)
    st.markdown(f"**{len(named)} labelled texts:** {n_members} members, {len(named) - n_members} non-members.")
    # Shift check first: it needs no model and tells whether the comparison below can be trusted at all.
    if 0 < n_members < len(named) and min(n_members, len(named) - n_members) >= 2:
        shift = member_shift([d.text for d in named if label_of[d.name] == 1],
                             [d.text for d in named if label_of[d.name] == 0])
        box = st.error if shift.confounded else st.success
        box(f"**Distribution-shift check** (bag of words, no language model): AUC {shift.auc:.2f} "
            f"[{shift.auc_low:.2f}, {shift.auc_high:.2f}]. {shift.reason}",
            icon=":material/error:" if shift.confounded else ":material/check_circle:")
    else:
        st.error("The labelled set needs at least 2 members and 2 non-members.")

name = st.text_input("Investigation name", value=st.session_state.setdefault(
    "benchmark_default_name", f"Benchmark {datetime.now():%Y-%m-%d %H:%M:%S}"))
ready = bool(named) and 0 < sum(labels) < len(named) and bool(scores)
start = st.button(f"Evaluate {len(named)} labelled texts" if named else "Evaluate", type="primary",
                  disabled=not ready)


def evaluate(model) -> None:
    store = shared_store()
    ref_model = get_reference_model() if "ref" in scores else None
    st.button("Stop", icon=":material/stop_circle:", help="Stops between batches; what is done is kept.")
    progress = Progress(len(named))
    try:
        run = score_set(store, name, model, named, scores, k=k, settings=SETTINGS, cache=shared_stats_cache(),
                        ref_model=ref_model, progress=progress, on_row=progress.document_done,
                        ingest_errors=errors)
    except StoreError as exc:
        st.error(str(exc))
        return
    progress.finish(f"Scored {len(run.table)} texts.")
    table = run.table.assign(label=run.table["document"].map(label_of))
    texts = {d.name: d.text for d in named}
    stats_list = cached_token_statistics(model, [texts[d] for d in table["document"]], SETTINGS,
                                         cache=shared_stats_cache())
    with st.spinner("Computing ROC curves, bootstrap intervals and the meta-classifier..."):
        result = evaluate_labelled([d.text for d in named], [label_of[d.name] for d in named], table, scores,
                                   stats=dict(zip(table["document"], stats_list)), k=k, n_bootstrap=n_bootstrap)
    inv = run.investigation.id
    for document, label in zip(table["document"], table["label"]):
        store.update_result_fields(inv, document, {"label": int(label)})
    store.put_artifact(inv, "labelled_evaluation", result.table)
    store.put_artifact(inv, "roc_curves", result.roc)
    store.put_artifact(inv, "shift_check", result.shift.summary())
    if result.inference:
        store.put_artifact(inv, "dataset_inference", result.inference.summary())
    st.session_state["benchmark_result"] = (inv, result)
    st.rerun()  # draw the finished results without the Stop button and progress bar


if start:
    model = get_model()
    if model is not None:
        evaluate(model)

saved = st.session_state.get("benchmark_result")
if saved:
    inv, result = saved
    st.divider()
    if result.shift.confounded:
        st.error(f"**Members and non-members differ by themselves.** {result.shift.reason} The AUCs below may "
                 "measure that difference rather than training.", icon=":material/error:")
    best = result.table.iloc[0]
    st.subheader(f"Best: {best['score']}, AUC {best['auc']:.3f} [{best['auc_low']:.3f}, {best['auc_high']:.3f}]")
    st.dataframe(result.table, hide_index=True, width="stretch", column_config={
        c: st.column_config.NumberColumn(format="%.3f") for c in result.table.columns if c != "score"})
    download_table(result.table, "auc-table", key="bench_table")
    linear, loglog = st.tabs(["ROC curves", "ROC curves, log-log"])
    with linear:
        show_figure(charts.roc_figure(result.roc, result.table), "roc", "fig_roc")
    with loglog:
        show_figure(charts.roc_figure(result.roc, result.table, log_scale=True), "roc-loglog", "fig_roc_log")
    if result.inference is not None:
        verdict_card("Dataset inference: members as the suspect set, non-members as the reference",
                     result.verdict, result.inference.details())
    for note in result.notes:
        st.caption(note)
    download_table(pd.DataFrame(result.roc), "roc-points", key="bench_roc")
    report_downloads(shared_store(), shared_store().get(inv), key_prefix="bench")
