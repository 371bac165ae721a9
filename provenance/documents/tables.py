"""Tables -> documents: .jsonl lines, .csv rows and .parquet tables (corpora only) with a text column, and labelled
rows (member / non-member).

Malformed lines are reported by line number (up to ``IngestLimits.max_errors_per_file``) and the good lines kept.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from .document import DEFAULT_LIMITS, Document, IngestError, IngestLimits, too_big_message
from .formats import decode_text, repair_surrogates, surrogate_message
from .names import display_name
from .suffixes import TABLE_SUFFIXES


class _Problem(str):
    """A line-level problem sentence (kept apart from rows that are themselves JSON strings)."""


def jsonl_rows(text: str, name: str) -> Iterator[tuple[int, object]]:
    """(line number, parsed JSON value) per non-blank line, 1-based; a line that is not JSON yields a problem
    sentence (a ``_Problem``) in place of its value."""
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield line_no, json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            yield line_no, _Problem(f"line {line_no} is not valid JSON ({reason}).")


def csv_rows(text: str, text_column: str, limits: IngestLimits) -> Iterator[tuple[int, object]]:
    """(line number, {column: value}) per data row of a CSV text with a header line; a row that cannot be read
    yields a problem sentence (a ``_Problem``). Raises ValueError when the header has no ``text_column``."""
    # The csv module's field limit is process-wide; raise it (never lower it) so long documents fit in one cell.
    csv.field_size_limit(max(csv.field_size_limit(), limits.max_file_bytes))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        yield 1, _Problem(f"the header line could not be read ({exc}).")
        return
    header = [h.strip().lstrip("\ufeff") for h in header]
    if text_column not in header:
        shown = ", ".join(f"'{display_name(h, 40)}'" for h in header[:10]) or "none"
        raise ValueError(f"the table has no '{text_column}' column (its columns are: {shown}).")
    while True:
        line_no = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield line_no, _Problem(f"line {line_no} could not be read; check its quotes (\") and commas ({exc}).")
            continue
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield line_no, _Problem(f"line {line_no} has {len(values)} field(s) but the header has {len(header)} "
                                    "(check for an unquoted comma or a missing quote).")
            continue
        yield line_no, dict(zip(header, values))


def _line_errors(name: str, problems: list[tuple[int, str]], limits: IngestLimits, *, no_rows: bool,
                 text_column: str) -> list[IngestError]:
    """One IngestError per bad line, up to ``limits.max_errors_per_file``, then one line summing up the rest; and a
    sentence when the table gave no row at all."""
    errors = [IngestError(name, msg) for _, msg in problems[: limits.max_errors_per_file]]
    if len(problems) > limits.max_errors_per_file:
        rest = [str(n) for n, _ in problems[limits.max_errors_per_file:]]
        shown = ", ".join(rest[:10]) + (", ..." if len(rest) > 10 else "")
        errors.append(IngestError(name, f"{len(rest)} more line(s) could not be used either (lines {shown})."))
    if no_rows and not errors:
        errors.append(IngestError(name, f"the table has no rows with a '{text_column}' value."))
    return errors


def table_documents(name: str, rows: Iterable[tuple[int, object]], text_column: str, id_column: str,
                    limits: IngestLimits) -> tuple[list[Document], list[IngestError]]:
    """Documents from table rows (from ``jsonl_rows`` / ``csv_rows``): one per row with a non-empty text in
    ``text_column``, named ``name:<id>`` (or ``name:<line number>``); one IngestError per bad row, summarised past
    ``limits.max_errors_per_file``. A text holding broken characters (lone surrogates) is repaired and kept, with
    one sentence naming its line."""
    docs: list[Document] = []
    problems: list[tuple[int, str]] = []
    repaired: list[tuple[int, str]] = []
    for line_no, row in rows:
        if isinstance(row, _Problem):
            problems.append((line_no, str(row)))
            continue
        if not isinstance(row, dict):
            problems.append((line_no, f"line {line_no} is not a JSON object with a '{text_column}' field."))
            continue
        if text_column not in row:
            problems.append((line_no, f"line {line_no} has no '{text_column}' field."))
            continue
        text = row[text_column]
        if not isinstance(text, str):
            problems.append((line_no, f"line {line_no} has a '{text_column}' field that is not text."))
            continue
        if not text.strip():
            problems.append((line_no, f"line {line_no} has an empty '{text_column}' field."))
            continue
        text, broken = repair_surrogates(text)
        if broken:
            repaired.append((line_no, surrogate_message(broken, f"line {line_no}: ")))
        ident = row.get(id_column)
        label = display_name(str(ident), 120) if ident not in (None, "") and not isinstance(ident, (dict, list)) \
            else str(line_no)
        docs.append(Document(f"{name}:{label}", text))
    errors = _line_errors(name, problems, limits, no_rows=not docs, text_column=text_column)
    errors += [IngestError(name, msg, kept=True) for _, msg in repaired[: limits.max_errors_per_file]]
    if len(repaired) > limits.max_errors_per_file:
        rest = [str(n) for n, _ in repaired[limits.max_errors_per_file:]]
        errors.append(IngestError(name, f"{len(rest)} more line(s) had broken characters replaced too (lines "
                                        f"{', '.join(rest[:10])}{', ...' if len(rest) > 10 else ''}).", kept=True))
    return docs, errors


def parquet_documents(name: str, source: str | Path | bytes, *, text_column: str = "text", id_column: str = "id",
                      batch_rows: int = 10_000) -> tuple[list[Document], list[IngestError]]:
    """Documents from a Parquet table with a text column (read in batches of rows); never raises for bad content.

    Document names are ``name:id`` when an ``id`` column is present, else ``name:row`` (1-based row number).
    Rows with an empty or missing text are counted in one error.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(pa.BufferReader(source) if isinstance(source, bytes) else str(source))
        columns = handle.schema_arrow.names
        if text_column not in columns:
            return [], [IngestError(name, f"the table has no '{text_column}' column (it has: "
                                          f"{', '.join(columns[:10]) or 'none'}).")]
        wanted = [text_column] + ([id_column] if id_column in columns and id_column != text_column else [])
        docs, empty, first_empty, row = [], 0, 0, 0
        for batch in handle.iter_batches(batch_size=batch_rows, columns=wanted):
            data = batch.to_pydict()
            ids = data.get(id_column, [None] * batch.num_rows)
            for text, ident in zip(data[text_column], ids):
                row += 1
                if not isinstance(text, str) or not text.strip():
                    empty += 1
                    first_empty = first_empty or row
                    continue
                docs.append(Document(f"{name}:{ident}" if ident not in (None, "") else f"{name}:{row}", text))
    except (OSError, ValueError, pa.ArrowException) as exc:
        return [], [IngestError(name, f"could not be read as a Parquet table ({exc}).")]
    errors = []
    if empty:
        errors.append(IngestError(name, f"{empty} row(s) have an empty or non-text '{text_column}' value "
                                        f"(first: row {first_empty}); they were skipped."))
    if not docs and not errors:
        errors.append(IngestError(name, "the table has no rows."))
    return docs, errors


