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
- folders of any of the above (recursively) for ``load_documents``.

Nothing here executes, unpickles or writes the uploaded content anywhere: files are parsed in memory. Every problem
becomes an ``IngestError`` (a source and a sentence the user can act on); ``documents_from_bytes`` and
``load_documents`` never raise for bad content. Use ``safe_filename`` for any name derived from an upload that is
written to disk.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import posixpath
import re
import stat
import unicodedata
import zipfile
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md"}
HTML_SUFFIXES = {".html", ".htm"}
TABLE_SUFFIXES = {".jsonl", ".csv"}
PDF_SUFFIXES = {".pdf"}
DOCX_SUFFIXES = {".docx"}
ARCHIVE_SUFFIXES = {".zip"}
SUPPORTED_SUFFIXES = (TEXT_SUFFIXES | HTML_SUFFIXES | TABLE_SUFFIXES | PDF_SUFFIXES | DOCX_SUFFIXES
                      | ARCHIVE_SUFFIXES)

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

_MIB = 1024 * 1024

# Among legacy encodings that decode a file equally well, the most widespread wins (Western European first).
_PREFERRED_ENCODINGS = ("cp1252", "latin_1", "iso8859_15", "cp1251", "cp1250", "shift_jis", "gb18030", "big5")


@dataclass(frozen=True)
class IngestLimits:
    """Safety limits for reading untrusted files. All sizes are in bytes.

    ``max_file_bytes`` applies to every file (and every member of an archive); ``max_archive_members``,
    ``max_archive_bytes`` (total unpacked size) and ``max_compression_ratio`` protect against zip bombs; the ratio
    is only checked for members larger than ``ratio_check_min_bytes`` (small text files compress very well).
    Archives inside an archive are opened ``max_archive_depth`` levels deep (1: a zip of zips, no deeper).
    ``max_errors_per_file`` caps the per-line errors one table reports before summarising the rest.
    """

    max_file_bytes: int = 50 * _MIB
    max_archive_members: int = 2000
    max_archive_bytes: int = 200 * _MIB
    max_compression_ratio: float = 200.0
    ratio_check_min_bytes: int = 1 * _MIB
    max_archive_depth: int = 1
    max_pdf_pages: int = 2000
    max_errors_per_file: int = 20


DEFAULT_LIMITS = IngestLimits()


@dataclass
class Document:
    """A named text. ``name`` is what the user recognises (file name, table id, 'pasted text')."""

    name: str
    text: str


@dataclass
class IngestError:
    """One input that could not be (fully) read, and why, in a sentence the user can act on."""

    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


# --------------------------------------------------------------------------------------------------------------
# names


_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def safe_filename(name: str, *, default: str = "document", max_length: int = 120) -> str:
    """A file name that is safe to create in a folder: no folders, no '..', no hidden or reserved names.

    Keeps letters and digits (any script), '.', '-', '_' and spaces; everything else (slashes, control and
    direction-override characters, shell metacharacters) becomes '_'. The result is never empty, never starts with
    '.' or '-', and is at most ``max_length`` characters with the extension kept when it is short.
    """
    base = re.split(r"[\\/]", str(name))[-1]
    base = unicodedata.normalize("NFKC", base)
    base = "".join(ch if (ch.isalnum() or ch in "._- ") and ch.isprintable() else "_" for ch in base)
    base = re.sub(r"_{2,}", "_", re.sub(r"\s+", " ", base)).strip(" ._-")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    if stem.lower() in _WINDOWS_RESERVED or base.lower() in _WINDOWS_RESERVED:
        base = f"_{base}"
    if not base:
        base = default
    max_length = max(8, max_length)
    if len(base) > max_length:
        ext = base.rpartition(".")[2] if "." in base else ""
        # cutting can expose a trailing separator; strip it so that cleaning a clean name changes nothing
        if ext and len(ext) <= 10:
            base = base[: max_length - len(ext) - 1].rstrip(" ._-") + "." + ext
        else:
            base = base[:max_length].rstrip(" ._-")
    return base.strip(" ") or default


def unique_names(docs: Sequence[Document]) -> list[Document]:
    """Make document names unique by appending ' (2)', ' (3)', ... to repeats."""
    seen: dict[str, int] = {}
    taken = {d.name for d in docs}
    out = []
    for d in docs:
        n = seen.get(d.name, 0) + 1
        seen[d.name] = n
        if n == 1:
            out.append(d)
            continue
        candidate = f"{d.name} ({n})"
        while candidate in taken:  # a document may already be called 'x (2)'
            n += 1
            candidate = f"{d.name} ({n})"
        seen[d.name] = n
        taken.add(candidate)
        out.append(Document(candidate, d.text))
    return out


