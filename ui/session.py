"""Resources shared across pages and browser sessions: the loaded models and the statistics cache.

Models are held with ``st.cache_resource``: loaded once per (spec, device, dtype), never reloaded on a rerun, and
shared by every browser session (inference does not mutate them; the scoring engine is re-entrant).
"""

from __future__ import annotations

import streamlit as st

from provenance.lm.loading import DEFAULT_SPEC, SUGGESTED_MODELS, LoadedModel, ModelLoadError, load_model

CUSTOM = "Other: a local folder, .gguf file or hub id"


@st.cache_resource(show_spinner=False, max_entries=4)
def cached_model(spec: str, device: str | None = None, dtype: str | None = None) -> LoadedModel:
    return load_model(spec, device=device, dtype=dtype)


@st.cache_resource(show_spinner=False)
def shared_stats_cache():
    """The TokenStats cache shared by every session (imported here, not at the top: it pulls in torch)."""
    from provenance.lm.cache import StatsCache

    return StatsCache(max_tokens=3_000_000)


def _spec_input(label: str, key: str, allow_none: bool) -> str | None:
    options = ([None] if allow_none else []) + list(SUGGESTED_MODELS) + [CUSTOM]
    choice = st.selectbox(label, options, key=f"{key}_choice",
                          format_func=lambda o: "None" if o is None else SUGGESTED_MODELS.get(o, o))
    if choice == CUSTOM:
        custom = st.text_input("Model path or hub id", key=f"{key}_custom", placeholder="/path/to/model or org/name")
        return custom.strip() or None
    return choice


def model_picker() -> None:
    """Sidebar: choose the target model (and an optional reference model). Loading happens on first use."""
    with st.sidebar:
        st.subheader("Model")
        spec = _spec_input("Target model", "model", allow_none=False) or DEFAULT_SPEC
        ref = _spec_input("Reference model (optional)", "ref_model", allow_none=True)
        with st.expander("Device and precision"):
            device = st.selectbox("Device", ["auto", "cpu", "cuda", "mps"], key="device")
            dtype = st.selectbox("Precision", ["auto", "float32", "bfloat16", "float16"], key="dtype")
        st.session_state["model_args"] = (spec, None if device == "auto" else device, None if dtype == "auto" else dtype)
        st.session_state["ref_model_args"] = (ref, None if device == "auto" else device,
                                              None if dtype == "auto" else dtype) if ref else None
        st.session_state["model_status"] = st.empty()


def _load(args: tuple, what: str) -> LoadedModel | None:
    spec = args[0]
    try:
        with st.spinner(f"Loading {what} {spec} (the first load of a GGUF file converts it once, about 30 s)..."):
            return cached_model(*args)
    except ModelLoadError as exc:
        st.error(str(exc))
        return None


def get_model() -> LoadedModel | None:
    """The target model chosen in the sidebar, loading it (once) with a spinner; None with an error shown if it
    cannot be loaded."""
    args = st.session_state.get("model_args", (DEFAULT_SPEC, None, None))
    model = _load(args, "model")
    if model is not None:
        show_model_facts(model)
    return model


def get_reference_model() -> LoadedModel | None:
    args = st.session_state.get("ref_model_args")
    return _load(args, "reference model") if args else None


def show_model_facts(model: LoadedModel) -> None:
    slot = st.session_state.get("model_status")
    info = model.describe()
    text = (f"**{info['name']}** · {info['parameters_human']} parameters · context {info['context_length']} · "
            f"{info['device']} · {info['dtype']}")
    if slot is not None:
        slot.markdown(text)


@st.cache_resource(show_spinner=False)
def shared_store():
    """The investigation store (SQLite, WAL), one per server process, safe to share between sessions."""
    from provenance.investigations.store import InvestigationStore

    return InvestigationStore()
