"""Files -> documents, with one plain-language error per file that could not be read; the rest always survive.

Supported: .txt and .md files, folders of them (recursively), and .jsonl / .csv tables with a ``text`` column
(optional ``id`` column for the document name).
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md"}
TABLE_SUFFIXES = {".jsonl", ".csv"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | TABLE_SUFFIXES


@dataclass
class Document:
    """A named text. ``name`` is what the user recognises (file name, table id, 'pasted text')."""

    name: str
    text: str


@dataclass
class IngestError:
    """One input that could not be (fully) read, and why, in a sentence the user can act on."""

    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


def decode_text(data: bytes, source: str) -> str:
    """Bytes -> str: UTF-8 (with or without BOM) first, else the encoding charset-normalizer detects."""
    if not data.strip():
        raise ValueError("the file is empty.")
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValueError("this looks like a binary file, not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ValueError("the text encoding could not be recognised; save it as UTF-8 and try again.")
    log.info("%s decoded as %s", source, best.encoding)
    return str(best)


def documents_from_bytes(name: str, data: bytes, *, text_column: str = "text",
                         id_column: str = "id") -> tuple[list[Document], list[IngestError]]:
    """Read one uploaded or on-disk file's bytes. Never raises for bad content: problems become IngestErrors."""
    suffix = Path(name).suffix.lower()
    try:
        if suffix not in SUPPORTED_SUFFIXES:
            return [], [IngestError(name, f"files of type '{suffix or 'none'}' are not supported; use one of "
                                          f"{', '.join(sorted(SUPPORTED_SUFFIXES))}.")]
        text = decode_text(data, name)
        if suffix in TEXT_SUFFIXES:
            if not text.strip():
                return [], [IngestError(name, "the file has no text.")]
            return [Document(name, text)], []
        rows = _jsonl_rows(text, name) if suffix == ".jsonl" else _csv_rows(text)
        return _table_documents(name, rows, text_column, id_column)
    except ValueError as exc:
        return [], [IngestError(name, str(exc))]


def _jsonl_rows(text: str, name: str) -> Iterable[tuple[int, dict | str]]:
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield line_no, json.loads(line)
        except json.JSONDecodeError as exc:
            yield line_no, f"line {line_no} is not valid JSON ({exc.msg})."


def _csv_rows(text: str) -> Iterable[tuple[int, dict | str]]:
    reader = csv.DictReader(io.StringIO(text))
    for row in reader:
        yield reader.line_num, row


def _table_documents(name: str, rows: Iterable[tuple[int, dict | str]], text_column: str,
                     id_column: str) -> tuple[list[Document], list[IngestError]]:
    docs, errors = [], []
    for line_no, row in rows:
        if isinstance(row, str):
            errors.append(IngestError(name, row))
            continue
        if not isinstance(row, dict) or text_column not in row:
            errors.append(IngestError(name, f"line {line_no} has no '{text_column}' field."))
            continue
        text = row[text_column]
        if not isinstance(text, str) or not text.strip():
            errors.append(IngestError(name, f"line {line_no} has an empty '{text_column}' field."))
            continue
        ident = row.get(id_column)
        doc_name = f"{name}:{ident}" if ident not in (None, "") else f"{name}:{line_no}"
        docs.append(Document(doc_name, text))
    if not docs and not errors:
        errors.append(IngestError(name, f"the table has no rows with a '{text_column}' column."))
    return docs, errors


def _expand(paths: Sequence[str | Path]) -> tuple[list[Path], list[IngestError]]:
    files, errors = [], []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
            if not found:
                errors.append(IngestError(str(path), "the folder holds no supported files."))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            errors.append(IngestError(str(path), "no such file or folder."))
    return files, errors


def load_documents(paths: Sequence[str | Path], *, text_column: str = "text",
                   id_column: str = "id") -> tuple[list[Document], list[IngestError]]:
    """Read files and folders into documents with unique names; unreadable inputs become IngestErrors."""
    files, errors = _expand(paths)
    docs: list[Document] = []
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            errors.append(IngestError(str(path), f"could not be read ({exc.strerror})."))
            continue
        got, errs = documents_from_bytes(str(path), data, text_column=text_column, id_column=id_column)
        docs.extend(got)
        errors.extend(errs)
    return unique_names(docs), errors


def unique_names(docs: Sequence[Document]) -> list[Document]:
    """Make document names unique by appending ' (2)', ' (3)', ... to repeats."""
    seen: dict[str, int] = {}
    out = []
    for d in docs:
        n = seen.get(d.name, 0) + 1
        seen[d.name] = n
        out.append(d if n == 1 else Document(f"{d.name} ({n})", d.text))
    return out
