"""Bytes of one file -> its text: text decoding, binary sniffing, HTML visible text, PDF text layers, Word .docx.

``visible_text_layout`` tells code that edits HTML (ghost embedding) where that visible text lies in the source.

Every function raises ValueError with a sentence for the user when the content cannot be turned into text.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
import zipfile
from collections.abc import Collection
from dataclasses import dataclass
from html.parser import HTMLParser

from .archives import check_archive
from .document import DEFAULT_LIMITS, IngestLimits

log = logging.getLogger(__name__)

# Leading bytes of common binary formats: a better message than "binary file" when an extension is wrong.
_MAGIC = (
    (b"%PDF-", "a PDF document", ".pdf"),
    (b"PK\x03\x04", "a zip archive (or a .docx file, which is a zip archive)", ".zip or .docx"),
    (b"\x89PNG", "a PNG image", None),
    (b"\xff\xd8\xff", "a JPEG image", None),
    (b"GIF8", "a GIF image", None),
    (b"\x7fELF", "a program (ELF executable)", None),
    (b"MZ", "a Windows program", None),
    (b"\x1f\x8b", "a gzip archive", None),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office file (.doc/.xls)", None),
)

# Among legacy encodings that decode a file equally well, the most widespread wins (Western European first).
_PREFERRED_ENCODINGS = ("cp1252", "latin_1", "iso8859_15", "cp1251", "cp1250", "shift_jis", "gb18030", "big5")


# --------------------------------------------------------------------------------------------------------------
# text decoding


def sniff_binary(data: bytes) -> str | None:
    """Describe a well-known binary format from its first bytes ('a PNG image'), or None."""
    for magic, what, _ in _MAGIC:
        if data.startswith(magic):
            return what
    return None


def decode_text(data: bytes, source: str) -> str:
    """Bytes -> str: a byte-order mark or UTF-8 first, else the encoding charset-normalizer detects.

    Raises ValueError with a sentence for the user when the bytes are empty, binary or in no recognisable encoding.
    """
    if not data.strip():
        raise ValueError("the file is empty.")
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"),
                          (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            try:
                return _check_text(data.decode(encoding), data)
            except UnicodeDecodeError:
                break
    utf8 = None
    for errors in ("strict", "surrogatepass"):  # surrogatepass: UTF-8 holding encoded surrogates (CESU-8, WTF-8)
        try:
            utf8 = data.decode("utf-8", errors)
            break
        except UnicodeDecodeError:
            pass
    # Latin text in UTF-16 without a byte-order mark is valid UTF-8 too, but one full of NULs (which reads as binary)
    byte_order = _utf16_byte_order(data)
    if byte_order is not None and (utf8 is None or _control_share(utf8) > _MAX_CONTROL_SHARE):
        try:
            return _check_text(data.decode(byte_order), data)
        except (UnicodeDecodeError, ValueError):
            pass
    if utf8 is not None:
        return _check_text(utf8, data)
    if sniff_binary(data) or (b"\x00" in data[:4096] and not _looks_like_utf16(data)):
        raise _binary_error(data)
    from charset_normalizer import from_bytes

    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise ValueError("the text encoding could not be recognised; save it as UTF-8 and try again.")
    # Several legacy code pages often fit equally well; prefer the most widespread one among exact ties.
    ties = [m for m in matches if m.chaos == best.chaos and m.coherence == best.coherence]
    for preferred in _PREFERRED_ENCODINGS:
        chosen = next((m for m in ties if preferred in m.could_be_from_charset), None)
        if chosen is not None:
            best = chosen
            break
    log.info("%s decoded as %s", source, best.encoding)
    return _check_text(str(best), data)


_SURROGATE = re.compile("[\ud800-\udfff]")


def repair_surrogates(text: str) -> tuple[str, int]:
    """``text`` with every lone UTF-16 surrogate (half of a character, e.g. ``"\\ud800"`` in scraped JSON, which no
    UTF-8 writer, tokenizer or database accepts) replaced by U+FFFD, and how many were replaced. Surrogate pairs
    that belong together become the character they encode."""
    if _SURROGATE.search(text) is None:
        return text, 0
    repaired = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return repaired, repaired.count("\ufffd") - text.count("\ufffd")


def surrogate_message(count: int, where: str = "") -> str:
    """The sentence for a text whose ``count`` broken characters (lone surrogates) were replaced; ``where`` is
    e.g. 'line 3: ' when the text came from one line of a table."""
    return (f"{where}{count} broken character(s) (lone UTF-16 surrogates, e.g. \\ud800) were replaced by "
            "\N{REPLACEMENT CHARACTER}; the rest of the text was read.")


def _binary_error(data: bytes) -> ValueError:
    what = sniff_binary(data)
    if what:
        return ValueError(f"this is {what}, not text.")
    return ValueError("this looks like a binary file, not text.")


def _utf16_byte_order(data: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' for UTF-16 without a byte-order mark whose text is mostly Latin (one byte of
    every pair NUL, on the side the byte order puts it), else None."""
    sample = data[:4096]
    if len(sample) < 8 or len(data) % 2:
        return None
    evens, odds = sample[0::2].count(0) / (len(sample) // 2), sample[1::2].count(0) / (len(sample) // 2)
    if odds >= 0.9 and evens <= 0.1:
        return "utf-16-le"
    if evens >= 0.9 and odds <= 0.1:
        return "utf-16-be"
    return None


def _looks_like_utf16(data: bytes) -> bool:
    """UTF-16 without a byte-order mark: every other byte is NUL for Latin text."""
    sample = data[:4096]
    if len(sample) < 4:
        return False
    evens, odds = sample[0::2], sample[1::2]
    return evens.count(0) / len(evens) > 0.4 or odds.count(0) / len(odds) > 0.4


_MAX_CONTROL_SHARE = 0.05


def _control_share(text: str) -> float:
    """Share of control characters (other than whitespace) among the first 20,000 characters of ``text``."""
    sample = text[:20000]
    if not sample:
        return 0.0
    return sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\v") / len(sample)


def _check_text(text: str, data: bytes) -> str:
    """Refuse decoded text that is mostly control characters (binary data that happened to decode)."""
    if _control_share(text) > _MAX_CONTROL_SHARE:
        raise _binary_error(data)
    text = text.replace("\x00", "")
    if not text.strip():
        raise ValueError("the file is empty.")
    return text


# --------------------------------------------------------------------------------------------------------------
# HTML


HIDDEN_HTML_TAGS = frozenset({"script", "style", "title", "template", "noscript", "svg", "math", "iframe", "object"})
"""Tags whose content is never shown as text (``html_to_text`` drops it, ``visible_text_layout`` leaves it out)."""


class _HiddenDepth(HTMLParser):
    """How deep the parser is inside HIDDEN_HTML_TAGS; a self-closing one (``<svg/>``) hides nothing. The one rule
    both ``html_to_text`` and ``visible_text_layout`` follow, so what one shows the other locates."""

    def __init__(self, *, convert_charrefs: bool) -> None:
        super().__init__(convert_charrefs=convert_charrefs)
        self.hidden_depth = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in HIDDEN_HTML_TAGS:
            self.hidden_depth += 1

    def handle_startendtag(self, tag: str, attrs) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN_HTML_TAGS:
            self.hidden_depth = max(0, self.hidden_depth - 1)


class _VisibleText(_HiddenDepth):
    """Collect the text a browser would show: no script/style/title/template content, line breaks at blocks.

    The head is not hidden as a whole because pages often omit ``</head>``; what it holds besides the title
    (meta, link, style, script) carries no text."""

    BLOCKS = {"p", "div", "br", "li", "ul", "ol", "tr", "td", "th", "table", "section", "article", "header",
              "footer", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "hr", "dd", "dt", "dl", "main",
              "nav", "aside", "figure", "figcaption", "form", "body", "html"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.pre_depth = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("pre", "textarea"):
            self.pre_depth += 1
        super().handle_starttag(tag, attrs)
        if tag not in HIDDEN_HTML_TAGS and tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("pre", "textarea"):
            self.pre_depth = max(0, self.pre_depth - 1)
        super().handle_endtag(tag)
        if tag not in HIDDEN_HTML_TAGS and tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.hidden_depth == 0:
            # Line breaks in HTML source are spaces on screen, except inside <pre>.
            self.parts.append(data if self.pre_depth else re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Visible text of an HTML page: tags, scripts, styles and comments removed, entities decoded, one line per
    block element, runs of spaces collapsed."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    lines = (re.sub(r"[ \t\r\f\v\u00a0]+", " ", line).strip() for line in "".join(parser.parts).split("\n"))
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


@dataclass(frozen=True)
class HtmlTextLayout:
    """Where the visible text of an HTML source lies, in character offsets (``str`` indices) of the source.

    ``segments``: the [start, end) ranges of the runs of text between tags (and character references such as
    ``&amp;``) that ``html_to_text`` shows, in source order; runs of only whitespace are left out. Anything
    inserted strictly inside or at the end of a segment (HTML-escaped) is shown by ``html_to_text`` too.
    ``body_start``: the offset right after the first ``<body ...>`` start tag; ``body_end``: the offset of the last
    ``</body>`` end tag; None when the source has no such tag. ``hidden_tags``: the tags whose content is never
    shown (``HIDDEN_HTML_TAGS``), plus the caller's ``exclude``.
    """

    segments: tuple[tuple[int, int], ...]
    body_start: int | None
    body_end: int | None
    hidden_tags: frozenset[str]


class _TextLayout(_HiddenDepth):
    """Source offsets of the text ``_VisibleText`` shows (same hidden-tag rule), minus text inside ``exclude``."""

    def __init__(self, source: str, exclude: Collection[str]) -> None:
        super().__init__(convert_charrefs=False)  # data then maps one to one onto source characters
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self.excluded = {tag: 0 for tag in exclude}  # open depth of each excluded tag
        self.segments: list[tuple[int, int]] = []
        self.body_start: int | None = None
        self.body_end: int | None = None

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs) -> None:
        super().handle_starttag(tag, attrs)
        if tag == "body":
            if self.body_start is None:
                self.body_start = self._offset() + len(self.get_starttag_text() or "")
            if "head" in self.excluded:  # pages often omit </head>: the body ends it
                self.excluded["head"] = 0
        if tag in self.excluded:
            self.excluded[tag] += 1

    def handle_endtag(self, tag: str) -> None:
        super().handle_endtag(tag)
        if tag == "body":
            self.body_end = self._offset()
        if tag in self.excluded:
            self.excluded[tag] = max(0, self.excluded[tag] - 1)

    def handle_data(self, data: str) -> None:
        if self.hidden_depth == 0 and not any(self.excluded.values()) and data.strip():
            start = self._offset()
            self.segments.append((start, start + len(data)))


def visible_text_layout(html: str, *, exclude: Collection[str] = ()) -> HtmlTextLayout:
    """Where ``html_to_text`` finds its text in an HTML source: character ranges of the visible text runs, and
    where the body starts and ends (see ``HtmlTextLayout``).

    For code that edits an HTML source and must know what a reader of the page will see, such as placing
    identifiers into visible text so that ``html_to_text`` (and so every upload of the marked file) shows them:
    any text inside ``<script>``, ``<svg>``, ``<math>``, ``<title>``, ... (``HIDDEN_HTML_TAGS``) is left out.
    ``exclude`` names further tags (lower case) whose text is shown but should not count, e.g. ``{"head", "pre",
    "code", "textarea"}`` to keep to prose; an unclosed ``<head>`` ends at ``<body>``.
    """
    parser = _TextLayout(html, {t.lower() for t in exclude})
    parser.feed(html)
    parser.close()
    return HtmlTextLayout(segments=tuple(parser.segments), body_start=parser.body_start, body_end=parser.body_end,
                          hidden_tags=HIDDEN_HTML_TAGS | {t.lower() for t in exclude})



# --------------------------------------------------------------------------------------------------------------
# PDF and DOCX


def pdf_to_text(data: bytes, *, max_pages: int = DEFAULT_LIMITS.max_pdf_pages) -> str:
    """The text layer of a PDF, page by page. Raises ValueError with a sentence for the user when the PDF is
    damaged, protected by a password, or has no text layer (scanned images)."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf warns loudly about every small defect
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # many PDFs only restrict printing and open without a password
            except (DependencyError, NotImplementedError):
                opened = 0
            if not opened:
                raise ValueError("the PDF is protected by a password; remove the protection (or print it to a new "
                                 "PDF) and upload it again.")
        n_pages = len(reader.pages)
        if n_pages > max_pages:
            raise ValueError(f"the PDF has {n_pages} pages, more than the limit of {max_pages}; split it first.")
        pages = [(page.extract_text() or "") for page in reader.pages]
    except ValueError:
        raise
    except (FileNotDecryptedError, DependencyError):
        raise ValueError("the PDF is protected by a password; remove the protection and upload it again.") from None
    except (PdfReadError, Exception) as exc:  # pypdf raises many types on damaged input
        log.info("pdf read failed: %r", exc)
        raise ValueError("the PDF is damaged or not really a PDF, so it could not be read.") from None
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text.strip():
        raise ValueError("the PDF has no text layer (it is probably scanned images); run text recognition (OCR) "
                         "on it or upload the original text instead.")
    return text


def docx_to_text(data: bytes, limits: IngestLimits = DEFAULT_LIMITS) -> str:
    """Paragraphs and table cells of a .docx file. Raises ValueError for damaged files and for .docx files whose
    parts unpack to more than the archive limits (a .docx is a zip archive)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            check_archive(zf.infolist(), limits, budget=None)
    except zipfile.BadZipFile:
        raise ValueError("the file is damaged or not a Word .docx document.") from None
    except (OSError, RuntimeError, NotImplementedError, EOFError):
        raise ValueError("the file is damaged or not a Word .docx document.") from None
    try:
        import docx

        document = docx.Document(io.BytesIO(data))
        parts = [p.text for p in document.paragraphs]
        for table in document.tables:
            for row in table.rows:
                parts.append("\t".join(cell.text for cell in row.cells))
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors ... on damaged files
        log.info("docx read failed: %r", exc)
        raise ValueError("the file is damaged or not a Word .docx document (if it is an old .doc file, save it as "
                         ".docx first).") from None
    text = "\n".join(parts).strip()
    if not text:
        raise ValueError("the Word document has no text.")
    return text
