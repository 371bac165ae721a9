"""Uploaded files -> documents, through the same ingest path as the command line, with how many texts each upload
gave."""

from __future__ import annotations

import streamlit as st

from provenance.documents import Document, IngestError, documents_from_bytes, unique_names

UPLOAD_TYPES = ["txt", "md", "html", "htm", "pdf", "docx", "jsonl", "csv", "zip"]
MAX_NAMED_UPLOADS = 30  # the count line names this many uploads, then sums up the rest


@st.cache_data(show_spinner=False, max_entries=2000)
def _parse(name: str, data: bytes) -> tuple[list[Document], list[IngestError]]:
    """One upload parsed once: pages rerun on every click, and re-reading fifty PDFs each time would be slow."""
    return documents_from_bytes(name, data)


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
