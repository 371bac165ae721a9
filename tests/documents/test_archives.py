"""documents.archives: the one zip reader. Supported members, member errors, paths escaping the archive, links,
zip bombs, lying sizes, nested archives, passwords; random archives never raise."""

from __future__ import annotations

import io
import random
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sample_files import check_contract, make_docx, make_pdf, make_zip, messages

from provenance.documents import IngestLimits, documents_from_bytes
from provenance.documents.corpus import CORPUS_LIMITS, read_corpus
from provenance.documents.suffixes import CORPUS_SUFFIXES
from provenance.overlap import build_index


def test_zip_of_supported_files():
    data = make_zip({"docs/a.txt": b"alpha text", "b.html": b"<p>beta</p>", "c.jsonl": b'{"text": "gamma"}\n',
                     "d.docx": make_docx(["delta"]), "e.pdf": make_pdf(["epsilon"]), "folder/": b"",
                     "__MACOSX/._a.txt": b"\x00\x05junk", ".DS_Store": b"\x00\x00"})
    docs, errors = documents_from_bytes("bundle.zip", data)
    assert errors == [], messages(errors)
    by_name = {d.name: d.text for d in docs}
    assert by_name["bundle.zip:docs/a.txt"] == "alpha text"
    assert by_name["bundle.zip:b.html"] == "beta"
    assert by_name["bundle.zip:c.jsonl:1"] == "gamma"
    assert by_name["bundle.zip:d.docx"] == "delta"
    assert "epsilon" in by_name["bundle.zip:e.pdf"]


def test_zip_member_errors_do_not_lose_the_rest():
    data = make_zip({"good.txt": b"kept", "bad.txt": b"", "image.png": b"\x89PNG", "bin.txt": bytes(range(256))})
    docs, errors = documents_from_bytes("mixed.zip", data)
    assert [d.text for d in docs] == ["kept"]
    sources = {e.source for e in errors}
    assert sources == {"mixed.zip:bad.txt", "mixed.zip:image.png", "mixed.zip:bin.txt"}


@pytest.mark.parametrize("member", ["../evil.txt", "a/../../evil.txt", "/etc/passwd.txt", "C:\\evil.txt",
                                    "..\\evil.txt"])
def test_zip_paths_escaping_the_archive_are_refused(member):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ok.txt", b"fine")
        zf.writestr(zipfile.ZipInfo(member), b"escaped text")
    docs, errors = documents_from_bytes("evil.zip", buf.getvalue())
    assert [d.text for d in docs] == ["fine"]
    assert len(errors) == 1 and ("outside the archive" in errors[0].message or "absolute" in errors[0].message)


def test_zip_symlink_member_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("link.txt")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, b"/etc/passwd")
    docs, errors = documents_from_bytes("links.zip", buf.getvalue())
    assert docs == [] and "link" in errors[0].message


def test_zip_bomb_by_ratio_is_refused():
    data = make_zip({"bomb.txt": b"a" * (8 * 1024 * 1024)})
    assert len(data) < 100_000
    docs, errors = documents_from_bytes("bomb.zip", data)
    assert docs == [] and len(errors) == 1 and "zip bomb" in errors[0].message


def test_zip_total_size_and_member_count_limits():
    limits = IngestLimits(max_archive_bytes=1000, max_archive_members=3)
    docs, errors = documents_from_bytes("big.zip", make_zip({"a.txt": b"x" * 600, "b.txt": b"y" * 600}),
                                        limits=limits)
    assert docs == [] and "unpack to" in errors[0].message
    many = make_zip({f"{i}.txt": b"t" for i in range(4)})
    docs, errors = documents_from_bytes("many.zip", many, limits=limits)
    assert docs == [] and "4 files" in errors[0].message


def test_zip_lying_about_sizes_is_caught():
    data = bytearray(make_zip({"a.txt": b"hello world " * 10}, compression=zipfile.ZIP_STORED))
    # Corrupt the declared size in the central directory: the member is then unreadable, never over-read.
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24: cd + 28] = (5).to_bytes(4, "little")
    docs, errors = documents_from_bytes("liar.zip", bytes(data))
    assert docs == [] and len(errors) == 1


