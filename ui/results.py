"""One investigation's results as a page shows them: the same view on the Documents page (after a run) and on the
History page (reopened later), so a reopened investigation looks exactly as it did.

The view follows the investigation's recorded kind (``investigations.records.Kind``): documents (with or without a
reference set) get status, unscorable documents, the shift-check warning, verdict cards, the score table with
downloads, the report downloads, the likelihood / perplexity / distribution figures, the per-token view (computed on
demand, only with the model the investigation was scored with); a benchmark gets its AUC table, ROC curves and
set-level verdict (``ui.labelled``); a ghost-sentence test its verdict, null histograms and identifiers
(``ui.ghost``). Every kind ends with any other attached results. Everything is read from the store. Widget keys
start with ``key_prefix`` so two pages (or two views on one page) never clash.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from provenance import charts
from provenance.scores import registry
from provenance.lm.cache import cached_token_statistics
from provenance.scores.table import token_table
from provenance.report import REPORT_FORMATS, render_report, report_filename
from provenance.investigations.scoring import scoring_settings_from_record
from provenance.investigations.records import Investigation, Kind
from provenance.investigations.store import REFERENCE, InvestigationStore
from ui.session import get_model, shared_stats_cache
from provenance.verdicts.pvalues import document_verdict
from provenance.verdicts.verdict import Label
from ui.highlight import text_box, token_colouring
from ui.widgets import plain, download_table, show_figure, verdict_card

# top_k alternatives are kept for the per-token view's hover
MIN_TOP_K = 5
REPORT_MIME = {"html": "text/html", "json": "application/json", "csv": "text/csv"}
# Artifacts a kind's own view draws; the rest are listed generically at the end.
DRAWN = {Kind.LABELLED: {"labelled_evaluation", "roc_curves", "shift_check", "dataset_inference", "notes"},
         Kind.GHOST: {"ghost_detection", "null_differences"}, Kind.MODELS: {"model_runs", "model_grid"}}


def show_investigation(store: InvestigationStore, investigation_id: str, key_prefix: str, *,
                       resume_hint: str = "score the same documents again under this name to resume",
                       title: str | None = None) -> None:
    """Draw an investigation's results (see the module docstring). ``resume_hint`` ends the sentence shown while an
    investigation is incomplete; ``title`` replaces the 'Results: <name>' heading."""
    inv = store.find(investigation_id)
    if inv is None:
        st.info("This investigation no longer exists (it may have been deleted in another window).",
                icon=":material/info:")
        return
    table = store.results(inv.id).drop(columns=["sha256"], errors="ignore")
    reference = store.results(inv.id, collection=REFERENCE).drop(columns=["sha256"], errors="ignore")
    artifacts = store.artifacts(inv.id) | ({"reference_scores": reference} if len(reference) else {})
    st.subheader(title or f"Results: {plain(inv.name)}")
    counted = (f"{inv.n_scored} of {inv.n_documents} document(s) scored" if inv.kind is not Kind.GHOST else
               f"{len((artifacts.get('ghost_test_settings') or {}).get('identifiers') or [])} identifier(s) tested")
    st.caption(f"{inv.kind.label} · {'models' if inv.kind is Kind.MODELS else 'model'} {inv.model_name} · status {inv.status} · {counted} · created "
               f"{_when(inv.created_at)} · updated {_when(inv.updated_at)}")
    if inv.status != "complete" or inv.n_pending:
        done = f"{len(table)} document(s) scored so far, {inv.n_pending} pending; " if inv.kind is not Kind.GHOST \
            else ""
        st.info(f"{inv.message or inv.status}  ({done}{resume_hint}.)", icon=":material/pause_circle:")
    if inv.kind in DRAWN:
        _show_kind(store, inv, table, artifacts, key_prefix)
        return
    for message in store.unscorable(inv.id).values():
        st.warning(message, icon=":material/warning:")
    _show_shift_warning(artifacts)
    if inv.verdict is not None:  # also for investigations without document rows, such as a ghost-sentence test
        verdict_card("Your documents as a set" if len(table) else "Verdict", inv.verdict)
    if table.empty:
        if inv.verdict is None:
            st.caption("No document of this investigation has been scored yet.")
        report_downloads(store, inv, key_prefix)
        _other_artifacts(artifacts, key_prefix)
        return
    if "verdict_label" in table and table["verdict_label"].notna().any():
        ranked = table.dropna(subset=["verdict_label"])
        ranked = ranked.sort_values("p_value") if "p_value" in ranked else ranked
        cols = st.columns(min(3, len(ranked)))
        fpr = inv.verdict.fpr if inv.verdict is not None else float("nan")
        for i, row in enumerate(ranked.head(3).to_dict("records")):
            with cols[i % len(cols)]:
                verdict_card(str(row["document"]), document_verdict(row, fpr), f"{int(row['tokens'])} tokens scored")
        counts = ranked["verdict_label"].value_counts()
        st.markdown(f"**{len(ranked)} document(s) judged:** " + " · ".join(
            f"{int(counts.get(label.value, 0))} {label.value}" for label in Label) +
            (". The three with the smallest p-values are shown above; every document's verdict is in the table "
             "below (sort it by p_value)." if len(ranked) > 3 else "."))
    else:
        st.caption("Add a reference set to turn these scores into verdicts with p-values.")
    st.dataframe(table, hide_index=True, width="stretch")
    download_table(table, f"{inv.name}-scores", key=f"{key_prefix}_table")
    report_downloads(store, inv, key_prefix)

    likelihood_tab, distribution_tab, token_tab = st.tabs(["Likelihood and perplexity", "Score distributions",
                                                           "Per-token view"])
    with likelihood_tab:
        show_figure(charts.perplexity_bar(table, value="loss", title="Log-likelihood per token (higher = more "
                                                                       "likely)"), "likelihood",
                    f"{key_prefix}_fig_likelihood")
        show_figure(charts.perplexity_bar(table), "perplexity", f"{key_prefix}_fig_perplexity")
    with distribution_tab:
        reference = artifacts.get("reference_scores")
        score_columns = [c for c in (inv.settings or {}).get("scores", registry.default_scores()) if c in table]
        if isinstance(reference, pd.DataFrame) and not reference.empty:
            show_figure(charts.documents_vs_reference(table, reference, score_columns), "distributions",
                        f"{key_prefix}_fig_dist")
        else:
            show_figure(charts.score_distributions(table, score_columns), "distributions", f"{key_prefix}_fig_dist")
    with token_tab:
        _token_view(store, inv, table, key_prefix)
    _other_artifacts(artifacts, key_prefix)


def _show_kind(store: InvestigationStore, inv: Investigation, table: pd.DataFrame, artifacts: dict,
               key_prefix: str) -> None:
    """A benchmark or a ghost-sentence test, drawn by its own view, then its reports and other results."""
    from ui.ghost import show_stored_ghost_test
    from ui.labelled import show_stored_evaluation
    from ui.models import show_models_investigation

    if inv.kind is Kind.MODELS:
        _show_shift_warning(artifacts)
    views = {Kind.LABELLED: show_stored_evaluation, Kind.GHOST: show_stored_ghost_test,
             Kind.MODELS: show_models_investigation}
    drawn = views[inv.kind](store, inv, key_prefix)
    if not drawn:
        st.caption("This investigation has no result to show yet: it did not finish.")
    report_downloads(store, inv, key_prefix)
    if inv.kind is Kind.LABELLED and not table.empty:
        st.markdown("#### Scores of the labelled texts")
        st.dataframe(table, hide_index=True, width="stretch")
        download_table(table, f"{inv.name}-scores", key=f"{key_prefix}_table")
    _other_artifacts({k: v for k, v in artifacts.items() if k not in DRAWN[inv.kind]}, key_prefix)


def _show_shift_warning(artifacts: dict) -> None:
    """The distribution-shift check's warning, when it found the compared sets confounded."""
    shift = artifacts.get("shift_check")
    if isinstance(shift, dict) and shift.get("confounded"):
        reason = str(shift.get("reason", ""))
        st.error(f"**Check your sets first.** {shift.get('sentence') or reason[:1].upper() + reason[1:] + '.'}",
                 icon=":material/error:")


