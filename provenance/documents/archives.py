"""Zip archives: the checks made before anything is unpacked (member count, unpacked size, compression ratio
against zip bombs) and on every member (paths escaping the archive, links, passwords, operating-system clutter)."""

from __future__ import annotations

import posixpath
import re
import stat
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from .document import IngestLimits, _megabytes
from .names import _display

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
