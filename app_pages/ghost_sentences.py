"""Ghost sentences: generate unique identifiers, embed them in your documents, and later test a model for them."""

import json
import time

import streamlit as st

from provenance import ghost
from provenance.ghost.estimates import recommended_draws
from provenance.investigations.ghost_test import recorded_null_draws, run_ghost_test
from provenance.investigations.store import StoreError
from ui.ghost import (choose_registry, draws_picker, generator_form, keep_registry, reference_form, remember_pace,
                     show_estimate, show_ghost_test, show_marked, show_registry)
from ui.session import default_investigation_name, get_model, get_model_for, shared_stats_cache, shared_store
from ui.widgets import plain, Phase, Progress

st.title("Ghost sentences")
st.caption("Plant unique random passphrases (ghost sentences) in the texts you publish and keep a private registry "
           "of them. Later, test any model: a fresh passphrase from the same generator was never published, so it "
           "gives an exact null and the verdict's false-positive rate is known, not guessed.")

generate_tab, embed_tab, detect_tab = st.tabs(["1. Generate", "2. Embed", "3. Detect"])

with generate_tab:
    registry_name, registry = choose_registry()
    generator = generator_form("gen")
    count = st.number_input("How many identifiers", 1, 1000, 10)
    if st.button("Generate", type="primary", disabled=generator is None):
        added = ghost.new_entries(registry, generator, int(count))
        keep_registry(registry_name, registry)
        st.success(f"Added {len(added)} identifier(s), {generator.bits:.0f} bits each, to the registry "
                   f"'{plain(registry_name)}' kept on this computer. Keep the registry private; publish only the "
                   "commitments.")
    if registry.entries:
        show_registry(registry_name, registry)

with embed_tab:
    if not registry.entries:
        st.info("Generate identifiers (or continue a registry) in step 1 first.")
    else:
        docs = st.file_uploader("Your documents", type=["txt", "md", "html", "htm", "docx"],
                                accept_multiple_files=True, key="ghost_embed_files")
        chosen = st.multiselect("Identifiers to embed", [e.id for e in registry.entries],
                                default=[e.id for e in registry.entries],
                                format_func=lambda i: f"{i}: {registry.get([i])[0].identifier}")
        cols = st.columns(3)
        position = cols[0].selectbox("Where", ghost.POSITIONS, index=ghost.POSITIONS.index("random"),
                                     help="start, end, or sentence boundaries spread over the text")
        how_many = cols[1].selectbox("How many", ["scaled", "fixed"], key="ghost_embed_count_mode",
                                     format_func=lambda m: {"scaled": "Scaled to each document's length",
                                                            "fixed": "A fixed number per identifier"}[m],
                                     help="Scaled: one identifier per so many words (at least one per document), "
                                          "dealt in turns across your documents, so no page is crowded with "
                                          "passphrases that a data-cleaning filter would strip. Fixed: every "
                                          "identifier that many times in every document.")
        if how_many == "scaled":
            words_per = cols[2].number_input("Words per identifier", 50, 5000, ghost.DEFAULT_WORDS_PER_PLACEMENT, 50,
                                             help="A 1,000-word document gets 4 identifiers at 250.")
            repetitions, spread = None, False
        else:
            repetitions = cols[2].number_input("Repetitions per document", 1, 100, 3,
                                               help="More repetitions make training on them easier to detect, and "
                                                    "a crowded page easier to filter out.")
            spread = st.toggle("Spread identifiers across documents", help="Deal identifiers out round-robin "
                               "instead of putting every identifier in every document.")
            words_per = ghost.DEFAULT_WORDS_PER_PLACEMENT
        if st.button("Embed", type="primary", disabled=not docs or not chosen):
            try:
                marked = ghost.embed_uploads([(f.name, f.getvalue()) for f in docs], registry.get(chosen),
                                             position=position, spread=spread, words_per_placement=int(words_per),
                                             repetitions=None if repetitions is None else int(repetitions))
                st.session_state["ghost_embedded"] = (marked.archive(), marked.manifest)
                st.session_state["ghost_embedded_files"] = marked.files
            except (ghost.GhostError, ValueError) as exc:
                st.error(str(exc))
        if st.session_state.get("ghost_embedded"):
            show_marked(st.session_state["ghost_embedded_files"], st.session_state["ghost_embedded"][1], registry)

