"""Uploaded files -> documents, through the same ingest path as the command line."""

from __future__ import annotations

import streamlit as st

from provenance.documents import Document, IngestError, documents_from_bytes, unique_names

UPLOAD_TYPES = ["txt", "md", "html", "htm", "pdf", "docx", "jsonl", "csv", "zip"]


@st.cache_data(show_spinner=False, max_entries=2000)
def _parse(name: str, data: bytes) -> tuple[list[Document], list[IngestError]]:
    """One upload parsed once: pages rerun on every click, and re-reading fifty PDFs each time would be slow."""
    return documents_from_bytes(name, data)


def read_uploads(files) -> tuple[list[Document], list[IngestError]]:
    """Read Streamlit UploadedFiles; a broken file becomes one IngestError and never stops the others."""
    documents, errors = [], []
    for f in files:
        got, errs = _parse(f.name, f.getvalue())
        documents.extend(got)
        errors.extend(errs)
    return unique_names(documents), errors


def documents_input(label: str, key: str) -> tuple[list[Document], list[IngestError]]:
    """'Upload files' and 'Paste text' tabs; the uploaded documents plus the pasted text (named 'pasted text'),
    with unique names, and one IngestError per file that could not be read. Widget keys: ``<key>_files`` and
    ``<key>_pasted``."""
    upload_tab, paste_tab = st.tabs(["Upload files", "Paste text"])
    with upload_tab:
        files = st.file_uploader(label, type=UPLOAD_TYPES, accept_multiple_files=True, key=f"{key}_files",
                                 help="txt, md, html, pdf, docx, jsonl/csv with a 'text' column, or a zip of these")
    with paste_tab:
        pasted = st.text_area("Text", height=180, placeholder="Paste a paragraph or more here.", key=f"{key}_pasted")
    documents, errors = read_uploads(files or [])
    if pasted.strip():
        documents.append(Document("pasted text", pasted))
    return unique_names(documents), errors
