"""documents.loading: the entry points. Unsupported types and size limits, folders, and property-based and fuzz runs
showing that no input makes them raise."""

from __future__ import annotations

import random
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sample_files import check_contract, make_docx, make_pdf, make_zip

from provenance.documents import IngestLimits, documents_from_bytes, load_documents

def test_unsupported_type_suggests_what_to_do():
    _, errors = documents_from_bytes("old.doc", b"whatever")
    assert "save it as .docx" in errors[0].message
    _, errors = documents_from_bytes("noext", b"whatever")
    assert "not supported" in errors[0].message


def test_file_size_limit_is_configurable():
    limits = IngestLimits(max_file_bytes=100)
    docs, errors = documents_from_bytes("big.txt", b"a" * 101, limits=limits)
    assert docs == [] and "more than the limit" in errors[0].message
    assert documents_from_bytes("ok.txt", b"a" * 100, limits=limits)[0]


def test_load_documents_refuses_big_files_before_reading(tmp_path):
    (tmp_path / "big.txt").write_bytes(b"x" * 5000)
    (tmp_path / "small.txt").write_text("small text")
    docs, errors = load_documents([tmp_path], limits=IngestLimits(max_file_bytes=1000))
    assert [d.text for d in docs] == ["small text"]
    assert len(errors) == 1 and "big.txt" in errors[0].source and "limit" in errors[0].message


def test_load_documents_folders_missing_paths_and_unique_names(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("alpha")
    (tmp_path / "b.html").write_text("<p>beta</p>")
    (tmp_path / "ignored.bin").write_bytes(b"\x00\x01")
    docs, errors = load_documents([tmp_path, tmp_path / "sub" / "a.txt", tmp_path / "missing.txt"])
    assert sorted(d.text for d in docs) == ["alpha", "alpha", "beta"]
    assert len({d.name for d in docs}) == 3
    # ignored.bin is not read and says so (one sentence per skipped file, as the README promises)
    assert len(errors) == 2 and "no such file" in errors[1].message
    assert errors[0].source.endswith("ignored.bin") and "'.bin' are not supported" in errors[0].message



SUFFIXES = [".txt", ".md", ".html", ".htm", ".jsonl", ".csv", ".pdf", ".docx", ".zip", ".doc", ""]


@given(text=st.text(min_size=1, max_size=500))
@settings(max_examples=150, deadline=None)
def test_any_utf8_text_round_trips(text):
    docs, errors = documents_from_bytes("t.txt", text.encode("utf-8"))
    check_contract(docs, errors, "t.txt")
    # a leading U+FEFF is a UTF-8 byte-order mark: decoding removes it, as editors do
    expected = (text[1:] if text.startswith("\ufeff") else text).replace("\x00", "")
    if docs:
        assert docs[0].text == expected
    else:
        assert not expected.strip() or errors[0].message.startswith("this looks like a binary")



@given(data=st.binary(max_size=2000), suffix=st.sampled_from(SUFFIXES))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_bytes_never_raise(data, suffix):
    docs, errors = documents_from_bytes(f"f{suffix}", data)
    check_contract(docs, errors, suffix)



def _mutate(data: bytes, rng: random.Random) -> bytes:
    """Flip, delete or duplicate a few bytes of a valid file."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if not buf:
            break
        op, pos = rng.random(), rng.randrange(len(buf))
        if op < 0.5:
            buf[pos] = rng.randrange(256)
        elif op < 0.75:
            del buf[pos: pos + rng.randint(1, 16)]
        else:
            buf[pos:pos] = buf[pos: pos + rng.randint(1, 16)]
    return bytes(buf)


def test_fuzz_mutated_valid_files_never_raise():
    """A bounded fuzz run (a few seconds): random mutations of valid files of every format."""
    rng = random.Random(1234)
    seeds = {
        "a.txt": "Plain text with ümlauts.".encode(),
        "a.html": b"<html><body><p>Hello <b>there</b></p><script>x()</script></body></html>",
        "a.jsonl": b'{"text": "one"}\n{"text": "two", "id": 3}\n',
        "a.csv": b'id,text\n1,"a, b"\n2,c\n',
        "a.pdf": make_pdf(["Fuzzing a pdf text layer."]),
        "a.docx": make_docx(["Fuzzing a docx."]),
        "a.zip": make_zip({"x.txt": b"zipped text", "y.jsonl": b'{"text": "row"}\n', "n.zip": make_zip({"z.txt":
                                                                                                          b"z"})}),
    }
    deadline = time.monotonic() + 6.0
    runs = 0
    while time.monotonic() < deadline:
        name, data = rng.choice(list(seeds.items()))
        docs, errors = documents_from_bytes(name, _mutate(data, rng))
        check_contract(docs, errors, name)
        runs += 1
    assert runs > 50


def test_every_file_skipped_inside_a_folder_gets_one_sentence(tmp_path):
    import os

    from provenance.documents import read_corpus

    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("read me")
    (folder / "sub" / "b.md").write_text("read me too")
    (folder / "notes.json").write_text("{}")
    (folder / "outside-link.txt").symlink_to(tmp_path / "elsewhere.txt")
    (tmp_path / "elsewhere.txt").write_text("not inside the folder")
    (folder / "linked-folder").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(folder / "pipe.txt")  # reading a FIFO would block forever
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "c.txt").write_text("hidden text")

    docs, errors = load_documents([folder])
    assert sorted(d.text for d in docs) == ["hidden text", "read me", "read me too"]
    why = {Path(e.source).name: e.message for e in errors}
    assert set(why) == {"notes.json", "outside-link.txt", "linked-folder", "pipe.txt"}
    assert "use .jsonl" in why["notes.json"]
    assert "link" in why["outside-link.txt"] and "link" in why["linked-folder"]
    assert "named pipe" in why["pipe.txt"]

    corpus, corpus_errors = read_corpus(folder)  # corpora skip hidden names silently, the rest alike
    assert sorted(d.text for d in corpus) == ["read me", "read me too"]
    assert {Path(e.source).name for e in corpus_errors} == set(why)


def test_document_names_from_paths_are_never_absolute(tmp_path, monkeypatch):
    folder = tmp_path / "my docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_text("alpha")
    (folder / "b.txt").write_text("beta")
    (tmp_path / "c.txt").write_text("gamma")
    (tmp_path / "t.jsonl").write_text('{"id": "x", "text": "delta"}\n')
    docs, errors = load_documents([folder, tmp_path / "c.txt", str(tmp_path / "t.jsonl"), tmp_path / "gone.txt"])
    assert [d.name for d in docs] == ["my docs/b.txt", "my docs/sub/a.txt", "c.txt", "t.jsonl:x"]
    assert not any(str(tmp_path) in d.name for d in docs)
    monkeypatch.chdir(tmp_path)
    docs, _ = load_documents(["my docs", "."])
    assert [d.name for d in docs][:2] == ["my docs/b.txt", "my docs/sub/a.txt"]
    assert all(not d.name.startswith("/") for d in docs)
    assert "no such file" in errors[0].message
