"""Benchmark (research): every membership score side by side on a labelled set of members and non-members."""

import streamlit as st

from provenance import verdicts
from provenance.scores.formulas import DEFAULT_K
from provenance.documents import labelled_documents_from_bytes, unique_names
from provenance.lm.token_stats import ScoringSettings
from provenance.investigations.labelled import evaluate_labelled_set
from provenance.investigations.store import StoreError
from ui.labelled import shift_check_box, show_labelled_evaluation
from ui.results import report_downloads
from ui.scores import score_picker
from ui.session import (default_investigation_name, get_model, get_observer_model, get_reference_model,
                        shared_stats_cache, shared_store)
from ui.widgets import plain, Phase, Progress

SETTINGS = ScoringSettings()

st.title("Benchmark")
st.caption("For researchers and auditors: a labelled set of members (texts the model was trained on) and "
           "non-members, every attack side by side, reported the way published tools report it: ROC curves, AUC "
           "with a bootstrap confidence interval, and the true-positive rate at 1% and 0.1% false-positive rate; "
           "beside them a blind baseline (a bag-of-words classifier that never sees the model), and the privacy "
           "budget (differential-privacy epsilon) each attack shows training leaked.")

files = st.file_uploader("Labelled set (.jsonl or .csv with 'text' and 'label' columns)", type=["jsonl", "csv"],
                         accept_multiple_files=True,
                         help="label: member / non-member, 1 / 0 or true / false, in any case")
with st.expander("Settings", icon=":material/tune:"):
    # scores that read declared texts take them from a held-out part of the labelled set (noted with the results)
    choice = score_picker("benchmark", verdict_statistic=False)
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
    st.warning(f"Skipped {plain(err)}", icon=":material/warning:")
named = unique_names(documents)
label_of = {d.name: y for d, y in zip(named, labels)}

if named:
    n_members = sum(labels)
    st.markdown(f"**{len(named)} labelled texts:** {n_members} members, {len(named) - n_members} non-members.")
    # Shift check first: it needs no model and tells whether the comparison below can be trusted at all.
    if 0 < n_members < len(named) and min(n_members, len(named) - n_members) >= 2:
        shift_check_box(member_shift([d.text for d in named if label_of[d.name] == 1],
                                     [d.text for d in named if label_of[d.name] == 0]))
    else:
        st.error("The labelled set needs at least 2 members and 2 non-members.")

name = st.text_input("Investigation name",
                     value=default_investigation_name("Benchmark", "benchmark_default_name"))
ready = bool(named) and 0 < sum(labels) < len(named) and bool(choice.scores)
start = st.button(f"Evaluate {len(named)} labelled texts" if named else "Evaluate", type="primary",
                  disabled=not ready)


def evaluate(model) -> None:
    """Score the labelled set as the investigation ``name`` (saved as it goes) and evaluate every score on it."""
    ref_model = get_reference_model() if choice.needs_reference_model else None
    observer = get_observer_model() if choice.needs_observer else None
    if (choice.needs_reference_model and ref_model is None) or (choice.needs_observer and observer is None):
        return  # the model that failed to load said why
    progress = Progress([Phase("Scoring the labelled texts", "tokens"),
                         Phase("Computing ROC curves, bootstrap intervals, privacy budgets, the meta-classifier, "
                               "the blind baseline and the set-level test", None)],
                        tallies={"labelled texts": len(named)}, key="benchmark",
                        stop="Stops between batches; every text scored so far is kept, and evaluating again under "
                             "the same name resumes.")
    try:
        result = evaluate_labelled_set(shared_store(), name, model, named, [label_of[d.name] for d in named],
                                       choice.scores, k=k, settings=SETTINGS, cache=shared_stats_cache(),
                                       ref_model=ref_model, observer=observer, n_bootstrap=n_bootstrap,
                                       ingest_errors=errors, progress=progress,
                                       on_row=progress.tallier("labelled texts"))
    except (StoreError, ValueError) as exc:
        st.error(str(exc))
        return
    progress.finish(result.investigation.message)
    st.session_state["benchmark_result"] = (result.investigation.id, result.evaluation)
    st.rerun()  # draw the finished results without the Stop button and progress bar


if start:
    model = get_model()
    if model is not None:
        evaluate(model)

saved = st.session_state.get("benchmark_result")
if saved and saved[1] is not None:
    inv, result = saved
    st.divider()
    show_labelled_evaluation(result, key_prefix="bench")
    report_downloads(shared_store(), shared_store().get(inv), key_prefix="bench")
