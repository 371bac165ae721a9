"""Ghost sentences, step 3: embedding round trips in .txt, .md, .html and .docx, refusals and the
'ghost embed' command."""

import codecs
import json
import random

import pytest

from provenance import ghost
from provenance.cli import main as cli_main


@pytest.fixture(scope="module")
def entries():
    registry = ghost.Registry()
    return ghost.new_entries(registry, ghost.GhostGenerator(lead_in="Note:"), 3, rng=random.Random(1))


ORIGINAL = ("# Title\r\n\r\nFirst sentence here. Second one!  Third? \"Quoted.\" End of para.\r\n\r\n"
            "```\r\ncode. not. here.\r\n```\r\nLast line without newline.")


@pytest.mark.parametrize("position", ghost.POSITIONS)
@pytest.mark.parametrize("bom", [False, True])
def test_txt_and_md_round_trip_byte_for_byte(tmp_path, entries, position, bom):
    data = (codecs.BOM_UTF8 if bom else b"") + ORIGINAL.encode("utf-8")
    for suffix in (".txt", ".md"):
        src = tmp_path / f"doc{suffix}"
        src.write_bytes(data)
        manifest = ghost.embed_files([src], tmp_path / "out", entries, position=position, repetitions=3,
                                     rng=random.Random(3))
        doc = manifest["documents"][0]
        marked_bytes = (tmp_path / "out" / src.name).read_bytes()
        assert marked_bytes != data and marked_bytes.startswith(codecs.BOM_UTF8) == bom
        marked, _ = ghost.read_utf8_exact(tmp_path / "out" / src.name)
        for e in entries:
            assert marked.count(e.identifier) == 3
        placements = ghost.placements_from_manifest(json.loads(json.dumps(doc)))
        assert len(placements) == 9
        restored = ghost.remove_placements(marked, placements)
        assert (codecs.BOM_UTF8 if bom else b"") + restored.encode("utf-8") == data
        if suffix == ".md":  # nothing lands inside the fenced code block
            assert "code. not. here." in marked


def test_removing_placements_from_an_edited_file_is_refused(entries):
    marked, placements = ghost.embed_text("One. Two. Three.", entries[:1], rng=random.Random(0))
    with pytest.raises(ghost.GhostError, match="edited after embedding"):
        ghost.remove_placements("X" + marked, placements)


def test_html_round_trip_keeps_markup_and_skips_invisible_text(entries):
    source = ("<!doctype html><html><head><title>A. B. C.</title><style>p. {}</style></head>\n<body>\n"
              "<p>First sentence. Second &amp; third.</p><script>var a = 1. ; b. c</script>\n"
              "<pre>pre. text.</pre><p>Last one.</p>\n</body></html>\n")
    for position in ghost.POSITIONS:
        marked, placements = ghost.embed_html(source, entries, position=position, repetitions=2,
                                              rng=random.Random(4))
        assert ghost.remove_placements(marked, placements) == source
        head, body = marked.split("<body>")
        assert not any(e.identifier in head for e in entries)
        assert "<script>var a = 1. ; b. c</script>" in body and "<pre>pre. text.</pre>" in body
        assert all(body.count(e.identifier) == 2 for e in entries)


def test_identifiers_embedded_next_to_svg_text_are_found_when_the_marked_file_is_read_back(entries):
    """Ghost embedding and document reading share one visible-text rule: text inside <svg> (a chart's labels) is
    never shown by html_to_text, so no identifier may be placed there, and every placed one is found again."""
    from provenance.documents import documents_from_bytes

    source = ("<html><body><p>Sales grew. Costs fell.</p><svg><text>Axis one. Axis two. Axis three.</text></svg>"
              "<p>The end. Really.</p></body></html>")
    for seed in range(20):  # random positions: every one must land in visible prose
        marked, placements = ghost.embed_html(source, entries, position="random", repetitions=2,
                                              rng=random.Random(seed))
        assert ghost.remove_placements(marked, placements) == source
        svg = marked[marked.index("<svg>"): marked.index("</svg>")]
        assert not any(e.identifier in svg for e in entries)
        docs, errors = documents_from_bytes("marked.html", marked.encode("utf-8"))
        assert not errors
        assert all(docs[0].text.count(e.identifier) == 2 for e in entries), seed


def test_docx_embedding_keeps_the_rest_of_the_text(tmp_path, entries):
    docx = pytest.importorskip("docx")
    src = tmp_path / "a.docx"
    d = docx.Document()
    d.add_heading("Heading", 1)
    p = d.add_paragraph("First sentence. Second ")
    p.add_run("bold sentence. More").bold = True
    d.add_paragraph("Last one.")
    d.save(src)
    original = [q.text for q in docx.Document(src).paragraphs]
    for position in ghost.POSITIONS:
        out = tmp_path / position / "a.docx"
        placements = ghost.embed_docx(src, out, entries, position=position, repetitions=2, rng=random.Random(5))
        texts = [q.text for q in docx.Document(out).paragraphs]
        assert sum(t.count(e.identifier) for t in texts for e in entries) == 6
        for pl in sorted(placements, key=lambda pl: (pl.paragraph, pl.offset), reverse=True):
            t = texts[pl.paragraph]
            if pl.offset < 0:
                assert t == pl.inserted
                texts[pl.paragraph] = None
            else:
                assert t[pl.offset: pl.offset + len(pl.inserted)] == pl.inserted
                texts[pl.paragraph] = t[: pl.offset] + t[pl.offset + len(pl.inserted):]
        assert [t for t in texts if t is not None] == original


