"""Zip archives -> documents: THE one zip reader, for uploads and corpora alike.

Before anything is unpacked, an archive's declared sizes are checked against ``IngestLimits`` (member count, total
unpacked size, compression ratio of large members, and the ratio of everything it unpacks to over its own size:
zip bombs, including many small members each compressed just under the per-member threshold); every member is checked for paths that point outside
the archive, links and passwords, and operating-system clutter (``__MACOSX``, ``.DS_Store``, ...) is skipped
silently. Members are read one at a time, never more than the remaining budget, which nested archives share, so an
archive that lies about its sizes cannot unpack more than the limits either. Only the limits differ by caller
(``DEFAULT_LIMITS`` for uploads, ``corpus.CORPUS_LIMITS`` for reference corpora); the checks and their sentences
are the same. What a member's bytes become is the caller's ``read_member`` (``loading`` passes its own reader, so
this module does not import it).
"""

from __future__ import annotations

import io
import logging
import posixpath
import re
import stat
import zipfile
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from .document import Document, IngestError, IngestLimits, megabytes, too_big_message
from .names import display_name
from .suffixes import ARCHIVE_SUFFIXES, unsupported_message

log = logging.getLogger(__name__)


@dataclass
class ArchiveBudget:
    """Unpacked bytes and members still allowed for one archive, shared by the archives nested in it, and what the
    whole-archive ratio allows: ``packed_bytes`` is the top-level archive's own size (0: unknown, not checked),
    ``unpacked_bytes`` what was unpacked so far at every level."""

    bytes_left: int
    members_left: int
    packed_bytes: int = 0
    unpacked_bytes: int = 0

    def ratio_bytes_left(self, limits: IngestLimits) -> int:
        """Bytes that may still be unpacked before everything unpacked exceeds ``limits.max_archive_ratio`` times
        the archive's own size (never less than ``limits.ratio_check_min_bytes`` in all)."""
        if self.packed_bytes <= 0:
            return self.bytes_left
        allowed = max(limits.ratio_check_min_bytes, int(limits.max_archive_ratio * self.packed_bytes))
        return max(0, allowed - self.unpacked_bytes)

    def ratio_message(self, limits: IngestLimits, more: int) -> str:
        """The sentence for an archive that would unpack ``more`` bytes past what the whole-archive ratio allows."""
        total = self.unpacked_bytes + more
        return (f"the archive would unpack to {megabytes(total)} from {megabytes(self.packed_bytes)}, more than "
                f"{limits.max_archive_ratio:.0f} times its own size (archives inside it included), which is how "
                "'zip bombs' work, so it was not read further.")


def check_archive(infos: Sequence[zipfile.ZipInfo], limits: IngestLimits, budget: ArchiveBudget | None) -> None:
    """Raise ValueError when an archive's declared sizes break the limits (checked before anything is unpacked)."""
    files = [i for i in infos if not i.is_dir()]
    members_allowed = limits.max_archive_members if budget is None else budget.members_left
    if len(files) > members_allowed:
        raise ValueError(f"the archive holds {len(files)} files, more than the limit of {members_allowed}; "
                         "split it into smaller archives.")
    total = sum(i.file_size for i in files)
    bytes_allowed = limits.max_archive_bytes if budget is None else budget.bytes_left
    if total > bytes_allowed:
        raise ValueError(f"the archive would unpack to {megabytes(total)}, more than the limit of "
                         f"{megabytes(bytes_allowed)}; this protects against 'zip bombs'. Split it into smaller "
                         "archives.")
    for info in files:
        if info.file_size > limits.ratio_check_min_bytes and \
                info.file_size > limits.max_compression_ratio * max(info.compress_size, 1):
            raise ValueError(f"the member '{display_name(info.filename, 80)}' is compressed more than "
                             f"{limits.max_compression_ratio:.0f} to 1, which is how 'zip bombs' work, so the "
                             "archive was not opened.")
    if budget is not None and total > budget.ratio_bytes_left(limits):
        raise ValueError(budget.ratio_message(limits, total))


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


_DAMAGED = "the zip archive is damaged, uses a zip feature that is not supported, or is not a zip archive."

MemberReader = Callable[[str, bytes, int, ArchiveBudget], tuple[list[Document], list[IngestError]]]
"""``read_member(source, data, depth, budget)``: documents from one member's bytes; ``source`` is
``archive:member/path``, ``depth`` the nesting level of the member (1 inside a top-level archive) and ``budget`` the
shared budget, to pass on if the member is itself an archive."""


