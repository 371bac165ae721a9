"""provenance.files: one SHA-256 of a file, and atomic writes that never leave half a file behind."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest

from provenance.files import atomic_write_bytes, atomic_write_text, atomic_writer, sha256_file, sha256_text


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


def test_sha256_of_files_and_texts():
    assert sha256_text("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sha256_text("caf\u00e9") == hashlib.sha256("caf\u00e9".encode("utf-8")).hexdigest()
    assert len(sha256_text("lone \ud800 surrogate")) == 64  # digested as it stands, never an error


def test_sha256_file_reads_in_chunks(tmp_path):
    data = os.urandom(3 * (1 << 20) + 17)  # more than two 1 MiB chunks and a partial one
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert sha256_file(path) == sha256_file(str(path)) == hashlib.sha256(data).hexdigest()
    (tmp_path / "empty").write_bytes(b"")
    assert sha256_file(tmp_path / "empty") == hashlib.sha256(b"").hexdigest()


def test_atomic_write_replaces_the_file_and_leaves_nothing_behind(tmp_path):
    target = tmp_path / "new" / "folder" / "out.json"
    assert atomic_write_text(target, "first caf\u00e9\n") == target
    assert target.read_bytes() == "first caf\u00e9\n".encode("utf-8")
    atomic_write_bytes(str(target), b"second")
    assert target.read_bytes() == b"second"
    assert os.listdir(target.parent) == ["out.json"]
    plain = tmp_path / "plain"
    plain.write_bytes(b"x")
    assert stat.S_IMODE(target.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)  # usual permissions


def test_a_failed_atomic_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "keep.txt"
    atomic_write_text(target, "old")
    with pytest.raises(TypeError):
        atomic_write_bytes(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["keep.txt"]
