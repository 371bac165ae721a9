"""What reading files produces and the limits it obeys.

``Document`` is a named text; ``IngestError`` is one input that could not be (fully) read, with a sentence the
user can act on; ``IngestLimits`` are the safety limits (bytes, members, ratios) every reader in this package
checks. The two message helpers put sizes into those sentences the same way everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

_MIB = 1024 * 1024


@dataclass(frozen=True)
class IngestLimits:
    """Safety limits for reading untrusted files. All sizes are in bytes.

    ``max_file_bytes`` applies to every file (and every member of an archive); ``max_archive_members``,
    ``max_archive_bytes`` (total unpacked size, nested archives included), ``max_compression_ratio`` (per member)
    and ``max_archive_ratio`` (everything an archive unpacks to, nested archives included, over the archive's own
    size) protect against zip bombs; ratios are only checked past ``ratio_check_min_bytes`` unpacked (small text
    files compress very well).
    Archives inside an archive are opened ``max_archive_depth`` levels deep (1: a zip of zips, no deeper).
    ``max_errors_per_file`` caps the per-line errors one table reports before summarising the rest.
    """

    max_file_bytes: int = 50 * _MIB
    max_archive_members: int = 2000
    max_archive_bytes: int = 200 * _MIB
    max_compression_ratio: float = 200.0
    max_archive_ratio: float = 100.0
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
    """One input that could not be (fully) read, and why, in a sentence the user can act on. ``kept`` is True when
    the input was read after all, with a repair the sentence describes (not skipped)."""

    source: str
    message: str
    kept: bool = False

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


def megabytes(n: int) -> str:
    """A size in bytes for a sentence: '12.3 MB' from a tenth of a megabyte on (1 MB = 2**20 bytes), else '512 KB'."""
    return f"{n / _MIB:.1f} MB" if n >= _MIB / 10 else f"{n / 1024:.0f} KB"


def too_big_message(size: int, limits: IngestLimits) -> str:
    """The sentence for a file of ``size`` bytes over ``limits.max_file_bytes``."""
    return (f"the file is {megabytes(size)}, more than the limit of {megabytes(limits.max_file_bytes)}; split it "
            "into smaller files.")
