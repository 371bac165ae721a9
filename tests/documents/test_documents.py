"""Ingestion: every format, every error case, property-based tests and a bounded fuzz run."""

from __future__ import annotations

import io
import json
import random
import time
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.documents import (
    Document,
    IngestError,
    IngestLimits,
    decode_text,
    documents_from_bytes,
    html_to_text,
    load_documents,
    safe_filename,
    unique_names,
)

# ---------------------------------------------------------------------------------------------------- helpers


def make_pdf(page_texts: list[str]) -> bytes:
    """A minimal valid PDF with one page per text, drawn with the built-in Helvetica font (no extra packages)."""
    objects: list[bytes] = []
    n_pages = len(page_texts)
    page_ids = [3 + 2 * i for i in range(n_pages)]
    font_id = 3 + 2 * n_pages
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{i} 0 R" for i in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    for i, text in enumerate(page_texts):
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 712 Td ({escaped}) Tj ET".encode("latin-1")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {page_ids[i] + 1} 0 R "
                       f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode())
        objects.append(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def blank_pdf(password: str | None = None) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    if password:
        writer.encrypt(user_password=password, owner_password=password, algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def encrypted_pdf(text: str, user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([text]))))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def make_docx(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    import docx

    document = docx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    if table:
        t = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                t.cell(r, c).text = value
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def make_zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def messages(errors: list[IngestError]) -> str:
    return " | ".join(e.message for e in errors)


# ---------------------------------------------------------------------------------------------------- formats


def test_plain_text_and_markdown():
    docs, errors = documents_from_bytes("a.txt", "Hello world.\n".encode())
    assert errors == [] and docs == [Document("a.txt", "Hello world.\n")]
    docs, errors = documents_from_bytes("notes.MD", b"# Title\n\nBody")
    assert errors == [] and docs[0].text == "# Title\n\nBody"


def test_utf8_bom_and_utf16_are_decoded():
    assert documents_from_bytes("a.txt", b"\xef\xbb\xbfHello")[0][0].text == "Hello"
    assert documents_from_bytes("a.txt", "Grüße".encode("utf-16"))[0][0].text == "Grüße"


def test_non_utf8_encoding_is_detected_not_refused():
    text = "Les élèves étudiaient à l'école près de la forêt, où l'été était très chaud. " * 4
    docs, errors = documents_from_bytes("fr.txt", text.encode("cp1252"))
    assert errors == []
    assert docs[0].text == text
    cyrillic = "Привет, как дела? Это простой русский текст для проверки кодировки. " * 4
    docs, errors = documents_from_bytes("ru.txt", cyrillic.encode("cp1251"))
    assert errors == [] and docs[0].text == cyrillic


def test_html_keeps_visible_text_only():
    page = (b"<!doctype html><html><head><title>Tab title</title><style>body{color:red}</style>"
            b"<script>alert('x')</script></head><body><h1>Heading</h1><p>First &amp; <b>bold</b> words."
            b"<!-- a comment --></p><noscript>enable js</noscript><p>Second\n   paragraph.</p>"
            b"<script type='text/javascript'>var hidden = 1;</script></body></html>")
    docs, errors = documents_from_bytes("page.html", page)
    assert errors == []
    text = docs[0].text
    assert "Heading" in text and "First & bold words." in text and "Second paragraph." in text
    for hidden in ("alert", "color:red", "Tab title", "a comment", "var hidden", "enable js"):
        assert hidden not in text
    assert text.index("Heading") < text.index("First") < text.index("Second")


def test_html_without_closing_head_still_shows_body():
    assert html_to_text("<html><head><title>t</title><body><p>Visible body") == "Visible body"


def test_html_without_visible_text_is_an_error():
    docs, errors = documents_from_bytes("empty.htm", b"<html><script>x()</script><style>a{}</style></html>")
    assert docs == [] and "no visible text" in messages(errors)


def test_pdf_text_layer_is_extracted():
    docs, errors = documents_from_bytes("paper.pdf", make_pdf(["Hello from page one.", "And page two."]))
    assert errors == []
    assert "Hello from page one." in docs[0].text and "And page two." in docs[0].text


def test_pdf_without_text_layer_is_explained():
    docs, errors = documents_from_bytes("scan.pdf", blank_pdf())
    assert docs == []
    assert "no text layer" in messages(errors) and "OCR" in messages(errors)


def test_password_protected_pdf_is_explained():
    docs, errors = documents_from_bytes("secret.pdf", encrypted_pdf("Confidential words.", "hunter2"))
    assert docs == [] and "password" in messages(errors)


def test_pdf_with_only_an_owner_password_opens():
    docs, errors = documents_from_bytes("restricted.pdf", encrypted_pdf("Readable words.", ""))
    assert errors == [] and "Readable words." in docs[0].text


@pytest.mark.parametrize("data", [b"%PDF-1.4\n garbage", b"not a pdf at all", make_pdf(["Hi there"])[:60]])
def test_corrupt_pdf_is_explained(data):
    docs, errors = documents_from_bytes("broken.pdf", data)
    assert docs == [] and len(errors) == 1
    assert "damaged" in errors[0].message or "no text layer" in errors[0].message


def test_docx_paragraphs_and_tables():
    data = make_docx(["First paragraph.", "Second paragraph."], table=[["cell one", "cell two"]])
    docs, errors = documents_from_bytes("letter.docx", data)
    assert errors == []
    text = docs[0].text
    assert "First paragraph." in text and "Second paragraph." in text and "cell one\tcell two" in text


@pytest.mark.parametrize("data", [b"PK\x03\x04 truncated", b"plain text pretending", make_zip({"a.txt": b"x"})])
def test_corrupt_docx_is_explained(data):
    docs, errors = documents_from_bytes("broken.docx", data)
    assert docs == [] and len(errors) == 1
    assert "damaged or not a Word .docx" in errors[0].message


def test_empty_docx_is_explained():
    docs, errors = documents_from_bytes("blank.docx", make_docx([]))
    assert docs == [] and "no text" in messages(errors)


def test_jsonl_keeps_good_lines_and_reports_line_numbers():
    data = b'{"id": "a", "text": "first"}\n{broken\n\n{"text": ""}\n[1, 2]\n{"text": 5}\n{"text": "last"}\n{"x": 1}\n'
    docs, errors = documents_from_bytes("t.jsonl", data)
    assert [d.name for d in docs] == ["t.jsonl:a", "t.jsonl:7"]
    assert [d.text for d in docs] == ["first", "last"]
    joined = messages(errors)
    for n in (2, 4, 5, 6, 8):
        assert f"line {n} " in joined
    assert "line 1 " not in joined and "line 3 " not in joined and "line 7 " not in joined


def test_jsonl_lines_that_are_json_strings_are_not_mistaken_for_messages():
    docs, errors = documents_from_bytes("t.jsonl", b'"just a string"\n{"text": "ok"}\n')
    assert [d.text for d in docs] == ["ok"]
    assert errors == [IngestError("t.jsonl", "line 1 is not a JSON object with a 'text' field.")]


def test_jsonl_custom_columns():
    docs, errors = documents_from_bytes("t.jsonl", b'{"key": "k1", "body": "hello"}\n', text_column="body",
                                        id_column="key")
    assert errors == [] and docs == [Document("t.jsonl:k1", "hello")]


def test_csv_keeps_good_rows_and_reports_bad_ones():
    data = b'id,text\n1,hello there\n2,"quoted, with comma"\n3,too,many,fields\n4,\n5,"multi\nline"\n6,fine\n'
    docs, errors = documents_from_bytes("t.csv", data)
    assert [d.text for d in docs] == ["hello there", "quoted, with comma", "multi\nline", "fine"]
    assert [d.name for d in docs] == ["t.csv:1", "t.csv:2", "t.csv:5", "t.csv:6"]
    joined = messages(errors)
    assert "line 4 has 4 field(s)" in joined and "line 5 has an empty 'text'" in joined


def test_csv_unclosed_quote_reports_line_and_keeps_earlier_rows():
    docs, errors = documents_from_bytes("t.csv", b'id,text\n1,good\n2,"never closed\n3,lost\n')
    assert [d.text for d in docs] == ["good"]
    assert "line 3 could not be read" in messages(errors)


def test_csv_without_text_column_names_the_columns():
    docs, errors = documents_from_bytes("t.csv", b"title,body\nx,y\n")
    assert docs == [] and len(errors) == 1
    assert "no 'text' column" in errors[0].message and "'title', 'body'" in errors[0].message


def test_csv_long_cells_are_accepted():
    long_text = "word " * 60000  # 300 kB: above the csv module's default field limit
    data = ("id,text\n1,\"" + long_text + "\"\n").encode()
    docs, errors = documents_from_bytes("long.csv", data)
    assert errors == [] and docs[0].text == long_text


def test_many_bad_lines_are_summarised():
    data = b"\n".join([b"{bad"] * 100 + [b'{"text": "ok"}'])
    docs, errors = documents_from_bytes("t.jsonl", data, limits=IngestLimits(max_errors_per_file=5))
    assert len(docs) == 1
    assert len(errors) == 6 and "95 more line(s)" in errors[-1].message


# ---------------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("data", [b"", b"   \n\t  ", b"\xef\xbb\xbf"])
def test_empty_files_are_explained(data):
    docs, errors = documents_from_bytes("empty.txt", data)
    assert docs == [] and len(errors) == 1 and "empty" in errors[0].message


@pytest.mark.parametrize("data,word", [
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "PNG image"),
    (b"\x7fELF\x02\x01\x01" + bytes(200), "program"),
    (bytes(range(256)) * 4, "binary"),
    (b"\x00\x01\x02\x03binary\x00\xff\xfe\x00" * 30, "binary"),
])
def test_binary_files_are_explained(data, word):
    docs, errors = documents_from_bytes("data.txt", data)
    assert docs == [] and len(errors) == 1 and word in errors[0].message


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
    assert len(errors) == 1 and "no such file" in errors[0].message


