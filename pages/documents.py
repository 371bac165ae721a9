"""Documents: upload or paste texts, score them, compare them with a reference set, and read the verdicts."""

from datetime import datetime

import streamlit as st

from provenance.documents import Document, IngestError
from ui.session import get_model, get_reference_model, shared_stats_cache, shared_store
from ui.uploads import UPLOAD_TYPES, documents_input, read_uploads

st.title("Documents")
st.caption("Was this text used to train the model? Upload your documents (or paste a text), add a reference set of "
           "texts the model cannot have seen, and read a verdict with its p-value and false-positive rate. "
           "Every score is oriented so that higher means more likely a training member.")

documents, errors = documents_input("Documents to test", key="documents")
with st.expander("Reference set (optional): texts the model cannot have seen", icon=":material/balance:"):
    st.markdown("Texts written after the model was released, or never published. Your documents are compared "
                "with them: a document scoring above nearly all of them gets a small p-value. About 20 or more "
                "reference texts are needed for a verdict at a 5% false-positive rate.")
    reference_files = st.file_uploader("Reference texts", type=UPLOAD_TYPES, accept_multiple_files=True,
                                       key="reference_files")

# The scoring backend (and with it torch, 1-2 s to import) is imported only now, after the inputs are on screen:
# on a cold start the page appears at once instead of after that import.
import pandas as pd  # noqa: E402

from provenance.scores import registry  # noqa: E402
from provenance.scores.formulas import DEFAULT_K  # noqa: E402
from provenance.lm.token_stats import ScoringSettings  # noqa: E402
from provenance.investigations.reference import compare_with_reference  # noqa: E402
from provenance.investigations.scoring import score_set  # noqa: E402
from provenance.investigations.store import StoreError  # noqa: E402
from ui.results import show_investigation  # noqa: E402
from ui.widgets import Progress  # noqa: E402

# top_k alternatives are kept for the per-token view's hover
SETTINGS = ScoringSettings(top_k=5)
CHOOSABLE_SCORES = list(registry.default_scores()) + ["ref", "gradnorm"]

with st.expander("Settings", icon=":material/tune:"):
    has_ref_model = st.session_state.get("ref_model_args") is not None
    scores = st.multiselect("Scores", [s for s in CHOOSABLE_SCORES if s != "ref" or has_ref_model],
                            default=list(registry.default_scores()) + (["ref"] if has_ref_model else []),
                            format_func=lambda s: f"{s}: {registry.description(s)}")
    fpr = st.select_slider("False-positive rate of the verdicts", [0.001, 0.01, 0.05, 0.1], value=0.05)
    k = st.slider("k: share of least likely tokens for mink and minkpp", 0.05, 1.0, DEFAULT_K, 0.05)

reference_docs, reference_errors = read_uploads(reference_files or [])
for err in errors + reference_errors:
    st.warning(f"Skipped {err}", icon=":material/warning:")

name = st.text_input("Investigation name", value=st.session_state.setdefault(
    "documents_default_name", f"Documents {datetime.now():%Y-%m-%d %H:%M:%S}"),
    help="Every investigation is saved; reopen it on the History page. Scoring again under the same name resumes "
         "it and skips documents already done.")
start = st.button(f"Score {len(documents)} document(s)" if documents else "Score", type="primary",
                  disabled=not documents or not scores)


def run(model, documents: list[Document], ingest_errors: list[IngestError]) -> None:
    """Score the documents (and the reference set, then compare) as the investigation ``name``; rows appear as
    they come and everything is saved as it goes."""
    st.session_state["documents_investigation"] = name
    st.button("Stop", icon=":material/stop_circle:", help="Stops between batches; what is done is kept.")
    progress = Progress(len(documents) + len(reference_docs))
    live = st.empty()
    rows: list[dict] = []

    def on_row(row: dict) -> None:
        rows.append(row)
        progress.document_done()
        live.dataframe(pd.DataFrame(rows), hide_index=True)

    ref_model = get_reference_model() if "ref" in scores else None
    run_with = dict(k=k, settings=SETTINGS, cache=shared_stats_cache(), ref_model=ref_model,
                    ingest_errors=ingest_errors, progress=progress, on_row=on_row, batch_documents=8)
    try:
        if reference_docs:
            result = compare_with_reference(shared_store(), name, model, documents, reference_docs, scores, fpr=fpr,
                                            on_reference_row=progress.document_done, **run_with)
        else:
            result = score_set(shared_store(), name, model, documents, scores, **run_with)
    except StoreError as exc:
        st.error(str(exc))
        return
    live.empty()
    progress.finish(result.investigation.message)
    st.session_state["documents_message"] = result.investigation.message
    st.rerun()  # draw the finished results without the Stop button and progress bar


if "documents_message" in st.session_state:
    st.success(st.session_state.pop("documents_message"), icon=":material/check_circle:")
if start:
    model = get_model()
    if model is not None:
        run(model, documents, errors + reference_errors)


if st.session_state.get("documents_investigation"):
    shown = shared_store().find(st.session_state["documents_investigation"])
    if shown is not None:
        st.divider()
        show_investigation(shared_store(), shown.id, key_prefix="documents",
                           resume_hint="press Score again to resume")
