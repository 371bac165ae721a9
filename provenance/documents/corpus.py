"""Reading a reference corpus: files, folders (recursively), .zip archives and .parquet tables with a text column.

A corpus is larger than an upload, so its limits (``CORPUS_LIMITS``) are larger too, and archives are read member by
member from disk.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

from .document import Document, IngestError, IngestLimits
from .loading import documents_from_bytes, expand_paths, read_file
from .names import unique_names
from .tables import parquet_documents
from .suffixes import SUPPORTED_SUFFIXES

CORPUS_SUFFIXES = {".parquet", ".zip"}  # read here; everything else goes through ingest.documents_from_bytes

# A reference corpus is larger than an upload: per-file and per-archive limits sized for corpora (still finite, so a
# zip bomb fails with a message instead of filling memory).
CORPUS_LIMITS = IngestLimits(max_file_bytes=2 * 2**30, max_archive_members=1_000_000, max_archive_bytes=16 * 2**30,
                             max_compression_ratio=200.0)


def corpus_suffixes() -> set[str]:
    """File types a corpus may contain: whatever ingest reads, plus .parquet tables and .zip archives."""
    return set(SUPPORTED_SUFFIXES) | CORPUS_SUFFIXES


def zip_documents(path: str | Path, *, text_column: str = "text", id_column: str = "id",
                  limits: IngestLimits = CORPUS_LIMITS) -> tuple[list[Document], list[IngestError]]:
    """Documents from every supported file inside a .zip archive, read member by member from disk.

    Unlike ``ingest`` (which reads uploads whole), the archive is never loaded into memory at once, and Parquet
    members are read too. Nested archives are not opened. ``limits`` caps each member (``max_file_bytes``), the
    total (``max_archive_bytes``), the member count and the compression ratio of large members, so a zip bomb
    fails with an error. Names are ``archive.zip:member/path``.
    """
    path = Path(path)
    docs: list[Document] = []
    errors: list[IngestError] = []
    suffixes = corpus_suffixes() - {".zip"}
    try:
        archive = zipfile.ZipFile(path)
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, RuntimeError) as exc:
        return [], [IngestError(str(path), f"is not a readable zip archive ({exc}).")]
    if len(infos) > limits.max_archive_members:
        archive.close()
        return [], [IngestError(str(path), f"holds {len(infos)} files, more than the limit of "
                                           f"{limits.max_archive_members}; split it into smaller archives.")]
    total = 0
    with archive:
        for info in infos:
            member = f"{path}:{info.filename}"
            base = info.filename.replace("\\", "/").rsplit("/", 1)[-1]
            if info.is_dir() or base.startswith(".") or info.filename.startswith("__MACOSX/"):
                continue
            suffix = Path(base).suffix.lower()
            if suffix == ".zip":
                errors.append(IngestError(member, "archives inside archives are not opened; unpack it first."))
                continue
            if suffix not in suffixes:
                continue
            if info.file_size > limits.max_file_bytes:
                errors.append(IngestError(member, f"is larger than {limits.max_file_bytes // 2**20} MiB "
                                                  "uncompressed; it was skipped."))
                continue
            if (info.file_size > limits.ratio_check_min_bytes
                    and info.file_size > limits.max_compression_ratio * max(info.compress_size, 1)):
                errors.append(IngestError(member, f"compresses more than {limits.max_compression_ratio:.0f} to 1, "
                                                  "which is how 'zip bombs' work, so it was skipped."))
                continue
            try:
                with archive.open(info) as fh:
                    data = fh.read(min(limits.max_file_bytes, info.file_size) + 1)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, ValueError) as exc:
                errors.append(IngestError(member, f"could not be unpacked ({exc})."))
                continue
            if len(data) > info.file_size:
                errors.append(IngestError(member, "unpacks to more than its declared size; it was skipped (a 'zip "
                                                  "bomb' safeguard)."))
                continue
            total += len(data)
            if total > limits.max_archive_bytes:
                errors.append(IngestError(str(path), f"unpacks to more than {limits.max_archive_bytes // 2**30} GiB; "
                                                     "the rest of it was not read."))
                break
            got, errs = _documents_from_data(member, data, text_column, id_column, limits)
            docs.extend(got)
            errors.extend(errs)
    if not docs and not errors:
        errors.append(IngestError(str(path), "the archive holds no supported files."))
    return docs, errors


def _documents_from_data(name: str, data: bytes, text_column: str, id_column: str,
                         limits: IngestLimits) -> tuple[list[Document], list[IngestError]]:
    if Path(name).suffix.lower() == ".parquet":
        return parquet_documents(name, data, text_column=text_column, id_column=id_column)
    return documents_from_bytes(name, data, text_column=text_column, id_column=id_column, limits=limits)


def read_corpus(paths: str | Path | Sequence[str | Path], *, text_column: str = "text", id_column: str = "id",
                limits: IngestLimits = CORPUS_LIMITS) -> tuple[list[Document], list[IngestError]]:
    """Read a reference corpus: files, folders (recursively) and .zip archives of anything ingest reads, plus
    .parquet tables with a text column. Unreadable inputs become IngestErrors; the rest always survive.

    ``limits`` are ingest's safety limits, sized for corpora by default. Returns documents with unique names, in a
    stable order (folders sorted by path).
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files, errors = expand_paths(paths, suffixes=corpus_suffixes(), include_hidden=False)
    docs: list[Document] = []
    for file in files:
        if file.suffix.lower() == ".zip":
            got, errs = zip_documents(file, text_column=text_column, id_column=id_column, limits=limits)
        elif file.suffix.lower() == ".parquet":
            got, errs = parquet_documents(str(file), file, text_column=text_column, id_column=id_column)
        else:
            data = read_file(file, limits)
            if isinstance(data, IngestError):
                errors.append(data)
                continue
            got, errs = documents_from_bytes(str(file), data, text_column=text_column, id_column=id_column,
                                             limits=limits)
        docs.extend(got)
        errors.extend(errs)
    return unique_names(docs), errors
