"""Streamlit entry point: navigation over pages/ and the sidebar model picker. Nothing else."""

import streamlit as st

from ui.session import get_model, model_picker

st.set_page_config(page_title="Provenance: was this text used to train this model?", layout="wide")

PAGES = [
    st.Page("pages/documents.py", title="Documents", icon=":material/description:", default=True),
    st.Page("pages/history.py", title="History", icon=":material/history:"),
    st.Page("pages/ghost_sentences.py", title="Ghost sentences", icon=":material/fingerprint:"),
    st.Page("pages/benchmark.py", title="Benchmark", icon=":material/science:"),
    st.Page("pages/overlap.py", title="Corpus overlap", icon=":material/join_inner:"),
    st.Page("pages/demo.py", title="Guided demo", icon=":material/school:"),
]

page = st.navigation(PAGES)
model_picker()
page.run()
# The page is already on screen; only now load the model (cached after the first time) so it is ready on first use.
get_model()