# --------------------------------------------------------------------------------------------------------------
# labelled tables (member / non-member sets for calibration.evaluate_scores)

_MEMBER_LABELS = {"member", "members", "1", "true", "yes"}
_NON_MEMBER_LABELS = {"non-member", "non-members", "nonmember", "nonmembers", "non_member", "non member", "0",
                      "false", "no"}


def parse_membership_label(value: object) -> int:
    """1 for a member, 0 for a non-member: member / non-member, 1 / 0 or true / false in any case (strings, JSON
    booleans or the numbers 0 and 1). Raises ValueError with a sentence for anything else."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)) and value in (0, 1):
        return int(value)
    if isinstance(value, str):
        word = " ".join(value.strip().lower().split())
        if word in _MEMBER_LABELS:
            return 1
        if word in _NON_MEMBER_LABELS:
            return 0
    shown = f"'{display_name(value, 40)}'" if isinstance(value, str) else display_name(repr(value), 40)
    raise ValueError(f"the label {shown} is not understood; use member / non-member, 1 / 0 or true / false.")


def labelled_documents_from_bytes(name: str, data: bytes, *, text_column: str = "text", label_column: str = "label",
                                  id_column: str = "id", limits: IngestLimits = DEFAULT_LIMITS
                                  ) -> tuple[list[Document], list[int], list[IngestError]]:
    """Documents and their labels (1 = member, 0 = non-member, same order) from one .jsonl or .csv table's bytes.

    Rows are read and named exactly as ``documents_from_bytes`` reads tables; a row whose label is missing or not
    understood becomes an IngestError naming its line, and the other rows are kept. Never raises for bad content.
    """
    name = display_name(str(name), 400)
    suffix = Path(name.replace("\\", "/")).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        return [], [], [IngestError(name, f"a labelled set must be a .jsonl or .csv table with a '{text_column}' and "
                                          f"a '{label_column}' column (member / non-member).")]
    docs: list[Document] = []
    labels: list[int] = []
    problems: list[tuple[int, str]] = []
    missing_label = 0
    try:
        if len(data) > limits.max_file_bytes:
            raise ValueError(too_big_message(len(data), limits))
        text = decode_text(bytes(data), name)
        rows = jsonl_rows(text, name) if suffix == ".jsonl" else csv_rows(text, text_column, limits)
        for line_no, row in rows:
            label = -1  # rows that are not objects are explained by table_documents and yield no document
            if isinstance(row, dict):
                if label_column not in row:
                    missing_label += 1
                    problems.append((line_no, f"line {line_no} has no '{label_column}' field."))
                    continue
                try:
                    label = parse_membership_label(row[label_column])
                except ValueError as exc:
                    problems.append((line_no, f"line {line_no}: {exc}"))
                    continue
            got, errs = table_documents(name, [(line_no, row)], text_column, id_column, limits)
            problems.extend((line_no, e.message) for e in errs)
            docs.extend(got)
            labels.extend([label] * len(got))
    except ValueError as exc:
        return [], [], [IngestError(name, str(exc))]
    if missing_label and not docs and missing_label == len(problems):
        return [], [], [IngestError(name, f"the table has no '{label_column}' column; add one with member / "
                                          "non-member (or 1 / 0, true / false) for every row.")]
    errors = _line_errors(name, problems, limits, no_rows=not docs, text_column=text_column)
    return docs, labels, errors
