"""The values the investigation store keeps and gives back: the ``Investigation`` record, the JSON form of rows,
settings and artifacts (numpy and pandas values made plain), and the result table's column order.

Pure conversions: nothing here opens the database (``store.py`` does).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum

import numpy as np
import pandas as pd

from ..scores import registry
from ..verdicts.verdict import Verdict

log = logging.getLogger(__name__)


class Kind(StrEnum):
    """What an investigation asks, recorded by the use case that runs it (never guessed from its text): which
    view, figures and report it gets."""

    DOCUMENTS = "documents"  # scoring.score_set: scores of a set of documents, no verdict
    REFERENCE = "reference"  # reference.compare_with_reference: documents against a reference set, with verdicts
    LABELLED = "labelled"  # labelled.evaluate_labelled_set: a benchmark on members and non-members
    GHOST = "ghost"  # ghost_test.run_ghost_test: planted identifiers against fresh draws
    MODELS = "models"  # models.compare_models: the same documents put to several models, side by side

    @property
    def label(self) -> str:
        """The kind in words, for lists and headings."""
        return KIND_LABELS[self]


KIND_LABELS = {Kind.DOCUMENTS: "Documents (scores only)", Kind.REFERENCE: "Documents against a reference set",
               Kind.LABELLED: "Benchmark (labelled set)", Kind.GHOST: "Ghost-sentence test",
               Kind.MODELS: "Several models side by side"}


def as_kind(value: str | None) -> Kind:
    """A stored kind as a Kind; an empty or unknown one (a store written by a newer version) reads as DOCUMENTS,
    the view that shows any investigation's rows and artifacts."""
    try:
        return Kind(value or Kind.DOCUMENTS)
    except ValueError:
        log.warning("unknown investigation kind %r; shown as documents", value)
        return Kind.DOCUMENTS


@dataclass
class Investigation:
    """One investigation's metadata (not its documents or rows; see ``InvestigationStore.results``)."""

    id: str
    name: str
    status: str
    message: str
    model_spec: str
    model_identity: str
    model_info: dict
    settings: dict
    verdict: Verdict | None
    created_at: str
    updated_at: str
    n_documents: int = 0
    n_scored: int = 0
    n_unscorable: int = 0
    kind: Kind = Kind.DOCUMENTS

    @property
    def n_done(self) -> int:
        """Documents with a result (scored, or known to be unscorable)."""
        return self.n_scored + self.n_unscorable

    @property
    def n_pending(self) -> int:
        return max(0, self.n_documents - self.n_done)

    @property
    def model_name(self) -> str:
        return str(self.model_info.get("name") or self.model_spec)

    def as_dict(self) -> dict:
        """Plain JSON-able facts, including the derived counts."""
        out = asdict(self)
        out.update(verdict=self.verdict.to_dict() if self.verdict is not None else None, n_done=self.n_done,
                   n_pending=self.n_pending)
        return out


def to_jsonable(value):
    """numpy / pandas values -> plain Python for JSON (NaN and infinities kept as floats)."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def dumps(value) -> str:
    """JSON text for the store (NaN allowed, so a missing score survives a round trip)."""
    return json.dumps(to_jsonable(value), ensure_ascii=False, allow_nan=True)


def investigation_from_row(row: Mapping) -> Investigation:
    """An ``investigations`` row (with the counts of ``store._SELECT_INVESTIGATIONS``) as an Investigation."""
    return Investigation(
        id=row["id"], name=row["name"], status=row["status"], message=row["message"], model_spec=row["model_spec"],
        model_identity=row["model_identity"], model_info=json.loads(row["model_info"] or "{}"),
        settings=json.loads(row["settings"] or "{}"), verdict=stored_verdict(row["verdict"]),
        created_at=row["created_at"], updated_at=row["updated_at"], n_documents=row["n_documents"],
        n_scored=row["n_scored"], n_unscorable=row["n_unscorable"], kind=as_kind(row["kind"]))


def stored_verdict(text: str | None) -> Verdict | None:
    """The stored verdict as a value; None when there is none or it cannot be read (logged, never fatal: an
    unreadable verdict must not hide the investigation's scores)."""
    if not text:
        return None
    try:
        return Verdict.from_dict(json.loads(text))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("unreadable stored verdict %r: %s", text[:200], exc)
        return None


def ordered_frame(records: list[dict], scores: Sequence[str] | None) -> pd.DataFrame:
    """Rows -> DataFrame with the pipeline's column order first, then score columns, extras, and sha256 last."""
    from ..scores.table import BASE_COLUMNS

    seen: dict[str, None] = {}
    for record in records:
        seen.update(dict.fromkeys(record))
    order = [c for c in BASE_COLUMNS if c in seen or not records]
    order += [c for c in (scores or registry.SCORES) if c in seen and c not in order]
    order += [c for c in seen if c not in order and c != "sha256"]
    order.append("sha256")
    frame = pd.DataFrame(records, columns=order)
    for c in order:
        if c not in ("document", "sha256") and frame[c].dtype == object:
            converted = pd.to_numeric(frame[c], errors="coerce")
            if converted.notna().sum() == frame[c].notna().sum():
                frame[c] = converted
    return frame


def table_json(table: pd.DataFrame) -> str:
    """A DataFrame as JSON text for the store: its columns, index and rows (``orient="split"``), every float kept
    as it is, infinities and NaN included (pandas' own JSON writer turns infinities into null)."""
    return dumps(table.to_dict(orient="split"))


def load_artifact(kind: str, data: str):
    """A stored artifact as a value: a DataFrame for tables (kind 'frame', written by ``table_json``; kind
    'table', pandas' JSON of older stores), else the JSON value."""
    if kind == "frame":
        split = json.loads(data)
        return pd.DataFrame(split["data"], index=split["index"], columns=split["columns"])
    if kind == "table":
        from io import StringIO

        return pd.read_json(StringIO(data), orient="split")
    return json.loads(data)
