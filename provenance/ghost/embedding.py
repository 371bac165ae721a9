"""Step 3 of ghost sentences: embedding identifiers into an owner's files, with a manifest of every placement.

.txt and .md (sentence boundaries outside fenced code), .html (visible body text only, markup untouched) and .docx
(runs keep their formatting). Identifiers go at the start, the end, or random sentence boundaries; every insertion is
a ``Placement`` (offset and exact inserted string), and for .txt, .md and .html ``remove_placements`` gives back the
original text exactly. Files are embedded as bytes in, bytes out (``embed_bytes``, one file by name and bytes;
``embed_uploads``, several, e.g. a page's uploads, with the manifest and a .zip of the result, nothing written
anywhere); ``embed_files`` does the same for files on disk (the CLI) and writes the marked copies. The manifest gives
the SHA-256 of source and output and the placements. ``plant_corpus`` places identifiers into a training corpus for
experiments.
"""

from __future__ import annotations

import codecs
import copy
import hashlib
import html
import io
import json
import re
import secrets
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..documents import decode_text, documents_from_bytes, safe_filename
from ..documents.words import words
from ..documents.formats import visible_text_layout
from ..files import atomic_write_bytes
from .generator import GhostError
from .registry import FORMAT_VERSION, GhostEntry, write_json

POSITIONS = ("start", "end", "random")
# Automatic placement count: one identifier per this many words of a document (at least one). A random passphrase
# every few hundred words reads as a stray line; fifteen in a 170-word note is a page a data-cleaning filter drops.
DEFAULT_WORDS_PER_PLACEMENT = 250
EMBED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".docx")
MANIFEST_FORMAT = "provenance-ghost-manifest"


@dataclass(frozen=True)
class Placement:
    """One inserted identifier. ``offset`` is the character offset of ``inserted`` in the marked text (for .docx:
    in the text of paragraph ``paragraph``, or -1 for a paragraph of its own). ``inserted`` is the exact string
    added, including any separating space, newlines or HTML markup."""

    id: str
    position: str
    offset: int
    inserted: str
    paragraph: int | None = None


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)\]]*(?=\s)")
_FENCE = re.compile(r"^(```|~~~)", re.M)


def sentence_boundaries(text: str, *, markdown: bool = False) -> list[int]:
    """Character offsets just after each sentence end (., ! or ? plus closing quotes or brackets, followed by
    whitespace), in increasing order. With ``markdown``, boundaries inside fenced code blocks are left out."""
    bounds = [m.end() for m in _SENTENCE_END.finditer(text)]
    if markdown:
        fences = [m.start() for m in _FENCE.finditer(text)]
        blocks = list(zip(fences[0::2], fences[1::2] + [len(text)] * (len(fences) % 2)))
        bounds = [b for b in bounds if not any(lo <= b <= hi for lo, hi in blocks)]
    return bounds


