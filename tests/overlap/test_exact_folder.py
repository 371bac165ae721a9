"""The exact-excerpt index on disk: saved beside each shard (``.exact.npz``) under the manifest's checksums, loaded
with it, extended by appending; a tampered, crafted, missing or pickled exact-index file is refused with a
sentence, and an index from before it (format 2) is refused with the reason."""

from __future__ import annotations

import hashlib
import io
import json
import random
from pathlib import Path

import numpy as np
import pytest
from corpus_texts import random_text

from provenance import overlap
from provenance.documents import Document
from provenance.overlap import (EXACT_EXCERPT, IndexParams, OverlapIndex, OverlapIndexError, build_index,
                                load_index, query_index)
from provenance.overlap.index_folder import manifest_checksum


def _long_with_passage(seed: int, name: str) -> tuple[Document, str]:
    """A document of 1,600 words holding a 100-word passage verbatim, and that passage."""
    rng = random.Random(seed)
    passage = random_text(rng, 100)
    return Document(name, f"{random_text(rng, 750)} {passage} {random_text(rng, 750)}"), passage


def _rewrite_manifest(path: Path, change) -> None:
    """Change the manifest and re-seal its checksum, as the author of a crafted index would."""
    manifest = json.loads((path / overlap.MANIFEST_NAME).read_text())
    change(manifest)
    manifest["checksum"] = {"sha256": manifest_checksum(manifest)}
    (path / overlap.MANIFEST_NAME).write_text(json.dumps(manifest))


def _exact_files(path: Path) -> list[Path]:
    return sorted(path.glob("shard-*.exact.npz"))


def test_save_load_and_append_keep_the_exact_index(tmp_path, docs):
    first, first_passage = _long_with_passage(41, "first-long")
    idx = OverlapIndex()
    idx.add_documents(docs[:100] + [first])
    path = idx.save(tmp_path / "idx")
    manifest = json.loads((path / overlap.MANIFEST_NAME).read_text())
    assert manifest["version"] == overlap.FORMAT_VERSION == 3
    assert manifest["exact"] == {"hash": "blake2b64-words-polynomial-v1", "window": 6}
    assert manifest["params"]["exact_min_words"] == 10
    [exact_file] = _exact_files(path)
    assert exact_file.name in manifest["shards"][0]["files"]

    loaded = load_index(path)
    assert loaded.exact_nbytes == idx.exact_nbytes > 0
    for a, b in zip(idx._shards, loaded._shards):
        assert np.array_equal(a.fingerprints.hashes, b.fingerprints.hashes)
        assert np.array_equal(a.fingerprints.docs, b.fingerprints.docs)
    query = [Document("q", first_passage)]
    before, after = query_index(idx, query), query_index(loaded, query)
    assert after.matches["match"].tolist() == ["first-long"] and after.matches["found_by"].tolist() == [EXACT_EXCERPT]
    assert before.matches.equals(after.matches) and before.documents.equals(after.documents)

    # appending (as 'overlap build --append' does) adds a shard with its own exact index, and keeps the first
    second, second_passage = _long_with_passage(42, "second-long")
    first_bytes = exact_file.read_bytes()
    grown, errors = build_index(docs[100:150] + [second], path, append=True)
    assert not errors and len(grown) == 152
    assert exact_file.read_bytes() == first_bytes and len(_exact_files(path)) == 2
    reopened = load_index(path)
    both = query_index(reopened, [Document("a", first_passage), Document("b", second_passage)]).matches
    assert dict(zip(both["document"], both["match"])) == {"a": "first-long", "b": "second-long"}
    assert set(both["found_by"]) == {EXACT_EXCERPT}

    # the CLI appends the same way, and its query finds the excerpt of the appended document
    from provenance.cli import main

    third, third_passage = _long_with_passage(43, "third-long")
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "third.txt").write_text(third.text)
    (tmp_path / "quote.txt").write_text(third_passage)
    assert main(["overlap", "build", str(tmp_path / "more"), "--index", str(path), "--append"]) == 0
    assert len(_exact_files(path)) == 3
    assert main(["overlap", "query", str(tmp_path / "quote.txt"), "--index", str(path), "--out",
                 str(tmp_path / "m.csv")]) == 0
    table = (tmp_path / "m.csv").read_text()
    assert "third.txt" in table and EXACT_EXCERPT in table


