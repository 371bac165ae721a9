"""Files and folders -> documents: the entry points (``documents_from_bytes``, ``load_documents``,
``load_labelled_documents``), chosen by file extension; never raise for bad content."""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Collection, Sequence
from pathlib import Path

from .archives import _Budget, _check_archive, _is_symlink, _member_path_problem, _skip_silently
from .document import DEFAULT_LIMITS, Document, IngestError, IngestLimits, _too_big_message
from .formats import decode_text, docx_to_text, html_to_text, pdf_to_text
from .names import _display, unique_names
from .suffixes import (ARCHIVE_SUFFIXES, DOCX_SUFFIXES, HTML_SUFFIXES, PDF_SUFFIXES, SUPPORTED_SUFFIXES,
                       TEXT_SUFFIXES, _unsupported_message)
from .tables import _csv_rows, _jsonl_rows, _table_documents, labelled_documents_from_bytes

log = logging.getLogger(__name__)

def _zip_documents(name: str, data: bytes, *, text_column: str, id_column: str, limits: IngestLimits,
                   depth: int, budget: _Budget | None) -> tuple[list[Document], list[IngestError]]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError,
            RuntimeError):
        return [], [IngestError(name, "the zip archive is damaged, uses a zip feature that is not supported, or "
                                      "is not a zip archive.")]
    with zf:
        try:
            infos = zf.infolist()
        except Exception:  # noqa: BLE001 - damaged central directory
            return [], [IngestError(name, "the zip archive is damaged or not a zip archive.")]
        budget = budget or _Budget(limits.max_archive_bytes, limits.max_archive_members)
        try:
            _check_archive(infos, limits, budget)
        except ValueError as exc:
            return [], [IngestError(name, str(exc))]
        docs: list[Document] = []
        errors: list[IngestError] = []
        for info in infos:
            if info.is_dir() or _skip_silently(info.filename):
                continue
            source = f"{name}:{_display(info.filename)}"
            problem = _member_path_problem(info.filename)
            if problem is None and _is_symlink(info):
                problem = "is a link, not a file"
            if problem is None and info.flag_bits & 0x1:
                problem = "is protected by a password"
            if problem is not None:
                errors.append(IngestError(source, f"skipped: this archive member {problem}."))
                continue
            suffix = Path(info.filename.replace("\\", "/")).suffix.lower()
            if suffix in ARCHIVE_SUFFIXES and depth >= limits.max_archive_depth:
                errors.append(IngestError(source, "skipped: archives inside archives are opened only "
                                                  f"{limits.max_archive_depth} level(s) deep."))
                continue
            if suffix not in SUPPORTED_SUFFIXES:
                errors.append(IngestError(source, _unsupported_message(suffix)))
                continue
            if info.file_size > limits.max_file_bytes:
                errors.append(IngestError(source, _too_big_message(info.file_size, limits)))
                continue
            budget.members_left -= 1
            try:
                with zf.open(info) as fh:
                    content = fh.read(min(info.file_size, budget.bytes_left) + 1)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, ValueError) as exc:
                log.info("zip member read failed: %r", exc)
                errors.append(IngestError(source, "this archive member is damaged and could not be unpacked."))
                continue
            if len(content) > budget.bytes_left:
                errors.append(IngestError(name, "the archive unpacks to more than its declared size; the rest of "
                                                "it was not read (a 'zip bomb' safeguard)."))
                break
            budget.bytes_left -= len(content)
            got, errs = _documents_from_bytes(source, content, text_column=text_column, id_column=id_column,
                                              limits=limits, depth=depth + 1, budget=budget)
            docs.extend(got)
            errors.extend(errs)
        if not docs and not errors:
            errors.append(IngestError(name, "the zip archive holds no files."))
        return docs, errors



def documents_from_bytes(name: str, data: bytes, *, text_column: str = "text", id_column: str = "id",
                         limits: IngestLimits = DEFAULT_LIMITS) -> tuple[list[Document], list[IngestError]]:
    """Read one uploaded or on-disk file's bytes into documents, chosen by the extension of ``name``.

    Never raises for bad content: every problem becomes an IngestError, and the documents that could be read are
    returned beside them (good lines of a table, good members of an archive).
    """
    return _documents_from_bytes(name, data, text_column=text_column, id_column=id_column, limits=limits,
                                 depth=0, budget=None)


def _documents_from_bytes(name: str, data: bytes, *, text_column: str, id_column: str, limits: IngestLimits,
                          depth: int, budget: _Budget | None) -> tuple[list[Document], list[IngestError]]:
    name = _display(str(name), 400)
    try:
        return _read_one(name, data, text_column=text_column, id_column=id_column, limits=limits, depth=depth,
                         budget=budget)
    except ValueError as exc:
        return [], [IngestError(name, str(exc))]
    except RecursionError:
        return [], [IngestError(name, "the file is nested too deeply to be read.")]
    except MemoryError:
        return [], [IngestError(name, "the file needs more memory to read than this machine has.")]
    except Exception as exc:  # noqa: BLE001 - the promise is that a hostile file never takes the batch down
        log.exception("unexpected error reading %s", name)
        return [], [IngestError(name, f"the file could not be read ({type(exc).__name__}).")]


