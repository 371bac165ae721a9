"""Uploaded files -> documents, through the same ingest path as the command line, with how many texts each upload
gave."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import streamlit as st

from provenance.documents import Document, IngestError, documents_from_bytes, unique_names

UPLOAD_TYPES = ["txt", "md", "html", "htm", "pdf", "docx", "jsonl", "csv", "zip"]
MAX_NAMED_UPLOADS = 30  # the count line names this many uploads, then sums up the rest


CACHE_BYTES = 256 * 2**20  # parsed text kept for all sessions together
CACHE_SECONDS = 15 * 60  # an upload not seen for this long is parsed again next time


class ParsedUploads:
    """Parsed uploads shared by every session, bounded by the bytes of text they hold and by time: pages rerun on
    every click, and re-reading fifty PDFs each time would be slow, but a server must not keep every expansion of
    every upload it ever saw (a zip that unpacks to hundreds of MB would stay in memory after its session ended).
    Least recently used entries go first; an entry larger than the whole budget is parsed but not kept."""

    def __init__(self, max_bytes: int = CACHE_BYTES, max_seconds: float = CACHE_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.max_bytes, self.max_seconds, self.clock = max_bytes, max_seconds, clock
        self._entries: OrderedDict[tuple[str, str], tuple[float, int, tuple]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def bytes(self) -> int:
        return self._bytes

    def parse(self, name: str, data: bytes) -> tuple[list[Document], list[IngestError]]:
        key = (name, hashlib.sha256(data).hexdigest())
        now = self.clock()
        with self._lock:
            self._expire(now)
            if key in self._entries:
                _, size, value = self._entries.pop(key)
                self._entries[key] = (now, size, value)
                return value[0], value[1]
        documents, errors = documents_from_bytes(name, data)
        size = sum(len(d.text) for d in documents) * 4 + len(name)  # up to 4 bytes a character in memory
        with self._lock:
            if size <= self.max_bytes and key not in self._entries:
                self._entries[key] = (now, size, (documents, errors))
                self._bytes += size
                while self._bytes > self.max_bytes:
                    _, (_, old, _) = self._entries.popitem(last=False)
                    self._bytes -= old
        return documents, errors

    def _expire(self, now: float) -> None:
        while self._entries:
            key, (seen, size, _) = next(iter(self._entries.items()))
            if now - seen <= self.max_seconds:
                break
            del self._entries[key]
            self._bytes -= size


@st.cache_resource(show_spinner=False)
def _parsed_uploads() -> ParsedUploads:
    return ParsedUploads()


def _parse(name: str, data: bytes) -> tuple[list[Document], list[IngestError]]:
    """One upload parsed once while it is in use (see ParsedUploads)."""
    return _parsed_uploads().parse(name, data)


def read_uploads_counted(files) -> tuple[list[Document], list[IngestError], dict[str, int]]:
    """Read Streamlit UploadedFiles: the documents (unique names), one IngestError per problem (a broken file never
    stops the others) and how many texts each upload gave (upload name -> count, 0 for a file that gave none)."""
    documents, errors, counts = [], [], {}
    for f in files:
        got, errs = _parse(f.name, f.getvalue())
        documents.extend(got)
        errors.extend(errs)
        counts[f.name] = counts.get(f.name, 0) + len(got)
    return unique_names(documents), errors, counts


def read_uploads(files) -> tuple[list[Document], list[IngestError]]:
    """Read Streamlit UploadedFiles; a broken file becomes one IngestError and never stops the others."""
    documents, errors, _ = read_uploads_counted(files)
    return documents, errors


def counts_sentence(counts: dict[str, int], what: str = "text") -> str:
    """'Read 7 texts from 3 uploads: a.txt 1, bundle.zip 2, table.jsonl 4.' (empty when nothing was uploaded).
    Upload names are user text: show the sentence with st.text, never as Markdown."""
    if not counts:
        return ""
    total = sum(counts.values())
    named = [f"{name} {n}" for name, n in list(counts.items())[:MAX_NAMED_UPLOADS]]
    rest = len(counts) - len(named)
    if rest:
        named.append(f"and {rest} more upload(s) with {sum(list(counts.values())[MAX_NAMED_UPLOADS:])}")
    return (f"Read {total:,} {what}{'' if total == 1 else 's'} from {len(counts)} upload"
            f"{'' if len(counts) == 1 else 's'}: " + ", ".join(named) + ".")


def show_counts(counts: dict[str, int], what: str = "text") -> None:
    """How many texts each upload gave, as plain text under the uploader."""
    sentence = counts_sentence(counts, what)
    if sentence:
        st.text(sentence)


def documents_input(label: str, key: str) -> tuple[list[Document], list[IngestError]]:
    """'Upload files' and 'Paste text' tabs; the uploaded documents plus the pasted text (named 'pasted text'),
    with unique names, and one IngestError per file that could not be read. How many texts each upload gave is
    shown under the uploader. Widget keys: ``<key>_files`` and ``<key>_pasted``."""
    upload_tab, paste_tab = st.tabs(["Upload files", "Paste text"])
    with upload_tab:
        files = st.file_uploader(label, type=UPLOAD_TYPES, accept_multiple_files=True, key=f"{key}_files",
                                 help="txt, md, html, pdf, docx, jsonl/csv with a 'text' column, or a zip of these")
        documents, errors, counts = read_uploads_counted(files or [])
        show_counts(counts)
    with paste_tab:
        pasted = st.text_area("Text", height=180, placeholder="Paste a paragraph or more here.", key=f"{key}_pasted")
    if pasted.strip():
        documents.append(Document("pasted text", pasted))
    return unique_names(documents), errors
