"""Reports of an investigation: a CSV table, a JSON record, and a self-contained HTML report.

The HTML report is meant to be read by someone who was not there (a lawyer, a board): it starts with a plain-language
summary, then shows the evidence (the score table and figures), then the method and its caveats (what a verdict
means and does not mean, the false-positive rate, the distribution-shift check). Figures are embedded with
plotly.js inline, so the file opens offline and needs nothing else.

Conventions read from the store (other features write them):
- ``Investigation.verdict``: the investigation's Verdict value (verdicts/verdict.py), if any,
  optionally ``p_value``, ``fpr`` and ``method``;
- result columns ``p_value`` and ``verdict`` (per-document verdicts, e.g. calibration.document_verdicts);
- artifacts ``shift_check`` (calibration.ShiftCheck.summary()), ``dataset_inference``
  (calibration.DatasetInference.summary()) and ``ingest_errors`` (files that could not be read); any other
  artifact is shown generically (tables as tables, anything else as JSON);
- the rows of the ``REFERENCE`` collection (a reference set's scores), shown as the table ``reference_scores``.

Page-friendly entry points: ``collect_report`` then ``report_csv`` / ``report_json`` / ``report_html`` (strings),
or ``render_report(store, ref, fmt)`` (bytes for a download button) and ``write_report(store, ref, path)``.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .scores import registry
from . import charts
from .files import atomic_write_bytes
from .investigations.records import Investigation, to_jsonable
from .investigations.store import REFERENCE, InvestigationStore
from .verdicts.verdict import Label

REPORT_FORMATS = ("html", "json", "csv")
REPORT_FORMAT_VERSION = 1
MAX_TABLE_ROWS = 500

CAVEATS = {
    "what_it_means": (
        "A verdict of 'evidence of training' means these texts look more familiar to the model than texts it cannot "
        "have seen, by more than chance explains at the stated false-positive rate. It is statistical evidence "
        "about the texts, not a record from the model's training data."),
    "what_it_does_not_mean": (
        "It does not show that these exact files were in the training data: the same passages may have reached the "
        "model through copies, quotations or common phrasing. 'No evidence' does not show that the texts were not "
        "used: a text seen once in a very large training set often leaves no measurable trace, and membership "
        "tests on single documents of large models are often close to chance."),
    "false_positive_rate": (
        "The false-positive rate (FPR) is the share of texts the model never saw that the test would still call "
        "'evidence of training'. At FPR 0.05, about one unseen text in twenty is flagged by chance, so a single "
        "flagged document among many is weak evidence; consistent results across many documents, or planted "
        "ghost sentences with their exact null, are stronger."),
    "shift_check": (
        "Comparing suspect texts with reference texts is only fair when the two sets differ in nothing but "
        "membership. The distribution-shift check trains a bag-of-words classifier (no language model) to tell the "
        "sets apart; if it can (AUC well above 0.5), a 'member' verdict may reflect differences in topic, time or "
        "style rather than training."),
    "raw_scores": (
        "A bare score is not a verdict. Perplexity and the other scores describe how predictable a text is to this "
        "model; many texts are predictable without having been trained on (simple, formulaic or widely quoted "
        "text). Scores only become evidence when compared with texts the model cannot have seen."),
}


@dataclass
class ReportData:
    """Everything a report shows, read once from the store."""

    investigation: Investigation
    table: pd.DataFrame
    documents: pd.DataFrame
    unscorable: dict[str, str]
    artifacts: dict
    texts: dict[str, str] = field(default_factory=dict)
    generated_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @property
    def scores(self) -> list[str]:
        """Score columns present in the table, in the investigation's order."""
        wanted = self.investigation.settings.get("scores") or list(registry.SCORES)
        return [s for s in wanted if s in self.table.columns]


def collect_report(store: InvestigationStore, ref: str, *, include_texts: bool = False) -> ReportData:
    """Read an investigation (id or name) with its results, documents and artifacts for reporting.
    ``include_texts`` adds the document texts (JSON report only; the HTML and CSV reports never contain them)."""
    inv = store.get(ref)
    texts = {d.name: d.text for d in store.documents(inv.id)} if include_texts else {}
    artifacts = store.artifacts(inv.id)
    reference = store.results(inv.id, collection=REFERENCE)
    if len(reference):  # the reference set's scores are evidence too, shown like an attached table
        artifacts["reference_scores"] = reference
    return ReportData(investigation=inv, table=store.results(inv.id), documents=store.documents_table(inv.id),
                      unscorable=store.unscorable(inv.id), artifacts=artifacts, texts=texts)