def _display(name: str, limit: int = 200) -> str:
    """A name safe to show in messages and tables: control characters replaced, length bounded."""
    cleaned = "".join(ch if ch.isprintable() else "\N{REPLACEMENT CHARACTER}" for ch in name)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "\N{HORIZONTAL ELLIPSIS}"


def _megabytes(n: int) -> str:
    return f"{n / _MIB:.1f} MB" if n >= _MIB / 10 else f"{n / 1024:.0f} KB"


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
    try:
        return _check_text(data.decode("utf-8"), data)
    except UnicodeDecodeError:
        pass
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


def _binary_error(data: bytes) -> ValueError:
    what = sniff_binary(data)
    if what:
        return ValueError(f"this is {what}, not text.")
    return ValueError("this looks like a binary file, not text.")


def _looks_like_utf16(data: bytes) -> bool:
    """UTF-16 without a byte-order mark: every other byte is NUL for Latin text."""
    sample = data[:4096]
    if len(sample) < 4:
        return False
    evens, odds = sample[0::2], sample[1::2]
    return evens.count(0) / len(evens) > 0.4 or odds.count(0) / len(odds) > 0.4


def _check_text(text: str, data: bytes) -> str:
    """Refuse decoded text that is mostly control characters (binary data that happened to decode)."""
    sample = text[:20000]
    if sample:
        control = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\v")
        if control / len(sample) > 0.05:
            raise _binary_error(data)
    text = text.replace("\x00", "")
    if not text.strip():
        raise ValueError("the file is empty.")
    return text


# --------------------------------------------------------------------------------------------------------------
# HTML


