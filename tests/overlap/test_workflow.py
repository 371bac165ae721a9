"""overlap.workflow: the page's actions as calls. A corpus is built from uploaded bytes (never written to disk) and
paths, failures come back as sentences with the per-file problems kept, and a lookup says what it found."""

from __future__ import annotations

import io
import json
import random

import pandas as pd
from corpus_texts import perturb, random_text

from provenance.documents import Document
from provenance.overlap import IndexParams, workflow


def _parquet_bytes(texts: list[str]) -> bytes:
    buf = io.BytesIO()
    pd.DataFrame({"id": [f"p{i}" for i in range(len(texts))], "text": texts}).to_parquet(buf)
    return buf.getvalue()


def test_build_from_uploaded_bytes_and_a_folder_then_look_up(tmp_path, docs, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing may be written to the working folder (or anywhere) while reading
    folder = tmp_path / "on-disk"
    folder.mkdir()
    (folder / "disk.txt").write_text(docs[5].text)
    uploads = [("table.jsonl", "\n".join(json.dumps({"id": d.name, "text": d.text}) for d in docs[:3]).encode()),
               ("rows.parquet", _parquet_bytes([docs[3].text])), ("../evil name?.txt", docs[4].text.encode()),
               ("broken.pdf", b"not a pdf")]
    seen = []
    before = set(tmp_path.rglob("*"))
    outcome = workflow.build_from_sources(uploads, [folder], params=IndexParams(num_perm=64),
                                          progress=lambda done, total: seen.append((done, total)))
    assert set(tmp_path.rglob("*")) == before
    assert outcome.index is not None and not outcome.failure
    assert sorted(outcome.index.names) == sorted(["table.jsonl:doc0", "table.jsonl:doc1", "table.jsonl:doc2",
                                                  "rows.parquet:p0", "../evil name?.txt", f"{folder / 'disk.txt'}"])
    assert [str(e) for e in outcome.errors] == ["broken.pdf: the PDF is damaged or not really a PDF, so it could "
                                                "not be read."]
    assert seen[:5] == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]  # the reading phase counts sources
    assert outcome.source == f"built from 4 uploaded file(s) and `{folder}`, kept in this session only"
    assert outcome.message == "The index holds 6 document(s), kept in this session only."
    assert outcome.finished == "Indexed 6 document(s)."
    assert workflow.index_summary(outcome.index).startswith("6 document(s) · word 5-grams · 64 permutations")

    near = perturb(docs[1].text, random.Random(1), 2)
    lookup = workflow.look_up(outcome.index, [Document("near.txt", near),
                                              Document("other.txt", random_text(random.Random(9), 150))],
                              min_jaccard=0.5, min_containment=0.8)
    assert not lookup.failure and lookup.finished == "Compared 2 document(s) with 6 corpus document(s)."
    assert lookup.summary().startswith("1 of your 2 document(s) has near-duplicates or is contained in the corpus")
    table = lookup.table(sort_by="jaccard_exact")
    assert list(table.columns) == workflow.TABLE_COLUMNS and table["match"].tolist() == ["table.jsonl:doc1"]
    assert lookup.match_label(0).startswith("near.txt ↔ table.jsonl:doc1 (containment ")
    view = lookup.side_by_side(outcome.index, 0)
    assert view.match_text == docs[1].text and view.document_text == near and view.document_spans
    assert all(near[a:b].lower().split() == view.match_text[c:d].lower().split()
               for (a, b), (c, d) in zip(view.document_spans, view.match_spans))

    nothing = workflow.look_up(outcome.index, [Document("other.txt", random_text(random.Random(9), 150))],
                               min_jaccard=0.5, min_containment=0.8)
    assert nothing.summary() == "" and nothing.nothing_found().startswith("None of your 1 document(s)")


def test_failures_are_sentences_and_keep_the_per_file_problems(tmp_path, docs):
    uploads = [("a.txt", docs[0].text.encode()), ("empty.txt", b"")]
    first = workflow.build_from_sources(uploads, directory=tmp_path / "idx")
    assert first.index is not None and first.source.endswith(f"saved in `{tmp_path / 'idx'}`")
    again = workflow.build_from_sources(uploads, directory=tmp_path / "idx")
    assert again.index is None and "already holds an overlap index" in again.failure
    assert [e.source for e in again.errors] == ["empty.txt"] and again.finished == "The index was not built."
    bad_params = workflow.build_from_sources(uploads, params=IndexParams(ngram=0))
    assert bad_params.index is None and "n-gram size" in bad_params.failure
    opened = workflow.open_index(tmp_path / "idx")
    assert len(opened.index) == 1 and opened.source == f"opened from `{tmp_path / 'idx'}`"
    missing = workflow.open_index(tmp_path / "nowhere")
    assert missing.index is None and "no such folder" in missing.failure


def test_indexes_are_saved_under_the_cache_folder_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv("PROVENANCE_CACHE", str(tmp_path / "cache"))
    assert workflow.index_root() == tmp_path / "cache" / "indexes"


def test_a_lookup_lists_every_document_and_says_what_absence_does_not_prove(docs):
    rng = random.Random(23)
    preamble = random_text(rng, 100)
    licence = " ".join([random_text(rng, 700), preamble, random_text(rng, 700)])
    index = workflow.build_from_sources([("licence.txt", licence.encode())] + [
        (f"{d.name}.txt", d.text.encode()) for d in docs[:30]]).index
    lookup = workflow.look_up(index, [Document("preamble.txt", preamble),
                                      Document("other.txt", random_text(random.Random(9), 150))],
                              min_jaccard=0.5, min_containment=0.8)
    assert lookup.summary().startswith("1 of your 2 document(s) has near-duplicates or is contained in the corpus")
    assert lookup.table()["found_by"].tolist() == ["exact excerpt"]
    assert lookup.documents[["document", "outcome"]].values.tolist() == [
        ["preamble.txt", "contained"], ["other.txt", "no match found (not proof of absence)"]]
    assert lookup.min_passage_words == lookup.exact_min_words == 10
    nothing = workflow.look_up(index, [Document("other.txt", random_text(random.Random(9), 150))],
                               min_jaccard=0.5, min_containment=0.8, min_passage_words=12)
    assert "shares a verbatim passage of 12+ words" in nothing.nothing_found()
    assert "a copied passage shorter than 12 words" in nothing.nothing_found()
    assert "verbatim passages of 10+ words always found" in workflow.index_summary(index)
