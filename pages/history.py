"""History: every saved investigation; reopen one as it was, compare two, rename or delete."""

import pandas as pd
import streamlit as st

from provenance.investigations.comparison import compare_investigations
from provenance.investigations.store import StoreError
from ui.comparison import show_comparison
from ui.results import show_investigation
from ui.session import shared_store
from ui.widgets import download_table

OPEN_KEY, CONFIRM_KEY, MESSAGE_KEY = "history_open", "history_confirm_delete", "history_message"

st.title("History")
st.caption("Every investigation is saved as it runs, from this dashboard and from the command line alike. Reopen "
           "one to see its tables and figures as they were, download its report, compare two, rename or delete.")

store = shared_store()


def _rename(investigation_id: str) -> None:
    new_name = st.session_state.get(f"history_rename_{investigation_id}", "")
    try:
        inv = store.rename(investigation_id, new_name)
    except StoreError as exc:
        st.session_state[MESSAGE_KEY] = ("error", str(exc))
    else:
        st.session_state[MESSAGE_KEY] = ("success", f"Renamed to '{inv.name}'.")


def _delete(investigation_id: str) -> None:
    st.session_state.pop(CONFIRM_KEY, None)
    try:
        inv = store.get(investigation_id)
        store.delete(inv.id)
    except StoreError as exc:
        st.session_state[MESSAGE_KEY] = ("error", str(exc))
        return
    st.session_state.pop(OPEN_KEY, None)
    st.session_state[MESSAGE_KEY] = ("success", f"Deleted '{inv.name}' with its {inv.n_documents} document(s), "
                                                "scores and attached results.")


def _ask_to_delete(investigation_id: str | None) -> None:
    if investigation_id is None:
        st.session_state.pop(CONFIRM_KEY, None)
    else:
        st.session_state[CONFIRM_KEY] = investigation_id


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
    for key in (OPEN_KEY, "history_compare_a", "history_compare_b"):  # forget choices of deleted investigations
        if key in st.session_state and st.session_state[key] not in names:
            del st.session_state[key]
    listing = store.table()
    table = listing.copy()
    for column in ("created_at", "updated_at"):
        table[column] = pd.to_datetime(table[column], utc=True, errors="coerce")
    st.dataframe(
        table.drop(columns=["id"]), hide_index=True, width="stretch",
        column_config={"name": "Name", "model": "Model", "status": "Status", "documents": "Documents",
                       "scored": "Scored", "unscorable": "Unscorable", "pending": "Pending", "verdict": "Verdict",
                       "created_at": st.column_config.DatetimeColumn("Created (UTC)", format="YYYY-MM-DD HH:mm"),
                       "updated_at": st.column_config.DatetimeColumn("Updated (UTC)", format="YYYY-MM-DD HH:mm")})
    download_table(listing, "investigations", key="history_list")

    open_tab, compare_tab = st.tabs(["Reopen", "Compare two"])
    with open_tab:
        chosen = st.selectbox("Investigation", list(names), format_func=names.get, key=OPEN_KEY)
        with st.expander("Rename or delete", icon=":material/edit:"):
            cols = st.columns([3, 1])
            cols[0].text_input("New name", value=names[chosen], key=f"history_rename_{chosen}")
            cols[1].button("Rename", key="history_rename", on_click=_rename, args=(chosen,),
                           icon=":material/drive_file_rename_outline:")
            if st.session_state.get(CONFIRM_KEY) == chosen:
                inv = store.get(chosen)
                st.warning(f"Delete '{inv.name}' with its {inv.n_documents} document text(s), {inv.n_scored} score "
                           "row(s) and attached results? This cannot be undone; download its report first if you "
                           "may need it.", icon=":material/warning:")
                yes, no = st.columns(2)
                yes.button("Yes, delete it", key="history_delete_yes", type="primary", on_click=_delete,
                           args=(chosen,), icon=":material/delete_forever:")
                no.button("Cancel", key="history_delete_no", on_click=_ask_to_delete, args=(None,))
            else:
                st.button("Delete", key="history_delete", on_click=_ask_to_delete, args=(chosen,),
                          icon=":material/delete:")
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