def _when(timestamp: str) -> str:
    """An ISO timestamp for reading: 'YYYY-MM-DD HH:MM UTC'."""
    return f"{timestamp[:16].replace('T', ' ')} UTC" if timestamp else "unknown"


def report_downloads(store: InvestigationStore, inv: Investigation, key_prefix: str) -> None:
    """HTML / JSON / CSV report buttons; each report is built only when its button is clicked."""
    cols = st.columns(len(REPORT_FORMATS))
    for col, fmt in zip(cols, REPORT_FORMATS):
        col.download_button(f"Download report ({fmt.upper()})", lambda fmt=fmt: render_report(store, inv.id, fmt),
                            report_filename(inv, fmt), REPORT_MIME[fmt], icon=":material/summarize:",
                            on_click="ignore", key=f"{key_prefix}_report_{fmt}")


def _token_view(store: InvestigationStore, inv: Investigation, table: pd.DataFrame, key_prefix: str) -> None:
    """The GLTR-style view of one document, computed on demand with the investigation's own model only."""
    chosen = st.selectbox("Document", table["document"].tolist(), key=f"{key_prefix}_token_doc")
    if not chosen or not st.toggle("Show the per-token view", value=len(table) == 1, key=f"{key_prefix}_token_toggle"):
        return
    selected_spec = (st.session_state.get("model_args") or ("default",))[0]
    if inv.model_spec and selected_spec != inv.model_spec:
        st.info(f"This investigation was scored with {inv.model_name}. To see its per-token view, select that model "
                f"in the sidebar (Target model: `{inv.model_spec}`); another model would show different "
                "probabilities.", icon=":material/info:")
        return
    model = get_model()
    if model is None:
        return
    if inv.model_identity and model.identity != inv.model_identity:
        st.info(f"The model loaded now ({model.name}, identity {model.identity[:12]}) is not the exact one this "
                f"investigation was scored with ({inv.model_name}, identity {inv.model_identity[:12]}): its files "
                "or its precision differ. Select the same model and precision in the sidebar to see the per-token "
                "view.", icon=":material/info:")
        return
    texts = {d.name: d.text for d in store.documents(inv.id)}
    if chosen not in texts:
        return
    settings = scoring_settings_from_record(inv.settings or {}, min_top_k=MIN_TOP_K)
    stats = cached_token_statistics(model, [texts[chosen]], settings, cache=shared_stats_cache())[0]
    tokens = token_table(model, stats)
    shares = charts.bucket_shares(tokens)
    st.caption("Share of tokens the model ranked in its top 10 / 100 / 1000 guesses: " + " · ".join(
        f"{r.bucket} {r.share:.0%}" for r in shares.itertuples()))
    text_column, histogram_column = st.columns([3, 2])
    with text_column:
        text_box(chosen, token_colouring(texts[chosen], tokens))
    with histogram_column:
        show_figure(charts.rank_histogram(tokens), f"token-ranks-{chosen}", f"{key_prefix}_fig_tokens")
    download_table(tokens, f"tokens-{chosen}", key=f"{key_prefix}_token_table")


def _other_artifacts(artifacts: dict, key_prefix: str) -> None:
    """Every other result attached to the investigation (set comparisons, ghost detection tables, ...), shown
    generically: tables as tables (with downloads), lists of records as tables, anything else as JSON."""
    if not artifacts:
        return
    st.markdown("#### Stored results attached to this investigation")
    for name, value in artifacts.items():
        with st.expander(name.replace("_", " ").capitalize(), icon=":material/data_object:"):
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                value = pd.DataFrame(value)
            if isinstance(value, pd.DataFrame):
                st.dataframe(value, hide_index=True, width="stretch")
                download_table(value, name, key=f"{key_prefix}_artifact_{name}")
            else:
                st.json(value, expanded=2)
