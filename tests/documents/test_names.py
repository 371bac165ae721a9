"""documents.names: unique document names and safe file names."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.documents import Document, safe_filename, unique_names

def test_unique_names_never_collide_with_existing_names():
    docs = unique_names([Document("a", "1"), Document("a (2)", "2"), Document("a", "3")])
    assert len({d.name for d in docs}) == 3 and [d.text for d in docs] == ["1", "2", "3"]



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