class _VisibleText(HTMLParser):
    """Collect the text a browser would show: no script/style/title/template content, line breaks at blocks.

    The head is not hidden as a whole because pages often omit ``</head>``; what it holds besides the title
    (meta, link, style, script) carries no text."""

    HIDDEN = {"script", "style", "title", "template", "noscript", "svg", "math", "iframe", "object"}
    BLOCKS = {"p", "div", "br", "li", "ul", "ol", "tr", "td", "th", "table", "section", "article", "header",
              "footer", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "hr", "dd", "dt", "dl", "main",
              "nav", "aside", "figure", "figcaption", "form", "body", "html"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden_depth = 0
        self.pre_depth = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("pre", "textarea"):
            self.pre_depth += 1
        if tag in self.HIDDEN:
            self.hidden_depth += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("pre", "textarea"):
            self.pre_depth = max(0, self.pre_depth - 1)
        if tag in self.HIDDEN:
            self.hidden_depth = max(0, self.hidden_depth - 1)
        elif tag in self.BLOCKS:
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
            _check_archive(zf.infolist(), limits, budget=None)
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


# --------------------------------------------------------------------------------------------------------------
# tables


class _Problem(str):
    """A line-level problem sentence (kept apart from rows that are themselves JSON strings)."""


def _jsonl_rows(text: str, name: str) -> Iterator[tuple[int, object]]:
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield line_no, json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            yield line_no, _Problem(f"line {line_no} is not valid JSON ({reason}).")


def _csv_rows(text: str, text_column: str, limits: IngestLimits) -> Iterator[tuple[int, object]]:
    # The csv module's field limit is process-wide; raise it (never lower it) so long documents fit in one cell.
    csv.field_size_limit(max(csv.field_size_limit(), limits.max_file_bytes))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        yield 1, _Problem(f"the header line could not be read ({exc}).")
        return
    header = [h.strip().lstrip("\ufeff") for h in header]
    if text_column not in header:
        shown = ", ".join(f"'{_display(h, 40)}'" for h in header[:10]) or "none"
        raise ValueError(f"the table has no '{text_column}' column (its columns are: {shown}).")
    while True:
        line_no = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield line_no, _Problem(f"line {line_no} could not be read; check its quotes (\") and commas ({exc}).")
            continue
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield line_no, _Problem(f"line {line_no} has {len(values)} field(s) but the header has {len(header)} "
                                    "(check for an unquoted comma or a missing quote).")
            continue
        yield line_no, dict(zip(header, values))


def _line_errors(name: str, problems: list[tuple[int, str]], limits: IngestLimits, *, no_rows: bool,
                 text_column: str) -> list[IngestError]:
    """One IngestError per bad line, up to ``limits.max_errors_per_file``, then one line summing up the rest; and a
    sentence when the table gave no row at all."""
    errors = [IngestError(name, msg) for _, msg in problems[: limits.max_errors_per_file]]
    if len(problems) > limits.max_errors_per_file:
        rest = [str(n) for n, _ in problems[limits.max_errors_per_file:]]
        shown = ", ".join(rest[:10]) + (", ..." if len(rest) > 10 else "")
        errors.append(IngestError(name, f"{len(rest)} more line(s) could not be used either (lines {shown})."))
    if no_rows and not errors:
        errors.append(IngestError(name, f"the table has no rows with a '{text_column}' value."))
    return errors


def _table_documents(name: str, rows: Iterable[tuple[int, object]], text_column: str, id_column: str,
                     limits: IngestLimits) -> tuple[list[Document], list[IngestError]]:
    docs: list[Document] = []
    problems: list[tuple[int, str]] = []
    for line_no, row in rows:
        if isinstance(row, _Problem):
            problems.append((line_no, str(row)))
            continue
        if not isinstance(row, dict):
            problems.append((line_no, f"line {line_no} is not a JSON object with a '{text_column}' field."))
            continue
        if text_column not in row:
            problems.append((line_no, f"line {line_no} has no '{text_column}' field."))
            continue
        text = row[text_column]
        if not isinstance(text, str):
            problems.append((line_no, f"line {line_no} has a '{text_column}' field that is not text."))
            continue
        if not text.strip():
            problems.append((line_no, f"line {line_no} has an empty '{text_column}' field."))
            continue
        ident = row.get(id_column)
        label = _display(str(ident), 120) if ident not in (None, "") and not isinstance(ident, (dict, list)) \
            else str(line_no)
        docs.append(Document(f"{name}:{label}", text))
    errors = _line_errors(name, problems, limits, no_rows=not docs, text_column=text_column)
    return docs, errors


# --------------------------------------------------------------------------------------------------------------
# zip archives


@dataclass
class _Budget:
    """Unpacked bytes and members still allowed for one upload, shared by nested archives."""

    bytes_left: int
    members_left: int


def _check_archive(infos: Sequence[zipfile.ZipInfo], limits: IngestLimits, budget: _Budget | None) -> None:
    """Raise ValueError when an archive's declared sizes break the limits (checked before anything is unpacked)."""
    files = [i for i in infos if not i.is_dir()]
    members_allowed = limits.max_archive_members if budget is None else budget.members_left
    if len(files) > members_allowed:
        raise ValueError(f"the archive holds {len(files)} files, more than the limit of {members_allowed}; "
                         "split it into smaller archives.")
    total = sum(i.file_size for i in files)
    bytes_allowed = limits.max_archive_bytes if budget is None else budget.bytes_left
    if total > bytes_allowed:
        raise ValueError(f"the archive would unpack to {_megabytes(total)}, more than the limit of "
                         f"{_megabytes(bytes_allowed)}; this protects against 'zip bombs'. Split it into smaller "
                         "archives.")
    for info in files:
        if info.file_size > limits.ratio_check_min_bytes and \
                info.file_size > limits.max_compression_ratio * max(info.compress_size, 1):
            raise ValueError(f"the member '{_display(info.filename, 80)}' is compressed more than "
                             f"{limits.max_compression_ratio:.0f} to 1, which is how 'zip bombs' work, so the "
                             "archive was not opened.")


def _member_path_problem(filename: str) -> str | None:
    """Why a member path is refused (absolute, drive letter, '..' escaping the archive, link), or None."""
    normalised = filename.replace("\\", "/")
    if normalised.startswith("/") or re.match(r"^[A-Za-z]:", normalised):
        return "has an absolute path"
    parts = [p for p in normalised.split("/") if p not in ("", ".")]
    if ".." in parts or posixpath.normpath("/".join(parts) or ".").startswith(".."):
        return "has a path that points outside the archive"
    if any(ord(ch) < 32 for ch in normalised):
        return "has control characters in its name"
    return None


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _skip_silently(member: str) -> bool:
    """Operating-system clutter that users never meant to upload (macOS resource forks, Thumbs.db, ...)."""
    parts = member.replace("\\", "/").split("/")
    return parts[0] == "__MACOSX" or parts[-1].startswith("._") or parts[-1] in {".DS_Store", "Thumbs.db",
                                                                                    "desktop.ini"}


def _zip_documents(name: str, data: bytes, *, text_column: str, id_column: str, limits: IngestLimits,
                   depth: int, budget: _Budget | None) -> tuple[list[Document], list[IngestError]]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError,
            RuntimeError):
        return [], [IngestError(name, "the zip archive is damaged, uses a zip feature that is not supported, or "
                                      "is not a zip archive.")]
    with zf:
        try:
            infos = zf.infolist()
        except Exception:  # noqa: BLE001 - damaged central directory
            return [], [IngestError(name, "the zip archive is damaged or not a zip archive.")]
        budget = budget or _Budget(limits.max_archive_bytes, limits.max_archive_members)
        try:
            _check_archive(infos, limits, budget)
        except ValueError as exc:
            return [], [IngestError(name, str(exc))]
        docs: list[Document] = []
        errors: list[IngestError] = []
        for info in infos:
            if info.is_dir() or _skip_silently(info.filename):
                continue
            source = f"{name}:{_display(info.filename)}"
            problem = _member_path_problem(info.filename)
            if problem is None and _is_symlink(info):
                problem = "is a link, not a file"
            if problem is None and info.flag_bits & 0x1:
                problem = "is protected by a password"
            if problem is not None:
                errors.append(IngestError(source, f"skipped: this archive member {problem}."))
                continue
            suffix = Path(info.filename.replace("\\", "/")).suffix.lower()
            if suffix in ARCHIVE_SUFFIXES and depth >= limits.max_archive_depth:
                errors.append(IngestError(source, "skipped: archives inside archives are opened only "
                                                  f"{limits.max_archive_depth} level(s) deep."))
                continue
            if suffix not in SUPPORTED_SUFFIXES:
                errors.append(IngestError(source, _unsupported_message(suffix)))
                continue
            if info.file_size > limits.max_file_bytes:
                errors.append(IngestError(source, _too_big_message(info.file_size, limits)))
                continue
            budget.members_left -= 1
            try:
                with zf.open(info) as fh:
                    content = fh.read(min(info.file_size, budget.bytes_left) + 1)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, ValueError) as exc:
                log.info("zip member read failed: %r", exc)
                errors.append(IngestError(source, "this archive member is damaged and could not be unpacked."))
                continue
            if len(content) > budget.bytes_left:
                errors.append(IngestError(name, "the archive unpacks to more than its declared size; the rest of "
                                                "it was not read (a 'zip bomb' safeguard)."))
                break
            budget.bytes_left -= len(content)
            got, errs = _documents_from_bytes(source, content, text_column=text_column, id_column=id_column,
                                              limits=limits, depth=depth + 1, budget=budget)
            docs.extend(got)
            errors.extend(errs)
        if not docs and not errors:
            errors.append(IngestError(name, "the zip archive holds no files."))
        return docs, errors


