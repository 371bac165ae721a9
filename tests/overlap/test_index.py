"""overlap.index and index_folder: save, load and append; damaged, foreign and hostile index folders are refused
with a sentence, and nothing is ever unpickled."""

from __future__ import annotations

import hashlib
import json
import pickle
import random
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from corpus_texts import perturb, random_text

from provenance import overlap
from provenance.documents import Document
from provenance.overlap import IndexParams, OverlapIndex, OverlapIndexError, build_index, load_index, query_index
from provenance.overlap.index_folder import manifest_checksum

def test_save_load_append_round_trip(tmp_path, docs, index):
    path = tmp_path / "idx"
    index_copy = OverlapIndex(index.params)
    index_copy.add_documents(docs[:120])
    index_copy.save(path)
    first_files = {p.name: p.read_bytes() for p in path.iterdir() if p.name.startswith("shard-")}

    loaded = load_index(path)
    assert len(loaded) == 120 and loaded.names == [d.name for d in docs[:120]]
    assert np.array_equal(loaded.signatures, index_copy.signatures)
    assert all(loaded.document_text(i) == docs[i].text for i in (0, 57, 119))
    q = [Document("q", perturb(docs[10].text, random.Random(3), 2))]
    before = query_index(index_copy, q).matches
    after = query_index(loaded, q).matches
    pd.testing.assert_frame_equal(before, after)

    loaded.add_documents(docs[120:])
    loaded.save()
    for name, data in first_files.items():  # appending writes a new shard and leaves the old ones alone
        assert (path / name).read_bytes() == data
    reopened = load_index(path)
    assert len(reopened) == len(docs) and reopened.describe()["unsaved_documents"] == 0
    assert reopened.document_text(150) == docs[150].text
    m = query_index(reopened, [Document("late", perturb(docs[150].text, random.Random(4), 2))]).matches
    assert list(m["match"]) == ["doc150"]

    # the build entry point refuses to overwrite, and appends on request
    with pytest.raises(OverlapIndexError, match="already holds an overlap index"):
        build_index([Document("x", "some new words for the index here")], path)
    extra = [Document("extra", random_text(random.Random(8), 100))]
    grown, errors = build_index(extra, path, append=True)
    assert len(grown) == len(docs) + 1 and not errors and len(load_index(path)) == len(docs) + 1



def _saved(tmp_path, docs) -> Path:
    idx = OverlapIndex(IndexParams(num_perm=32))
    idx.add_documents(docs[:20])
    return idx.save(tmp_path / "idx")


def _rewrite_manifest(path: Path, change) -> None:
    """Change the manifest and re-seal its checksum, as the author of a crafted index would."""
    manifest = json.loads((path / overlap.MANIFEST_NAME).read_text())
    change(manifest)
    manifest["checksum"] = {"sha256": manifest_checksum(manifest)}
    (path / overlap.MANIFEST_NAME).write_text(json.dumps(manifest))


def test_missing_foreign_or_corrupt_manifest_gives_a_clear_error(tmp_path, docs):
    with pytest.raises(OverlapIndexError, match="no such folder"):
        load_index(tmp_path / "nothing")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(OverlapIndexError, match="is a file"):
        load_index(tmp_path / "file.txt")
    with pytest.raises(OverlapIndexError, match="not an overlap index folder"):
        load_index(tmp_path)

    path = _saved(tmp_path, docs)
    (path / overlap.MANIFEST_NAME).write_bytes(b"\x80\x04garbage")
    with pytest.raises(OverlapIndexError, match="damaged: it is not valid JSON"):
        load_index(path)
    (path / overlap.MANIFEST_NAME).write_text(json.dumps({"format": "datasketch-lsh", "version": 1}))
    with pytest.raises(OverlapIndexError, match="not a provenance overlap index"):
        load_index(path)


def test_newer_version_and_tampered_files_are_refused(tmp_path, docs):
    path = _saved(tmp_path, docs)
    _rewrite_manifest(path, lambda m: m.update(version=overlap.FORMAT_VERSION + 1))
    with pytest.raises(OverlapIndexError, match="newer version"):
        load_index(path)
    _rewrite_manifest(path, lambda m: m.update(version=overlap.FORMAT_VERSION))
    assert len(load_index(path)) == 20

    texts = next(path.glob("*.texts"))
    texts.write_bytes(texts.read_bytes()[:-10])
    with pytest.raises(OverlapIndexError, match="checksum mismatch"):
        load_index(path)

    path2 = _saved(tmp_path / "b", docs)
    _rewrite_manifest(path2, lambda m: m["shards"][0].update(name="../../etc/passwd"))
    with pytest.raises(OverlapIndexError, match="not one this program writes"):
        load_index(path2)


class _Payload:
    """Unpickling this object would create a file: proof of code execution if it ever happens."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_disguised_as_an_index_is_never_unpickled(tmp_path, docs):
    path = _saved(tmp_path, docs)
    marker = tmp_path / "code-was-executed"
    npz = next(path.glob("*.npz"))
    hostile = np.empty(1, dtype=object)
    hostile[0] = _Payload(str(marker))
    buf_path = tmp_path / "hostile.npz"
    np.savez(buf_path, signatures=hostile, sizes=hostile, offsets=hostile)  # object arrays are pickled inside
    shutil.copyfile(buf_path, npz)
    digest = hashlib.sha256(npz.read_bytes()).hexdigest()  # a crafted index comes with matching checksums
    _rewrite_manifest(path, lambda m: m["shards"][0]["files"].update({npz.name: digest}))
    with pytest.raises(OverlapIndexError, match="could not be read safely"):
        load_index(path)
    npz.write_bytes(pickle.dumps(_Payload(str(marker))))
    digest = hashlib.sha256(npz.read_bytes()).hexdigest()
    _rewrite_manifest(path, lambda m: m["shards"][0]["files"].update({npz.name: digest}))
    with pytest.raises(OverlapIndexError, match="could not be read safely"):
        load_index(path)
    assert not marker.exists()


def test_build_index_takes_one_folder_as_a_path_or_a_string(tmp_path, docs):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for d in docs[:3]:
        (folder / f"{d.name}.txt").write_text(d.text)
    for corpus in (folder, str(folder)):
        index, errors = build_index(corpus)
        assert len(index) == 3 and not errors