def test_nested_zip_one_level_only():
    inner_inner = make_zip({"deep.txt": b"too deep"})
    inner = make_zip({"inner.txt": b"inner text", "deeper.zip": inner_inner})
    outer = make_zip({"outer.txt": b"outer text", "inner.zip": inner})
    docs, errors = documents_from_bytes("outer.zip", outer)
    assert sorted(d.text for d in docs) == ["inner text", "outer text"]
    assert len(errors) == 1 and "deeper.zip" in errors[0].source and "level" in errors[0].message


def test_nested_zips_share_one_size_budget():
    inner = make_zip({"a.txt": b"x" * 1200})
    outer = make_zip({"i1.zip": inner, "i2.zip": inner}, compression=zipfile.ZIP_STORED)
    docs, errors = documents_from_bytes("outer.zip", outer, limits=IngestLimits(max_archive_bytes=2000))
    assert len(docs) == 1 and any("limit" in e.message for e in errors)


def test_damaged_zip_is_explained():
    docs, errors = documents_from_bytes("bad.zip", b"PK\x03\x04 this is not really a zip")
    assert docs == [] and "damaged" in errors[0].message


def test_encrypted_zip_member_is_refused():
    data = bytearray(make_zip({"secret.txt": b"hidden"}, compression=zipfile.ZIP_STORED))
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):  # set the 'encrypted' flag bit in both headers
        pos = data.find(sig)
        flag_at = pos + (6 if sig == b"PK\x03\x04" else 8)
        data[flag_at] |= 0x1
    docs, errors = documents_from_bytes("locked.zip", bytes(data))
    assert docs == [] and "password" in errors[0].message


@given(members=st.dictionaries(st.text(min_size=1, max_size=30), st.binary(max_size=300), max_size=6))
@settings(max_examples=100, deadline=None)
def test_random_zip_archives_never_raise(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            try:
                zf.writestr(zipfile.ZipInfo(name), data)
            except (ValueError, UnicodeEncodeError):
                continue
    docs, errors = documents_from_bytes("random.zip", buf.getvalue())
    if members:
        check_contract(docs, errors, "random.zip")
    assert all(d.name.startswith("random.zip:") for d in docs)


# ---------------------------------------------------------------------------------------------------- one reader


def test_one_zip_bomb_is_refused_the_same_way_as_an_upload_and_as_a_corpus(tmp_path):
    bomb = make_zip({"bomb.txt": b"a" * (8 * 1024 * 1024)})  # 8 MiB of one letter: about 1000 to 1
    upload_docs, upload_errors = documents_from_bytes("bomb.zip", bomb)
    assert upload_docs == [] and len(upload_errors) == 1
    sentence = upload_errors[0].message
    assert "zip bomb" in sentence and "not opened" in sentence

    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "bomb.zip").write_bytes(bomb)
    (folder / "good.txt").write_text("an ordinary document with more than enough words to be indexed")
    corpus_docs, corpus_errors = read_corpus(folder / "bomb.zip")  # read from disk, member by member
    assert corpus_docs == [] and [(e.source, e.message) for e in corpus_errors] == [(str(folder / "bomb.zip"),
                                                                                    sentence)]
    index, build_errors = build_index(folder)  # the overlap build reads its corpus the same way
    assert len(index) == 1 and [e.message for e in build_errors] == [sentence]
    # a corpus zip uploaded to the overlap page is read from bytes, with the corpus limits: the same sentence
    in_memory = documents_from_bytes("bomb.zip", bomb, limits=CORPUS_LIMITS, suffixes=CORPUS_SUFFIXES)
    assert in_memory == ([], upload_errors)


