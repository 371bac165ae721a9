"""Files written and checked safely: SHA-256 digests of files and texts, and atomic writes.

An atomic write goes to a temporary file in the same folder (so the final rename never crosses file systems), is
flushed and fsync'ed, then ``os.replace``'d over the target: a reader sees the old file or the whole new one, never
half of it, and a crash leaves the old file in place (plus, at worst, a stray ``.<name>.<random>.tmp`` file). New
files get the usual permissions (0o666 minus the umask), like ``Path.write_bytes``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

_BLOCK_BYTES = 1 << 20  # read files in 1 MiB blocks: constant memory for any size


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file's bytes as 64 lowercase hex digits, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_BLOCK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_text(text: str) -> str:
    """SHA-256 of a string's UTF-8 bytes as 64 lowercase hex digits. Lone surrogates (which some decoders leave in
    text) are encoded as they stand ('surrogatepass') instead of raising, so every Python string has a digest."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@contextlib.contextmanager
def atomic_writer(path: str | Path) -> Iterator[BinaryIO]:
    """Open ``path`` for writing bytes atomically (its folder is created when needed): write to the yielded file; when the block ends without an error
    the data is fsync'ed and replaces ``path``; on an error the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(path.parent)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see the module docstring); returns ``path``."""
    with atomic_writer(path) as fh:
        fh.write(data)
    return Path(path)


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically, encoded with ``encoding`` (UTF-8 by default, no newline translation);
    returns ``path``."""
    return atomic_write_bytes(path, text.encode(encoding))


def _fsync_folder(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