def placements_for_length(n_words: int, words_per_placement: int = DEFAULT_WORDS_PER_PLACEMENT) -> int:
    """How many identifiers a document of ``n_words`` words takes by default: one per ``words_per_placement``
    words, at least one."""
    if words_per_placement < 1:
        raise GhostError(f"Words per placement must be at least 1; got {words_per_placement}.")
    return max(1, n_words // words_per_placement)


def _spread(bounds: Sequence[int], count: int, rng) -> list[int]:
    """``count`` of the (increasing) ``bounds``, spread over the text, in increasing order: the bounds are cut into
    ``count`` runs of about equal length and one is drawn at random from each (never the last of a run when a
    run has two or more). So no two placements share a boundary while there are as many boundaries as
    placements, and at least one sentence separates any two while there are twice as many; with fewer
    boundaries than placements, every boundary is used before any is used again."""
    bounds = list(bounds)
    n = len(bounds)
    if count <= 0 or n == 0:
        return []
    if count > n:
        picks = list(bounds) * (count // n) + _spread(bounds, count % n, rng)
        return sorted(picks)
    picks = []
    for i in range(count):
        lo, hi = (i * n) // count, ((i + 1) * n) // count
        picks.append(bounds[rng.randrange(lo, hi - 1 if hi - lo >= 2 else hi)])
    return picks


def _round_robin(entries: Sequence[GhostEntry], repetitions: int) -> list[GhostEntry]:
    """Each entry ``repetitions`` times, dealt in turns (a b c a b c), so that placed in text order no identifier
    follows itself."""
    return [e for _ in range(repetitions) for e in entries]


def _choose(bounds: Sequence[int], count: int, rng) -> list[int]:
    """``count`` boundaries, distinct while there are enough, then reused."""
    picks: list[int] = []
    while len(picks) < count:
        pool = list(bounds)
        rng.shuffle(pool)
        picks.extend(pool[: count - len(picks)])
    return picks


def _insert(text: str, inserts: list[tuple[int, int, str, str, str]]) -> tuple[str, list[Placement]]:
    """Apply (offset in ``text``, order, id, string, position) insertions (equal offsets in ``order``); return the
    marked text and the placements with offsets in the marked text."""
    out, placements, last, shift = [], [], 0, 0
    for at, _, ident, string, position in sorted(inserts, key=lambda x: (x[0], x[1])):
        out.append(text[last:at])
        placements.append(Placement(id=ident, position=position, offset=at + shift, inserted=string))
        out.append(string)
        shift += len(string)
        last = at
    out.append(text[last:])
    return "".join(out), placements


def embed_text(text: str, entries: Sequence[GhostEntry], *, position: str = "random", repetitions: int = 1,
               markdown: bool = False, rng=None) -> tuple[str, list[Placement]]:
    """Insert each entry's identifier ``repetitions`` times into plain text or Markdown.

    ``position``: "start" (its own paragraph before the text), "end" (its own paragraph after the last
    non-whitespace character) or "random" (after sentence ends spread over the whole text, ``_spread``: distinct
    boundaries while there are enough, separated by at least a sentence while there are twice as many, and the
    identifiers dealt in turns so none follows itself). An entry listed twice in ``entries`` is placed twice as
    often. Returns the marked text and the placements (offsets in the marked text); ``remove_placements`` undoes
    them exactly. Nothing else in the text changes.
    """
    if position not in POSITIONS:
        raise GhostError(f"Unknown position '{position}'. Choose one of: {', '.join(POSITIONS)}.")
    if repetitions < 1:
        raise GhostError(f"Repetitions must be at least 1; got {repetitions}.")
    rng = rng or secrets.SystemRandom()
    newline = "\r\n" if "\r\n" in text else "\n"
    body_start = 1 if text.startswith("\ufeff") else 0
    body_end = len(text.rstrip())
    inserts = []
    order = 0
    if position == "random":
        bounds = [b for b in sentence_boundaries(text, markdown=markdown) if b < body_end] + [body_end]
        todo = _round_robin(entries, repetitions)
        for e, at in zip(todo, _spread(bounds, len(todo), rng)):
            inserts.append((at, order, e.id, " " + e.identifier, position))
            order += 1
    else:
        for e in entries:
            for _ in range(repetitions):
                if position == "start":
                    inserts.append((body_start, order, e.id, e.identifier + newline * 2, position))
                else:
                    inserts.append((body_end, order, e.id, newline * 2 + e.identifier, position))
                order += 1
    return _insert(text, inserts)


def remove_placements(marked: str, placements: Sequence[Placement]) -> str:
    """Undo ``embed_text`` / ``embed_html``: cut every placement out of the marked text (checked, not trusted)."""
    text = marked
    for p in sorted(placements, key=lambda p: p.offset, reverse=True):
        if text[p.offset: p.offset + len(p.inserted)] != p.inserted:
            raise GhostError(f"The placement of {p.id} at character {p.offset} is not in this text; was the file "
                             "edited after embedding?")
        text = text[: p.offset] + text[p.offset + len(p.inserted):]
    return text


# Text inside these is shown by html_to_text but is not prose an identifier should be planted in.
_NON_PROSE_TAGS = frozenset({"head", "pre", "code", "textarea"})


def embed_html(source: str, entries: Sequence[GhostEntry], *, position: str = "random", repetitions: int = 1,
               rng=None) -> tuple[str, list[Placement]]:
    """Insert identifiers (HTML-escaped) into an HTML source without touching its markup.

    "start" / "end": a ``<p>`` of its own right after ``<body>`` / right before ``</body>`` (the document start or
    end without a body tag); "random": after a sentence end inside visible text. Offsets are in the marked source;
    ``remove_placements`` undoes them exactly.
    """
    if position not in POSITIONS:
        raise GhostError(f"Unknown position '{position}'. Choose one of: {', '.join(POSITIONS)}.")
    if repetitions < 1:
        raise GhostError(f"Repetitions must be at least 1; got {repetitions}.")
    rng = rng or secrets.SystemRandom()
    # The same visible-text rule as documents.formats.html_to_text, which reads the marked file back: an identifier
    # is never placed where a reader (or an upload) would not see it, such as inside <svg> or <script>.
    layout = visible_text_layout(source, exclude=_NON_PROSE_TAGS)
    if position == "random":
        bounds = sorted({lo + b for lo, hi in layout.segments
                         for b in sentence_boundaries(source[lo:hi] + " ") if lo + b <= hi})
        if not bounds:
            raise GhostError("The HTML has no sentence ends in its visible text; use position 'start' or 'end'.")
    todo = _round_robin(entries, repetitions)
    if position == "random":
        spots = _spread(bounds, len(todo), rng)
    elif position == "start":
        spots = [layout.body_start if layout.body_start is not None else 0] * len(todo)
    else:
        spots = [layout.body_end if layout.body_end is not None else len(source.rstrip())] * len(todo)
    inserts = []
    for order, (e, at) in enumerate(zip(todo, spots)):
        escaped = html.escape(e.identifier, quote=False)
        string = " " + escaped if position == "random" else f"<p>{escaped}</p>"
        inserts.append((at, order, e.id, string, position))
    return _insert(source, inserts)


def embed_docx(path: str | Path, out_path: str | Path, entries: Sequence[GhostEntry], *, position: str = "random",
               repetitions: int = 1, rng=None) -> list[Placement]:
    """Insert identifiers into the Word document at ``path`` and save the marked copy to ``out_path`` (see
    ``embed_docx_bytes``)."""
    path = Path(path)
    marked, placements = embed_docx_bytes(path.read_bytes(), entries, name=path.name, position=position,
                                          repetitions=repetitions, rng=rng)
    atomic_write_bytes(out_path, marked)
    return placements


def embed_docx_bytes(data: bytes, entries: Sequence[GhostEntry], *, name: str = "document.docx",
                     position: str = "random", repetitions: int = 1, rng=None) -> tuple[bytes, list[Placement]]:
    """Insert identifiers into a Word document given as bytes; returns the marked document's bytes and the
    placements. ``name`` is only used in error sentences.

    "start" / "end": a plain paragraph of its own before the first / after the last paragraph; "random": after a
    sentence end inside a paragraph, as a run with the formatting of the run it follows. Placements give the
    paragraph index in the marked document and the character offset in that paragraph's text (-1 for a paragraph
    of its own).
    """
    from docx import Document as open_docx
    from docx.text.run import Run

    if position not in POSITIONS:
        raise GhostError(f"Unknown position '{position}'. Choose one of: {', '.join(POSITIONS)}.")
    if repetitions < 1:
        raise GhostError(f"Repetitions must be at least 1; got {repetitions}.")
    rng = rng or secrets.SystemRandom()
    try:
        doc = open_docx(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several types for damaged files
        raise GhostError(f"{name} could not be opened as a Word document ({exc}).") from exc
    paragraphs = list(doc.paragraphs)
    if not paragraphs:
        raise GhostError(f"{name} has no paragraphs to place identifiers next to.")
    todo = _round_robin(entries, repetitions)
    placements: list[Placement] = []
    if position in ("start", "end"):
        added = []
        for e in todo:
            par = paragraphs[0].insert_paragraph_before(e.identifier) if position == "start" \
                else doc.add_paragraph(e.identifier)
            added.append((e, par._p))
        elements = [p._p for p in doc.paragraphs]
        for e, element in added:
            index = next(i for i, el in enumerate(elements) if el is element)
            placements.append(Placement(id=e.id, position=position, offset=-1, inserted=e.identifier,
                                        paragraph=index))
    else:
        candidates = []  # (paragraph index, run index, offset within the run, offset within the paragraph)
        for pi, par in enumerate(paragraphs):
            acc = 0
            for ri, run in enumerate(par.runs):
                for b in sentence_boundaries(run.text + " "):
                    if b <= len(run.text):
                        candidates.append((pi, ri, b, acc + b))
                acc += len(run.text)
        if not candidates:
            raise GhostError(f"{name} has no sentence ends inside its text; use position 'start' or 'end'.")
        picks = _spread(range(len(candidates)), len(todo), rng)
        chosen = sorted(((candidates[c], e) for c, e in zip(picks, todo)), key=lambda x: x[0][:3], reverse=True)
        by_paragraph: dict[int, list[tuple[int, int, GhostEntry]]] = {}
        for order, ((pi, ri, at, par_at), e) in enumerate(chosen):  # last first, so earlier offsets stay valid
            run = paragraphs[pi].runs[ri]
            before, after = run.text[:at], run.text[at:]
            run.text = before
            tail = copy.deepcopy(run._r)
            run._r.addnext(tail)
            mark = copy.deepcopy(run._r)
            run._r.addnext(mark)  # run, mark, tail: a later insertion at the same place lands before this one
            Run(mark, paragraphs[pi]).text = " " + e.identifier
            Run(tail, paragraphs[pi]).text = after
            by_paragraph.setdefault(pi, []).append((par_at, -order, e))
        for pi, items in sorted(by_paragraph.items()):
            shift = 0
            for par_at, _, e in sorted(items, key=lambda x: x[:2]):
                placements.append(Placement(id=e.id, position=position, offset=par_at + shift,
                                            inserted=" " + e.identifier, paragraph=pi))
                shift += len(e.identifier) + 1
    marked = io.BytesIO()
    doc.save(marked)
    return marked.getvalue(), placements


def plant_corpus(documents: Sequence[str], plan: Sequence[tuple[GhostEntry, int]], *, rng=None) -> list[str]:
    """A training corpus with each ``(entry, count)`` of ``plan`` placed ``count`` times at random sentence
    boundaries, one placement per document while there are enough documents (as an owner planting one identifier
    in several of their texts would). Returns new texts; ``documents`` is not changed. Used by the tests, the
    repetition experiment and the guided demo."""
    if not documents:
        raise GhostError("There are no documents to plant identifiers in.")
    rng = rng or secrets.SystemRandom()
    docs = list(documents)
    for entry, count in plan:
        for i in _choose(range(len(docs)), count, rng):
            docs[i], _ = embed_text(docs[i], [entry], position="random", repetitions=1, rng=rng)
    return docs


def read_utf8_exact(path: str | Path) -> tuple[str, bool]:
    """Text of a UTF-8 file and whether it starts with a byte-order mark (``decode_utf8_exact`` of its bytes)."""
    path = Path(path)
    return decode_utf8_exact(path.read_bytes(), path.name, source=str(path))


def decode_utf8_exact(data: bytes, name: str, *, source: str | None = None) -> tuple[str, bool]:
    """Text of UTF-8 bytes and whether they start with a byte-order mark, such that ``encode_utf8_exact`` gives
    the same bytes back. Other encodings are refused with a sentence naming ``name`` (byte-exact restoration could
    not be promised); ``source`` is the name the text decoder is given (default ``name``)."""
    try:
        text = decode_text(data, source or name)
    except ValueError as exc:
        raise GhostError(f"{name}: {exc}") from exc
    bom = data.startswith(codecs.BOM_UTF8)
    if encode_utf8_exact(text, bom) != data:
        raise GhostError(f"{name} is not UTF-8 text; save it as UTF-8 and embed again.")
    return text, bom


def encode_utf8_exact(text: str, bom: bool) -> bytes:
    """The text as UTF-8, after a byte-order mark when ``bom``."""
    return (codecs.BOM_UTF8 if bom else b"") + text.encode("utf-8")


def write_utf8_exact(path: str | Path, text: str, bom: bool) -> None:
    """The inverse of ``read_utf8_exact``: ``encode_utf8_exact`` written atomically (creating the folder when
    needed)."""
    atomic_write_bytes(path, encode_utf8_exact(text, bom))


def embed_bytes(name: str, data: bytes, entries: Sequence[GhostEntry], *, position: str = "random",
                repetitions: int = 1, rng=None) -> tuple[bytes, list[Placement]]:
    """Insert identifiers into one file given as its name and bytes (the format follows the name's suffix: .txt,
    .md, .html, .htm or .docx); returns the marked file's bytes and the placements. Text files stay byte for byte
    what they were outside the placements (same encoding, same byte-order mark)."""
    suffix = Path(name).suffix.lower()
    if suffix not in EMBED_SUFFIXES:
        raise GhostError(f"{name}: identifiers can be embedded in {', '.join(EMBED_SUFFIXES)} files only.")
    if suffix == ".docx":
        return embed_docx_bytes(data, entries, name=name, position=position, repetitions=repetitions, rng=rng)
    text, bom = decode_utf8_exact(data, name)
    if suffix in (".html", ".htm"):
        marked, placements = embed_html(text, entries, position=position, repetitions=repetitions, rng=rng)
    else:
        marked, placements = embed_text(text, entries, position=position, repetitions=repetitions,
                                        markdown=suffix == ".md", rng=rng)
    return encode_utf8_exact(marked, bom), placements


def embed_files(paths: Sequence[str | Path], out_dir: str | Path, entries: Sequence[GhostEntry], *,
                position: str = "random", repetitions: int | None = None, spread: bool = False,
                words_per_placement: int = DEFAULT_WORDS_PER_PLACEMENT, rng=None) -> dict:
    """Embed identifiers into each file and write the marked copies (same names) into ``out_dir``.

    ``repetitions=None`` (the default) scales the count to each file's length: a file of n words gets
    ``placements_for_length(n, words_per_placement)`` identifiers, dealt from ``entries`` in turns that continue
    from file to file, so every identifier is placed about equally often over the whole set. With a number, every
    entry goes into every file that many times, unless ``spread`` deals the entries out round-robin (file i gets
    entries i, i + n_files, ...). Returns the manifest (also what ``save_manifest`` writes): per document its
    source, output, format, words, SHA-256 of source and output, and the placements.
    """
    paths = [Path(p) for p in paths]
    _check_names([p.name for p in paths], "in the output folder")
    out_dir = Path(out_dir)
    for path in paths:
        if Path(path.name).suffix.lower() in EMBED_SUFFIXES and not path.is_file():
            raise GhostError(f"There is no file at {path}.")
        if (out_dir / path.name).resolve() == path.resolve():
            raise GhostError(f"The output folder is the folder of {path.name}; choose another so the original stays.")
    documents = []
    marked = _embed_each([(p.name, p.read_bytes() if p.is_file() else b"") for p in paths], entries,
                         position=position, repetitions=repetitions, spread=spread,
                         words_per_placement=words_per_placement, rng=rng)
    for i, data, record in marked:
        out = atomic_write_bytes(out_dir / paths[i].name, data)
        documents.append({"source": str(paths[i]), "output": str(out), **record})
    return _manifest(documents)


@dataclass
class MarkedDocuments:
    """What ``embed_uploads`` returns: the marked files by name (bytes) and the manifest (``source`` and ``output``
    are the file names)."""

    files: dict[str, bytes]
    manifest: dict

    def archive(self) -> bytes:
        """A .zip of the marked files and ``manifest.json``."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in self.files.items():
                archive.writestr(name, data)
            archive.writestr("manifest.json", json.dumps(self.manifest, indent=1))
        return buffer.getvalue()


def embed_uploads(files: Sequence[tuple[str, bytes]], entries: Sequence[GhostEntry], *, position: str = "random",
                  repetitions: int | None = None, spread: bool = False,
                  words_per_placement: int = DEFAULT_WORDS_PER_PLACEMENT, rng=None) -> MarkedDocuments:
    """``embed_files`` for files given as (name, bytes), such as uploads: nothing is written anywhere. Names are
    made safe (``documents.safe_filename``) and must differ; ``repetitions``, ``spread`` and
    ``words_per_placement`` as in ``embed_files``."""
    named = [(safe_filename(name), data) for name, data in files]
    _check_names([name for name, _ in named], "in the archive")
    marked = _embed_each(named, entries, position=position, repetitions=repetitions, spread=spread,
                         words_per_placement=words_per_placement, rng=rng)
    out = {named[i][0]: data for i, data, _ in marked}
    documents = [{"source": named[i][0], "output": named[i][0], **record} for i, _, record in marked]
    return MarkedDocuments(files=out, manifest=_manifest(documents))


def _check_names(names: Sequence[str], where: str) -> None:
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise GhostError(f"Several input files are named {', '.join(repeated)}; their marked copies would overwrite "
                         f"each other {where}. Embed them in separate runs.")


def document_words(name: str, data: bytes) -> int:
    """Words in a file's readable text (as the upload path reads it; 0 when it cannot be read)."""
    documents, _ = documents_from_bytes(name, data)
    return sum(len(words(d.text)) for d in documents)


def _embed_each(files: Sequence[tuple[str, bytes]], entries: Sequence[GhostEntry], *, position: str,
                repetitions: int | None, spread: bool, words_per_placement: int = DEFAULT_WORDS_PER_PLACEMENT,
                rng) -> list[tuple[int, bytes, dict]]:
    """(index, marked bytes, manifest record without source and output) for each file that gets identifiers:
    with ``repetitions=None`` a count scaled to each file's length, dealt from the entries in turns across the
    files; else every entry in every file, or dealt out round-robin with ``spread`` (file i gets entries i, i + n,
    ...)."""
    if not entries:
        raise GhostError("No identifiers were selected to embed.")
    for name, _ in files:
        if Path(name).suffix.lower() not in EMBED_SUFFIXES:
            raise GhostError(f"{name}: identifiers can be embedded in {', '.join(EMBED_SUFFIXES)} files only.")
    out = []
    dealt = 0
    for i, (name, data) in enumerate(files):
        n_words = document_words(name, data)
        if repetitions is None:
            count = placements_for_length(n_words, words_per_placement)
            chosen = [entries[(dealt + j) % len(entries)] for j in range(count)]
            dealt += count
        else:
            chosen = list(entries[i:: len(files)]) if spread else list(entries)
        if not chosen:
            continue
        marked, placements = embed_bytes(name, data, chosen, position=position,
                                         repetitions=1 if repetitions is None else repetitions, rng=rng)
        out.append((i, marked, {"format": Path(name).suffix.lower().lstrip("."), "words": n_words,
                                "source_sha256": hashlib.sha256(data).hexdigest(),
                                "output_sha256": hashlib.sha256(marked).hexdigest(),
                                "placements": [asdict(p) for p in placements]}))
    return out


def _manifest(documents: list[dict]) -> dict:
    return {"format": MANIFEST_FORMAT, "version": FORMAT_VERSION,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "documents": documents}


def save_manifest(manifest: dict, path: str | Path) -> Path:
    return write_json(manifest, path)


def placements_from_manifest(document: dict) -> list[Placement]:
    """The placements of one manifest document (``manifest['documents'][i]``)."""
    try:
        return [Placement(**p) for p in document["placements"]]
    except (KeyError, TypeError) as exc:
        raise GhostError("The manifest entry is damaged: its placements cannot be read.") from exc