# --------------------------------------------------------------------------------------------------------------
# entry points


def _unsupported_message(suffix: str) -> str:
    advice = _UNSUPPORTED_ADVICE.get(suffix)
    kind = f"'{suffix}'" if suffix else "without an extension"
    base = f"files {kind} are not supported" if not suffix else f"files of type {kind} are not supported"
    if advice:
        return f"{base}; {advice}."
    return f"{base}; use one of {', '.join(sorted(SUPPORTED_SUFFIXES))}."


def _too_big_message(size: int, limits: IngestLimits) -> str:
    return (f"the file is {_megabytes(size)}, more than the limit of {_megabytes(limits.max_file_bytes)}; split it "
            "into smaller files.")


def documents_from_bytes(name: str, data: bytes, *, text_column: str = "text", id_column: str = "id",
                         limits: IngestLimits = DEFAULT_LIMITS) -> tuple[list[Document], list[IngestError]]:
    """Read one uploaded or on-disk file's bytes into documents, chosen by the extension of ``name``.

    Never raises for bad content: every problem becomes an IngestError, and the documents that could be read are
    returned beside them (good lines of a table, good members of an archive).
    """
    return _documents_from_bytes(name, data, text_column=text_column, id_column=id_column, limits=limits,
                                 depth=0, budget=None)


