"""Corpus overlap (MinHash LSH index, exact verification, spans, safe on-disk format, Redis) and ngram_coverage."""

from __future__ import annotations

import hashlib
import json
import pickle
import random
import shutil
import socket
import subprocess
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from datasketch import MinHash

from provenance import overlap
from provenance.scores.ngram_coverage import (coverage_profile, coverage_score, ngram_coverage, sample_continuations,
                                 split_halves, words)
from provenance.documents import Document
from provenance.documents.words import _WORD_RE
from provenance.overlap import (IndexParams, OverlapIndex, OverlapIndexError, build_index, load_index,
                                matching_spans, minhash_signatures, query_index, read_corpus, shingle_hashes,
                                shingles)

VOCAB = [f"{a}{b}" for a in ("ka", "lo", "mi", "nu", "pe", "ro", "su", "ti", "va", "ze")
         for b in ("ba", "de", "fi", "go", "hu", "ja", "ke", "li", "mo", "ny", "pa", "qu", "ri", "so", "tu")]


def random_text(rng: random.Random, n_words: int) -> str:
    """Words from a 150-word vocabulary with punctuation and capitals sprinkled in (which shingling ignores)."""
    out = []
    for i in range(n_words):
        w = rng.choice(VOCAB)
        out.append(w.capitalize() if i % 17 == 0 else w)
        if i % 11 == 10:
            out[-1] += rng.choice([",", ".", ";"])
    return " ".join(out)


def corpus(n: int = 200, seed: int = 0) -> list[Document]:
    rng = random.Random(seed)
    return [Document(f"doc{i}", random_text(rng, rng.randint(80, 300))) for i in range(n)]


def perturb(text: str, rng: random.Random, n_changes: int) -> str:
    tokens = text.split()
    for i in rng.sample(range(len(tokens)), n_changes):
        tokens[i] = "changed"
    return " ".join(tokens)


# ----------------------------------------------------------------------------------------------------------------
# shingles and signatures


def test_words_and_shingles_ignore_case_and_punctuation():
    assert overlap.words("The cat, THE  cat!") == ["the", "cat", "the", "cat"]
    assert shingles(["a", "b", "c", "d"], 3) == ["a b c", "b c d"]
    assert shingles(["a", "b"], 5) == ["a b"]  # short texts are one shingle
    assert shingles([], 5) == []


def test_signatures_equal_datasketch_minhash():
    rng = random.Random(1)
    texts = [random_text(rng, n) for n in (3, 40, 400)]
    for num_perm, seed in ((64, 1), (128, 7)):
        hash_sets = [shingle_hashes(shingles(overlap.words(t), 5)) for t in texts]
        sigs = minhash_signatures(hash_sets, num_perm, seed)
        for t, sig in zip(texts, sigs):
            m = MinHash(num_perm=num_perm, seed=seed)
            m.update_batch([s.encode("utf-8") for s in shingles(overlap.words(t), 5)])
            assert sig.dtype == np.uint32 and np.array_equal(sig, m.hashvalues)


@pytest.mark.parametrize("jaccard", [0.2, 0.5, 0.8])
@pytest.mark.parametrize("num_perm", [64, 256])
def test_estimated_jaccard_within_permutation_tolerance(jaccard, num_perm):
    # Two sets with an exactly known Jaccard: |A| = |B| = 600, |A n B| = s, J = s / (1200 - s).
    shared = round(1200 * jaccard / (1 + jaccard))
    exact = shared / (1200 - shared)
    a = np.arange(600, dtype=np.uint32)
    b = np.arange(600 - shared, 1200 - shared, dtype=np.uint32)
    a_h = shingle_hashes(str(x) for x in a)
    b_h = shingle_hashes(str(x) for x in b)
    estimates = []
    for seed in range(40):  # independent permutation families
        sig = minhash_signatures([a_h, b_h], num_perm, seed)
        estimates.append(float(np.mean(sig[0] == sig[1])))
    estimates = np.array(estimates)
    sd = overlap.jaccard_standard_error(exact, num_perm)
    assert np.all(np.abs(estimates - exact) <= 4.5 * sd)  # every single estimate within 4.5 standard errors
    assert abs(estimates.mean() - exact) <= 4 * sd / np.sqrt(len(estimates))  # unbiased
    assert 0.55 * sd <= estimates.std(ddof=1) <= 1.5 * sd  # spread as the permutation count implies


# ----------------------------------------------------------------------------------------------------------------
# finding matches