def test_embedding_refuses_unsupported_and_non_utf8_files(tmp_path, entries):
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(ghost.GhostError, match="can be embedded in"):
        ghost.embed_files([tmp_path / "a.pdf"], tmp_path / "out", entries)
    (tmp_path / "b.txt").write_bytes("caf\u00e9 au lait. Tr\u00e8s bien.".encode("latin-1"))
    with pytest.raises(ghost.GhostError, match="not UTF-8"):
        ghost.embed_files([tmp_path / "b.txt"], tmp_path / "out", entries)


def test_embedding_refuses_two_inputs_with_the_same_name(tmp_path, entries):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "doc.txt").write_text("One. Two.")
    with pytest.raises(ghost.GhostError, match="overwrite each other"):
        ghost.embed_files([tmp_path / "a" / "doc.txt", tmp_path / "b" / "doc.txt"], tmp_path / "out", entries)
    with pytest.raises(ghost.GhostError, match="overwrite each other in the archive"):
        ghost.embed_uploads([("a/doc.txt", b"One. Two."), ("b/doc.txt", b"Three. Four.")], entries)


def test_uploads_are_embedded_as_bytes_exactly_as_files_are(tmp_path, entries):
    """embed_uploads takes (name, bytes) and gives bytes back, nothing written anywhere: the same marked bytes and
    placements as embed_files writes for the same files, a manifest naming the files, and a .zip of them."""
    import hashlib
    import io
    import zipfile

    docx = pytest.importorskip("docx")
    d = docx.Document()
    d.add_paragraph("First sentence. Second sentence.")
    buffer = io.BytesIO()
    d.save(buffer)
    files = [("a.txt", codecs.BOM_UTF8 + "One. Two. Three.\r\n".encode()), ("b.md", b"# T\n\nAlpha. Beta.\n"),
             ("c.html", b"<html><body><p>Uno. Dos.</p></body></html>"), ("../d.docx", buffer.getvalue())]
    marked = ghost.embed_uploads(files, entries, repetitions=2, rng=random.Random(8))
    assert list(marked.files) == ["a.txt", "b.md", "c.html", "d.docx"]  # an upload's name never leaves its folder
    for (name, data), (_, out), doc in zip(files, marked.files.items(), marked.manifest["documents"]):
        assert doc["source"] == doc["output"] == ghost.embedding.safe_filename(name)
        assert doc["source_sha256"] == hashlib.sha256(data).hexdigest()
        assert doc["output_sha256"] == hashlib.sha256(out).hexdigest()
    text, bom = ghost.decode_utf8_exact(marked.files["a.txt"], "a.txt")
    restored = ghost.remove_placements(text, ghost.placements_from_manifest(marked.manifest["documents"][0]))
    assert bom and ghost.encode_utf8_exact(restored, bom) == files[0][1]
    texts = [p.text for p in docx.Document(io.BytesIO(marked.files["d.docx"])).paragraphs]
    assert sum(t.count(e.identifier) for t in texts for e in entries) == 6
    for name, data in files[:3]:  # the file-based path gives the same bytes and placements
        (tmp_path / name).write_bytes(data)
    on_disk = ghost.embed_files([tmp_path / n for n, _ in files[:3]], tmp_path / "out", entries, repetitions=2,
                                rng=random.Random(8))
    for name, doc, disk in zip(["a.txt", "b.md", "c.html"], marked.manifest["documents"], on_disk["documents"]):
        assert (tmp_path / "out" / name).read_bytes() == marked.files[name]
        assert disk["placements"] == doc["placements"]
    with zipfile.ZipFile(io.BytesIO(marked.archive())) as archive:
        assert sorted(archive.namelist()) == ["a.txt", "b.md", "c.html", "d.docx", "manifest.json"]
        assert archive.read("c.html") == marked.files["c.html"]
        assert json.loads(archive.read("manifest.json")) == marked.manifest


def test_cli_embed_writes_marked_copies_and_a_manifest(tmp_path, capsys):
    reg = tmp_path / "reg.json"
    assert cli_main(["ghost", "new", "--count", "2", "--registry", str(reg)]) == 0
    docs = []
    for i in range(2):
        docs.append(tmp_path / f"d{i}.txt")
        docs[-1].write_text(f"Doc {i}. It has sentences. Several of them.\n")
    assert cli_main(["ghost", "embed", *map(str, docs), "--registry", str(reg), "--out-dir", str(tmp_path / "out"),
                     "--repetitions", "2", "--spread"]) == 0
    manifest = json.loads((tmp_path / "out" / "ghost-manifest.json").read_text())
    assert [len(d["placements"]) for d in manifest["documents"]] == [2, 2]
    assert manifest["documents"][0]["placements"][0]["id"] != manifest["documents"][1]["placements"][0]["id"]

