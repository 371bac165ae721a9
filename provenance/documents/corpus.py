"""Reading a reference corpus: files, folders (recursively), .zip archives and .parquet tables with a text column.

A corpus is read exactly as uploads are (``loading``, and ``archives``: the one zip reader with its bomb and path
checks), with two differences: it may also hold .parquet tables (``CORPUS_SUFFIXES``), and its limits are sized for
corpora (``CORPUS_LIMITS``). Archives and Parquet tables on disk are read in place, member by member and batch by
batch, never loaded whole.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from .document import Document, IngestError, IngestLimits
from .loading import documents_from_bytes, documents_from_file, expand_paths
from .names import unique_names
from .suffixes import CORPUS_SUFFIXES

# A reference corpus is larger than an upload: per-file and per-archive limits sized for corpora (still finite, so a
# zip bomb fails with a message instead of filling memory). Archives inside a corpus archive are not opened.
CORPUS_LIMITS = IngestLimits(max_file_bytes=2 * 2**30, max_archive_members=1_000_000, max_archive_bytes=16 * 2**30,
                             max_compression_ratio=200.0, max_archive_depth=0)


def read_corpus(paths: str | Path | Sequence[str | Path] = (), *, uploads: Sequence[tuple[str, bytes]] = (),
                text_column: str = "text", id_column: str = "id", limits: IngestLimits = CORPUS_LIMITS,
                progress: Callable[[int, int], None] | None = None) -> tuple[list[Document], list[IngestError]]:
    """Read a reference corpus: files, folders (recursively) and .zip archives of anything ingest reads, plus
    .parquet tables with a text column. Unreadable inputs become IngestErrors; the rest always survive.

    ``uploads`` are (file name, bytes) pairs, read first and in memory (as a page receives them: never written to
    disk); their documents are named after the file name. ``limits`` are ingest's safety limits, sized for corpora
    by default. ``progress(done, total)`` counts sources (uploads, then files found in ``paths``). Returns
    documents with unique names, in a stable order (uploads as given, folders sorted by path).
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files, errors = expand_paths(paths, suffixes=CORPUS_SUFFIXES, include_hidden=False) if paths else ([], [])
    total = len(uploads) + len(files)
    docs: list[Document] = []
    for done, (name, data) in enumerate(uploads, start=1):
        got, errs = documents_from_bytes(name, data, text_column=text_column, id_column=id_column, limits=limits,
                                         suffixes=CORPUS_SUFFIXES)
        docs.extend(got)
        errors.extend(errs)
        if progress is not None:
            progress(done, total)
    for done, file in enumerate(files, start=len(uploads) + 1):
        got, errs = documents_from_file(file, text_column=text_column, id_column=id_column, limits=limits,
                                        suffixes=CORPUS_SUFFIXES)
        docs.extend(got)
        errors.extend(errs)
        if progress is not None:
            progress(done, total)
    return unique_names(docs), errors