with detect_tab:
    source = st.radio("Identifiers to test", ["The registry of step 1", "Upload a registry", "Paste identifiers"],
                      horizontal=True)
    entries: list = []
    if source == "The registry of step 1":
        entries = list(registry.entries)
        if not entries:
            st.info("The registry of step 1 is empty: generate identifiers or upload a registry.")
    elif source == "Upload a registry":
        uploaded = st.file_uploader("Registry (.json)", type=["json"], key="ghost_detect_registry")
        if uploaded is not None:
            try:
                entries = ghost.registry_from_dict(json.loads(uploaded.getvalue()), uploaded.name).entries
            except (ValueError, ghost.GhostError) as exc:
                st.error(f"{plain(uploaded.name)}: {plain(exc)}")
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
    alpha = cols[0].selectbox("False-positive rate", [0.001, 0.01, 0.05], index=[0.001, 0.01, 0.05].index(
        ghost.DEFAULT_ALPHA), help="The verdict calls an untrained model 'trained' with at most this probability.")
    with cols[1]:
        n_null = draws_picker(alpha, recommended_draws(alpha))
    last_k = cols[2].toggle("Last-k words test", value=True, help="Prompt with all but the last 1-3 words and "
                            "check whether the model completes the identifier exactly.")
    ref_spec, ref_released, refusal = reference_form(entries, pasted=source == "Paste identifiers")
    name = st.text_input(
        "Investigation name", value=default_investigation_name("Ghost test", "ghost_default_name"),
        help="Every test is saved with its fresh draws as they are scored; testing again under the same name "
             "(same model) reuses them, and resumes a test that was stopped.")
    stopped = st.session_state.pop("ghost_running", None)
    if stopped:  # a run that did not reach its end: the Stop button (or a closed tab) interrupted it
        kept = recorded_null_draws(shared_store(), stopped)
        if kept:
            st.warning(f"Stopped. {kept:,} fresh draws were scored and are kept in the investigation "
                       f"'{plain(stopped)}'; press Test again under the same name to resume: the draws already scored "
                       "are not scored again.", icon=":material/pause_circle:")
        else:
            st.warning(f"Stopped before the first {ghost.detection.NULL_CHUNK} fresh draws were scored (they are "
                       f"saved {ghost.detection.NULL_CHUNK} at a time), so nothing was kept yet; press Test again to "
                       "start.", icon=":material/pause_circle:")
    model = get_model() if entries else None
    ref_model = None
    if model is not None and ref_spec is not None and refusal is None:
        ref_model = get_model_for(ref_spec, "reference model")
        if ref_model is not None and ref_model.identity == model.identity:
            st.error("The reference model is the tested model itself: every difference would be zero. Choose a "
                     "model released before your identifiers were registered, such as the base model the tested "
                     "model was fine-tuned from.")
            ref_model = None
    blocked = ref_spec is not None and ref_model is None  # a reference was asked for and cannot serve
    estimate = show_estimate(model, entries, int(n_null), float(alpha), ghost.DEFAULT_LAST_K if last_k else (),
                             ref_model) if model is not None and not blocked else None
    if st.button(f"Test the model for {len(entries)} identifier(s)", type="primary",
                 disabled=not entries or model is None or blocked):
        st.session_state["ghost_running"] = name
        after = ("Scoring the fresh draws and your identifiers under the reference model, the last-k words test and "
                 "the verdict" if ref_model is not None else
                 "Scoring your identifiers, the last-k words test and the verdict")
        progress = Progress([Phase("Scoring fresh draws", "draws"), Phase(after, None)],
                            estimate=estimate, key="ghost",
                            stop="Stops between batches of draws; every draw scored so far is kept, and testing "
                                 "again under the same name resumes.")
        started, counted = time.monotonic(), []  # the draws reported: the first (kept earlier) and the latest

        def on_draws(done: int, total: int) -> None:
            counted[1:] = [done]
            if len(counted) == 1:
                counted.insert(0, done)
            progress(done, total)

        try:
            test = run_ghost_test(shared_store(), name, model, entries, n_null=int(n_null), alpha=float(alpha),
                                  last_k=ghost.DEFAULT_LAST_K if last_k else (), cache=shared_stats_cache(),
                                  on_draws=on_draws, ref_model=ref_model, ref_released=ref_released)
        except (ghost.GhostError, StoreError) as exc:
            st.session_state.pop("ghost_running", None)
            st.error(str(exc))
        else:
            st.session_state.pop("ghost_running", None)
            if counted and ref_model is None:  # with a reference, the time also holds its scoring
                remember_pace(model, entries[0].generator, counted[-1] - counted[0], time.monotonic() - started)
            progress.finish(test.investigation.message)
            st.session_state["ghost_result"] = test.detection
            st.session_state["ghost_investigation"] = test.investigation.id
            st.rerun()  # draw the finished results without the Stop button and progress bar
    result = st.session_state.get("ghost_result")
    if result is not None:
        show_ghost_test(shared_store(), st.session_state.get("ghost_investigation", ""), result)
