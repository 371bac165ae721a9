"""Ghost sentences: generate unique identifiers, embed them in your documents, and later test a model for them."""

import io
import json
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from provenance import charts
from provenance import ghost
from provenance.documents import safe_filename
from ui.results import report_downloads
from ui.session import get_model, shared_stats_cache, shared_store
from ui.widgets import Progress, download_table, show_figure, verdict_card

st.title("Ghost sentences")
st.caption("Plant unique random passphrases (ghost sentences) in the texts you publish and keep a private registry "
           "of them. Later, test any model: a fresh passphrase from the same generator was never published, so it "
           "gives an exact null and the verdict's false-positive rate is known, not guessed.")

registry: ghost.Registry = st.session_state.setdefault("ghost_registry", ghost.Registry())


def generator_settings(key: str) -> ghost.GhostGenerator | None:
    """The generator form; None (with the reason shown) when the settings are invalid."""
    cols = st.columns(4)
    words = cols[0].number_input("Words", 3, 32, ghost.DEFAULT_WORDS, key=f"{key}_words",
                                 help=f"{ghost.DEFAULT_WORDS} words from the 7,776-word EFF list carry about 78 bits: "
                                      "no two owners will ever draw the same passphrase, and it stays short enough "
                                      "to read as a sentence.")
    wordlist = cols[1].selectbox("Word list", list(ghost.WORDLISTS), key=f"{key}_wordlist")
    case = cols[2].selectbox("Capitalisation", ghost.CASES, index=ghost.CASES.index("sentence"), key=f"{key}_case")
    end = cols[3].selectbox("End", ghost.END_MARKS, index=ghost.END_MARKS.index("."), key=f"{key}_end",
                            format_func=lambda e: repr(e) if e else "nothing")
    cols = st.columns(2)
    lead_in = cols[0].text_input("Lead-in (optional)", key=f"{key}_lead", placeholder="Note:")
    tag = cols[1].text_input("Your tag (optional)", key=f"{key}_tag", placeholder="(acme)")
    try:
        return ghost.GhostGenerator(wordlist=wordlist, words=int(words), case=case, lead_in=lead_in.strip(),
                                    tag=tag.strip(), end=end)
    except ghost.GhostError as exc:
        st.error(str(exc))
        return None


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
    generator = generator_settings("gen")
    count = st.number_input("How many identifiers", 1, 1000, 10)
    if st.button("Generate", type="primary", disabled=generator is None):
        added = ghost.new_entries(registry, generator, int(count))
        st.success(f"Added {len(added)} identifier(s), {generator.bits:.0f} bits each. Keep the registry private; "
                   "publish only the commitments.")
    if registry.entries:
        table = pd.DataFrame([{"id": e.id, "identifier": e.identifier, "created": e.created,
                               "commitment": e.commitment} for e in registry.entries])
        st.dataframe(table, hide_index=True, width="stretch")
        cols = st.columns(2)
        cols[0].download_button("Download the registry (private)", json.dumps(registry.to_dict(), indent=1),
                                "ghost-registry.json", "application/json", icon=":material/lock:",
                                on_click="ignore")
        cols[1].download_button("Download the commitments (to publish now)",
                                json.dumps(ghost.public_commitments(registry), indent=1), "ghost-commitments.json",
                                "application/json", icon=":material/public:", on_click="ignore")

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
            with tempfile.TemporaryDirectory() as tmp:
                src, out = Path(tmp, "in"), Path(tmp, "out")
                src.mkdir()
                out.mkdir()
                paths = []
                for f in docs:
                    path = src / safe_filename(f.name)
                    path.write_bytes(f.getvalue())
                    paths.append(path)
                try:
                    manifest = ghost.embed_files(paths, out, registry.get(chosen), position=position,
                                                 repetitions=int(repetitions), spread=spread)
                except (ghost.GhostError, ValueError, OSError) as exc:
                    st.error(str(exc))
                    manifest = None
                if manifest is not None:
                    buffer = io.BytesIO()
                    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                        for document in manifest["documents"]:
                            archive.write(document["output"], Path(document["output"]).name)
                            document["source"], document["output"] = (Path(document["source"]).name,
                                                                      Path(document["output"]).name)
                        archive.writestr("manifest.json", json.dumps(manifest, indent=1))
                    st.session_state["ghost_embedded"] = (buffer.getvalue(), manifest)
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
        paste_generator = generator_settings("paste")
        if paste_generator is not None:
            try:
                entries = [ghost.make_entry(line.strip(), paste_generator) for line in pasted.splitlines()
                           if line.strip()]
                for e in entries:
                    paste_generator.split(e.identifier)
            except ghost.GhostError as exc:
                st.error(str(exc))
                entries = []
    cols = st.columns(3)
    n_null = cols[0].select_slider("Fresh draws (null)", [100, 200, 500, 1000, 2000], ghost.DEFAULT_NULL,
                                   help="More draws allow smaller p-values: the smallest is 1 / (draws + 1).")
    alpha = cols[1].select_slider("False-positive rate", [0.001, 0.01, 0.05], ghost.DEFAULT_ALPHA)
    last_k = cols[2].toggle("Last-k words test", value=True, help="Prompt with all but the last 1-3 words and "
                            "check whether the model completes the identifier exactly.")
    if st.button(f"Test the model for {len(entries)} identifier(s)", type="primary", disabled=not entries):
        model = get_model()
        if model is not None:
            st.button("Stop", icon=":material/stop_circle:")
            progress = Progress(n_null, label="Scoring fresh draws")
            try:
                result = ghost.detect(model, entries, n_null=int(n_null), alpha=float(alpha),
                                      last_k=ghost.DEFAULT_LAST_K if last_k else (), cache=shared_stats_cache(),
                                      null_cache=ghost.NullCache(), progress=progress)
            except ghost.GhostError as exc:
                st.error(str(exc))
                result = None
            if result is not None:
                progress.finish(f"Scored {n_null} fresh draws per generator.")
                store = shared_store()
                inv = store.create(f"Ghost test {datetime.now():%Y-%m-%d %H:%M:%S}", model_spec=model.spec,
                                   model_identity=model.identity, model_info=model.describe(),
                                   settings={"n_null": int(n_null), "alpha": float(alpha), "last_k": last_k})
                store.put_artifact(inv.id, "ghost_detection", result.table)
                store.set_verdict(inv.id, result.verdict)
                store.set_status(inv.id, "complete", f"{len(entries)} identifier(s) tested.")
                st.session_state["ghost_result"] = result
                st.session_state["ghost_investigation"] = inv.id
                st.rerun()  # draw the finished results without the Stop button and progress bar
    result = st.session_state.get("ghost_result")
    if result is not None:
        verdict_card("Were your identifiers trained on?", result.verdict,
                     f"A model that never saw your identifiers is called 'trained' with probability at most "
                     f"{result.verdict.fpr:g} (the false-positive rate).")
        for i, null in enumerate(result.null.values()):  # one null per generator setting
            show_figure(charts.ghost_null_histogram(null, result.table), f"ghost-null-{i}", f"fig_ghost_null_{i}")
        st.dataframe(result.table, hide_index=True, width="stretch")
        download_table(result.table, "ghost-detection", key="ghost_table")
        if st.session_state.get("ghost_investigation"):
            report_downloads(shared_store(), shared_store().get(st.session_state["ghost_investigation"]), "ghost")
