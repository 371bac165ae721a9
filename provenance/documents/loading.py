"""Files and folders -> documents: the entry points (``documents_from_bytes``, ``documents_from_file``,
``load_documents``, ``load_labelled_documents``), chosen by file extension; never raise for bad content.

Which extensions are read is a parameter (``suffixes``): uploads read ``SUPPORTED_SUFFIXES``, reference corpora
``CORPUS_SUFFIXES`` (the same plus .parquet). Zip archives, whoever reads them, go through ``archives``."""

from __future__ import annotations

import logging
import stat
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

from .archives import ArchiveBudget, MemberReader, archive_documents
from .document import DEFAULT_LIMITS, Document, IngestError, IngestLimits, too_big_message
from .formats import decode_text, docx_to_text, html_to_text, pdf_to_text, repair_surrogates, surrogate_message
from .names import display_name, unique_names
from .suffixes import (ARCHIVE_SUFFIXES, DOCX_SUFFIXES, HTML_SUFFIXES, PARQUET_SUFFIXES, PDF_SUFFIXES,
                       SUPPORTED_SUFFIXES, TEXT_SUFFIXES, unsupported_message)
from .tables import csv_rows, jsonl_rows, labelled_documents_from_bytes, parquet_documents, table_documents

log = logging.getLogger(__name__)


def documents_from_bytes(name: str, data: bytes, *, text_column: str = "text", id_column: str = "id",
                         limits: IngestLimits = DEFAULT_LIMITS, suffixes: Collection[str] = SUPPORTED_SUFFIXES,
                         ) -> tuple[list[Document], list[IngestError]]:
    """Read one uploaded or on-disk file's bytes into documents, chosen by the extension of ``name`` among
    ``suffixes`` (lower case, with the dot; other types are refused with advice).

    Never raises for bad content: every problem becomes an IngestError, and the documents that could be read are
    returned beside them (good lines of a table, good members of an archive).
    """
    return _documents_from_bytes(name, data, text_column=text_column, id_column=id_column, limits=limits,
                                 depth=0, budget=None, suffixes=suffixes)


def documents_from_file(path: str | Path, *, text_column: str = "text", id_column: str = "id",
                        limits: IngestLimits = DEFAULT_LIMITS, suffixes: Collection[str] = SUPPORTED_SUFFIXES,
                        ) -> tuple[list[Document], list[IngestError]]:
    """Read one file on disk into documents, like ``documents_from_bytes`` but without loading large inputs whole.

    A .zip archive is opened in place and read member by member (its members, not its own size, are bounded by
    ``limits``); a .parquet table (when ``suffixes`` allows it) is read in batches of rows; any other file is
    refused before it is read when it is larger than ``limits.max_file_bytes``. Never raises for bad content.
    """
    path = Path(path)
    name = display_name(str(path), 400)
    suffix = path.suffix.lower()
    if suffix not in suffixes:
        return [], [IngestError(name, unsupported_message(suffix, suffixes))]
    if suffix in ARCHIVE_SUFFIXES:
        reader = _member_reader(text_column=text_column, id_column=id_column, limits=limits, suffixes=suffixes)
        return _guarded(name, lambda: archive_documents(name, path, read_member=reader, suffixes=suffixes,
                                                        limits=limits))
    if suffix in PARQUET_SUFFIXES:
        return _guarded(name, lambda: parquet_documents(name, path, text_column=text_column, id_column=id_column))
    data = read_file(path, limits)
    if isinstance(data, IngestError):
        return [], [data]
    return documents_from_bytes(str(path), data, text_column=text_column, id_column=id_column, limits=limits,
                                suffixes=suffixes)


def _documents_from_bytes(name: str, data: bytes, *, text_column: str, id_column: str, limits: IngestLimits,
                          depth: int, budget: ArchiveBudget | None, suffixes: Collection[str],
                          ) -> tuple[list[Document], list[IngestError]]:
    name = display_name(str(name), 400)
    return _guarded(name, lambda: _read_one(name, data, text_column=text_column, id_column=id_column, limits=limits,
                                            depth=depth, budget=budget, suffixes=suffixes))


