"""One broken line never aborts everything: lone UTF-16 surrogates (``"\\ud800"`` in scraped JSON, or the same
character encoded in bytes, CESU-8 style) are replaced by U+FFFD with one sentence naming file and line, every other
document is read, and an overlap index builds over such a corpus without leaving a partial shard."""

from __future__ import annotations

import json

from provenance.documents import documents_from_bytes, load_documents
from provenance.documents.formats import repair_surrogates
from provenance.files import sha256_text

_WORDS = "the quick brown fox jumps over the lazy dog near the river bank today"


def _jsonl() -> bytes:
    lines = [json.dumps({"id": "a", "text": f"first {_WORDS}"}),
             '{"id": "b", "text": "broken \\ud800 here and \\udfff there ' + _WORDS + '"}',
             json.dumps({"id": "c", "text": f"last {_WORDS}"}),
             '{"id": "d", "text": "a real pair \\ud83d\\ude00 stays ' + _WORDS + '"}']
    return ("\n".join(lines) + "\n").encode()


def test_a_jsonl_line_with_lone_surrogates_is_repaired_and_named():
    docs, errors = documents_from_bytes("scraped.jsonl", _jsonl())
    assert [d.name for d in docs] == ["scraped.jsonl:a", "scraped.jsonl:b", "scraped.jsonl:c", "scraped.jsonl:d"]
    assert docs[1].text.startswith("broken \ufffd here and \ufffd there")
    assert "\U0001F600" in docs[3].text
    for doc in docs:
        doc.text.encode("utf-8")  # every text can be written, tokenised and stored
    assert len(errors) == 1 and errors[0].kept
    assert str(errors[0]).startswith("scraped.jsonl: line 2: 2 broken character(s)")


def test_csv_and_text_files_holding_encoded_surrogates_are_repaired(tmp_path):
    surrogate = "\ud800".encode("utf-8", "surrogatepass")  # b"\xed\xa0\x80": not valid UTF-8
    data = b"id,text\n1,fine " + _WORDS.encode() + b"\n2,bad " + surrogate + b" cell\n3,also fine\n"
    docs, errors = documents_from_bytes("t.csv", data)
    assert [d.text for d in docs] == [f"fine {_WORDS}", "bad \ufffd cell", "also fine"]
    assert [str(e) for e in errors] == ["t.csv: line 3: 1 broken character(s) (lone UTF-16 surrogates, e.g. "
                                        "\\ud800) were replaced by \ufffd; the rest of the text was read."]
    (tmp_path / "page.txt").write_bytes(b"caf\xc3\xa9 " + surrogate + b" end")
    (tmp_path / "ok.txt").write_text("nothing wrong here")
    docs, errors = load_documents([tmp_path])
    assert sorted(d.text for d in docs) == ["café \ufffd end", "nothing wrong here"]
    assert len(errors) == 1 and errors[0].source.endswith("page.txt") and errors[0].kept


def test_repair_keeps_clean_text_untouched():
    assert repair_surrogates("plain \ufffd text") == ("plain \ufffd text", 0)
    assert repair_surrogates("\udc80x\ud800") == ("\ufffdx\ufffd", 2)
    assert sha256_text(repair_surrogates("a\ud800")[0]) == sha256_text("a\ufffd")


def test_overlap_build_over_a_corpus_with_a_broken_line(tmp_path, capsys):
    from provenance.cli import main
    from provenance.overlap import MANIFEST_NAME, load_index

    (tmp_path / "corpus.jsonl").write_bytes(_jsonl())
    assert main(["overlap", "build", str(tmp_path / "corpus.jsonl"), "--index", str(tmp_path / "idx")]) == 0
    err = capsys.readouterr().err
    assert "repaired" in err and "corpus.jsonl: line 2: 2 broken character(s)" in err
    index = load_index(tmp_path / "idx")
    assert len(index) == 4 and "\ufffd" in index.document_text(1)
    manifest = json.loads((tmp_path / "idx" / MANIFEST_NAME).read_text())
    listed = {name for shard in manifest["shards"] for name in shard["files"]}
    assert {p.name for p in (tmp_path / "idx").iterdir()} == listed | {MANIFEST_NAME}  # no partial shard