# ---------------------------------------------------------------------------------------------- plain language


def _fmt(value, digits: int = 4) -> str:
    """A number for reading (4 significant digits, 'n/a' for missing)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.{digits}g}"
    return str(value)


def verdict_statement(data: ReportData) -> str | None:
    """The investigation-level verdict sentence (words, p-value, false-positive rate, method), if one was stored."""
    verdict = data.investigation.verdict
    return verdict.sentence() if verdict is not None else None


def shift_warning(data: ReportData) -> str | None:
    """A warning sentence when the distribution-shift check found the compared sets confounded."""
    shift = data.artifacts.get("shift_check")
    if isinstance(shift, dict) and shift.get("confounded"):
        reason = shift.get("reason") or ""
        return ("Warning: a simple word-count classifier can tell the compared sets apart "
                f"(AUC {_fmt(shift.get('auc'), 2)}), so any 'member' verdict may reflect how the sets differ rather "
                f"than training. {reason}").strip()
    return None


def summary_sentences(data: ReportData) -> list[str]:
    """The plain-language summary that opens every report (a few sentences, no jargon beyond 'perplexity')."""
    inv, table = data.investigation, data.table
    model = inv.model_name or "an unnamed model"
    params = inv.model_info.get("parameters_human")
    model_words = f"{model} ({params} parameters)" if params else model
    out = [f"This investigation, '{inv.name}', asks whether the language model {model_words} was trained on "
           f"{inv.n_documents} document(s)."]
    tokens = int(pd.to_numeric(table["tokens"], errors="coerce").sum()) if "tokens" in table and len(table) else 0
    done = f"{len(table)} document(s) were scored ({tokens:,} tokens)"
    if data.unscorable:
        done += f"; {len(data.unscorable)} could not be scored (for example because they are too short)"
    out.append(done + ".")
    ingest_errors = data.artifacts.get("ingest_errors") or []
    if ingest_errors:
        out.append(f"{len(ingest_errors)} uploaded file(s) could not be read; they are listed in the evidence.")
    if inv.status != "complete" or inv.n_pending:
        out.append(f"The investigation is not complete (status: {inv.status}; {inv.n_pending} document(s) not yet "
                   "scored). Run it again to finish it; scores already computed are kept.")
    statement = verdict_statement(data)
    if statement:
        out.append(f"Verdict: {statement}")
    elif "verdict_label" in table.columns and table["verdict_label"].notna().any():
        counts = {label.value: int((table["verdict_label"] == label).sum()) for label in Label}
        out.append(f"Per-document verdicts: {counts['evidence of training']} show evidence of training, "
                   f"{counts['no evidence']} show no evidence, {counts['inconclusive']} are inconclusive.")
    else:
        out.append("No verdict was computed: these scores were not compared with texts the model cannot have seen, "
                   "so on their own they neither show nor rule out training.")
    if "perplexity" in table and table["perplexity"].notna().any() and len(table) > 1:
        ordered = table.dropna(subset=["perplexity"]).sort_values("perplexity")
        first, last = ordered.iloc[0], ordered.iloc[-1]
        out.append(f"The model found '{first['document']}' the most predictable (perplexity "
                   f"{_fmt(first['perplexity'], 3)}) and '{last['document']}' the least (perplexity "
                   f"{_fmt(last['perplexity'], 3)}); lower perplexity is consistent with, but not proof of, "
                   "training.")
    elif len(table) == 1 and "perplexity" in table:
        out.append(f"The model's perplexity on '{table['document'].iloc[0]}' is "
                   f"{_fmt(table['perplexity'].iloc[0], 3)} (lower = more predictable to the model).")
    warning = shift_warning(data)
    if warning:
        out.append(warning)
    return out


def method_sentences(data: ReportData) -> dict[str, str]:
    """Method and caveats, as headed paragraphs (the same text in every format)."""
    inv = data.investigation
    settings = inv.settings
    scores = data.scores
    fpr = inv.verdict.fpr if inv.verdict is not None else None
    method = {
        "How the scores were computed": (
            f"Each document was scored by the model {inv.model_name} (identity {inv.model_identity or 'unknown'}) "
            "in one forward pass: for every token after the first, the probability the model gave it given the "
            "text before it. Long texts are scored in overlapping windows so every token is scored once. All "
            "scores are oriented so that higher means 'more likely a member of the training data'. Scores: "
            + "; ".join(f"{s}: {registry.description(s)}" for s in scores)
            + (f" (k = {settings.get('k')})" if any(s in scores for s in ("mink", "minkpp")) else "") + "."),
        "What a verdict means": CAVEATS["what_it_means"],
        "What a verdict does not mean": CAVEATS["what_it_does_not_mean"],
        "False-positive rate": CAVEATS["false_positive_rate"]
        + (f" This investigation's verdict was set at FPR {_fmt(fpr, 2)}." if fpr is not None else
           " No false-positive rate applies to this investigation because no verdict was computed."),
        "Distribution-shift check": CAVEATS["shift_check"] + " " + _shift_result(data),
    }
    if not verdict_statement(data) and "verdict_label" not in data.table.columns:
        method["Raw scores are not verdicts"] = CAVEATS["raw_scores"]
    return method


def _shift_result(data: ReportData) -> str:
    shift = data.artifacts.get("shift_check")
    if not isinstance(shift, dict):
        return "The check was not run for this investigation (it needs a reference set to compare with)."
    # the check's own finding, so the report never words it differently (AUC above the threshold but within
    # chance is neither "could" nor "could not" tell the sets apart)
    reason = str(shift.get("reason") or "")
    finding = shift.get("sentence") or (reason[:1].upper() + reason[1:] + ".")
    words = ", ".join(shift.get("telling_words") or [])
    return f"Result: {finding}" + (f" Words it relied on: {words}." if words else "")


# ---------------------------------------------------------------------------------------------- CSV and JSON


def report_csv(data: ReportData) -> str:
    """The score table (one row per scored document, with the text's SHA-256), followed by one row per document
    that could not be scored (its ``error`` column says why)."""
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

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:1100px;margin:2rem auto;
padding:0 1rem;color:#222;line-height:1.5}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.meta{color:#666;font-size:.9rem}.summary{background:#f4f7fb;border-left:4px solid #2f6db5;padding:.8rem 1.2rem}
.verdict{font-size:1.15rem;font-weight:600}.warning{background:#fff4e5;border-left:4px solid #e07b39;
padding:.8rem 1.2rem;font-weight:600}
table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0;display:block;overflow-x:auto}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right;white-space:nowrap}
th{background:#f2f2f2}td.text,th.text{text-align:left;white-space:normal;max-width:28rem;word-break:break-word}
code,.hash{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.8rem}details{margin:.5rem 0}
pre{background:#f7f7f7;padding:.6rem;overflow-x:auto;font-size:.8rem}
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def html_table(table: pd.DataFrame, *, max_rows: int = MAX_TABLE_ROWS, text_columns: Sequence[str] = ()) -> str:
    """A DataFrame as an escaped HTML table (numbers formatted, at most ``max_rows`` rows with a note)."""
    if table.empty:
        return "<p><em>No rows.</em></p>"
    text_cols = set(text_columns) | {c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])}
    head = "".join(f"<th class='{'text' if c in text_cols else ''}'>{_e(c)}</th>" for c in table.columns)
    body = []
    for _, row in table.head(max_rows).iterrows():
        cells = []
        for c in table.columns:
            v = row[c]
            shown = _fmt(v) if isinstance(v, (float, int, np.floating, np.integer)) and not isinstance(v, bool) \
                else ("" if v is None else str(v))
            cls = "text" if c in text_cols else ""
            if c == "sha256":
                cls, shown = "text hash", shown[:16] + ("…" if len(shown) > 16 else "")
            cells.append(f"<td class='{cls}'>{_e(shown)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    note = (f"<p class='meta'>Showing {max_rows} of {len(table)} rows; the CSV and JSON reports hold all of them."
            "</p>") if len(table) > max_rows else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{note}"


def report_figures(data: ReportData) -> list[tuple[str, object]]:
    """(caption, Plotly figure) pairs shown in the evidence section."""
    if data.table.empty:
        return []
    return [
        ("Perplexity of each document under the model: lower means the model finds the text more predictable.",
         charts.perplexity_bar(data.table)),
        ("Each score across the documents (one point per document); higher means more likely a member.",
         charts.score_distributions(data.table, data.scores)),
    ]


def _figure_html(figures: Sequence[tuple[str, object]]) -> str:
    parts = []
    for i, (caption, fig) in enumerate(figures):
        div = fig.to_html(full_html=False, include_plotlyjs=(i == 0), div_id=f"figure-{i + 1}",
                          config={"displaylogo": False, "responsive": True})
        parts.append(f"<figure>{div}<figcaption class='meta'>Figure {i + 1}. {_e(caption)}</figcaption></figure>")
    return "".join(parts)


def _artifact_html(name: str, value) -> str:
    if name == "ingest_errors" and isinstance(value, list):
        items = "".join(f"<li><b>{_e(e.get('source', ''))}</b>: {_e(e.get('message', ''))}</li>" for e in value
                        if isinstance(e, dict))
        return f"<h3>Files that could not be read</h3><ul>{items}</ul>"
    title = name.replace("_", " ").capitalize()
    if isinstance(value, pd.DataFrame):
        return f"<h3>{_e(title)}</h3>{html_table(value)}"
    pretty = json.dumps(_strict(value), indent=2, ensure_ascii=False)
    return f"<h3>{_e(title)}</h3><details><summary>Show the recorded values</summary><pre>{_e(pretty)}</pre></details>"


def report_html(data: ReportData) -> str:
    """A self-contained HTML report: summary, evidence (table, figures, attached results), method and caveats,
    appendix (documents with SHA-256 hashes, settings). Everything user-supplied is escaped."""
    inv = data.investigation
    summary = summary_sentences(data)
    statement = verdict_statement(data)
    warning = shift_warning(data)
    verdict_html = f"<p class='verdict'>Verdict: {_e(statement)}</p>" if statement else ""
    warning_html = f"<p class='warning'>{_e(warning)}</p>" if warning else ""
    summary_html = "".join(f"<p>{_e(s)}</p>" for s in summary if s != warning and not s.startswith("Verdict:"))
    evidence = [f"<h3>Scores</h3>{html_table(data.table)}", _figure_html(report_figures(data))]
    if data.unscorable:
        items = "".join(f"<li><b>{_e(k)}</b>: {_e(v.removeprefix(f'{k}: '))}</li>" for k, v in data.unscorable.items())
        evidence.append(f"<h3>Documents that could not be scored</h3><ul>{items}</ul>")
    for name, value in data.artifacts.items():
        evidence.append(_artifact_html(name, value))
    method = "".join(f"<h3>{_e(head)}</h3><p>{_e(text)}</p>" for head, text in method_sentences(data).items())
    docs = data.documents.rename(columns={"name": "document"})
    settings_json = json.dumps(_strict(inv.settings), indent=2, ensure_ascii=False)
    model_json = json.dumps(_strict(inv.model_info), indent=2, ensure_ascii=False)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Provenance report: {_e(inv.name)}</title><style>{_CSS}</style></head>
<body>
<h1>Provenance report: {_e(inv.name)}</h1>
<p class="meta">Model {_e(inv.model_name)} · investigation {_e(inv.id)} · status {_e(inv.status)} · created
{_e(inv.created_at)} · last updated {_e(inv.updated_at)} · report generated {_e(data.generated_at)} by provenance
{_e(__version__)}</p>
<h2>Summary</h2>
{verdict_html}{warning_html}<div class="summary">{summary_html}</div>
<h2>Evidence</h2>
{''.join(evidence)}
<h2>Method and caveats</h2>
{method}
<h2>Appendix</h2>
<h3>Documents</h3>
<p class="meta">The SHA-256 hash identifies each text exactly: anyone holding the text can recompute it and check
that it is the one scored.</p>
{html_table(docs)}
<h3>Model</h3><pre>{_e(model_json)}</pre>
<h3>Settings</h3><pre>{_e(settings_json)}</pre>
</body></html>
"""


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


__all__ = ["ReportData", "REPORT_FORMATS", "collect_report", "method_sentences", "render_report", "report_csv",
           "report_dict", "report_filename", "report_figures", "report_html", "report_json", "summary_sentences",
           "verdict_statement", "write_report"]
