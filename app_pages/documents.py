"""Documents: upload or paste texts, score them, compare them with a reference set, and read the verdicts."""

import streamlit as st

from provenance.documents import Document, IngestError
from ui.session import (default_investigation_name, get_model, get_observer_model, get_reference_model,
                        shared_stats_cache, shared_store)
from ui.uploads import UPLOAD_TYPES, documents_input, read_uploads_counted, show_counts

st.title("Documents")
st.caption("Was this text used to train the model? Upload your documents (or paste a text), add a reference set of "
           "texts the model cannot have seen, and read a verdict with its p-value and false-positive rate. "
           "Every score is oriented so that higher means more likely a training member.")

documents, errors = documents_input("Documents to test", key="documents")
with st.expander("Reference set (optional): texts the model cannot have seen, needed for a verdict",
                 icon=":material/balance:"):
    st.markdown("Texts written after the model was released, or never published, on subjects and in a style like "
                "yours. Each document is ranked among them: a document that scores above nearly all of them gets a "
                "small p-value. How many are needed depends on the false-positive rate (see below).")
    reference_files = st.file_uploader("Reference texts", type=UPLOAD_TYPES, accept_multiple_files=True,
                                       key="reference_files")
    reference_docs, reference_errors, reference_counts = read_uploads_counted(reference_files or [])
    show_counts(reference_counts, "reference text")

# The scoring backend (and with it torch, 1-2 s to import) is imported only now, after the inputs are on screen:
# on a cold start the page appears at once instead of after that import.
import pandas as pd  # noqa: E402

from provenance.scores.formulas import DEFAULT_K  # noqa: E402
from provenance.lm.token_stats import ScoringSettings  # noqa: E402
from provenance.investigations.reference import compare_with_reference  # noqa: E402
from provenance.investigations.scoring import score_set  # noqa: E402
from provenance.investigations.store import MAIN, REFERENCE, StoreError  # noqa: E402
from provenance.investigations.models import compare_models  # noqa: E402
from ui.documents import (scored_token_counts, show_every_document_verdict, show_requirements,  # noqa: E402
                          warn_short_documents)
from ui.models import extra_models_input, time_estimate  # noqa: E402
from ui.results import show_investigation  # noqa: E402
from ui.session import chosen_models, several_models_loader  # noqa: E402
from ui.scores import score_picker  # noqa: E402
from ui.widgets import plain, Phase, Progress  # noqa: E402

# top_k alternatives are kept for the per-token view's hover
SETTINGS = ScoringSettings(top_k=5)

with st.expander("Settings", icon=":material/tune:"):
    choice = score_picker("documents", declared=(
        None if reference_docs else "a reference set (its prefixes and frequency tables come from a held-out part)",
        "texts declared members (python -m provenance sets compare --members, or the Benchmark page)"))
    fpr = st.select_slider("False-positive rate of the verdicts", [0.001, 0.01, 0.05, 0.1], value=0.05,
                           key="documents_fpr")
    k = st.slider("k: share of least likely tokens for mink and minkpp", 0.05, 1.0, DEFAULT_K, 0.05)

show_requirements(len(documents), len(reference_docs), fpr)
for err in errors + reference_errors:
    st.warning(f"Skipped {plain(err)}", icon=":material/warning:")
short_slot = st.container()  # filled at the end of the page, once the model (to count tokens) is loaded

name = st.text_input(
    "Investigation name", value=default_investigation_name("Documents", "documents_default_name"),
    help="Every investigation is saved; reopen it on the History page. Scoring again under the same name resumes "
         "it and skips documents already done.")
with st.expander("More models side by side (optional): ask several models the same question",
                 icon=":material/view_column:"):
    extra_models = extra_models_input(chosen_models()["target"], "documents_models")
    estimate_slot = st.empty()  # filled at the end of the page, once the sidebar's model can count tokens
specs = [chosen_models()["target"], *extra_models]
with_models = f" with {len(specs)} models" if len(specs) > 1 else ""
start = st.button(f"Score {len(documents)} document(s){with_models}" if documents else "Score", type="primary",
                  disabled=not documents or not choice.scores)


def already_done(documents: list[Document], collection: str) -> int:
    """How many of ``documents`` the investigation ``name`` already holds a result for (a resumed run)."""
    inv = shared_store().find(name)
    if inv is None:
        return 0
    return len(documents) - len(shared_store().pending_documents(inv.id, documents, collection=collection))


