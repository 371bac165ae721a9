"""overlap.query: planted near-duplicates and contained texts are found and verified, unrelated texts are not."""

from __future__ import annotations

import random

import pytest
from corpus_texts import perturb, random_text

from provenance import overlap
from provenance.documents import Document
from provenance.overlap import IndexParams, OverlapIndex, query_index

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
