"""Ghost sentences: generate unique identifiers, embed them in your documents, and later test a model for them."""

import json
from datetime import datetime

import streamlit as st

from provenance import ghost
from provenance.investigations.ghost_test import run_ghost_test
from provenance.investigations.store import StoreError
from ui.ghost import generator_form, show_ghost_test, show_registry
from ui.session import get_model, shared_stats_cache, shared_store
from ui.widgets import Progress

st.title("Ghost sentences")
st.caption("Plant unique random passphrases (ghost sentences) in the texts you publish and keep a private registry "
           "of them. Later, test any model: a fresh passphrase from the same generator was never published, so it "
           "gives an exact null and the verdict's false-positive rate is known, not guessed.")

registry: ghost.Registry = st.session_state.setdefault("ghost_registry", ghost.Registry())

generate_tab, embed_tab, detect_tab = st.tabs(["1. Generate", "2. Embed", "3. Detect"])

with generate_tab:
    existing = st.file_uploader("Continue an existing registry (optional)", type=["json"], key="ghost_existing")
    if existing is not None and st.session_state.get("ghost_loaded") != existing.file_id:
        try:
            registry = ghost.registry_from_dict(json.loads(existing.getvalue()), existing.name)
            st.session_state["ghost_registry"] = registry
            st.session_state["ghost_loaded"] = existing.file_id
        except (ValueError, ghost.GhostError) as exc:
            st.error(f"{existing.name}: {exc}")
    generator = generator_form("gen")
    count = st.number_input("How many identifiers", 1, 1000, 10)
    if st.button("Generate", type="primary", disabled=generator is None):
        added = ghost.new_entries(registry, generator, int(count))
        st.success(f"Added {len(added)} identifier(s), {generator.bits:.0f} bits each. Keep the registry private; "
                   "publish only the commitments.")
    if registry.entries:
        show_registry(registry)

with embed_tab:
    if not registry.entries:
        st.info("Generate identifiers (or load a registry) in step 1 first.")
    else:
        docs = st.file_uploader("Your documents", type=["txt", "md", "html", "htm", "docx"],
                                accept_multiple_files=True, key="ghost_embed_files")
        chosen = st.multiselect("Identifiers to embed", [e.id for e in registry.entries],
                                default=[e.id for e in registry.entries],
                                format_func=lambda i: f"{i}: {registry.get([i])[0].identifier}")
        cols = st.columns(3)
        position = cols[0].selectbox("Where", ghost.POSITIONS, index=ghost.POSITIONS.index("random"),
                                     help="start, end, or random sentence boundaries")
        repetitions = cols[1].number_input("Repetitions per document", 1, 100, 3,
                                           help="More repetitions make training on them easier to detect.")
        spread = cols[2].toggle("Spread identifiers across documents", help="Deal identifiers out round-robin "
                                "instead of putting every identifier in every document.")
        if st.button("Embed", type="primary", disabled=not docs or not chosen):
            try:
                marked = ghost.embed_uploads([(f.name, f.getvalue()) for f in docs], registry.get(chosen),
                                             position=position, repetitions=int(repetitions), spread=spread)
                st.session_state["ghost_embedded"] = (marked.archive(), marked.manifest)
            except (ghost.GhostError, ValueError) as exc:
                st.error(str(exc))
        embedded = st.session_state.get("ghost_embedded")
        if embedded:
            data, manifest = embedded
            n = sum(len(d["placements"]) for d in manifest["documents"])
            st.success(f"Placed identifiers {n} time(s) in {len(manifest['documents'])} document(s). Nothing else "
                       "in the documents changed.")
            st.download_button("Download the marked documents and manifest (.zip)", data, "marked-documents.zip",
                               "application/zip", icon=":material/download:", on_click="ignore")

with detect_tab:
    source = st.radio("Identifiers to test", ["This session's registry", "Upload a registry", "Paste identifiers"],
                      horizontal=True)
    entries: list = []
    if source == "This session's registry":
        entries = list(registry.entries)
        if not entries:
            st.info("The registry of this session is empty: generate identifiers or upload a registry.")
    elif source == "Upload a registry":
        uploaded = st.file_uploader("Registry (.json)", type=["json"], key="ghost_detect_registry")
        if uploaded is not None:
            try:
                entries = ghost.registry_from_dict(json.loads(uploaded.getvalue()), uploaded.name).entries
            except (ValueError, ghost.GhostError) as exc:
                st.error(f"{uploaded.name}: {exc}")
    else:
        pasted = st.text_area("One identifier per line")
        st.caption("Pasted identifiers are compared with fresh draws from the generator described here; it must be "
                   "the generator that made them, or the test is not exact.")
        paste_generator = generator_form("paste")
        if paste_generator is not None:
            try:
                entries = ghost.entries_from_lines(pasted, paste_generator)
            except ghost.GhostError as exc:
                st.error(str(exc))
    cols = st.columns(3)
    n_null = cols[0].select_slider("Fresh draws (null)", [100, 200, 500, 1000, 2000], ghost.DEFAULT_NULL,
                                   help="More draws allow smaller p-values: the smallest is 1 / (draws + 1).")
    alpha = cols[1].select_slider("False-positive rate", [0.001, 0.01, 0.05], ghost.DEFAULT_ALPHA)
    last_k = cols[2].toggle("Last-k words test", value=True, help="Prompt with all but the last 1-3 words and "
                            "check whether the model completes the identifier exactly.")
    name = st.text_input("Investigation name", value=st.session_state.setdefault(
        "ghost_default_name", f"Ghost test {datetime.now():%Y-%m-%d %H:%M:%S}"),
        help="Every test is saved with its fresh draws as they are scored; testing again under the same name "
             "(same model) reuses them, and resumes a test that was stopped.")
    if st.button(f"Test the model for {len(entries)} identifier(s)", type="primary", disabled=not entries):
        model = get_model()
        if model is not None:
            st.button("Stop", icon=":material/stop_circle:", help="Stops between batches; the draws scored are kept.")
            progress = Progress(n_null, label="Scoring fresh draws")
            try:
                test = run_ghost_test(shared_store(), name, model, entries, n_null=int(n_null), alpha=float(alpha),
                                      last_k=ghost.DEFAULT_LAST_K if last_k else (), cache=shared_stats_cache(),
                                      progress=progress)
            except (ghost.GhostError, StoreError) as exc:
                st.error(str(exc))
            else:
                progress.finish(test.investigation.message)
                st.session_state["ghost_result"] = test.detection
                st.session_state["ghost_investigation"] = test.investigation.id
                st.rerun()  # draw the finished results without the Stop button and progress bar
    result = st.session_state.get("ghost_result")
    if result is not None:
        show_ghost_test(shared_store(), st.session_state.get("ghost_investigation", ""), result)
