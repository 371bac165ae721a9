"""History: every saved investigation with its kind and verdict; reopen one as it was (its own view for its kind),
compare two, rename or delete."""

import pandas as pd
import streamlit as st

from provenance.investigations.comparison import compare_investigations
from provenance.investigations.records import Investigation, Kind
from provenance.investigations.scaled_runs import import_scored_folder
from provenance.investigations.store import COMPLETE, StoreError
from ui.comparison import show_comparison
from ui.results import show_investigation
from ui.session import shared_store
from ui.widgets import plain, download_table

OPEN_KEY, CONFIRM_KEY, MESSAGE_KEY = "history_open", "history_confirm_delete", "history_message"
SELECTORS = (OPEN_KEY, "history_compare_a", "history_compare_b")
# Why an investigation has no verdict, by kind, once it is complete.
NO_VERDICT = {Kind.DOCUMENTS: "none: scores only (add a reference set for a verdict)",
              Kind.REFERENCE: "none: the sets could not be compared",
              Kind.LABELLED: "none: too few members or non-members for the set-level test",
              Kind.GHOST: "none: the test did not finish",
              Kind.MODELS: "one per model: reopen it to see them"}

st.title("History")
st.caption("Every investigation is saved as it runs, from this dashboard and from the command line alike. Reopen "
           "one to see its tables and figures as they were, download its report, compare two, rename or delete.")

store = shared_store()


def verdict_text(inv: Investigation) -> str:
    """What the History list says in the Verdict column: the verdict's words, or why there is none (yet)."""
    if inv.verdict is not None:
        return inv.verdict.words()
    if inv.status != COMPLETE:
        return f"none yet ({inv.status})"
    return NO_VERDICT[inv.kind]


def _select(investigation_id: str | None) -> None:
    """Point the selectors that showed ``investigation_id`` at it again (after a rename), so they show its new
    name: a selector keeps the label it was given until the page sets its value."""
    for key in SELECTORS:
        if st.session_state.get(key) == investigation_id:
            st.session_state[key] = investigation_id


def _rename(investigation_id: str) -> None:
    new_name = st.session_state.get(f"history_rename_{investigation_id}", "")
    try:
        inv = store.rename(investigation_id, new_name)
    except StoreError as exc:
        st.session_state[MESSAGE_KEY] = ("error", str(exc))
    else:
        _select(inv.id)
        st.session_state[MESSAGE_KEY] = ("success", f"Renamed to '{plain(inv.name)}'.")


def _delete(investigation_id: str) -> None:
    st.session_state.pop(CONFIRM_KEY, None)
    try:
        inv = store.get(investigation_id)
        store.delete(inv.id)
    except StoreError as exc:
        st.session_state[MESSAGE_KEY] = ("error", str(exc))
        return
    remaining = [other.id for other in store.list()]
    for key in SELECTORS:  # selectors that showed it move to an investigation that still exists
        if st.session_state.get(key) == inv.id:
            if remaining:
                st.session_state[key] = remaining[0]
            else:
                st.session_state.pop(key, None)
    st.session_state[MESSAGE_KEY] = ("success", f"Deleted '{plain(inv.name)}' with its {inv.n_documents} document(s), "
                                                "scores and attached results.")


def _open_folder() -> None:
    """Open a scaled run's output folder (``score --engine ray --out DIR``) as an investigation: its rows and
    manifest are read, nothing in it is run; with a reference folder, verdicts are computed as for any
    investigation."""
    folder = st.session_state.get("history_folder", "").strip()
    reference = st.session_state.get("history_folder_reference", "").strip() or None
    name = st.session_state.get("history_folder_name", "").strip() or None
    if not folder:
        st.session_state[MESSAGE_KEY] = ("error", "Give the path of the folder the run wrote (its --out).")
        return
    try:
        result = import_scored_folder(store, folder, investigation=name, reference=reference)
    except (ValueError, OSError) as exc:
        st.session_state[MESSAGE_KEY] = ("error", plain(str(exc)))
        return
    st.session_state[OPEN_KEY] = result.investigation.id
    st.session_state[MESSAGE_KEY] = ("success", f"Opened as '{plain(result.investigation.name)}'. "
                                                f"{plain(result.sentence())}")


def _ask_to_delete(investigation_id: str | None) -> None:
    if investigation_id is None:
        st.session_state.pop(CONFIRM_KEY, None)
    else:
        st.session_state[CONFIRM_KEY] = investigation_id