def run(model, documents: list[Document], ingest_errors: list[IngestError]) -> None:
    """Score the documents (and the reference set, then compare) as the investigation ``name``; rows appear as
    they come and everything is saved as it goes."""
    ref_model = get_reference_model() if choice.needs_reference_model else None
    observer = get_observer_model() if choice.needs_observer else None
    if (choice.needs_reference_model and ref_model is None) or (choice.needs_observer and observer is None):
        return  # the model that failed to load said why
    st.session_state["documents_investigation"] = name
    tallies = {"documents": len(documents)} | ({"reference texts": len(reference_docs)} if reference_docs else {})
    phases = [Phase("Scoring your documents", "tokens")]
    if reference_docs:
        phases.append(Phase("Comparing your documents with the reference set (shift check, p-values, rank test)",
                            None))
    progress = Progress(phases, tallies=tallies, key="documents",
                        stop="Stops between batches; every document scored so far is kept, and scoring again "
                             "under the same name resumes.")
    progress.tally("documents", already_done(documents, MAIN))
    if reference_docs:
        progress.tally("reference texts", already_done(reference_docs, REFERENCE))
    live = st.empty()
    rows: list[dict] = []

    def on_row(row: dict) -> None:
        rows.append(row)
        progress.tally("documents")
        if progress.tallied("documents") >= len(documents) and reference_docs:
            progress.relabel("Scoring the reference texts")
        live.dataframe(pd.DataFrame(rows), hide_index=True)

    def on_reference_row(_row: dict) -> None:
        progress.relabel("Scoring the reference texts")
        progress.tally("reference texts")

    run_with = dict(k=k, settings=SETTINGS, cache=shared_stats_cache(), ref_model=ref_model, observer=observer,
                    ingest_errors=ingest_errors, progress=progress, on_row=on_row, batch_documents=8)
    try:
        if reference_docs:
            result = compare_with_reference(shared_store(), name, model, documents, reference_docs, choice.scores,
                                            fpr=fpr, verdict_scores=choice.verdict_scores,
                                            on_reference_row=on_reference_row, **run_with)
        else:
            result = score_set(shared_store(), name, model, documents, choice.scores, **run_with)
    except (StoreError, ValueError) as exc:
        st.error(str(exc))
        return
    live.empty()
    progress.finish(result.investigation.message)
    st.session_state["documents_message"] = result.investigation.message
    st.rerun()  # draw the finished results without the Stop button and progress bar


def run_models(documents: list[Document], ingest_errors: list[IngestError]) -> None:
    """Put the documents (and the reference set) to every chosen model in turn as the investigation ``name``;
    each model's column is saved as soon as its run ends."""
    ref_model = get_reference_model() if choice.needs_reference_model else None
    observer = get_observer_model() if choice.needs_observer else None
    if (choice.needs_reference_model and ref_model is None) or (choice.needs_observer and observer is None):
        return
    st.session_state["documents_investigation"] = name
    progress = Progress([Phase(f"Model {i + 1} of {len(specs)}: {spec}", "tokens") for i, spec in enumerate(specs)],
                        tallies={"models": len(specs)}, key="documents",
                        stop="Stops between batches; every model's results so far are kept, and scoring again "
                             "under the same name resumes.")
    load, release = several_models_loader()

    def on_model(run) -> None:
        if run.status != "not run":  # this model's run is over (or it was refused): on to the next
            progress.tally("models")
            rate = progress.rate
            if rate:
                st.session_state["documents_tokens_per_second"] = rate
            progress.advance()

    run_with = dict(k=k, settings=SETTINGS, cache=shared_stats_cache(), ref_model=ref_model, observer=observer,
                    ingest_errors=ingest_errors, progress=progress, on_model=on_model, batch_documents=8,
                    release=release)
    if reference_docs:
        run_with.update(fpr=fpr, verdict_scores=choice.verdict_scores)
    try:
        result = compare_models(shared_store(), name, specs, load, documents, reference_docs, choice.scores,
                                **run_with)
    except (StoreError, ValueError) as exc:
        st.error(str(exc))
        return
    progress.finish(result.investigation.message)
    st.session_state["documents_message"] = result.investigation.message
    st.rerun()


if "documents_message" in st.session_state:
    st.success(st.session_state.pop("documents_message"), icon=":material/check_circle:")
if start and len(specs) > 1:
    run_models(documents, errors + reference_errors)
elif start:
    model = get_model()
    if model is not None:
        run(model, documents, errors + reference_errors)


if st.session_state.get("documents_investigation"):
    shown = shared_store().find(st.session_state["documents_investigation"])
    if shown is not None:
        st.divider()
        show_every_document_verdict(shared_store(), shown.id)
        show_investigation(shared_store(), shown.id, key_prefix="documents",
                           resume_hint="press Score again to resume")

if documents or reference_docs:
    with short_slot:
        model = get_model()
        warn_short_documents(model, documents)
        warn_short_documents(model, reference_docs, what="reference text")
    if model is not None and len(specs) > 1:
        tokens = sum(scored_token_counts(model, [d.text for d in documents + reference_docs]))
        estimate_slot.caption(time_estimate(tokens, len(specs), st.session_state.get("documents_tokens_per_second"),
                                            model.describe()["device"]))
