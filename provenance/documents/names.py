"""Names: safe file names for anything derived from an upload, unique document names, names shown in messages."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from .document import Document

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


def display_name(name: str, limit: int = 200) -> str:
    """A name safe to show in messages and tables: control characters replaced, length bounded."""
    cleaned = "".join(ch if ch.isprintable() else "\N{REPLACEMENT CHARACTER}" for ch in name)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "\N{HORIZONTAL ELLIPSIS}"
