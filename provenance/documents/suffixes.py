"""Which file types are read (by extension), and what to tell the user about the others."""

from __future__ import annotations

from collections.abc import Collection

TEXT_SUFFIXES = {".txt", ".md"}
HTML_SUFFIXES = {".html", ".htm"}
TABLE_SUFFIXES = {".jsonl", ".csv"}
PDF_SUFFIXES = {".pdf"}
DOCX_SUFFIXES = {".docx"}
ARCHIVE_SUFFIXES = {".zip"}
SUPPORTED_SUFFIXES = (TEXT_SUFFIXES | HTML_SUFFIXES | TABLE_SUFFIXES | PDF_SUFFIXES | DOCX_SUFFIXES
                      | ARCHIVE_SUFFIXES)
PARQUET_SUFFIXES = {".parquet"}
# A reference corpus may also hold .parquet tables (read in batches of rows: corpora are large).
CORPUS_SUFFIXES = SUPPORTED_SUFFIXES | PARQUET_SUFFIXES

# Advice for common formats that are not read, so the message says what to do instead.
_UNSUPPORTED_ADVICE = {
    ".doc": "save it as .docx (Word: File > Save As) and upload that",
    ".rtf": "save it as .docx or .txt and upload that",
    ".odt": "save it as .docx or .txt and upload that",
    ".epub": "convert it to .txt or .html first",
    ".json": "use .jsonl with one JSON object per line and a 'text' field",
    ".tsv": "save it as .csv with a 'text' column",
    ".xlsx": "save the sheet as .csv with a 'text' column",
    ".tar": "pack the files as a .zip instead",
    ".gz": "pack the files as a .zip instead",
    ".7z": "pack the files as a .zip instead",
    ".rar": "pack the files as a .zip instead",
}


def unsupported_message(suffix: str, supported: Collection[str] = SUPPORTED_SUFFIXES) -> str:
    """Why a file of type ``suffix`` is not read, and what to do instead (or which types are: ``supported``)."""
    advice = _UNSUPPORTED_ADVICE.get(suffix)
    kind = f"'{suffix}'" if suffix else "without an extension"
    base = f"files {kind} are not supported" if not suffix else f"files of type {kind} are not supported"
    if advice:
        return f"{base}; {advice}."
    return f"{base}; use one of {', '.join(sorted(supported))}."
