"""Small file helpers shared by the backend: SHA-256 digests and atomic writes.

``sha256_file`` and ``sha256_text`` give lower-case hex digests (64 characters). ``atomic_write_bytes`` and
``atomic_write_text`` replace a file in one step: the data goes to a temporary file in the same folder, is flushed
to disk (fsync), and is renamed over the target with ``os.replace``, so a reader (or a crash) sees the old file or the
new one, never half of one; two writers in one process or several never share a temporary file.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

_CHUNK = 1 << 20


def sha256_file(path: str | Path) -> str:
    """SHA-256 hex digest of a file's bytes, read in 1 MiB chunks (any file size in constant memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_text(text: str) -> str:
    """SHA-256 hex digest of a string's UTF-8 bytes. Lone surrogates (which some decoders leave in text) are
    encoded as they stand ('surrogatepass') instead of raising, so every Python string has a digest."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (creating its folder when needed) and return ``path`` as a Path.

    The temporary file ``.<name>.<random>.tmp`` sits next to the target, so the final ``os.replace`` never crosses a
    file system; it is created with the usual permissions (0o666 less the umask) and removed if anything fails."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """``atomic_write_bytes`` of the text encoded as UTF-8 (no byte-order mark, newlines written as given)."""
    return atomic_write_bytes(path, text.encode("utf-8"))
