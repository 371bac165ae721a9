"""documents.tables: .jsonl and .csv tables keep good lines and report bad ones by line number; every text
round-trips."""

from __future__ import annotations

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st
from sample_files import messages

from provenance.documents import Document, IngestError, IngestLimits, documents_from_bytes

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