def test_unique_names_never_collide_with_existing_names():
    docs = unique_names([Document("a", "1"), Document("a (2)", "2"), Document("a", "3")])
    assert len({d.name for d in docs}) == 3 and [d.text for d in docs] == ["1", "2", "3"]


# ---------------------------------------------------------------------------------------------------- zip


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


# ---------------------------------------------------------------------------------------------------- names


@pytest.mark.parametrize("raw,expected", [
    ("report.pdf", "report.pdf"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\me\\doc.txt", "doc.txt"),
    ("..", "document"),
    (".hidden", "hidden"),
    ("CON", "_CON"),
    ("nul.txt", "_nul.txt"),
    ("a\u202egnp.txt", "a_gnp.txt"),
    ("semi;colon|pipe$(rm -rf).txt", "semi_colon_pipe_rm -rf_.txt"),
    ("", "document"),
])
def test_safe_filename_examples(raw, expected):
    assert safe_filename(raw) == expected


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_safe_filename_properties(raw):
    name = safe_filename(raw, max_length=60)
    assert name and len(name) <= 60
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert not name.startswith((".", "-", " ")) and name not in (".", "..")
    assert all(ch.isprintable() for ch in name)
    assert name.split(".")[0].lower() not in {"con", "prn", "aux", "nul"}
    assert safe_filename(name, max_length=60) == name


# ---------------------------------------------------------------------------------------------------- properties

SUFFIXES = [".txt", ".md", ".html", ".htm", ".jsonl", ".csv", ".pdf", ".docx", ".zip", ".doc", ""]


def check_contract(docs, errors, name):
    """What every call must return: lists of the right types, a sentence per error, non-empty documents."""
    assert isinstance(docs, list) and isinstance(errors, list)
    assert all(isinstance(d, Document) and isinstance(d.text, str) and d.text.strip() for d in docs)
    assert all(isinstance(e, IngestError) and e.message.strip().endswith(".") for e in errors)
    assert all(isinstance(e.source, str) and e.source for e in errors)
    if not docs:
        assert errors, f"{name}: no documents and no error"


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


@given(texts=st.lists(st.text(min_size=1, max_size=80).filter(lambda t: t.strip()), min_size=1, max_size=8))
@settings(max_examples=100, deadline=None)
def test_jsonl_round_trips_every_text(texts):
    data = "\n".join(json.dumps({"text": t}) for t in texts).encode()
    docs, errors = documents_from_bytes("t.jsonl", data)
    assert errors == []
    assert [d.text for d in docs] == texts


@given(texts=st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1,
                              max_size=60).filter(lambda t: t.strip()), min_size=1, max_size=8))
@settings(max_examples=100, deadline=None)
def test_csv_round_trips_every_text(texts):
    import csv

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["id", "text"])
    for i, t in enumerate(texts):
        writer.writerow([i, t])
    docs, errors = documents_from_bytes("t.csv", buf.getvalue().encode())
    assert errors == []
    assert [d.text for d in docs] == texts


@given(data=st.binary(max_size=2000), suffix=st.sampled_from(SUFFIXES))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_bytes_never_raise(data, suffix):
    docs, errors = documents_from_bytes(f"f{suffix}", data)
    check_contract(docs, errors, suffix)


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


def test_decode_text_raises_value_error_only():
    with pytest.raises(ValueError, match="empty"):
        decode_text(b"", "x")
    assert decode_text("café".encode(), "x") == "café"
