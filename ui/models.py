"""Several models side by side on the Documents page: the field that adds models beside the sidebar's, the time
estimate shown before a run, and the view of a models investigation (the documents x models heatmap, each model's
verdict for the set, every cell), the same on the Documents page after a run and on the History page later."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from provenance import charts
from provenance.investigations.models import REFUSED, SCORED, parse_model_specs, read_models
from provenance.investigations.records import Investigation
from provenance.investigations.store import InvestigationStore
from provenance.lm.loading import SUGGESTED_MODELS
from provenance.verdicts.verdict import Label
from ui.widgets import download_table, format_seconds, plain, show_figure, verdict_card

# Measured on 2 CPU cores with the default model (135M parameters): about 400-500 tokens/s forward.
CPU_TOKENS_PER_SECOND = 450.0
OTHER_SPECS_HELP = ("Any spec the sidebar accepts, separated by commas: a local folder, a .gguf file, a hub id, or "
                    "a served model (for example vllm:MODEL, openai:http://127.0.0.1:8000/v1#MODEL) where that "
                    "backend is installed.")
CELL_WITH_REFERENCE = (
    "**How to read it.** Each row is one of your documents, each column one model. A cell is that document's "
    "p-value under that model: the share of the reference texts (plus one) the model finds at least as familiar "
    "as the document. A small p-value (a dark cell) means the model finds the document more familiar than texts "
    "it cannot have seen; the word in the cell is the verdict at the false-positive rate you chose. Under each "
    "model's name is its verdict for the whole set. Every model is judged against the same reference texts, so "
    "the columns can be compared; a blank column says on hover why that model has no result.")
CELL_WITHOUT_REFERENCE = (
    "**How to read it.** Each row is one of your documents, each column one model; a cell is the document's "
    "score under that model (higher = more likely a member). Without a reference set there is no verdict, and "
    "scores of different models are not on one scale (their tokenizers and training differ): compare which "
    "documents stand out within a column, and add a reference set for p-values that compare across models.")


def extra_models_input(sidebar_spec: str, key: str) -> list[str]:
    """Models to question beside the sidebar's target model: suggested ones and any other specs typed in. Returns
    the extra specs (the sidebar's excluded, duplicates dropped, in order)."""
    st.markdown(f"The sidebar's target model (`{plain(sidebar_spec)}`) is always the first. Add models here to put "
                "the same documents, scores and reference set to each of them, one after another, and read the "
                "answers side by side as a heatmap of documents x models.")
    suggested = [s for s in SUGGESTED_MODELS if s != sidebar_spec]
    chosen = st.multiselect("Add suggested models", suggested, key=f"{key}_suggested",
                            format_func=lambda s: SUGGESTED_MODELS.get(s, s))
    typed = st.text_input("Other models", key=f"{key}_typed", help=OTHER_SPECS_HELP,
                          placeholder="/path/to/model, org/name, openai:http://host:8000/v1#name")
    return [s for s in parse_model_specs([*chosen, typed]) if s != sidebar_spec]


def time_estimate(tokens_per_model: int, n_models: int, tokens_per_second: float | None, device: str) -> str:
    """A sentence estimating how long a run over ``n_models`` takes: tokens per model at the pace measured in this
    session (else the CPU figure measured for the default model), plus loading each model."""
    rate = tokens_per_second or (CPU_TOKENS_PER_SECOND if device == "cpu" else None)
    if rate is None:
        return (f"About {tokens_per_model:,} tokens per model, {tokens_per_model * n_models:,} for all {n_models} "
                "models, plus loading each model; the pace on this device will show once the run starts.")
    seconds = tokens_per_model / rate
    basis = "the pace measured in your last run" if tokens_per_second else \
        f"about {CPU_TOKENS_PER_SECOND:.0f} tokens/s, the default model's pace on 2 CPU cores"
    return (f"About {tokens_per_model:,} tokens per model: about {format_seconds(seconds)} each at {basis}, "
            f"{format_seconds(seconds * n_models)} for all {n_models} models, plus loading each model (seconds "
            "for a cached small model, minutes for a large one). Larger models are slower roughly in proportion "
            "to their size; served models go at their server's pace. Documents already scored are not scored again.")


def set_verdict_words(runs) -> dict[str, str]:
    """Model -> the words under its column (its set verdict, or why it has none)."""
    out = {}
    for run in runs:
        if run.verdict is not None:
            out[run.label] = run.verdict.label.value
        elif run.status == REFUSED:
            out[run.label] = "no results"
        elif run.status != "complete":
            out[run.label] = run.status
    return out


def show_models_investigation(store: InvestigationStore, inv: Investigation, key_prefix: str) -> bool:
    """The heatmap, each model's verdict for the set, every cell as a table with a download; False when no model
    has run yet."""
    view = read_models(store, inv.id)
    if not view.runs:
        return False
    grid, value = view.grid, view.value
    st.markdown(f"#### {len(view.runs)} models side by side")
    show_figure(charts.models_heatmap(grid, value=value, set_verdicts=set_verdict_words(view.runs)),
                "documents-x-models", f"{key_prefix}_fig_models")
    st.markdown(CELL_WITH_REFERENCE if value == "p_value" else CELL_WITHOUT_REFERENCE)
    if value == "p_value" and len(view.runs) > 1 and view.fpr is not None:
        st.caption(f"Each model is judged on its own at FPR {float(view.fpr):g}: with {len(view.runs)} models, the "
                   f"chance that at least one is called 'evidence' by chance alone is up to "
                   f"{min(1.0, len(view.runs) * float(view.fpr)):.2g}.")
    st.markdown("#### Verdict per model")
    cols = st.columns(min(3, len(view.runs)))
    for i, run in enumerate(view.runs):
        with cols[i % len(cols)]:
            if run.verdict is not None:
                cells = grid[(grid["model"] == run.label) & (grid["status"] == SCORED)]
                flagged = int((cells["verdict_label"] == Label.EVIDENCE.value).sum())
                verdict_card(run.label, run.verdict, f"{flagged} of {len(cells)} document(s) show evidence; "
                                                     f"spec {run.spec}")
            elif run.status == REFUSED:
                st.error(f"**{plain(run.label)}**: no results. {plain(run.reason)}", icon=":material/block:")
            else:
                scored = int(((grid["model"] == run.label) & (grid["status"] == SCORED)).sum())
                st.info(f"**{plain(run.label)}**: {plain(run.status)}; {scored} document(s) scored"
                        + ("" if value == "p_value" else ", no verdict without a reference set") + ".",
                        icon=":material/info:")
    runs = pd.DataFrame([{"model": r.label, "spec": r.spec, "parameters": r.parameters, "status": r.status,
                          "set verdict": r.verdict.words() if r.verdict is not None else "",
                          "reason": r.reason, "own investigation": r.investigation_name} for r in view.runs])
    st.caption("Each model's run is also its own investigation (History page) with its scores, figures, per-token "
               "view and report.")
    st.dataframe(runs, hide_index=True, width="stretch")
    st.markdown("#### Every document under every model")
    shown = grid.drop(columns=["model_index"], errors="ignore")
    st.dataframe(shown, hide_index=True, width="stretch",
                 column_config={"p_value": st.column_config.NumberColumn("p-value", format="%.4g")})
    download_table(shown, f"{inv.name}-models", key=f"{key_prefix}_models_table")
    return True
