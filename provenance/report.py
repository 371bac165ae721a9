"""Reports of an investigation: a CSV table, a JSON record, and a self-contained HTML report, one kind of report
per kind of investigation (``investigations.records.Kind``: documents, documents against a reference set, a
labelled benchmark, a ghost-sentence test, several models side by side: ``report_models``), chosen from the kind the use case recorded.

The HTML report is meant to be read by someone who was not there (a lawyer, a board), on screen and on paper: it
starts with a plain-language summary and the verdict, then shows the evidence (the verdict per document first:
document, verdict, p-value, tokens; then the figures and the full tables), then the method and its caveats, then
an appendix (documents with their SHA-256, the model, the settings). Figures are static SVG drawn by
``svg_charts``: the file opens offline, prints sharply and stays small (no plotting library inside). The words are
made in ``report_text``, the layout in ``report_layout``.

Conventions read from the store (the use cases of ``investigations`` write them):
- ``Investigation.kind`` and ``Investigation.verdict`` (a Verdict value, verdicts/verdict.py), if any;
- result columns ``p_value``, ``verdict_label``, ``verdict_reasons`` and ``verdict`` (per-document verdicts,
  ``verdicts.pvalues.document_verdicts``), ``label`` (labelled sets);
- artifacts ``shift_check`` (``ShiftCheck.summary()``), ``dataset_inference`` and ``false_positive_mode`` (set-level
  tests' summaries), ``set_comparison``, ``labelled_evaluation`` and ``roc_curves`` (tables), ``meta_classifier``,
  ``ghost_detection`` (table), ``null_draws``, ``null_differences`` (a reference-calibrated ghost test's null),
  ``ghost_test_settings``, ``notes`` and ``ingest_errors`` (files that
  could not be read); any other artifact is shown generically (tables as tables, records as key-value tables);
- the ``REFERENCE`` collection (a reference set's texts and scores) and a ghost test's null collections.

Page-friendly entry points: ``collect_report`` then ``report_csv`` / ``report_json`` / ``report_html`` (strings),
or ``render_report(store, ref, fmt)`` (bytes for a download button) and ``write_report(store, ref, path)``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .files import atomic_write_bytes
from .investigations.records import Investigation, Kind, to_jsonable
from .investigations.store import REFERENCE, InvestigationStore
from .report_text import (CAVEATS, CHUNK_META_EXPLANATION, method_sentences, shift_warning, summary_sentences,
                          verdict_statement)
from .scores import registry

REPORT_FORMATS = ("html", "json", "csv")
REPORT_FORMAT_VERSION = 2
NULL_COLLECTION_PREFIX = "null "  # investigations.ghost_test's collections of null draws (imported there: torch)


@dataclass
class ReportData:
    """Everything a report (or a reopened view) shows, read once from the store."""

    investigation: Investigation
    table: pd.DataFrame
    documents: pd.DataFrame
    unscorable: dict[str, str]
    artifacts: dict
    texts: dict[str, str] = field(default_factory=dict)
    reference: pd.DataFrame = field(default_factory=pd.DataFrame)
    reference_documents: pd.DataFrame = field(default_factory=pd.DataFrame)
    nulls: dict[str, np.ndarray] = field(default_factory=dict)
    generated_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @property
    def kind(self) -> Kind:
        """What the investigation asks, as its use case recorded it."""
        return self.investigation.kind

    @property
    def scores(self) -> list[str]:
        """Score columns present in the table, in the investigation's order."""
        wanted = self.investigation.settings.get("scores") or list(registry.SCORES)
        return [s for s in wanted if s in self.table.columns]


def collect_report(store: InvestigationStore, ref: str, *, include_texts: bool = False) -> ReportData:
    """Read an investigation (id or name) with its results, documents, reference set, null draws and artifacts for
    reporting. ``include_texts`` adds the document texts (JSON report only; the HTML and CSV reports never contain
    them)."""
    inv = store.get(ref)
    texts = {d.name: d.text for d in store.documents(inv.id)} if include_texts else {}
    artifacts = store.artifacts(inv.id)
    reference = store.results(inv.id, collection=REFERENCE)
    if len(reference):  # the reference set's scores are evidence too (kept under this name in the JSON report)
        artifacts["reference_scores"] = reference
    return ReportData(investigation=inv, table=store.results(inv.id), documents=store.documents_table(inv.id),
                      unscorable=store.unscorable(inv.id), artifacts=artifacts, texts=texts, reference=reference,
                      reference_documents=store.documents_table(inv.id, collection=REFERENCE)
                      if len(reference) or inv.kind is Kind.MODELS else pd.DataFrame(),
                      nulls=recorded_nulls(store, inv) if inv.kind is Kind.GHOST else {})