def archive_documents(name: str, source: bytes | Path, *, read_member: MemberReader, suffixes: Collection[str],
                      limits: IngestLimits, depth: int = 0, budget: ArchiveBudget | None = None,
                      ) -> tuple[list[Document], list[IngestError]]:
    """Documents from the members of a zip archive, and one IngestError per problem; never raises for bad content.

    ``source`` is the archive's bytes (an upload) or a path, read member by member from disk (a corpus). Members
    whose type is not in ``suffixes`` are reported; archives inside archives are opened up to
    ``limits.max_archive_depth`` levels (``depth`` is this archive's level: 0 at the top). ``budget`` is the
    budget of an enclosing archive, or None to start one from ``limits``. Documents are named
    ``name:member/path`` (plus whatever ``read_member`` adds, such as a table row).
    """
    on_disk = not isinstance(source, (bytes, bytearray))
    try:
        zf = zipfile.ZipFile(source if on_disk else io.BytesIO(source))
    except OSError as exc:
        if on_disk:  # the file itself could not be opened, whatever its content
            return [], [IngestError(name, f"could not be read ({exc.strerror or exc}).")]
        return [], [IngestError(name, _DAMAGED)]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError, RuntimeError):
        return [], [IngestError(name, _DAMAGED)]
    with zf:
        try:
            infos = zf.infolist()
        except Exception:  # noqa: BLE001 - damaged central directory
            return [], [IngestError(name, "the zip archive is damaged or not a zip archive.")]
        if budget is None:
            packed = len(source) if not on_disk else _file_size(Path(source))
            budget = ArchiveBudget(limits.max_archive_bytes, limits.max_archive_members, packed_bytes=packed)
        try:
            check_archive(infos, limits, budget)
        except ValueError as exc:
            return [], [IngestError(name, str(exc))]
        docs: list[Document] = []
        errors: list[IngestError] = []
        for info in infos:
            if info.is_dir() or _skip_silently(info.filename):
                continue
            source_name = f"{name}:{display_name(info.filename)}"
            problem = _member_path_problem(info.filename)
            if problem is None and _is_symlink(info):
                problem = "is a link, not a file"
            if problem is None and info.flag_bits & 0x1:
                problem = "is protected by a password"
            if problem is not None:
                errors.append(IngestError(source_name, f"skipped: this archive member {problem}."))
                continue
            suffix = Path(info.filename.replace("\\", "/")).suffix.lower()
            if suffix in ARCHIVE_SUFFIXES and depth >= limits.max_archive_depth:
                errors.append(IngestError(source_name, _nested_archive_message(limits)))
                continue
            if suffix not in suffixes:
                errors.append(IngestError(source_name, unsupported_message(suffix, suffixes)))
                continue
            if info.file_size > limits.max_file_bytes:
                errors.append(IngestError(source_name, too_big_message(info.file_size, limits)))
                continue
            budget.members_left -= 1
            ratio_left = budget.ratio_bytes_left(limits)
            try:
                with zf.open(info) as fh:
                    content = fh.read(min(info.file_size, budget.bytes_left, ratio_left) + 1)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, ValueError) as exc:
                log.info("zip member read failed: %r", exc)
                errors.append(IngestError(source_name, "this archive member is damaged and could not be unpacked."))
                continue
            if len(content) > budget.bytes_left:
                errors.append(IngestError(name, "the archive unpacks to more than its declared size; the rest of "
                                                "it was not read (a 'zip bomb' safeguard)."))
                break
            if len(content) > ratio_left:
                errors.append(IngestError(name, budget.ratio_message(limits, info.file_size)))
                break
            budget.bytes_left -= len(content)
            budget.unpacked_bytes += len(content)
            got, errs = read_member(source_name, content, depth + 1, budget)
            docs.extend(got)
            errors.extend(errs)
        if not docs and not errors:
            errors.append(IngestError(name, "the zip archive holds no files."))
        return docs, errors


def _file_size(path: Path) -> int:
    """Size of an archive on disk (0 when it cannot be read: opening it then fails with its own sentence)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _nested_archive_message(limits: IngestLimits) -> str:
    if limits.max_archive_depth < 1:
        return "skipped: archives inside archives are not opened; unpack it first."
    return f"skipped: archives inside archives are opened only {limits.max_archive_depth} level(s) deep."