def _saved(tmp_path: Path, docs) -> Path:
    idx = OverlapIndex(IndexParams(num_perm=32))
    idx.add_documents(docs[:20])
    return idx.save(tmp_path / "idx")


def _replace_exact(path: Path, **arrays) -> None:
    """Write crafted arrays into the exact-index file and re-seal its checksum and the manifest's."""
    [exact_file] = _exact_files(path)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    exact_file.write_bytes(buf.getvalue())
    digest = hashlib.sha256(exact_file.read_bytes()).hexdigest()
    _rewrite_manifest(path, lambda m: m["shards"][0]["files"].update({exact_file.name: digest}))


def test_a_tampered_exact_index_file_is_refused(tmp_path, docs):
    path = _saved(tmp_path, docs)
    [exact_file] = _exact_files(path)
    original = exact_file.read_bytes()
    with np.load(exact_file) as data:
        hashes, shard_docs = data["hashes"], data["docs"]

    exact_file.write_bytes(original[:-8] + bytes(8))  # changed on disk: its checksum no longer matches
    with pytest.raises(OverlapIndexError, match=r"exact\.npz changed after it was written \(checksum mismatch\)"):
        load_index(path)
    exact_file.unlink()
    with pytest.raises(OverlapIndexError, match=r"the file .*\.exact\.npz is missing"):
        load_index(path)
    exact_file.write_bytes(original)
    assert len(load_index(path)) == 20

    crafted = {"unsorted": dict(hashes=hashes[::-1].copy(), docs=shard_docs[::-1].copy()),
               "a document the shard does not hold": dict(hashes=hashes, docs=shard_docs + np.uint32(20)),
               "wrong type": dict(hashes=hashes.astype(np.int64), docs=shard_docs),
               "emptied": dict(hashes=hashes[:0], docs=shard_docs[:0]),
               "a document left out": dict(hashes=hashes[shard_docs != 7], docs=shard_docs[shard_docs != 7])}
    for what, arrays in crafted.items():  # re-sealed checksums, as the author of a crafted index would
        _replace_exact(path, **arrays)
        with pytest.raises(OverlapIndexError, match="exact.npz does not fit its shard"):
            load_index(path)
    hostile = np.empty(1, dtype=object)
    hostile[0] = {"code": "never run"}
    _replace_exact(path, hashes=hostile, docs=hostile)
    with pytest.raises(OverlapIndexError, match=r"exact\.npz could not be read safely"):
        load_index(path)


def test_an_index_from_before_the_exact_index_is_refused_with_the_reason(tmp_path, docs):
    path = _saved(tmp_path, docs)
    _rewrite_manifest(path, lambda m: m.update(version=2))
    with pytest.raises(OverlapIndexError, match="format 2.*no exact-excerpt index.*Rebuild the index"):
        load_index(path)
    path = _saved(tmp_path / "b", docs)
    _rewrite_manifest(path, lambda m: m["exact"].update(window=3))  # fingerprints made another way
    with pytest.raises(OverlapIndexError, match="exact-excerpt index was hashed another way"):
        load_index(path)


def test_a_leftover_exact_index_file_is_removed(tmp_path, docs):
    path = _saved(tmp_path, docs)
    [exact_file] = _exact_files(path)
    leftovers = ["shard-000009-0badc0de.exact.npz", ".shard-000009-0badc0de.exact.npz.0123456789ab.tmp"]
    for name in leftovers:
        (path / name).write_bytes(exact_file.read_bytes())
    assert len(load_index(path)) == 20
    assert not {p.name for p in path.iterdir()} & set(leftovers)