def recorded_nulls(store: InvestigationStore, inv: Investigation) -> dict[str, np.ndarray]:
    """A ghost test's null as the test ranked its identifiers, in the order the draws were drawn: for a
    reference-calibrated test, NLL_reference - NLL_target of each fresh draw (artifact ``null_differences``, one
    array per generator key); otherwise, for each null collection, the NLLs of its first ``n_null`` draws
    (``ghost_test_settings``). Empty for a reference-calibrated test that recorded no differences (one run before
    they were recorded): its null collections hold the tested model's NLLs, not what it ranked."""
    if inv.settings.get("reference_model"):
        differences = store.get_artifact(inv.id, "null_differences")
        return ({key: np.asarray(values, dtype=float) for key, values in differences.items()}
                if isinstance(differences, dict) else {})
    settings = store.get_artifact(inv.id, "ghost_test_settings") or {}
    n_null = int(settings.get("n_null") or 0)
    out = {}
    for collection in store.collections(inv.id):
        if not collection.startswith(NULL_COLLECTION_PREFIX):
            continue
        rows = store.results(inv.id, collection=collection)
        nll = dict(zip(rows["document"], rows["nll"])) if len(rows) and "nll" in rows else {}
        values = []
        for draw in store.documents_table(inv.id, collection=collection)["name"]:
            if draw not in nll:
                break
            values.append(float(nll[draw]))
        out[collection.removeprefix(NULL_COLLECTION_PREFIX)] = np.asarray(values[: n_null or None], dtype=float)
    return out


# ---------------------------------------------------------------------------------------------- CSV and JSON


def report_csv(data: ReportData) -> str:
    """The score table (one row per scored document, with the text's SHA-256), followed by one row per document
    that could not be scored (its ``error`` column says why). A ghost-sentence test has no documents: its CSV is
    the table of identifiers (p-value, exposure, last-k hits); several models side by side, the grid of (document,
    model) cells."""
    if data.kind is Kind.GHOST:
        identifiers = data.artifacts.get("ghost_detection")
        return identifiers.to_csv(index=False) if isinstance(identifiers, pd.DataFrame) else ""
    if data.kind is Kind.MODELS:  # one row per (document, model): the heatmap's cells
        grid = data.artifacts.get("model_grid")
        return grid.to_csv(index=False) if isinstance(grid, pd.DataFrame) else ""
    table = data.table.copy()
    if data.unscorable:
        extra = pd.DataFrame({"document": list(data.unscorable), "error": list(data.unscorable.values())})
        sha = data.documents.set_index("name")["sha256"] if len(data.documents) else pd.Series(dtype=str)
        extra["sha256"] = [sha.get(n, "") for n in extra["document"]]
        table = pd.concat([table, extra], ignore_index=True)
    return table.to_csv(index=False)


def _strict(value):
    """JSON-able with NaN and infinities as null (strict JSON that every reader accepts)."""
    value = to_jsonable(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strict(v) for v in value]
    return value


def report_dict(data: ReportData) -> dict:
    """The full report as plain JSON-able data (what ``report_json`` writes)."""
    artifacts = {}
    for name, value in data.artifacts.items():
        artifacts[name] = value.to_dict(orient="records") if isinstance(value, pd.DataFrame) else value
    documents = data.documents.to_dict(orient="records")
    if data.texts:
        for d in documents:
            d["text"] = data.texts.get(d["name"], "")
    return _strict({
        "report": {"format_version": REPORT_FORMAT_VERSION, "generated_at": data.generated_at,
                   "software": f"provenance {__version__}"},
        "investigation": data.investigation.as_dict(),
        "kind": data.kind.value,
        "summary": summary_sentences(data),
        "results": data.table.to_dict(orient="records"),
        "unscorable": data.unscorable,
        "documents": documents,
        "artifacts": artifacts,
        "method": method_sentences(data),
    })


def report_json(data: ReportData) -> str:
    """The full report as strict JSON (missing numbers are null)."""
    return json.dumps(report_dict(data), ensure_ascii=False, indent=2, allow_nan=False)


# ---------------------------------------------------------------------------------------------- HTML


def report_html(data: ReportData) -> str:
    """A self-contained HTML report for the investigation's kind (see ``report_layout.render``): summary, evidence
    (tables and static figures), method and caveats, appendix. Everything user-supplied is escaped."""
    from .report_layout import render

    return render(data)


# ---------------------------------------------------------------------------------------------- entry points


def render_report(store: InvestigationStore, ref: str, fmt: str, *, include_texts: bool = False) -> bytes:
    """A report as UTF-8 bytes ('html', 'json' or 'csv'), ready for a download button or a file."""
    fmt = fmt.lower().lstrip(".")
    if fmt not in REPORT_FORMATS:
        raise ValueError(f"Unknown report format '{fmt}'; choose one of {', '.join(REPORT_FORMATS)}.")
    data = collect_report(store, ref, include_texts=include_texts and fmt == "json")
    text = {"html": report_html, "json": report_json, "csv": report_csv}[fmt](data)
    return text.encode("utf-8")


def report_filename(investigation: Investigation, fmt: str) -> str:
    """A safe file name for a downloaded report, from the investigation's name."""
    from .documents import safe_filename

    return safe_filename(f"{investigation.name}.{fmt.lower().lstrip('.')}", default=f"report.{fmt}")


def write_report(store: InvestigationStore, ref: str, out: str | Path, *, include_texts: bool = False) -> Path:
    """Write a report of an investigation; the format follows the extension of ``out`` (.html, .json, .csv)."""
    out = Path(out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt == "htm":
        fmt = "html"
    if fmt not in REPORT_FORMATS:
        raise ValueError(f"Cannot write '{out.name}': use a file name ending in .html, .json or .csv.")
    return atomic_write_bytes(out, render_report(store, ref, fmt, include_texts=include_texts))


__all__ = ["CAVEATS", "CHUNK_META_EXPLANATION", "ReportData", "REPORT_FORMATS", "collect_report", "method_sentences",
           "recorded_nulls", "render_report", "report_csv", "report_dict", "report_filename", "report_html",
           "report_json", "shift_warning", "summary_sentences", "verdict_statement", "write_report"]
