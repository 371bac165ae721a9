"""A killed or failed `overlap build` leaves no shard files behind for good: the next save or open removes the shard
and temporary files no manifest lists (only names this program writes), never while another process holds the
folder's lock; a save that fails half-way removes its own files and leaves the index in memory as it was."""

from __future__ import annotations

import json
import shutil

import pytest

from provenance import overlap
from provenance.files import atomic_write_bytes
from provenance.overlap import IndexParams, OverlapIndex, build_index, load_index
from provenance.overlap import index_folder
from provenance.overlap.index_folder import folder_lock

LEFTOVERS = ["shard-000007-0badc0de.texts", "shard-000007-0badc0de.npz",
             ".shard-000008-12345678.names.json.0123456789ab.tmp", ".overlap-index.json.abcdef012345.tmp"]
KEPT = ["notes.txt", "shard-other.texts", ".hidden"]


def _listed(path) -> set[str]:
    manifest = json.loads((path / overlap.MANIFEST_NAME).read_text())
    return {name for shard in manifest["shards"] for name in shard["files"]}


def _saved_with_leftovers(tmp_path, docs):
    idx = OverlapIndex(IndexParams(num_perm=32))
    idx.add_documents(docs[:10])
    path = idx.save(tmp_path / "idx")
    texts = next(path.glob("shard-*.texts"))
    for name in LEFTOVERS + KEPT:
        shutil.copyfile(texts, path / name)  # what a build killed between two files leaves
    return path


def test_opening_an_index_removes_what_a_killed_build_left(tmp_path, docs):
    path = _saved_with_leftovers(tmp_path, docs)
    index = load_index(path)
    assert len(index) == 10
    assert {p.name for p in path.iterdir()} == _listed(path) | {overlap.MANIFEST_NAME} | set(KEPT)


def test_building_again_removes_them_too(tmp_path, docs):
    path = _saved_with_leftovers(tmp_path, docs)
    with folder_lock(path):  # another process is writing: opening must not delete its files
        assert len(load_index(path)) == 10
        assert set(LEFTOVERS) <= {p.name for p in path.iterdir()}
    grown, errors = build_index(docs[10:15], path, append=True)
    assert len(grown) == 15 and not errors
    assert {p.name for p in path.iterdir()} == _listed(path) | {overlap.MANIFEST_NAME} | set(KEPT)
    # a first build that was killed before its manifest: its shard files go when the folder is built into
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / LEFTOVERS[0]).write_text(docs[0].text)
    build_index(docs[:5], fresh)
    assert LEFTOVERS[0] not in {p.name for p in fresh.iterdir()}


def test_a_save_failing_half_way_removes_its_files_and_keeps_the_index_usable(tmp_path, docs, monkeypatch):
    idx = OverlapIndex(IndexParams(num_perm=32))
    idx.add_documents(docs[:10])
    idx.add_documents(docs[10:20])  # two shards, both in memory
    calls = []

    def failing(path, data):
        calls.append(path)
        if len(calls) == 2:  # the first shard's .npz is written, its .exact.npz fails (disk full)
            raise OSError(28, "No space left on device")
        return atomic_write_bytes(path, data)

    monkeypatch.setattr(index_folder, "atomic_write_bytes", failing)
    with pytest.raises(OSError):
        idx.save(tmp_path / "idx")
    assert [p.name for p in (tmp_path / "idx").iterdir()] == []
    assert idx.document_text(3) == docs[3].text and idx.document_text(13) == docs[13].text
    monkeypatch.undo()
    path = idx.save(tmp_path / "idx")
    assert len(load_index(path)) == 20