def _corpus_zip(members: dict[str, bytes], special: str) -> bytes:
    """A zip with ``members`` plus one hostile member: a path escaping the archive, a link or a password."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if special == "escape":
            zf.writestr(zipfile.ZipInfo("../../outside.txt"), b"escaped text")
        elif special == "link":
            info = zipfile.ZipInfo("link.txt")
            info.external_attr = 0o120777 << 16
            zf.writestr(info, b"/etc/passwd")
        else:
            zf.writestr("locked.txt", b"hidden text")
    data = bytearray(buf.getvalue())
    if special == "password":  # set the 'encrypted' flag bit of the last member in both of its headers
        for sig, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            data[data.rfind(sig) + flag_offset] |= 0x1
    return bytes(data)


@pytest.mark.parametrize("special,words", [("escape", "outside the archive"), ("link", "link"),
                                           ("password", "password")])
def test_hostile_members_are_refused_alike_in_uploads_and_corpora(tmp_path, special, words):
    data = _corpus_zip({"kept.txt": b"kept text"}, special)
    upload_docs, upload_errors = documents_from_bytes("a.zip", data)
    path = tmp_path / "a.zip"
    path.write_bytes(data)
    corpus_docs, corpus_errors = read_corpus(path)
    assert [d.text for d in upload_docs] == [d.text for d in corpus_docs] == ["kept text"]
    assert len(upload_errors) == 1 and words in upload_errors[0].message
    assert [e.message for e in corpus_errors] == [upload_errors[0].message]
    assert corpus_errors[0].source == str(path) + upload_errors[0].source.removeprefix("a.zip")


def test_corpus_archives_read_parquet_members_and_do_not_open_nested_archives(tmp_path):
    import pandas as pd

    parquet = tmp_path / "t.parquet"
    pd.DataFrame({"text": ["from a table"]}).to_parquet(parquet)
    data = make_zip({"t.parquet": parquet.read_bytes(), "inner.zip": make_zip({"x.txt": b"x"}), "a.txt": b"plain"})
    path = tmp_path / "corpus.zip"
    path.write_bytes(data)
    docs, errors = read_corpus(path)
    assert sorted(d.text for d in docs) == ["from a table", "plain"]
    assert [e.message for e in errors] == ["skipped: archives inside archives are not opened; unpack it first."]
    # an upload of the same archive: parquet is not an upload type, and nested archives open one level deep
    docs, errors = documents_from_bytes("corpus.zip", data)
    assert sorted(d.text for d in docs) == ["plain", "x"]
    assert len(errors) == 1 and "'.parquet' are not supported" in errors[0].message


# ---------------------------------------------------------------------------------------------- whole-archive ratio


def _many_small_bombs(count: int, member_bytes: int = 900 * 1024) -> bytes:
    """``count`` members of one repeated letter, each just under the per-member ratio check (1 MiB)."""
    return make_zip({f"part{i}.txt": bytes([97 + i % 26]) * member_bytes for i in range(count)})


def test_many_members_each_under_the_ratio_threshold_are_a_zip_bomb_too():
    data = _many_small_bombs(12)  # about 10.5 MB from about 12 KB
    assert len(data) < 20_000
    docs, errors = documents_from_bytes("many.zip", data)
    assert docs == [] and len(errors) == 1
    assert "zip bomb" in errors[0].message and "100 times its own size" in errors[0].message
    # the same archive within the ratio (a generous limit) is read: the check is about the ratio, not the members
    docs, errors = documents_from_bytes("many.zip", data, limits=IngestLimits(max_archive_ratio=2000))
    assert len(docs) == 12 and errors == []


def test_nested_archives_count_towards_the_whole_archive_ratio(tmp_path):
    inner = _many_small_bombs(1)  # alone: under 1 MiB unpacked, so no ratio applies
    assert documents_from_bytes("inner.zip", inner)[1] == []
    outer = make_zip({f"inner{i}.zip": inner for i in range(10)}, compression=zipfile.ZIP_STORED)
    docs, errors = documents_from_bytes("outer.zip", outer)
    assert len(docs) < 2 and errors and all("zip bomb" in e.message for e in errors)
    (tmp_path / "outer.zip").write_bytes(outer)  # a corpus archive read from disk: the same bound
    corpus_docs, corpus_errors = read_corpus(tmp_path / "outer.zip",
                                             limits=IngestLimits(max_archive_members=100, max_archive_depth=1))
    assert len(corpus_docs) < 2 and any("zip bomb" in e.message for e in corpus_errors)


def test_an_ordinary_text_archive_is_well_within_the_ratio():
    rng = random.Random(5)
    members = {f"doc{i}.txt": " ".join(f"word{rng.randrange(5000)}" for _ in range(40_000)).encode()
               for i in range(4)}  # 1.3 MB of text, compressed about 3 to 1 like prose
    docs, errors = documents_from_bytes("texts.zip", make_zip(members))
    assert len(docs) == 4 and errors == []
