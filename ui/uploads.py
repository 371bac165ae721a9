"""Uploaded files -> documents, through the same ingest path as the command line."""

from __future__ import annotations

from provenance.ingest import Document, IngestError, documents_from_bytes, unique_names

UPLOAD_TYPES = ["txt", "md", "html", "htm", "pdf", "docx", "jsonl", "csv", "zip"]


def read_uploads(files) -> tuple[list[Document], list[IngestError]]:
    """Read Streamlit UploadedFiles; a broken file becomes one IngestError and never stops the others."""
    documents, errors = [], []
    for f in files:
        got, errs = documents_from_bytes(f.name, f.getvalue())
        documents.extend(got)
        errors.extend(errs)
    return unique_names(documents), errors