@pytest.fixture(scope="module")
def docs():
    return corpus()


@pytest.fixture(scope="module")
def index(docs):
    idx = OverlapIndex(IndexParams())
    report = idx.add_documents(docs)
    assert report.added == len(docs) and not report.skipped
    idx.prepare()
    return idx


def test_planted_near_duplicate_and_contained_text_are_found_unrelated_is_not(docs, index):
    rng = random.Random(5)
    near = perturb(docs[17].text, rng, 3)
    long_doc = max(docs, key=lambda d: len(d.text.split()))
    long_words = long_doc.text.split()
    excerpt = " ".join(long_words[40:100])  # 60 words out of a long document
    unrelated = random_text(random.Random(99), 150)
    queries = [Document("near", near), Document("excerpt", excerpt), Document("unrelated", unrelated)]
    result = query_index(index, queries)
    m = result.matches
    assert list(m.columns[:10]) == overlap.MATCH_COLUMNS[:10]
    assert set(m["document"]) == {"near", "excerpt"}

    row = m[m["document"] == "near"].iloc[0]
    assert row["match"] == "doc17" and row["verified"]
    assert row["found_by"] in ("jaccard", "both")
    assert 0.6 < row["jaccard_exact"] < 1.0
    assert abs(row["jaccard_est"] - row["jaccard_exact"]) < 5 * overlap.jaccard_standard_error(
        row["jaccard_exact"], 128)

    row = m[m["document"] == "excerpt"].iloc[0]
    assert row["match"] == long_doc.name
    assert row["found_by"] in ("containment", "both")
    assert row["containment_exact"] == 1.0 and row["jaccard_exact"] < 0.5  # contained, far from a near-duplicate
    assert row["longest_span_words"] == 60

    spans = result.spans[result.spans["document"] == "excerpt"]
    top = spans.iloc[0]
    assert top["words"] == 60 and (top["query_start"], top["query_end"]) == (0, len(excerpt))
    assert long_doc.text[top["match_start"]: top["match_end"]] == excerpt


def test_recall_weight_finds_short_excerpts_of_much_longer_documents(docs):
    with pytest.raises(ValueError, match="recall weight"):
        IndexParams(ensemble_recall_weight=1.5).validate()
    long_docs = sorted(docs, key=lambda d: -len(d.text.split()))[:20]  # 250-300 words
    rng = random.Random(12)
    queries = []
    for d in long_docs:
        tokens = d.text.split()
        start = rng.randrange(len(tokens) - 40)
        queries.append(Document(d.name, " ".join(tokens[start: start + 40])))  # 1/7 of the document
    idx = OverlapIndex(IndexParams(ensemble_recall_weight=0.9))
    idx.add_documents(docs)
    m = query_index(idx, queries).matches
    found = {(q, x) for q, x in zip(m["document"], m["match"])}
    assert sum((d.name, d.name) in found for d in long_docs) >= 19
    assert (m["containment_exact"] == 1.0).all()


def test_all_candidates_reports_estimates_and_unverified(docs, index):
    near = perturb(docs[3].text, random.Random(2), 2)
    result = query_index(index, [Document("q", near)], only_verified=False)
    assert len(result.matches) >= 1
    for col in ("jaccard_est", "containment_est", "jaccard_exact", "containment_exact"):
        assert result.matches[col].between(0, 1).all()


def test_query_without_words_is_reported_not_raised(index):
    result = query_index(index, [Document("empty", "... !!! ---")])
    assert result.matches.empty and "no words" in result.errors["empty"]


def test_matching_spans_offsets_point_at_the_shared_text():
    shared = "alpha beta gamma delta epsilon zeta eta theta"
    a = f"One two three. {shared}, four five six seven eight nine ten eleven."
    b = f"Something else entirely here {shared.upper()} and then more words follow"
    spans = matching_spans(a, b, min_words=5)
    assert len(spans) == 1 and spans[0].words == 8
    s = spans[0]
    assert a[s.query_start: s.query_end] == shared
    assert b[s.match_start: s.match_end] == shared.upper()
    assert matching_spans(a, "nothing in common at all here friends", min_words=3) == []


# ----------------------------------------------------------------------------------------------------------------
# saving, loading, appending


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