def _guarded(name: str, read: Callable[[], tuple[list[Document], list[IngestError]]],
             ) -> tuple[list[Document], list[IngestError]]:
    """``read()``, with every exception turned into an IngestError for ``name``: a hostile file never takes the
    batch down."""
    try:
        return read()
    except ValueError as exc:
        return [], [IngestError(name, str(exc))]
    except RecursionError:
        return [], [IngestError(name, "the file is nested too deeply to be read.")]
    except MemoryError:
        return [], [IngestError(name, "the file needs more memory to read than this machine has.")]
    except Exception as exc:  # noqa: BLE001 - the promise is that a hostile file never takes the batch down
        log.exception("unexpected error reading %s", name)
        return [], [IngestError(name, f"the file could not be read ({type(exc).__name__}).")]


def _member_reader(*, text_column: str, id_column: str, limits: IngestLimits,
                   suffixes: Collection[str]) -> MemberReader:
    """How an archive member's bytes are read: like any other file's, one level deeper, sharing the budget."""
    def read_member(source: str, data: bytes, depth: int, budget: ArchiveBudget,
                    ) -> tuple[list[Document], list[IngestError]]:
        return _documents_from_bytes(source, data, text_column=text_column, id_column=id_column, limits=limits,
                                     depth=depth, budget=budget, suffixes=suffixes)
    return read_member


def _read_one(name: str, data: bytes, *, text_column: str, id_column: str, limits: IngestLimits, depth: int,
              budget: ArchiveBudget | None, suffixes: Collection[str]) -> tuple[list[Document], list[IngestError]]:
    suffix = Path(name.replace("\\", "/")).suffix.lower()
    if suffix not in suffixes:
        return [], [IngestError(name, unsupported_message(suffix, suffixes))]
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError("the upload did not contain file data.")
    data = bytes(data)
    if len(data) > limits.max_file_bytes:
        raise ValueError(too_big_message(len(data), limits))
    if not data.strip():
        raise ValueError("the file is empty.")
    if suffix in ARCHIVE_SUFFIXES:
        reader = _member_reader(text_column=text_column, id_column=id_column, limits=limits, suffixes=suffixes)
        return archive_documents(name, data, read_member=reader, suffixes=suffixes, limits=limits, depth=depth,
                                 budget=budget)
    if suffix in PARQUET_SUFFIXES:
        return parquet_documents(name, data, text_column=text_column, id_column=id_column)
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
    rows = jsonl_rows(text, name) if suffix == ".jsonl" else csv_rows(text, text_column, limits)
    return table_documents(name, rows, text_column, id_column, limits)


def _single(name: str, text: str) -> tuple[list[Document], list[IngestError]]:
    """One file, one document; broken characters (lone surrogates) are repaired with one sentence."""
    if not text.strip():
        return [], [IngestError(name, "the file has no text.")]
    text, broken = repair_surrogates(text)
    return [Document(name, text)], [IngestError(name, surrogate_message(broken), kept=True)] if broken else []


def expand_paths(paths: Sequence[str | Path], *, suffixes: Collection[str] = SUPPORTED_SUFFIXES,
                 include_hidden: bool = True) -> tuple[list[Path], list[IngestError]]:
    """Files named directly, plus the files with one of ``suffixes`` found (recursively, sorted) in folders.

    Inside folders, every file that is not read gets one sentence: other types, links (never followed), named
    pipes, sockets and devices; operating-system clutter (``.DS_Store``, ``Thumbs.db``, ``._*``) is skipped
    silently, and so are names starting with '.' (and everything inside such folders) unless ``include_hidden``.
    Missing paths and folders without a supported file become IngestErrors too."""
    files, errors = [], []
    for raw in paths:
        path = Path(raw)
        try:
            if path.is_dir():
                found, skipped = _folder_files(path, suffixes, include_hidden)
                if not found:
                    errors.append(IngestError(str(path), "the folder holds no supported files."))
                files.extend(found)
                errors.extend(skipped)
            elif path.is_file():
                files.append(path)
            else:
                errors.append(IngestError(str(path), "no such file or folder."))
        except OSError as exc:
            errors.append(IngestError(str(path), f"could not be read ({exc.strerror or exc})."))
    return files, errors


_CLUTTER = {".DS_Store", "Thumbs.db", "desktop.ini"}


def _folder_files(folder: Path, suffixes: Collection[str], include_hidden: bool,
                  ) -> tuple[list[Path], list[IngestError]]:
    """The files of ``folder`` (recursively, sorted) that are read, and one IngestError per entry that is not."""
    found: list[Path] = []
    skipped: list[IngestError] = []
    for entry in sorted(folder.rglob("*")):
        relative = entry.relative_to(folder).parts
        if entry.name in _CLUTTER or entry.name.startswith("._") or \
                (not include_hidden and any(part.startswith(".") for part in relative)):
            continue
        why = _not_read(entry, suffixes)
        if why is None:
            found.append(entry)
        elif why:
            skipped.append(IngestError(display_name(str(entry), 400), why))
    return found, skipped


