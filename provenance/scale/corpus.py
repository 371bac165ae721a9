"""Corpus files -> document rows for a scaled run, with the readers the single-process ``score`` uses.

A row is a dict ``{document, text, sha256, error}``: a readable document has ``error`` None; a file or table line
that could not be read has an ``error`` sentence, empty text, and the file's name as ``document`` (its key hashes
the sentence, so the same problem is written once however often the run resumes). Names are those of
``documents.load_documents``: a file named directly by its file name, a file in a folder by its path inside the
folder after the folder's name, a table row as ``file:id`` or ``file:line``, repeats made unique within a file.
Files are the unit of work: each is read whole by one worker (up to ``CORPUS_LIMITS``' 2 GB per file), so a large
corpus should come as many files. Nothing here imports Ray.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

from ..documents import CORPUS_LIMITS, CORPUS_SUFFIXES, Document, IngestError, IngestLimits, documents_from_bytes
from ..documents.loading import named_files, read_file
from ..documents.names import unique_names
from ..files import sha256_text
from .output import row_key


def corpus_files(paths: Sequence[str | Path]) -> tuple[list[tuple[str, str]], list[IngestError]]:
    """(absolute path, document name prefix) of every file the inputs name (folders walked recursively), and one
    IngestError per input that is missing or not read; .txt/.md/.html/.pdf/.docx/.zip/.jsonl/.csv/.parquet."""
    named, errors = named_files(paths, suffixes=CORPUS_SUFFIXES)
    return [(str(Path(p).resolve()), name) for p, name in named], errors


def file_documents(path: str | Path, name: str, *, limits: IngestLimits = CORPUS_LIMITS,
                   suffixes: Collection[str] = CORPUS_SUFFIXES) -> tuple[list[Document], list[IngestError]]:
    """The documents of one file (names unique within it) and its problems; never raises for bad content."""
    data = read_file(Path(path), limits)
    if isinstance(data, IngestError):
        return [], [IngestError(name, data.message)]
    docs, errors = documents_from_bytes(name, data, limits=limits, suffixes=suffixes)
    return unique_names(docs), errors


def document_rows(documents: Sequence[Document], errors: Sequence[IngestError]) -> list[dict]:
    """Rows for the scoring stage: one per document, then one per problem (repairs that kept a document are not
    problems and make no row)."""
    rows = [{"document": d.name, "text": d.text, "sha256": sha256_text(d.text), "error": None} for d in documents]
    rows += [error_row(e.source, e.message) for e in errors if not e.kept]
    return rows


def error_row(document: str, message: str) -> dict:
    """The row of an input that could not be read: no text, the sentence as ``error``, keyed by the sentence."""
    return {"document": document, "text": "", "sha256": sha256_text("error:" + message), "error": message}


def file_rows(item: dict, done: Collection[str] = frozenset()) -> list[dict]:
    """Rows of the file ``item = {"path", "name"}`` whose key (``output.row_key``) is not in ``done``: the read
    stage of the Ray pipeline (one call per file)."""
    docs, errors = file_documents(item["path"], item["name"])
    return [row for row in document_rows(docs, errors) if row_key(row["document"], row["sha256"]) not in done]


def corpus_texts(paths: Sequence[str | Path]) -> dict[str, str]:
    """Every readable document of the inputs by name -> text, read as a scaled run reads them (for the verdicts'
    shift check and the per-document views when a run's rows are opened as an investigation)."""
    files, _ = corpus_files(paths)
    texts: dict[str, str] = {}
    for path, name in files:
        docs, _ = file_documents(path, name)
        texts.update((d.name, d.text) for d in docs)
    return texts