def _read_one(name: str, data: bytes, *, text_column: str, id_column: str, limits: IngestLimits, depth: int,
              budget: _Budget | None) -> tuple[list[Document], list[IngestError]]:
    suffix = Path(name.replace("\\", "/")).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return [], [IngestError(name, _unsupported_message(suffix))]
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError("the upload did not contain file data.")
    data = bytes(data)
    if len(data) > limits.max_file_bytes:
        raise ValueError(_too_big_message(len(data), limits))
    if not data.strip():
        raise ValueError("the file is empty.")
    if suffix in ARCHIVE_SUFFIXES:
        return _zip_documents(name, data, text_column=text_column, id_column=id_column, limits=limits,
                              depth=depth, budget=budget)
    if suffix in PDF_SUFFIXES:
        return _single(name, pdf_to_text(data, max_pages=limits.max_pdf_pages))
    if suffix in DOCX_SUFFIXES:
        return _single(name, docx_to_text(data, limits))
    text = decode_text(data, name)
    if suffix in TEXT_SUFFIXES:
        return _single(name, text)
    if suffix in HTML_SUFFIXES:
        visible = html_to_text(text)
        if not visible:
            raise ValueError("the web page has no visible text.")
        return _single(name, visible)
    rows = _jsonl_rows(text, name) if suffix == ".jsonl" else _csv_rows(text, text_column, limits)
    return _table_documents(name, rows, text_column, id_column, limits)


def _single(name: str, text: str) -> tuple[list[Document], list[IngestError]]:
    if not text.strip():
        return [], [IngestError(name, "the file has no text.")]
    return [Document(name, text)], []


def expand_paths(paths: Sequence[str | Path], *, suffixes: Collection[str] = SUPPORTED_SUFFIXES,
                 include_hidden: bool = True) -> tuple[list[Path], list[IngestError]]:
    """Files named directly, plus the files with one of ``suffixes`` found (recursively, sorted, no symlinks) in
    folders; names starting with '.' are skipped unless ``include_hidden``. Missing paths and empty folders become
    IngestErrors."""
    files, errors = [], []
    for raw in paths:
        path = Path(raw)
        try:
            if path.is_dir():
                found = sorted(p for p in path.rglob("*")
                               if p.is_file() and not p.is_symlink() and p.suffix.lower() in suffixes
                               and (include_hidden or not p.name.startswith(".")))
                if not found:
                    errors.append(IngestError(str(path), "the folder holds no supported files."))
                files.extend(found)
            elif path.is_file():
                files.append(path)
            else:
                errors.append(IngestError(str(path), "no such file or folder."))
        except OSError as exc:
            errors.append(IngestError(str(path), f"could not be read ({exc.strerror or exc})."))
    return files, errors


def read_file(path: Path, limits: IngestLimits = DEFAULT_LIMITS) -> bytes | IngestError:
    """A file's bytes, or an IngestError when it is over ``limits.max_file_bytes`` (checked before reading) or
    cannot be read."""
    try:
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            return IngestError(str(path), _too_big_message(size, limits))
        return path.read_bytes()
    except OSError as exc:
        return IngestError(str(path), f"could not be read ({exc.strerror or exc}).")


def load_documents(paths: Sequence[str | Path], *, text_column: str = "text", id_column: str = "id",
                   limits: IngestLimits = DEFAULT_LIMITS) -> tuple[list[Document], list[IngestError]]:
    """Read files and folders into documents with unique names; unreadable inputs become IngestErrors.

    Files larger than ``limits.max_file_bytes`` are refused before they are read.
    """
    files, errors = expand_paths(paths)
    docs: list[Document] = []
    for path in files:
        data = read_file(path, limits)
        if isinstance(data, IngestError):
            errors.append(data)
            continue
        got, errs = documents_from_bytes(str(path), data, text_column=text_column, id_column=id_column,
                                         limits=limits)
        docs.extend(got)
        errors.extend(errs)
    return unique_names(docs), errors



def load_labelled_documents(paths: Sequence[str | Path], *, text_column: str = "text", label_column: str = "label",
                            id_column: str = "id", limits: IngestLimits = DEFAULT_LIMITS
                            ) -> tuple[list[Document], list[int], list[IngestError]]:
    """Read labelled .jsonl / .csv tables (files or folders): documents with unique names, their labels (1 = member,
    0 = non-member) in the same order, and one IngestError per problem."""
    files, errors = expand_paths(paths)
    docs: list[Document] = []
    labels: list[int] = []
    for path in files:
        data = read_file(path, limits)
        if isinstance(data, IngestError):
            errors.append(data)
            continue
        got, got_labels, errs = labelled_documents_from_bytes(str(path), data, text_column=text_column,
                                                              label_column=label_column, id_column=id_column,
                                                              limits=limits)
        docs.extend(got)
        labels.extend(got_labels)
        errors.extend(errs)
    return unique_names(docs), labels, errors