def _documents_from_bytes(name: str, data: bytes, *, text_column: str, id_column: str, limits: IngestLimits,
                          depth: int, budget: _Budget | None) -> tuple[list[Document], list[IngestError]]:
    name = _display(str(name), 400)
    try:
        return _read_one(name, data, text_column=text_column, id_column=id_column, limits=limits, depth=depth,
                         budget=budget)
    except ValueError as exc:
        return [], [IngestError(name, str(exc))]
    except RecursionError:
        return [], [IngestError(name, "the file is nested too deeply to be read.")]
    except MemoryError:
        return [], [IngestError(name, "the file needs more memory to read than this machine has.")]
    except Exception as exc:  # noqa: BLE001 - the promise is that a hostile file never takes the batch down
        log.exception("unexpected error reading %s", name)
        return [], [IngestError(name, f"the file could not be read ({type(exc).__name__}).")]


def _read_one(name: str, data: bytes, *, text_column: str, id_column: str, limits: IngestLimits, depth: int,
              budget: _Budget | None) -> tuple[list[Document], list[IngestError]]:
    suffix = Path(name.replace("\\", "/")).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return [], [IngestError(name, _unsupported_message(suffix))]
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError("the upload did not contain file data.")
    data = bytes(data)
    if len(data) > limits.max_file_bytes:
        raise ValueError(_too_big_message(len(data), limits))
    if not data.strip():
        raise ValueError("the file is empty.")
    if suffix in ARCHIVE_SUFFIXES:
        return _zip_documents(name, data, text_column=text_column, id_column=id_column, limits=limits,
                              depth=depth, budget=budget)
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
    rows = _jsonl_rows(text, name) if suffix == ".jsonl" else _csv_rows(text, text_column, limits)
    return _table_documents(name, rows, text_column, id_column, limits)


def _single(name: str, text: str) -> tuple[list[Document], list[IngestError]]:
    if not text.strip():
        return [], [IngestError(name, "the file has no text.")]
    return [Document(name, text)], []


def expand_paths(paths: Sequence[str | Path], *, suffixes: Collection[str] = SUPPORTED_SUFFIXES,
                 include_hidden: bool = True) -> tuple[list[Path], list[IngestError]]:
    """Files named directly, plus the files with one of ``suffixes`` found (recursively, sorted, no symlinks) in
    folders; names starting with '.' are skipped unless ``include_hidden``. Missing paths and empty folders become
    IngestErrors."""
    files, errors = [], []
    for raw in paths:
        path = Path(raw)
        try:
            if path.is_dir():
                found = sorted(p for p in path.rglob("*")
                               if p.is_file() and not p.is_symlink() and p.suffix.lower() in suffixes
                               and (include_hidden or not p.name.startswith(".")))
                if not found:
                    errors.append(IngestError(str(path), "the folder holds no supported files."))
                files.extend(found)
            elif path.is_file():
                files.append(path)
            else:
                errors.append(IngestError(str(path), "no such file or folder."))
        except OSError as exc:
            errors.append(IngestError(str(path), f"could not be read ({exc.strerror or exc})."))
    return files, errors


def read_file(path: Path, limits: IngestLimits = DEFAULT_LIMITS) -> bytes | IngestError:
    """A file's bytes, or an IngestError when it is over ``limits.max_file_bytes`` (checked before reading) or
    cannot be read."""
    try:
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            return IngestError(str(path), _too_big_message(size, limits))
        return path.read_bytes()
    except OSError as exc:
        return IngestError(str(path), f"could not be read ({exc.strerror or exc}).")


def load_documents(paths: Sequence[str | Path], *, text_column: str = "text", id_column: str = "id",
                   limits: IngestLimits = DEFAULT_LIMITS) -> tuple[list[Document], list[IngestError]]:
    """Read files and folders into documents with unique names; unreadable inputs become IngestErrors.

    Files larger than ``limits.max_file_bytes`` are refused before they are read.
    """
    files, errors = expand_paths(paths)
    docs: list[Document] = []
    for path in files:
        data = read_file(path, limits)
        if isinstance(data, IngestError):
            errors.append(data)
            continue
        got, errs = documents_from_bytes(str(path), data, text_column=text_column, id_column=id_column,
                                         limits=limits)
        docs.extend(got)
        errors.extend(errs)
    return unique_names(docs), errors


__all__ = ["Document", "IngestError", "IngestLimits", "DEFAULT_LIMITS", "SUPPORTED_SUFFIXES", "decode_text",
           "documents_from_bytes", "expand_paths", "load_documents", "read_file", "unique_names", "safe_filename", "html_to_text",
           "pdf_to_text", "docx_to_text", "sniff_binary"]


