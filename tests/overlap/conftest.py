"""Fixtures of the overlap tests: a 200-document random corpus and an index of it (one of each per test module)."""

from __future__ import annotations

import pytest
from corpus_texts import corpus

from provenance.overlap import IndexParams, OverlapIndex

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