def test_read_corpus_folder_jsonl_csv_parquet_zip(tmp_path, docs):
    folder = tmp_path / "corpus"
    folder.mkdir()
    with open(folder / "a.jsonl", "w") as fh:
        for d in docs[:5]:
            fh.write(json.dumps({"id": d.name, "text": d.text}) + "\n")
    pd.DataFrame({"id": [d.name for d in docs[5:10]], "text": [d.text for d in docs[5:10]]}).to_csv(
        folder / "b.csv", index=False)
    pd.DataFrame({"text": [d.text for d in docs[10:15]] + [None]}).to_parquet(folder / "c.parquet")
    parquet_bytes = (folder / "c.parquet").read_bytes()
    with zipfile.ZipFile(folder / "d.zip", "w") as zf:
        zf.writestr("texts/one.txt", docs[15].text)
        zf.writestr("texts/table.parquet", parquet_bytes)
        zf.writestr("inner.zip", b"PK")
    pd.DataFrame({"body": ["x"]}).to_parquet(tmp_path / "wrong.parquet")

    got, errors = read_corpus([folder, tmp_path / "wrong.parquet", tmp_path / "missing"])
    texts = [d.text for d in got]
    assert texts[:15] == [d.text for d in docs[:15]]
    assert docs[15].text in texts and texts.count(docs[10].text) == 2  # parquet inside the zip too
    assert any(d.name == f"{folder / 'a.jsonl'}:doc0" for d in got)
    messages = " | ".join(str(e) for e in errors)
    assert "empty or non-text 'text' value" in messages
    assert "no 'text' column" in messages and "archives inside archives" in messages
    assert "no such file or folder" in messages


# ----------------------------------------------------------------------------------------------------------------
# damaged and hostile index folders


def _saved(tmp_path, docs) -> Path:
    idx = OverlapIndex(IndexParams(num_perm=32))
    idx.add_documents(docs[:20])
    return idx.save(tmp_path / "idx")


def _rewrite_manifest(path: Path, change) -> None:
    manifest = json.loads((path / overlap.MANIFEST_NAME).read_text())
    change(manifest)
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


