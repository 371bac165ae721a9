"""provenance.files: one SHA-256 of a file, and atomic writes that never leave half a file behind."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest

from provenance.files import atomic_write_bytes, atomic_write_text, atomic_writer, sha256_file


def test_sha256_file_equals_hashlib_of_the_bytes_for_sizes_around_the_block(tmp_path):
    for size in (0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 7):
        data = os.urandom(size)
        path = tmp_path / f"f{size}"
        path.write_bytes(data)
        assert sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_atomic_writes_replace_the_file_and_leave_no_temporary_file(tmp_path):
    path = tmp_path / "manifest.json"
    atomic_write_text(path, "first ✓")
    assert path.read_bytes() == "first ✓".encode("utf-8")
    assert atomic_write_bytes(path, b"second") == path
    assert path.read_bytes() == b"second"
    atomic_write_text(path, "a\nb\r\n")  # no newline translation
    assert path.read_bytes() == b"a\nb\r\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary_one(tmp_path):
    path = tmp_path / "texts"
    path.write_bytes(b"old content")
    with pytest.raises(RuntimeError, match="disk on fire"):
        with atomic_writer(path) as fh:
            fh.write(b"half of the new")
            raise RuntimeError("disk on fire")
    assert path.read_bytes() == b"old content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["texts"]


def test_new_files_get_the_usual_permissions_not_private_temp_file_ones(tmp_path):
    umask = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "shared", b"x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "shared").stat().st_mode) == 0o644