def _not_read(entry: Path, suffixes: Collection[str]) -> str | None:
    """Why an entry found in a folder is not read ('' for a folder, which is walked), or None when it is read."""
    try:
        mode = entry.lstat().st_mode
    except OSError as exc:
        return f"could not be read ({exc.strerror or exc})."
    if stat.S_ISLNK(mode):
        return "it is a link; links inside folders are not followed (name the file itself to read it)."
    if stat.S_ISDIR(mode):
        return ""
    if stat.S_ISFIFO(mode):
        return "it is a named pipe (FIFO), not a file, so it was not read."
    if not stat.S_ISREG(mode):
        return "it is a socket or a device, not a file, so it was not read."
    if entry.suffix.lower() not in suffixes:
        return unsupported_message(entry.suffix.lower(), suffixes)
    return None


def named_files(paths: Sequence[str | Path], *, suffixes: Collection[str] = SUPPORTED_SUFFIXES,
                include_hidden: bool = True) -> tuple[list[tuple[Path, str]], list[IngestError]]:
    """``expand_paths`` with the name each file's documents get, never an absolute path: a file named directly is
    called by its file name ('a.txt'); a file found in a folder by its path inside that folder after the folder's
    own name ('docs/sub/a.txt'). Repeated names are made unique later (``unique_names``)."""
    named, errors = [], []
    for raw in paths:
        files, errs = expand_paths([raw], suffixes=suffixes, include_hidden=include_hidden)
        errors.extend(errs)
        root = Path(raw)
        folder = root.is_dir()
        for path in files:
            if folder:
                name = (Path(root.resolve().name or "folder") / path.relative_to(root)).as_posix()
            else:
                name = path.name
            named.append((path, display_name(name, 400)))
    return named, errors


def _read_named(path: Path, name: str, limits: IngestLimits) -> bytes | IngestError:
    """``read_file``, with a problem reported under the document name rather than the path."""
    data = read_file(path, limits)
    return IngestError(name, data.message) if isinstance(data, IngestError) else data


def read_file(path: Path, limits: IngestLimits = DEFAULT_LIMITS) -> bytes | IngestError:
    """A file's bytes, or an IngestError when it is over ``limits.max_file_bytes`` (checked before reading) or
    cannot be read."""
    try:
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            return IngestError(str(path), too_big_message(size, limits))
        return path.read_bytes()
    except OSError as exc:
        return IngestError(str(path), f"could not be read ({exc.strerror or exc}).")


def load_documents(paths: Sequence[str | Path], *, text_column: str = "text", id_column: str = "id",
                   limits: IngestLimits = DEFAULT_LIMITS) -> tuple[list[Document], list[IngestError]]:
    """Read files and folders into documents with unique names (``named_files``: relative, never absolute paths);
    unreadable inputs become IngestErrors.

    Files larger than ``limits.max_file_bytes`` are refused before they are read.
    """
    files, errors = named_files(paths)
    docs: list[Document] = []
    for path, name in files:
        data = _read_named(path, name, limits)
        if isinstance(data, IngestError):
            errors.append(data)
            continue
        got, errs = documents_from_bytes(name, data, text_column=text_column, id_column=id_column, limits=limits)
        docs.extend(got)
        errors.extend(errs)
    return unique_names(docs), errors


def load_labelled_documents(paths: Sequence[str | Path], *, text_column: str = "text", label_column: str = "label",
                            id_column: str = "id", limits: IngestLimits = DEFAULT_LIMITS
                            ) -> tuple[list[Document], list[int], list[IngestError]]:
    """Read labelled .jsonl / .csv tables (files or folders): documents with unique names, their labels (1 = member,
    0 = non-member) in the same order, and one IngestError per problem. Names as in ``load_documents``."""
    files, errors = named_files(paths)
    docs: list[Document] = []
    labels: list[int] = []
    for path, name in files:
        data = _read_named(path, name, limits)
        if isinstance(data, IngestError):
            errors.append(data)
            continue
        got, got_labels, errs = labelled_documents_from_bytes(name, data, text_column=text_column,
                                                              label_column=label_column, id_column=id_column,
                                                              limits=limits)
        docs.extend(got)
        labels.extend(got_labels)
        errors.extend(errs)
    return unique_names(docs), labels, errors
