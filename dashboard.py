"""Streamlit entry point: navigation over app_pages/ and the sidebar model picker. Nothing else."""

from pathlib import Path

import streamlit as st

from ui.session import get_model, model_picker

# A local icon: without one, the browser tab shows the current page's Material icon, which Streamlit's frontend
# fetches from fonts.gstatic.com on every load. Served by this server from its media store; nothing leaves the machine.
FAVICON = Path(__file__).resolve().parent / "ui" / "favicon.png"
st.set_page_config(page_title="Provenance: was this text used to train this model?", page_icon=str(FAVICON),
                   layout="wide")

PAGES = [
    st.Page("app_pages/documents.py", title="Documents", icon=":material/description:", default=True),
    st.Page("app_pages/history.py", title="History", icon=":material/history:"),
    st.Page("app_pages/ghost_sentences.py", title="Ghost sentences", icon=":material/fingerprint:"),
    st.Page("app_pages/benchmark.py", title="Benchmark", icon=":material/science:"),
    st.Page("app_pages/overlap.py", title="Corpus overlap", icon=":material/join_inner:"),
    st.Page("app_pages/demo.py", title="Guided demo", icon=":material/school:"),
]

page = st.navigation(PAGES)
model_picker()
page.run()
# The page is already on screen; only now load the model (cached after the first time) so it is ready on first use.
get_model()
