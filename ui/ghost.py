"""The Ghost sentences page's pieces: the generator form; the registry kept in the store (choose, continue, show,
download, and the warning while this machine holds its only copy); the marked documents (how often each identifier
was placed, a preview of each document); the cost of a test before it starts; and a finished test (verdict card,
null histograms, the per-identifier table, report downloads), drawn the same way whether it just ran
(``show_ghost_test``) or was reopened from History (``show_stored_ghost_test``)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta

from collections.abc import Sequence

import numpy as np
import pandas as pd
import streamlit as st

from provenance import charts, ghost
from provenance.investigations.records import Investigation
from provenance.investigations.store import InvestigationStore
from provenance.report import recorded_nulls
from provenance.verdicts.verdict import Verdict
from provenance.documents import documents_from_bytes
from provenance.ghost.estimates import DRAW_CHOICES, estimate_ghost_test, measure_scoring_rate, p_floor, \
    tokens_per_draw
from provenance.investigations.registries import RegistryRecord, RegistryStore
from provenance.lm.interface import LOGPROBS
from provenance.lm.loading import SUGGESTED_MODELS
from ui.highlight import highlighted, text_box
from ui.results import report_downloads
from ui.session import chosen_models, model_spec_input, shared_store
from ui.widgets import plain, download_table, format_seconds, show_figure, verdict_card

NEW_REGISTRY = "A new registry..."
DEFAULT_REGISTRY_NAME = "My ghost registry"


def generator_form(key: str) -> ghost.GhostGenerator | None:
    """The generator settings as widgets (keys start with ``key``); None, with the reason shown, when invalid."""
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


# ------------------------------------------------------------------------------------------ the kept registry


@st.cache_resource(show_spinner=False)
def shared_registries() -> RegistryStore:
    """The registries kept in the investigation store, one per server process."""
    return RegistryStore(shared_store())


def _unique_name(wanted: str, taken: list[str]) -> str:
    name, n = wanted.strip() or DEFAULT_REGISTRY_NAME, 1
    base = name
    while name in taken:
        n += 1
        name = f"{base} ({n})"
    return name


def choose_registry() -> tuple[str, ghost.Registry]:
    """Step 1's registry: one kept in the store (the most recently changed by default), a new one, or one
    uploaded to continue (kept under its file name). Returns its name and the Registry (also in
    ``st.session_state['ghost_registry']``)."""
    kept = shared_registries()
    existing = st.file_uploader("Continue a registry you downloaded earlier (optional)", type=["json"],
                                key="ghost_existing")
    if existing is not None and st.session_state.get("ghost_loaded") != existing.file_id:
        try:
            uploaded = ghost.registry_from_dict(json.loads(existing.getvalue()), existing.name)
        except (ValueError, ghost.GhostError) as exc:
            st.error(f"{plain(existing.name)}: {plain(exc)}")
        else:
            name = _unique_name(re.sub(r"\.json$", "", existing.name, flags=re.I), kept.names())
            kept.save(name, uploaded.to_dict())
            kept.mark_downloaded(name)  # it came from a file the owner has
            st.session_state["ghost_loaded"] = existing.file_id
            st.session_state["ghost_registry_choice"] = name
    names = kept.names()
    if "ghost_registry_next" in st.session_state:  # kept after the selectbox was drawn on the previous run
        st.session_state["ghost_registry_choice"] = st.session_state.pop("ghost_registry_next")
    if st.session_state.get("ghost_registry_choice") not in names + [NEW_REGISTRY]:
        st.session_state["ghost_registry_choice"] = names[0] if names else NEW_REGISTRY
    choice = st.selectbox("Registry", names + [NEW_REGISTRY], key="ghost_registry_choice",
                          help="Registries are kept on this computer, in the same file as your investigations, "
                               "so they are still here after the browser or the server is closed.")
    if choice == NEW_REGISTRY:
        name = st.text_input("Name of the new registry", value=_unique_name(DEFAULT_REGISTRY_NAME, names),
                             key="ghost_new_registry_name").strip() or DEFAULT_REGISTRY_NAME
        record = kept.get(name)
    else:
        name, record = choice, kept.get(choice)
    registry = ghost.registry_from_dict(record.data, name) if record is not None else ghost.Registry()
    st.session_state["ghost_registry"] = registry
    st.session_state["ghost_registry_name"] = name
    return name, registry


def keep_registry(name: str, registry: ghost.Registry) -> None:
    """Save the registry in the store (after identifiers were added); it is the one selected from the next run
    on."""
    shared_registries().save(name, registry.to_dict())
    st.session_state["ghost_registry_next"] = name


def _when(timestamp: str | None) -> str:
    return datetime.fromisoformat(timestamp).strftime("%Y-%m-%d %H:%M UTC") if timestamp else "never"


def show_registry(name: str, registry: ghost.Registry) -> None:
    """The registry's identifiers as a table, the warning while this computer holds its only copy, and downloads
    of the (private) registry and the (public) commitments."""
    record: RegistryRecord | None = shared_registries().get(name)
    table = pd.DataFrame([{"id": e.id, "identifier": e.identifier, "created": e.created,
                           "commitment": e.commitment} for e in registry.entries])
    st.dataframe(table, hide_index=True, width="stretch")
    if record is not None and record.only_copy_here:
        st.warning(f"Download this registry now and keep the file somewhere safe. It is kept on this computer only "
                   f"(in {plain(shared_registries().path)}), and "
                   "it is the only copy of your identifiers and their secret salts: if that file is deleted, or you "
                   "move to another computer, you can no longer test a model for them or prove they are yours.",
                   icon=":material/warning:")
    elif record is not None:
        st.caption(f"Kept on this computer; last downloaded {_when(record.downloaded_at)}.")
    cols = st.columns(2)
    cols[0].download_button("Download the registry (private)", json.dumps(registry.to_dict(), indent=1),
                            "ghost-registry.json", "application/json", icon=":material/lock:",
                            on_click=lambda: shared_registries().mark_downloaded(name), key="ghost_registry_download")
    cols[1].download_button("Download the commitments (to publish now)",
                            json.dumps(ghost.public_commitments(registry), indent=1), "ghost-commitments.json",
                            "application/json", icon=":material/public:", on_click="ignore")


def draw_ghost_test(verdict: Verdict, nulls: Sequence[np.ndarray], table: pd.DataFrame, key_prefix: str,
                    reference: str | None = None) -> None:
    """The verdict card, one null histogram per generator with the identifiers marked, and the per-identifier table
    with downloads; widget keys start with ``key_prefix``. ``reference`` says which reference model (and its release
    date) a reference-calibrated test used."""
    verdict_card("Were your identifiers trained on?", verdict,
                 f"A model that never saw your identifiers is called 'trained' with probability at most "
                 f"{verdict.fpr:g} (the false-positive rate).")
    # a reference-calibrated test ranks NLL_reference - NLL_model; its table carries that column
    statistic = "nll_difference" if "nll_difference" in table else "nll"
    if statistic == "nll_difference":
        st.caption(f"Reference-calibrated test against {plain(reference or 'a reference model')}: each identifier's "
                   "NLL under the reference minus its NLL under the tested model, ranked among the same difference "
                   "for the fresh draws. Markers far to the right: the tested model gained more on them than on "
                   "anything neither model can have seen.")
    if not nulls and len(table):
        st.caption("The fresh draws' values were not recorded by the version of provenance that ran this test, so "
                   "the null histogram cannot be drawn; the verdict and the table are as recorded.")
    for i, null in enumerate(nulls):  # one null per generator setting
        show_figure(charts.ghost_null_histogram(null, table, statistic=statistic), f"ghost-null-{i}",
                    f"fig_{key_prefix}_null_{i}")
    st.dataframe(table, hide_index=True, width="stretch")
    download_table(table, "ghost-detection", key=f"{key_prefix}_table")


# ------------------------------------------------------------------------------------------ marked documents


def placement_table(manifest: dict, registry: ghost.Registry) -> pd.DataFrame:
    """How many times each identifier was placed: in total and in how many documents."""
    identifiers = {e.id: e.identifier for e in registry.entries}
    rows: dict[str, dict] = {}
    for document in manifest["documents"]:
        for placement in document["placements"]:
            row = rows.setdefault(placement["id"], {"id": placement["id"],
                                                    "identifier": identifiers.get(placement["id"], ""),
                                                    "times placed": 0, "documents": set()})
            row["times placed"] += 1
            row["documents"].add(document["output"])
    table = pd.DataFrame(list(rows.values()), columns=["id", "identifier", "times placed", "documents"])
    table["documents"] = table["documents"].map(len)
    return table


def show_marked(files: dict[str, bytes], manifest: dict, registry: ghost.Registry) -> None:
    """What embedding did: how often each identifier was placed, a preview of each marked document with its
    identifiers highlighted, and the download."""
    total = sum(len(d["placements"]) for d in manifest["documents"])
    st.success(f"Placed identifiers {total} time(s) in {len(manifest['documents'])} document(s). Nothing else in the "
               "documents changed. Check each document below before you download them.")
    st.dataframe(placement_table(manifest, registry), hide_index=True, width="stretch")
    identifiers = [e.identifier for e in registry.entries]
    for document in manifest["documents"]:
        name = document["output"]
        words = document.get("words")
        count = len(document["placements"])
        with st.expander(f"Preview: {plain(name)} ({count} identifier(s)" + (f" in {words:,} words)" if words else ")"),
                         icon=":material/visibility:"):
            docs, _ = documents_from_bytes(name, files[name])
            text = "\n\n".join(d.text for d in docs)
            spans = [(m.start(), m.end()) for ident in identifiers for m in re.finditer(re.escape(ident), text)]
            text_box(name, highlighted(text, spans))
    data = st.session_state["ghost_embedded"][0]
    st.download_button("Download the marked documents and manifest (.zip)", data, "marked-documents.zip",
                       "application/zip", icon=":material/download:", on_click="ignore")


# ------------------------------------------------------------------------------------------ the cost of a test


def scoring_pace(model) -> tuple[float, str]:
    """The model's pace in tokens per second for scoring fresh draws, and where it comes from: the last test in
    this session on this model, or a measurement on a few fresh draws (made once per model and session)."""
    paces: dict = st.session_state.setdefault("ghost_paces", {})
    if model.identity not in paces:
        with st.spinner(f"Measuring the pace of {model.name} on a few fresh draws, to estimate the test's time..."):
            paces[model.identity] = (measure_scoring_rate(model, ghost.GhostGenerator()), "measured just now")
    return paces[model.identity]


def remember_pace(model, generator: ghost.GhostGenerator, draws: int, seconds: float) -> None:
    """Keep the pace a real test showed (``draws`` scored in ``seconds``) for the next estimate."""
    if draws >= 20 and seconds > 0:
        rate = draws * tokens_per_draw(model, generator) / seconds
        st.session_state.setdefault("ghost_paces", {})[model.identity] = (rate, "from your last test")


def draws_picker(alpha: float, default: int) -> int:
    """The fresh draws per generator, each choice with the smallest p-value it allows."""
    return st.select_slider("Fresh draws (null)", list(DRAW_CHOICES), value=default,
                            format_func=lambda m: f"{m:,} (p ≥ {p_floor(m):.2g})",
                            help="Each identifier is ranked among this many fresh draws, so its p-value can be no "
                                 "smaller than 1 / (draws + 1). More draws allow smaller p-values and take longer.")


def show_estimate(model, entries, n_null: int, alpha: float, last_k, ref_model=None) -> float | None:
    """Before the test: its time at the model's pace (and the reference model's, for a reference-calibrated test),
    the p-value floor of ``n_null`` draws and the draws the false-positive rate needs; returns the estimated
    seconds."""
    if LOGPROBS not in model.capabilities:  # a chat API: only the last-k words test, no fresh draws to score
        prompts = len(entries) * len(last_k)
        st.info(f"{plain(model.name)} only generates text, so the test is the last-k words test: {prompts:,} prompt(s) "
                f"(each identifier with its last k words withheld, k = {', '.join(map(str, last_k)) or 'none chosen'})"
                ". A model that never saw an identifier completes its k withheld words with a chance of one in the "
                "wordlist size to the power k, which is each hit's exact p-value; no fresh draws are scored, and the "
                "reference-calibrated test is not available.", icon=":material/timer:")
        return None
    rate, source = scoring_pace(model)
    ref_rate, ref_source = scoring_pace(ref_model) if ref_model is not None else (0.0, "")
    estimate = estimate_ghost_test(model, entries, n_null, rate, alpha=alpha, last_k=last_k, ref_model=ref_model,
                                   ref_tokens_per_second=ref_rate)
    single = ghost.detection.fewest_null_draws(1, alpha)
    together = estimate.fewest_draws
    options = " · ".join(f"{m:,}: {format_seconds(estimate.seconds * m / n_null)}" for m in DRAW_CHOICES)
    also = (f", then {estimate.reference_tokens:,} tokens at {ref_rate:,.0f} tokens/s on the reference "
            f"{plain(ref_model.name)}, {ref_source}" if ref_model is not None else "")
    st.info(f"**About {format_seconds(estimate.seconds)}** for {estimate.draws:,} fresh draws ({estimate.tokens:,} "
            f"tokens at {rate:,.0f} tokens/s on {plain(model.name)}, {source}{also}). With {n_null:,} draws an "
            "identifier's "
            f"p-value can be as small as 1/{n_null + 1:,} = {estimate.floor:.2g}. At a false-positive rate of "
            f"{alpha:g}, one identifier on its own needs at least {single:,} draws; your {len(entries)} together "
            f"(Fisher's method) need at least {together:,}. Other choices: {options}.",
            icon=":material/timer:")
    return estimate.seconds


# ------------------------------------------------------------------------------------------ a finished test


def show_ghost_test(store: InvestigationStore, investigation_id: str, result: ghost.GhostDetection) -> None:
    """A finished test: the verdict card, one null histogram per generator with the identifiers marked, the
    per-identifier table with downloads, and the investigation's report downloads."""
    inv = store.find(investigation_id)
    draw_ghost_test(result.verdict, list(result.null.values()), result.table, "ghost",
                    reference_named(inv) if inv is not None else result.reference)
    if inv is not None:
        report_downloads(store, inv, "ghost")