with st.expander("Open a scored folder (from `score --engine ray`)", icon=":material/folder_open:"):
    st.caption("A run on a Ray cluster writes Parquet shards and a manifest into its --out folder. Open it here as an "
               "investigation: its rows are read (nothing in the folder is run) and the texts are taken from the "
               "corpus it scored. A reference folder (texts the model cannot have seen, scored the same way) gives "
               "per-document and set verdicts.")
    st.text_input("Folder", key="history_folder", placeholder="/data/runs/my-corpus")
    cols = st.columns(2)
    cols[0].text_input("Reference folder (optional)", key="history_folder_reference")
    cols[1].text_input("Investigation name (optional)", key="history_folder_name",
                       placeholder="the folder's name")
    st.button("Open folder", key="history_open_folder", on_click=_open_folder, icon=":material/upload_file:")

kind, text = st.session_state.pop(MESSAGE_KEY, (None, None))
if kind == "error":
    st.error(text, icon=":material/error:")
elif kind == "success":
    st.success(text, icon=":material/check_circle:")

investigations = store.list()
if not investigations:
    st.info("No investigations yet. Score documents on the Documents page (or with `python -m provenance score "
            "FILES --investigation NAME`); every run is saved here automatically.", icon=":material/history:")
else:
    names = {inv.id: inv.name for inv in investigations}
    for key in SELECTORS:  # forget choices of deleted investigations
        if key in st.session_state and st.session_state[key] not in names:
            del st.session_state[key]
    listing = store.table()
    by_id = {inv.id: inv for inv in investigations}
    listing["kind"] = [by_id[i].kind.label for i in listing["id"]]
    listing["verdict"] = [verdict_text(by_id[i]) for i in listing["id"]]
    first = ["id", "name", "kind", "verdict", "status"]
    listing = listing[first + [c for c in listing.columns if c not in first]]
    table = listing.copy()
    for column in ("created_at", "updated_at"):
        table[column] = pd.to_datetime(table[column], utc=True, errors="coerce")
    st.dataframe(
        table.drop(columns=["id"]), hide_index=True, width="stretch",
        column_config={"name": "Name", "kind": "Kind", "model": "Model", "status": "Status",
                       "documents": "Documents", "scored": "Scored", "unscorable": "Unscorable", "pending": "Pending",
                       "verdict": st.column_config.TextColumn("Verdict", width="large"),
                       "created_at": st.column_config.DatetimeColumn("Created (UTC)", format="YYYY-MM-DD HH:mm"),
                       "updated_at": st.column_config.DatetimeColumn("Updated (UTC)", format="YYYY-MM-DD HH:mm")})
    download_table(listing, "investigations", key="history_list")

    open_tab, compare_tab = st.tabs(["Reopen", "Compare two"])
    with open_tab:
        chosen = st.selectbox("Investigation", list(names), format_func=names.get, key=OPEN_KEY)
        confirming = st.session_state.get(CONFIRM_KEY) == chosen
        with st.expander("Rename or delete", icon=":material/edit:"):
            cols = st.columns([3, 1])
            cols[0].text_input("New name", value=names[chosen], key=f"history_rename_{chosen}")
            cols[1].button("Rename", key="history_rename", on_click=_rename, args=(chosen,),
                           icon=":material/drive_file_rename_outline:")
            st.button("Delete", key="history_delete", on_click=_ask_to_delete, args=(chosen,),
                      icon=":material/delete:", disabled=confirming)
        if confirming:  # outside the expander: it stays in sight when the expander closes on the rerun
            inv = store.get(chosen)
            with st.container(border=True):
                st.warning(f"Delete '{plain(inv.name)}' with its {inv.n_documents} document text(s), {inv.n_scored} "
                           "score row(s) and attached results? This cannot be undone; download its report first "
                           "if you may need it.", icon=":material/warning:")
                yes, no = st.columns(2)
                yes.button("Yes, delete it", key="history_delete_yes", type="primary", on_click=_delete,
                           args=(chosen,), icon=":material/delete_forever:")
                no.button("Cancel", key="history_delete_no", on_click=_ask_to_delete, args=(None,))
        show_investigation(store, chosen, key_prefix="history",
                           resume_hint="score the same documents under this name on the Documents page (same "
                                       "model and settings) to resume it")

    with compare_tab:
        if len(names) < 2:
            st.info("Comparing needs two investigations; this store has only one.", icon=":material/info:")
        else:
            ids = list(names)
            cols = st.columns(2)
            first = cols[0].selectbox("First", ids, format_func=names.get, key="history_compare_a")
            second = cols[1].selectbox("Second", ids, index=1, format_func=names.get, key="history_compare_b")
            if first == second:
                st.info("Choose two different investigations.", icon=":material/info:")
            else:
                show_comparison(compare_investigations(store, first, second), key_prefix="history")
