"""overlap.spans: matching spans point at the shared text in both documents."""

from __future__ import annotations

from provenance.overlap import matching_spans

def test_matching_spans_offsets_point_at_the_shared_text():
    shared = "alpha beta gamma delta epsilon zeta eta theta"
    a = f"One two three. {shared}, four five six seven eight nine ten eleven."
    b = f"Something else entirely here {shared.upper()} and then more words follow"
    spans = matching_spans(a, b, min_words=5)
    assert len(spans) == 1 and spans[0].words == 8
    s = spans[0]
    assert a[s.query_start: s.query_end] == shared
    assert b[s.match_start: s.match_end] == shared.upper()
    assert matching_spans(a, "nothing in common at all here friends", min_words=3) == []