def show_stored_ghost_test(store: InvestigationStore, inv: Investigation, key_prefix: str) -> bool:
    """A ghost test reopened from the store, drawn as it was when it ran (its null draws are read back from the
    investigation). False (nothing drawn) when the test never finished."""
    table = store.get_artifact(inv.id, "ghost_detection")
    if inv.verdict is None or not isinstance(table, pd.DataFrame) or table.empty:
        return False
    nulls = list(recorded_nulls(store, inv).values())  # the differences, for a reference-calibrated test
    draw_ghost_test(inv.verdict, nulls, table, key_prefix, reference_named(inv))
    return True


def reference_named(inv: Investigation) -> str | None:
    """The reference model of a reference-calibrated test with its release date, as the investigation recorded
    them ("name (released YYYY-MM-DD)"); None for the plain test."""
    name = inv.settings.get("reference_model_name")
    return f"{name} (released {inv.settings.get('reference_released')})" if name else None


# ------------------------------------------------------------------------------------------ the reference model


def reference_form(entries: Sequence[ghost.GhostEntry], pasted: bool) -> tuple[str | None, date | None, str | None]:
    """The reference-calibrated test's settings, with what it does and which models qualify: the identifiers'
    registration date (the earliest the registry records), a reference model (the sidebar picker's choices) and
    its release date. Returns (spec or None, release date or None, the reason the reference cannot serve or None);
    the reason is ``ghost.check_reference``'s sentence, shown here."""
    with st.expander("Reference-calibrated test (optional; stronger on real pretrained models)",
                     icon=":material/compare_arrows:", expanded=bool(st.session_state.get("ghost_ref_choice"))):
        registered = ghost.registered_on(entries) if entries else None
        when = (f"Your {len(entries)} identifier(s) were registered on **{registered.isoformat()}** (the earliest "
                "date the registry records for them)" if registered else "Your identifiers' registration date is "
                "recorded in the registry")
        if pasted and registered:
            when += ("; pasted identifiers carry no date, so today counts as theirs (upload the registry to use its "
                     "dates)")
        st.markdown(
            "With a reference model, each identifier is ranked by **NLL under the reference minus NLL under the "
            "tested model** among the same difference for the fresh draws, scored the same way under both models. "
            "It is stronger because each passphrase's own difficulty cancels: some word sequences are easy for any "
            "model, and the plain test cannot tell that ease from memorisation. It is still exact: the fresh draws "
            "were never published, so neither model saw them.\n\n"
            f"**Which models qualify:** any model released before your identifiers were registered, so it cannot "
            f"have been trained on them. {when}"
            + (f", so a reference must have been released on {(registered - timedelta(days=1)).isoformat()} or "
               "earlier." if registered else ".")
            + " Best: the base model the tested model was fine-tuned from, or an older model of the same family.")
        if "ghost_ref_choice" not in st.session_state and chosen_models()["reference"] in SUGGESTED_MODELS:
            st.session_state["ghost_ref_choice"] = chosen_models()["reference"]  # the sidebar's, when it is listed
        cols = st.columns(2)
        with cols[0]:
            spec = model_spec_input("Reference model", "ghost_ref",
                                    help="The same choices as the sidebar's model picker; None runs the plain test.")
        released = cols[1].date_input("Reference model released on", value=None, min_value=date(1990, 1, 1),
                                      key="ghost_ref_released", disabled=spec is None,
                                      help="The day its weights were published (its model card or release notes "
                                           "say). It must be before your identifiers were registered.")
        if spec is None or not entries:
            return None, None, None
        try:
            ghost.check_reference(entries, released)
        except ghost.GhostError as exc:
            (st.info if released is None else st.error)(str(exc))
            return spec, released, str(exc)
        st.success(f"{plain(spec)}, released {released.isoformat()}, predates your identifiers: it qualifies as a "
                   "reference.", icon=":material/check_circle:")
        return spec, released, None
