"""Files -> documents, with one plain-language error per problem; the rest of a batch always survives.

Supported inputs:

- ``.txt`` / ``.md``: plain text in any encoding (UTF-8 first, else the encoding charset-normalizer detects);
- ``.html`` / ``.htm``: the visible text only (scripts, styles and the page head are dropped);
- ``.pdf``: the text layer (scanned PDFs without one, password-protected and damaged PDFs are explained);
- ``.docx``: paragraphs and table cells of a Word document;
- ``.jsonl`` / ``.csv``: one document per line/row from a ``text`` column (optional ``id`` column for the name);
  malformed lines are reported by line number and the good lines are kept;
- ``.zip``: an archive of any of the above (one level of nested archives), opened with limits on member count,
  total unpacked size and compression ratio (zip bombs), refusing paths that point outside the archive;
- folders of any of the above (recursively) for ``load_documents``;
- reference corpora (``corpus.read_corpus``): all of the above plus ``.parquet`` tables, with larger limits
  (``corpus.CORPUS_LIMITS``) but the same zip reader and the same checks.

Nothing here executes, unpickles or writes the uploaded content anywhere: files are parsed in memory. Every problem
becomes an ``IngestError`` (a source and a sentence the user can act on); ``documents_from_bytes`` and
``load_documents`` never raise for bad content. Use ``safe_filename`` for any name derived from an upload that is
written to disk.

Modules: ``document`` (Document, IngestError, IngestLimits), ``names`` (safe and unique names), ``suffixes`` (which
file types are read), ``formats`` (bytes -> text per format), ``tables`` (.jsonl / .csv rows, labelled rows),
``archives`` (the one zip reader), ``loading`` (the entry points below), ``corpus`` (reference corpora), ``words``
(the one definition of a word: ``from provenance.documents.words import words``).
"""

from .corpus import CORPUS_LIMITS, read_corpus
from .document import DEFAULT_LIMITS, Document, IngestError, IngestLimits
from .formats import (HIDDEN_HTML_TAGS, HtmlTextLayout, decode_text, docx_to_text, html_to_text, pdf_to_text,
                      sniff_binary, visible_text_layout)
from .loading import (documents_from_bytes, documents_from_file, expand_paths, load_documents,
                      load_labelled_documents, read_file)
from .names import safe_filename, unique_names
from .suffixes import CORPUS_SUFFIXES, SUPPORTED_SUFFIXES
from .tables import labelled_documents_from_bytes, parse_membership_label

__all__ = ["Document", "IngestError", "IngestLimits", "DEFAULT_LIMITS", "SUPPORTED_SUFFIXES", "decode_text",
           "documents_from_bytes", "documents_from_file", "expand_paths", "load_documents", "read_file",
           "unique_names", "safe_filename", "html_to_text", "visible_text_layout", "HtmlTextLayout",
           "HIDDEN_HTML_TAGS", "pdf_to_text", "docx_to_text", "sniff_binary",
           "parse_membership_label", "labelled_documents_from_bytes", "load_labelled_documents", "read_corpus",
           "CORPUS_LIMITS", "CORPUS_SUFFIXES"]
