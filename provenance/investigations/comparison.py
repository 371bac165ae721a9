"""Two investigations side by side: their facts (model, settings, counts, verdict) and the scores of the documents
they share (matched by text, SHA-256), so a reader sees what changed and why."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from .records import Investigation, to_jsonable
from .store import InvestigationStore


@dataclass
class InvestigationComparison:
    """Two investigations side by side: ``facts`` (``compare_facts``) and ``scores`` (``compare_scores``)."""

    first: Investigation
    second: Investigation
    facts: pd.DataFrame
    scores: pd.DataFrame

    @property
    def values(self) -> list[str]:
        """The values both have for shared documents (tokens, perplexity, scores ...): ``<value>_diff`` columns."""
        return [c.removesuffix("_diff") for c in self.scores.columns if c.endswith("_diff")]


def compare_investigations(store: InvestigationStore, first: str, second: str) -> InvestigationComparison:
    """Read two investigations (ids or names) and put their facts and their shared documents' scores side by
    side; a StoreError names one that does not exist."""
    a, b = store.get(first), store.get(second)
    return InvestigationComparison(first=a, second=b, facts=compare_facts(a, b),
                                   scores=compare_scores(store, a.id, b.id))


def compare_scores(store: InvestigationStore, first: str, second: str) -> pd.DataFrame:
    """Documents shared by two investigations (same text, by SHA-256), side by side with score differences.

    Columns: ``document`` (name in the first), ``document_b`` (name in the second), ``sha256``, then for every
    numeric column both have (tokens, nll, perplexity, scores): ``<col>_a``, ``<col>_b`` and
    ``<col>_diff`` = b - a.
    """
    a, b = store.results(first), store.results(second)
    return compare_tables(a, b)


def compare_facts(a: Investigation, b: Investigation) -> pd.DataFrame:
    """Two investigations' facts side by side (model, status, counts, verdict, every setting): columns ``fact``,
    ``first``, ``second`` and ``same`` (False where they differ), so a reader sees why their scores may differ."""
    def facts(inv: Investigation) -> dict:
        out = {"name": inv.name, "model": inv.model_name, "model identity": inv.model_identity,
               "status": inv.status, "documents": inv.n_documents, "scored": inv.n_scored,
               "unscorable": inv.n_unscorable, "pending": inv.n_pending,
               "verdict": inv.verdict.words() if inv.verdict else "",
               "created": inv.created_at, "updated": inv.updated_at}
        out.update({f"setting: {k}": v for k, v in inv.settings.items()})
        return out

    fa, fb = facts(a), facts(b)
    keys = list(dict.fromkeys(list(fa) + list(fb)))

    def show(value) -> str:
        if value is None:
            return ""
        return json.dumps(to_jsonable(value)) if isinstance(value, (dict, list)) else str(value)

    rows = [{"fact": k, "first": show(fa.get(k)), "second": show(fb.get(k))} for k in keys]
    frame = pd.DataFrame(rows, columns=["fact", "first", "second"])
    frame["same"] = frame["first"] == frame["second"]
    return frame


def compare_tables(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Join two result tables on ``sha256`` (first occurrence of each text) and subtract shared numeric columns."""
    keys = ["document", "sha256"]
    numeric = [c for c in a.columns if c in b.columns and c not in keys
               and pd.api.types.is_numeric_dtype(a[c]) and pd.api.types.is_numeric_dtype(b[c])]
    columns = ["document", "document_b", "sha256"] + [f"{c}_{s}" for c in numeric for s in ("a", "b", "diff")]
    if a.empty or b.empty or "sha256" not in a or "sha256" not in b:
        return pd.DataFrame(columns=columns)
    left = a.drop_duplicates("sha256")[keys + numeric]
    right = b.drop_duplicates("sha256")[keys + numeric]
    merged = left.merge(right, on="sha256", suffixes=("_a", "_b"))
    out = pd.DataFrame({"document": merged["document_a"], "document_b": merged["document_b"],
                        "sha256": merged["sha256"]})
    for c in numeric:
        out[f"{c}_a"], out[f"{c}_b"] = merged[f"{c}_a"], merged[f"{c}_b"]
        out[f"{c}_diff"] = merged[f"{c}_b"] - merged[f"{c}_a"]
    return out[columns].reset_index(drop=True)
