"""Resources shared across pages and browser sessions: the loaded models and the statistics cache.

Models are held with ``st.cache_resource``: loaded once per (spec, device, dtype), never reloaded on a rerun, and
shared by every browser session (inference does not mutate them; the scoring engine is re-entrant). The sidebar
picks the target model and, optionally, a reference model (the ``ref`` score, and the strongest evidence when it is
the base of a fine-tune or an older model of the same family) and an observer model (``binoculars``).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from provenance.lm.backends import load_model
from provenance.lm.interface import LanguageModel
from provenance.lm.loading import DEFAULT_SPEC, SUGGESTED_MODELS, ModelLoadError, converted_gguf_dir, default_gguf_path

CUSTOM = "Other: a local folder, .gguf file, hub id, or a served model (vllm:, openai:, chat:)"
SPEC_HELP = ("A local folder, a .gguf file or a hub id runs here (exact). 'vllm:SPEC' runs vLLM in this process; "
             "'openai:http://HOST:PORT/v1#MODEL' asks an OpenAI-compatible completions server (vLLM, SGLang, hosted; "
             "the key comes from the PROVENANCE_OPENAI_API_KEY environment variable); 'chat:BASE_URL#MODEL' a chat "
             "API, which only supports the generation tests. See the README's 'Served models'.")
REFERENCE_HELP = ("A second model the target is compared with (the 'ref' score: how much more likely the target "
                  "finds a text than the reference does). It is the strongest evidence when the reference is the "
                  "base model the target was fine-tuned from, or an older model of the same family whose data ends "
                  "before your texts were published: then whatever the target finds easier than the reference is "
                  "what it learned since.")
OBSERVER_HELP = ("For the 'binoculars' score: a second model with the same tokenizer as the target (for example a "
                 "smaller or larger model of the same family).")


@st.cache_resource(show_spinner=False, max_entries=4)
def cached_model(spec: str, device: str | None = None, dtype: str | None = None) -> LanguageModel:
    return load_model(spec, device=device, dtype=dtype)


@st.cache_resource(show_spinner=False)
def shared_stats_cache():
    """The TokenStats cache shared by every session (imported here, not at the top: it pulls in torch)."""
    from provenance.lm.cache import StatsCache

    return StatsCache(max_tokens=3_000_000)


def _spec_input(label: str, key: str, allow_none: bool, help: str | None = None) -> str | None:
    options = ([None] if allow_none else []) + list(SUGGESTED_MODELS) + [CUSTOM]
    choice = st.selectbox(label, options, key=f"{key}_choice", help=help,
                          format_func=lambda o: "None" if o is None else SUGGESTED_MODELS.get(o, o))
    if choice == CUSTOM:
        custom = st.text_input("Model spec", key=f"{key}_custom", help=SPEC_HELP,
                               placeholder="/path/to/model, org/name or openai:http://127.0.0.1:8000/v1#default")
        return custom.strip() or None
    return choice


def model_picker() -> None:
    """Sidebar: choose the target model (and optional reference and observer models). Loading happens on first
    use."""
    with st.sidebar:
        st.subheader("Model")
        spec = _spec_input("Target model", "model", allow_none=False) or DEFAULT_SPEC
        ref = _spec_input("Reference model (optional)", "ref_model", allow_none=True, help=REFERENCE_HELP)
        observer = _spec_input("Observer model for binoculars (optional)", "observer", allow_none=True,
                               help=OBSERVER_HELP)
        with st.expander("Device and precision"):
            device = st.selectbox("Device", ["auto", "cpu", "cuda", "mps"], key="device")
            dtype = st.selectbox("Precision", ["auto", "float32", "bfloat16", "float16"], key="dtype")
        placement = (None if device == "auto" else device, None if dtype == "auto" else dtype)
        st.session_state["model_args"] = (spec, *placement)
        st.session_state["ref_model_args"] = (ref, *placement) if ref else None
        st.session_state["observer_args"] = (observer, *placement) if observer else None
        st.session_state["model_status"] = st.empty()


def needs_conversion(spec: str) -> bool:
    """Whether loading ``spec`` will first de-quantise a GGUF file (the default model, or a .gguf path) because
    its converted safetensors folder is not in the cache yet: the one slow first load."""
    try:
        if spec == DEFAULT_SPEC:
            gguf = default_gguf_path()
        else:
            gguf = Path(spec).expanduser()
            if gguf.suffix.lower() != ".gguf" or not gguf.is_file():
                return False
    except (ModelLoadError, OSError):
        return False
    folder = converted_gguf_dir(gguf)
    return not ((folder / "config.json").is_file() and (folder / "model.safetensors").is_file())


def loading_message(spec: str, what: str = "model") -> str:
    """The spinner's words while ``spec`` loads; the GGUF conversion is mentioned only when it will happen."""
    if needs_conversion(spec):
        return (f"Loading the {what} {spec}: its GGUF file is converted once to a cached safetensors folder (about "
                "30 s); later loads take a second or two...")
    return f"Loading the {what} {spec}..."


