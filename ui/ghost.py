"""The Ghost sentences page's pieces: the generator form, the registry table with its downloads, and a finished
test (verdict card, null histograms, the per-identifier table, report downloads), drawn the same way for a test
that just ran (``show_ghost_test``) and for one reopened from History (``show_stored_ghost_test``)."""

from __future__ import annotations

import json

from collections.abc import Sequence

import numpy as np
import pandas as pd
import streamlit as st

from provenance import charts, ghost
from provenance.investigations.records import Investigation
from provenance.investigations.store import InvestigationStore
from provenance.report import recorded_nulls
from provenance.verdicts.verdict import Verdict
from ui.results import report_downloads
from ui.widgets import download_table, show_figure, verdict_card


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


def show_registry(registry: ghost.Registry) -> None:
    """The registry's identifiers as a table, with downloads of the (private) registry and the (public)
    commitments."""
    table = pd.DataFrame([{"id": e.id, "identifier": e.identifier, "created": e.created,
                           "commitment": e.commitment} for e in registry.entries])
    st.dataframe(table, hide_index=True, width="stretch")
    cols = st.columns(2)
    cols[0].download_button("Download the registry (private)", json.dumps(registry.to_dict(), indent=1),
                            "ghost-registry.json", "application/json", icon=":material/lock:", on_click="ignore")
    cols[1].download_button("Download the commitments (to publish now)",
                            json.dumps(ghost.public_commitments(registry), indent=1), "ghost-commitments.json",
                            "application/json", icon=":material/public:", on_click="ignore")


def draw_ghost_test(verdict: Verdict, nulls: Sequence[np.ndarray], table: pd.DataFrame, key_prefix: str) -> None:
    """The verdict card, one null histogram per generator with the identifiers marked, and the per-identifier table
    with downloads; widget keys start with ``key_prefix``."""
    verdict_card("Were your identifiers trained on?", verdict,
                 f"A model that never saw your identifiers is called 'trained' with probability at most "
                 f"{verdict.fpr:g} (the false-positive rate).")
    # a reference-calibrated test ranks NLL_reference - NLL_model; its table carries that column
    statistic = "nll_difference" if "nll_difference" in table else "nll"
    for i, null in enumerate(nulls):  # one null per generator setting
        show_figure(charts.ghost_null_histogram(null, table, statistic=statistic), f"ghost-null-{i}",
                    f"fig_{key_prefix}_null_{i}")
    st.dataframe(table, hide_index=True, width="stretch")
    download_table(table, "ghost-detection", key=f"{key_prefix}_table")


def show_ghost_test(store: InvestigationStore, investigation_id: str, result: ghost.GhostDetection) -> None:
    """A finished test: the verdict card, one null histogram per generator with the identifiers marked, the
    per-identifier table with downloads, and the investigation's report downloads."""
    draw_ghost_test(result.verdict, list(result.null.values()), result.table, "ghost")
    inv = store.find(investigation_id)
    if inv is not None:
        report_downloads(store, inv, "ghost")


def show_stored_ghost_test(store: InvestigationStore, inv: Investigation, key_prefix: str) -> bool:
    """A ghost test reopened from the store, drawn as it was when it ran (its null draws are read back from the
    investigation). False (nothing drawn) when the test never finished."""
    table = store.get_artifact(inv.id, "ghost_detection")
    if inv.verdict is None or not isinstance(table, pd.DataFrame) or table.empty:
        return False
    # the recorded draws hold the tested model's NLLs; a reference-calibrated test ranked differences, not drawn here
    nulls = [] if "nll_difference" in table else list(recorded_nulls(store, inv).values())
    draw_ghost_test(inv.verdict, nulls, table, key_prefix)
    return True