# ----------------------------------------------------------------------------------------------------------------
# Redis storage against a real redis-server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_server(tmp_path):
    """A throw-away redis-server on a free loopback port (Debian package: redis-server)."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed (Debian package 'redis-server'), so the Redis storage option "
                    "cannot be tested here.")
    import redis

    port = _free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail("redis-server did not start within 5 seconds.")
        yield {"type": "redis", "redis": {"host": "127.0.0.1", "port": port}}, client
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_redis_storage_builds_persists_reuses_and_drops(tmp_path, docs, redis_server):
    config, client = redis_server
    # few ensemble partitions: datasketch flushes every Redis table separately, which dominates a small index
    params = IndexParams(ensemble_partitions=4)
    idx, errors = build_index(docs[:80], tmp_path / "idx", params=params, storage_config=config)
    assert not errors
    prefix = idx.redis_prefix.encode()
    keys_after_build = {k for k in client.scan_iter(match=prefix + b"*")}
    assert keys_after_build and client.dbsize() == len(keys_after_build)  # the LSH tables live in Redis
    near = [Document("near", perturb(docs[30].text, random.Random(1), 2)),
            Document("part", " ".join(docs[40].text.split()[10:70]))]
    expected = query_index(idx, near).matches
    assert list(expected["match"]) == ["doc30", "doc40"]

    manifest = json.loads((tmp_path / "idx" / overlap.MANIFEST_NAME).read_text())
    assert manifest["storage"] == {"type": "redis", "redis": {"host": "127.0.0.1", "port": config["redis"]["port"]}}
    band_list = prefix + b":lsh_keys" + b"0"  # datasketch's list of band hashes of document 0
    assert client.llen(band_list) == idx._lsh.b
    reopened = load_index(tmp_path / "idx")  # storage from the manifest; tables reused, nothing re-inserted
    assert {k for k in client.scan_iter(match=prefix + b"*")} == keys_after_build
    assert client.llen(band_list) == idx._lsh.b
    pd.testing.assert_frame_equal(query_index(reopened, near).matches, expected)

    reopened.add_documents(docs[80:100])
    reopened.save()
    late = [Document("late", perturb(docs[90].text, random.Random(2), 2))]
    assert list(query_index(load_index(tmp_path / "idx"), late).matches["match"]) == ["doc90"]

    assert reopened.drop_storage() > 0
    assert client.dbsize() == 0


def test_unreachable_redis_is_a_clear_error():
    with pytest.raises(ValueError, match="Could not reach the Redis server at 127.0.0.1"):
        OverlapIndex(storage_config={"type": "redis", "redis": {"host": "127.0.0.1", "port": _free_port(),
                                                                  "socket_connect_timeout": 1}})


# ----------------------------------------------------------------------------------------------------------------
# command line


def test_cli_build_and_query(tmp_path, docs, capsys):
    from provenance.cli import main

    corpus_file = tmp_path / "corpus.jsonl"
    with open(corpus_file, "w") as fh:
        for d in docs[:60]:
            fh.write(json.dumps({"id": d.name, "text": d.text}) + "\n")
    (tmp_path / "near.txt").write_text(perturb(docs[12].text, random.Random(6), 2))
    (tmp_path / "other.txt").write_text(random_text(random.Random(77), 120))
    assert main(["overlap", "build", str(corpus_file), "--index", str(tmp_path / "idx")]) == 0
    assert main(["overlap", "build", str(corpus_file), "--index", str(tmp_path / "idx")]) == 2
    assert "--append" in capsys.readouterr().err
    out = tmp_path / "matches.csv"
    assert main(["overlap", "query", str(tmp_path / "near.txt"), str(tmp_path / "other.txt"), "--index",
                 str(tmp_path / "idx"), "--out", str(out), "--spans-out", str(tmp_path / "spans.jsonl")]) == 0
    table = pd.read_csv(out)
    for col in ("document", "match", "jaccard_est", "containment_est", "jaccard_exact", "containment_exact"):
        assert col in table.columns
    assert list(table["match"]) == [f"{corpus_file}:doc12"]
    assert table["document"].iloc[0].endswith("near.txt")
    assert len(pd.read_json(tmp_path / "spans.jsonl", lines=True)) >= 1
    assert main(["overlap", "query", str(tmp_path / "near.txt"), "--index", str(tmp_path / "nope"),
                 "--out", str(out)]) == 2
    assert "no such folder" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------------------------------
# ngram_coverage


def test_split_halves_and_coverage_profile():
    assert split_halves("one two, three four five.") == ("one two, three", "four five.")
    assert split_halves("single") == ("single", "")
    # generated: a b c d x y; reference: q a b c d r x y -> runs "a b c d" (4 words) and "x y" (2 words)
    profile = coverage_profile("a b c d x y".split(), "q a b c d r x y".split(), 2, 5)
    assert np.allclose(profile, [6 / 6, 4 / 6, 4 / 6, 0.0])
    assert coverage_score(["zz yy", "a b c d x y"], "q a b c d r x y", 2, 5) == pytest.approx(7 / 3)
    assert coverage_score([], "a b", 2, 12) == 0.0


def test_ngram_coverage_ranks_the_models_own_continuation_above_random_text(tiny_model):
    prompt = "the cat sat on the mat and the dog ran"
    n_prompt = len(words(prompt))
    settings = dict(num_samples=5, seed=0)
    samples = sample_continuations(tiny_model, prompt, max_new_tokens=60, **settings)
    # Take one continuation that starts between words and has enough words to be the second half of the text.
    usable = [s for s in samples if s[:1] and not s[0].isalnum() and s[0] != "_" and len(words(s)) >= n_prompt]
    assert usable, f"no usable continuation among {samples!r}"
    cont = usable[0]
    cut = [m.end() for m in _WORD_RE.finditer(cont)][n_prompt - 1]
    generated_text = prompt + cont[:cut]
    assert split_halves(generated_text)[0] == prompt

    own = ngram_coverage(tiny_model, generated_text, max_new_tokens=60, **settings)
    rng = random.Random(3)
    randoms = [ngram_coverage(tiny_model, " ".join(rng.choice(prompt.split()) for _ in range(2 * n_prompt)),
                              max_new_tokens=60, **settings) for _ in range(2)]
    assert 0.0 <= min(randoms) and own <= 11.0
    assert own >= 5.0 > max(randoms)
    assert ngram_coverage(tiny_model, "single") == 0.0  # no second half: nothing can be covered


def test_ngram_coverage_is_a_pipeline_score(tiny_model):
    from provenance.scores import formulas as attacks
    from provenance.scores.table import score_documents

    assert "ngram_coverage" in attacks.ALL_SCORES and "ngram_coverage" in attacks.SCORE_DESCRIPTIONS
    texts = [Document("a", "the cat sat on the mat and the dog ran over the rug quickly"),
             Document("b", "a bird flew under the old tree near the river then sat")]
    result = score_documents(tiny_model, texts, ["loss", "ngram_coverage"])
    assert list(result.table.columns[-2:]) == ["loss", "ngram_coverage"]
    assert result.table["ngram_coverage"].between(0, 11).all()