def _load(args: tuple, what: str) -> LanguageModel | None:
    try:
        with st.spinner(loading_message(args[0], what)):
            return cached_model(*args)
    except ModelLoadError as exc:
        st.error(str(exc))
        return None


def get_model() -> LanguageModel | None:
    """The target model chosen in the sidebar, loading it (once) with a spinner; None with an error shown if it
    cannot be loaded."""
    args = st.session_state.get("model_args", (DEFAULT_SPEC, None, None))
    model = _load(args, "model")
    if model is not None:
        show_model_facts(model)
    return model


def model_spec_input(label: str, key: str, help: str | None = None) -> str | None:
    """A model choice outside the sidebar with the sidebar picker's options (None, the suggested models, or a local
    folder / .gguf file / hub id): the spec string, or None when none is chosen."""
    return _spec_input(label, key, allow_none=True, help=help)


def get_model_for(spec: str, what: str = "model") -> LanguageModel | None:
    """The model ``spec`` on the sidebar's device and precision, through the same cached loader as the sidebar's
    models (loaded once, with a spinner); None with an error shown if it cannot be loaded."""
    _, device, dtype = st.session_state.get("model_args", (DEFAULT_SPEC, None, None))
    return _load((spec, device, dtype), what)


def get_reference_model() -> LanguageModel | None:
    """The reference model chosen in the sidebar (None when none is chosen, or with an error shown)."""
    args = st.session_state.get("ref_model_args")
    return _load(args, "reference model") if args else None


def get_observer_model() -> LanguageModel | None:
    """The observer model chosen in the sidebar for binoculars (None when none is chosen, or with an error
    shown)."""
    args = st.session_state.get("observer_args")
    return _load(args, "observer model") if args else None


def several_models_loader():
    """``(load, release)`` for questioning several models one after another (``compare_models``): the sidebar's
    target model comes from the shared cache (loaded once, kept); every other spec is loaded with the sidebar's
    device and precision through the same ``load_model`` and released after its run, so only one extra model is in
    memory at a time. ``load`` shows a spinner and raises ModelLoadError with a sentence when a model cannot load."""
    from provenance.lm.memory import release_model

    args = st.session_state.get("model_args", (DEFAULT_SPEC, None, None))
    kept: set[int] = set()

    def load(spec: str) -> LanguageModel:
        with st.spinner(loading_message(spec)):
            if spec == args[0]:
                model = cached_model(*args)
                kept.add(id(model))
                return model
            return load_model(spec, device=args[1], dtype=args[2])

    def release(model) -> None:
        if id(model) not in kept:
            release_model(model)

    return load, release


def chosen_models() -> dict[str, str | None]:
    """The specs chosen in the sidebar: target, reference and observer (None where none is chosen)."""
    def spec(key: str) -> str | None:
        args = st.session_state.get(key)
        return args[0] if args else None

    return {"target": spec("model_args") or DEFAULT_SPEC, "reference": spec("ref_model_args"),
            "observer": spec("observer_args")}


def show_model_facts(model: LanguageModel) -> None:
    slot = st.session_state.get("model_status")
    info = model.describe()
    from ui.widgets import plain

    backend = getattr(model, "backend", "hf")
    if backend == "hf":
        text = (f"**{plain(info['name'])}** · {info['parameters_human']} parameters · context "
                f"{info['context_length']} · {info['device']} · {info['dtype']}")
    else:  # served: no parameter count; say what this backend can compute
        text = (f"**{plain(info['name'])}** · {backend} backend · context {info['context_length']} · "
                f"{plain(info['device'])} · returns: {', '.join(sorted(model.capabilities))}")
    if slot is not None:
        slot.markdown(text)


@st.cache_resource(show_spinner=False)
def shared_store():
    """The investigation store (SQLite, WAL), one per server process, safe to share between sessions."""
    from provenance.investigations.store import InvestigationStore

    return InvestigationStore()


def default_investigation_name(what: str, key: str) -> str:
    """The name a page offers for its next investigation (kept in ``st.session_state[key]``): ``what`` and the time
    this session first showed the page, made unique in the store, so that a default never resumes another run's
    investigation of the same name (two runs started within one second)."""
    from datetime import datetime

    if key not in st.session_state:
        st.session_state[key] = shared_store().unused_name(f"{what} {datetime.now():%Y-%m-%d %H:%M:%S}")
    return st.session_state[key]
