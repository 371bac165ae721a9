"""Documents: paste text, score it with the chosen model, read likelihood, perplexity and every score."""

import streamlit as st

from provenance.attacks import DEFAULT_SCORES, SCORE_DESCRIPTIONS
from provenance.ingest import Document
from provenance.pipeline import score_documents
from ui.session import get_model, shared_stats_cache

st.title("Documents")
st.caption("Was this text used to train the model? Paste a text to see how likely the model finds it. "
           "Every score is oriented so that higher means more likely a training member.")

text = st.text_area("Text", height=200, placeholder="Paste a paragraph or more here.")
if st.button("Score", type="primary", disabled=not text.strip()):
    model = get_model()
    if model is not None:
        with st.spinner("Scoring..."):
            result = score_documents(model, [Document("pasted text", text)], DEFAULT_SCORES,
                                     cache=shared_stats_cache())
        st.session_state["documents_result"] = result

result = st.session_state.get("documents_result")
if result is not None:
    for name, message in result.errors.items():
        st.error(message)
    if len(result.table):
        row = result.table.iloc[0]
        cols = st.columns(3)
        cols[0].metric("Tokens scored", int(row["tokens"]))
        cols[1].metric("Perplexity", f"{row['perplexity']:.1f}")
        cols[2].metric("Mean log-likelihood per token", f"{-row['nll']:.3f}")
        st.dataframe(result.table, hide_index=True, use_container_width=True)
        with st.expander("What the scores mean"):
            for name in DEFAULT_SCORES:
                st.markdown(f"- **{name}**: {SCORE_DESCRIPTIONS[name]}")
