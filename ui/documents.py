"""The Documents page's pieces: what a verdict needs before anything is scored (reference texts for the chosen
false-positive rate, documents for the set-level test) counted against what was uploaded, the warning for documents
too short to judge, and every document's verdict (or why there is none) after a run."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd
import streamlit as st

from provenance.files import sha256_text
from provenance.verdicts.pvalues import DEFAULT_MIN_TOKENS, min_reference_size
from provenance.verdicts.rank_tests import MIN_RANK_TEST_DOCUMENTS, rank_test
from ui.widgets import plain

MAX_SET_TEST_DOCUMENTS = 10_000


@lru_cache(maxsize=256)
def smallest_set_p(n_suspect: int, n_reference: int) -> float:
    """The smallest p-value the set-level rank test can give with these set sizes: its p-value when every suspect
    document outranks every reference text (computed by the test itself, so it is the test's own floor)."""
    suspect = pd.DataFrame({"s": [float(n_reference + i) for i in range(n_suspect)]})
    reference = pd.DataFrame({"s": [float(i) for i in range(n_reference)]})
    return rank_test(suspect, reference, ["s"]).p_value


def set_test_size(fpr: float) -> int:
    """Fewest documents in each set (suspect and reference) with which the set-level rank test can reach ``fpr``:
    at least MIN_RANK_TEST_DOCUMENTS, more for very small false-positive rates. More reference texts than this
    only lower the test's floor."""
    n = MIN_RANK_TEST_DOCUMENTS
    while n < MAX_SET_TEST_DOCUMENTS and smallest_set_p(n, n) > fpr:
        n += 1
    return n


def _have(have: int, needed: int, what: str) -> str:
    return f"You have {have:,} of the {needed:,} {what} needed." if have < needed else \
        f"You have {have:,} {what}: enough."


def requirements_lines(n_documents: int, n_reference: int, fpr: float) -> list[tuple[bool, str]]:
    """(met, sentence) for each verdict at false-positive rate ``fpr``: per-document verdicts need
    ``min_reference_size(fpr)`` reference texts; the set-level rank test needs ``set_test_size(fpr)`` documents
    in each set. Counts are those uploaded now."""
    per_document = min_reference_size(fpr)
    set_documents = set_reference = set_test_size(fpr)
    return [
        (n_reference >= per_document,
         f"A verdict for each document needs at least {per_document} reference texts: a document's p-value is its "
         f"rank among them, so {per_document} allow p = 1/{per_document + 1} = {1 / (per_document + 1):.3g}, reached "
         f"only by a document above every one of them (more reference texts give more power). "
         + _have(n_reference, per_document, "reference texts")),
        (n_documents >= set_documents and n_reference >= set_reference,
         f"A verdict for the whole set of your documents (a rank test of all of them against the reference texts) "
         f"needs at least {set_documents} documents and {set_reference} reference texts. "
         + _have(n_documents, set_documents, "documents")),
    ]


def show_requirements(n_documents: int, n_reference: int, fpr: float) -> None:
    """What a verdict at ``fpr`` needs, counted against what was uploaded, shown before anything is scored."""
    lines = requirements_lines(n_documents, n_reference, fpr)
    with st.container(border=True):
        st.markdown(f"**What a verdict needs at a false-positive rate of {fpr:g}**")
        for met, sentence in lines:
            st.markdown(f"{':green[:material/check_circle:]' if met else ':orange[:material/error:]'} {sentence}")
        if n_reference == 0:
            st.caption("Without reference texts the documents are scored, but no verdict can be given: a score is "
                       "not a verdict until it is compared with texts the model cannot have seen.")


def scored_token_counts(model, texts: list[str]) -> list[int]:
    """Scored tokens of each text under ``model`` (the first token is not scored), remembered per model and text
    in the browser session so reruns do not tokenise again."""
    memo: dict = st.session_state.setdefault("scored_token_counts", {})
    out = []
    for text in texts:
        key = (model.identity, sha256_text(text))
        if key not in memo:
            memo[key] = max(model.count_tokens(text) - 1, 0)
        out.append(memo[key])
    return out


def warn_short_documents(model, documents, what: str = "document", min_tokens: int = DEFAULT_MIN_TOKENS) -> None:
    """A warning naming the documents too short to judge (fewer than ``min_tokens`` scored tokens)."""
    if model is None or not documents:
        return
    counts = scored_token_counts(model, [d.text for d in documents])
    short = [(d.name, n) for d, n in zip(documents, counts) if n < min_tokens]
    if not short:
        return
    listed = ", ".join(f"{plain(name)} ({n} token{'' if n == 1 else 's'})" for name, n in short[:20])
    more = f" and {len(short) - 20} more" if len(short) > 20 else ""
    verdict = ("they are scored, but each gets 'inconclusive'" if what == "document" else
               "they still count in the comparison, but short texts make a noisy yardstick")
    st.warning(f"{len(short)} {what}(s) too short to judge: fewer than {min_tokens} scored tokens under "
               f"{plain(model.name)}, so {verdict}: {listed}{more}. Longer texts (a paragraph or more) give verdicts.",
               icon=":material/short_text:")


def every_document_verdict(store, investigation_id: str) -> pd.DataFrame:
    """One row per document of the investigation: its verdict in words (or why there is none), its p-value and
    scored tokens. Documents that could not be scored, or are not scored yet, say so."""
    documents = store.documents_table(investigation_id)
    results = store.results(investigation_id)
    unscorable = store.unscorable(investigation_id)
    by_name = {row["document"]: row for row in results.to_dict("records")}
    compared = "verdict" in results.columns
    rows = []
    for name in documents["name"]:
        row = by_name.get(name)
        if row is not None:
            words = row.get("verdict") if compared else None
            if not isinstance(words, str) or not words:
                words = "no verdict: add a reference set of texts the model cannot have seen"
            p = row.get("p_value") if compared else None
            rows.append({"document": name, "verdict": words, "p_value": p, "tokens": row.get("tokens")})
        elif name in unscorable:
            rows.append({"document": name, "verdict": f"no verdict: not scored ({unscorable[name]})",
                         "p_value": None, "tokens": None})
        else:
            rows.append({"document": name, "verdict": "no verdict yet: not scored (the run stopped first)",
                         "p_value": None, "tokens": None})
    table = pd.DataFrame(rows, columns=["document", "verdict", "p_value", "tokens"])
    table["tokens"] = table["tokens"].astype("Int64")
    return table


def show_every_document_verdict(store, investigation_id: str) -> None:
    """Every document's verdict (or why there is none) as a table, names and words shown as text; only once the
    documents were compared with a reference set (before that, no document has a verdict and the results say
    so)."""
    if "verdict" not in store.results(investigation_id).columns:
        return
    table = every_document_verdict(store, investigation_id)
    st.markdown(f"#### Every document's verdict ({len(table)})")
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"p_value": st.column_config.NumberColumn("p-value", format="%.4g"),
                                "tokens": st.column_config.NumberColumn("scored tokens")})