# --------------------------------------------------------------------------------------------------------------
# labelled tables (member / non-member sets for calibration.evaluate_scores)

_MEMBER_LABELS = {"member", "members", "1", "true", "yes"}
_NON_MEMBER_LABELS = {"non-member", "non-members", "nonmember", "nonmembers", "non_member", "non member", "0",
                      "false", "no"}


def parse_membership_label(value: object) -> int:
    """1 for a member, 0 for a non-member: member / non-member, 1 / 0 or true / false in any case (strings, JSON
    booleans or the numbers 0 and 1). Raises ValueError with a sentence for anything else."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)) and value in (0, 1):
        return int(value)
    if isinstance(value, str):
        word = " ".join(value.strip().lower().split())
        if word in _MEMBER_LABELS:
            return 1
        if word in _NON_MEMBER_LABELS:
            return 0
    shown = f"'{_display(value, 40)}'" if isinstance(value, str) else _display(repr(value), 40)
    raise ValueError(f"the label {shown} is not understood; use member / non-member, 1 / 0 or true / false.")


def labelled_documents_from_bytes(name: str, data: bytes, *, text_column: str = "text", label_column: str = "label",
                                  id_column: str = "id", limits: IngestLimits = DEFAULT_LIMITS
                                  ) -> tuple[list[Document], list[int], list[IngestError]]:
    """Documents and their labels (1 = member, 0 = non-member, same order) from one .jsonl or .csv table's bytes.

    Rows are read and named exactly as ``documents_from_bytes`` reads tables; a row whose label is missing or not
    understood becomes an IngestError naming its line, and the other rows are kept. Never raises for bad content.
    """
    name = _display(str(name), 400)
    suffix = Path(name.replace("\\", "/")).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        return [], [], [IngestError(name, f"a labelled set must be a .jsonl or .csv table with a '{text_column}' and "
                                          f"a '{label_column}' column (member / non-member).")]
    docs: list[Document] = []
    labels: list[int] = []
    problems: list[tuple[int, str]] = []
    missing_label = 0
    try:
        if len(data) > limits.max_file_bytes:
            raise ValueError(_too_big_message(len(data), limits))
        text = decode_text(bytes(data), name)
        rows = _jsonl_rows(text, name) if suffix == ".jsonl" else _csv_rows(text, text_column, limits)
        for line_no, row in rows:
            label = -1  # rows that are not objects are explained by _table_documents and yield no document
            if isinstance(row, dict):
                if label_column not in row:
                    missing_label += 1
                    problems.append((line_no, f"line {line_no} has no '{label_column}' field."))
                    continue
                try:
                    label = parse_membership_label(row[label_column])
                except ValueError as exc:
                    problems.append((line_no, f"line {line_no}: {exc}"))
                    continue
            got, errs = _table_documents(name, [(line_no, row)], text_column, id_column, limits)
            problems.extend((line_no, e.message) for e in errs)
            docs.extend(got)
            labels.extend([label] * len(got))
    except ValueError as exc:
        return [], [], [IngestError(name, str(exc))]
    if missing_label and not docs and missing_label == len(problems):
        return [], [], [IngestError(name, f"the table has no '{label_column}' column; add one with member / "
                                          "non-member (or 1 / 0, true / false) for every row.")]
    errors = _line_errors(name, problems, limits, no_rows=not docs, text_column=text_column)
    return docs, labels, errors


def load_labelled_documents(paths: Sequence[str | Path], *, text_column: str = "text", label_column: str = "label",
                            id_column: str = "id", limits: IngestLimits = DEFAULT_LIMITS
                            ) -> tuple[list[Document], list[int], list[IngestError]]:
    """Read labelled .jsonl / .csv tables (files or folders): documents with unique names, their labels (1 = member,
    0 = non-member) in the same order, and one IngestError per problem."""
    files, errors = expand_paths(paths)
    docs: list[Document] = []
    labels: list[int] = []
    for path in files:
        data = read_file(path, limits)
        if isinstance(data, IngestError):
            errors.append(data)
            continue
        got, got_labels, errs = labelled_documents_from_bytes(str(path), data, text_column=text_column,
                                                              label_column=label_column, id_column=id_column,
                                                              limits=limits)
        docs.extend(got)
        labels.extend(got_labels)
        errors.extend(errs)
    return unique_names(docs), labels, errors


__all__ += ["parse_membership_label", "labelled_documents_from_bytes", "load_labelled_documents"]
