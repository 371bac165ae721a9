"""overlap.exact and the exact-excerpt index in queries: every verbatim passage of at least ``exact_min_words`` words
is found however much longer the corpus document is (the walkthrough's licence preamble inside the whole licence),
a paraphrase is not claimed as verbatim, and every queried document gets an outcome."""

from __future__ import annotations

import random

import numpy as np
import pytest
from corpus_texts import VOCAB, random_text

from provenance.documents import Document
from provenance.overlap import EXACT_EXCERPT, NO_MATCH, IndexParams, OverlapIndex, query_index
from provenance.overlap.exact import Fingerprints, lookup_shards, text_fingerprints, window_size


def _licence(seed: int = 1, passage_words: int = 150, ratio: int = 15) -> tuple[str, str]:
    """A 'preamble' of ``passage_words`` words standing verbatim inside a 'licence' ``ratio`` times as long."""
    rng = random.Random(seed)
    preamble = random_text(rng, passage_words)
    half = passage_words * (ratio - 1) // 2
    return preamble, f"{random_text(rng, half)} {preamble} {random_text(rng, half)}"


def _paraphrase(text: str) -> str:
    """Every fourth word replaced: the same story in other words, no run of four identical words left."""
    return " ".join("rewritten" if i % 4 == 3 else w for i, w in enumerate(text.split()))


@pytest.fixture(scope="module")
def licence_index(docs):
    preamble, licence = _licence()
    idx = OverlapIndex()  # default settings, as the page and the CLI build it
    idx.add_documents(docs + [Document("licence.txt", licence)])
    return idx, preamble, licence


def test_fingerprint_hashes_are_pinned():
    """The hash is part of the on-disk format: changing it must change exact.HASH_NAME (and the format)."""
    tokens = "the quick brown fox jumps over the lazy dog again and again".split()
    assert text_fingerprints(tokens, 5, 10).tolist() == [1357386577137014724, 2001647988803984227]
    assert text_fingerprints(["one"], 5, 10).tolist() == [5229714812168148182]
    assert text_fingerprints([], 5, 10).size == 0


def test_every_shared_passage_of_the_guaranteed_length_is_found():
    rng = random.Random(4)
    ngram, min_words = 5, 10
    corpus = [[rng.choice(VOCAB) for _ in range(rng.randint(30, 400))] for _ in range(300)]
    shard = Fingerprints.from_texts(corpus, ngram, min_words)
    per_word = len(shard.hashes) / sum(len(t) for t in corpus)
    assert per_word < 2.5 / (window_size(ngram, min_words) + 1)  # about 2 / (w + 1) fingerprints per word
    assert shard.check(len(corpus)) is None
    for _ in range(400):
        doc = rng.randrange(len(corpus))
        length = rng.randint(min_words, min(len(corpus[doc]), min_words + 15))
        start = rng.randint(0, len(corpus[doc]) - length)  # anywhere, the very start and end included
        passage = corpus[doc][start: start + length]
        query = [rng.choice(VOCAB) for _ in range(rng.randint(0, 40))] + passage + \
            [rng.choice(VOCAB) for _ in range(rng.randint(0, 40))]
        ids, counts, total = lookup_shards([shard], np.array([0]), text_fingerprints(query, ngram, min_words))
        assert doc in ids.tolist()
        assert counts.min() >= 1 and total == len(ids)


def test_walkthrough_excerpt_of_a_much_longer_document_is_found_with_default_settings(licence_index):
    idx, preamble, licence = licence_index
    assert len(licence.split()) == 15 * len(preamble.split())
    # the MinHash indexes alone miss it: the containment estimate is lost in a document 15 times longer
    minhash_only = query_index(idx, [Document("preamble.txt", preamble)], exact=False)
    assert "licence.txt" not in set(minhash_only.matches["match"])
    assert minhash_only.documents["detail"].iloc[0].startswith(
        "None of the 201 corpus documents is a near-duplicate (exact Jaccard ≥ 0.5) or contains ≥ 80% of its word "
        "5-grams. Not proof of absence: the exact-excerpt index was not used")

    queries = [Document("preamble.txt", preamble), Document("paraphrase.txt", _paraphrase(preamble)),
               Document("unrelated.txt", random_text(random.Random(99), 150))]
    result = query_index(idx, queries)
    m = result.matches
    assert m["document"].tolist() == ["preamble.txt"] and m["match"].tolist() == ["licence.txt"]
    row = m.iloc[0]
    assert row["found_by"] == EXACT_EXCERPT and row["verified"] and row["matched_as"] == "contained"
    assert row["containment_exact"] == 1.0 and row["jaccard_exact"] < 0.1
    assert row["longest_span_words"] == 150 and row["shared_fingerprints"] >= 1
    top = result.spans.iloc[0]  # the whole preamble is highlighted in both texts
    assert (top["query_start"], top["query_end"]) == (0, len(preamble))
    assert licence[top["match_start"]: top["match_end"]] == preamble

    documents = result.documents
    assert documents["document"].tolist() == ["preamble.txt", "paraphrase.txt", "unrelated.txt"]
    assert documents["outcome"].tolist() == ["contained", NO_MATCH, NO_MATCH]
    assert NO_MATCH == "no match found (not proof of absence)"
    first = documents.iloc[0]
    assert first["best_match"] == "licence.txt" and first["found_by"] == EXACT_EXCERPT and first["matches"] == 1
    assert first["detail"].startswith("It is contained in 'licence.txt': 146 of its 146 word 5-grams are inside")
    for detail in documents["detail"].iloc[1:]:
        assert detail.startswith("None of the 201 corpus documents is a near-duplicate (exact Jaccard ≥ 0.5), "
                                 "contains ≥ 80% of its word 5-grams or shares a verbatim passage of ≥ 10 words "
                                 "with it. Not proof of absence: a paraphrased or edited copy")


def test_a_paraphrase_is_not_claimed_as_verbatim(licence_index):
    idx, preamble, _ = licence_index
    result = query_index(idx, [Document("paraphrase.txt", _paraphrase(preamble))], only_verified=False)
    assert not result.matches["verified"].any()
    assert "verbatim passage" not in set(result.matches["matched_as"])
    assert (result.matches["longest_span_words"] < 10).all()
    assert result.documents["outcome"].tolist() == [NO_MATCH]


def test_a_short_quoted_passage_in_an_otherwise_new_text_is_a_verbatim_passage(licence_index):
    idx, preamble, _ = licence_index
    quote = " ".join(preamble.split()[60:72])  # 12 words, inside a new 200-word text
    rng = random.Random(31)
    text = f"{random_text(rng, 100)} {quote} {random_text(rng, 100)}"
    result = query_index(idx, [Document("essay.txt", text)])
    row = result.matches.iloc[0]
    assert row["match"] == "licence.txt" and row["matched_as"] == "verbatim passage"
    assert row["longest_span_words"] >= 12 and row["containment_exact"] < 0.1
    outcome = result.documents.iloc[0]
    assert outcome["outcome"] == "verbatim passage"
    assert outcome["detail"].startswith("It shares a verbatim passage of")
    # asking for longer passages leaves it out, and says how long a passage was looked for
    longer = query_index(idx, [Document("essay.txt", text)], min_passage_words=20)
    assert longer.matches.empty and "verbatim passage of ≥ 20 words" in longer.documents["detail"].iloc[0]


def test_every_document_is_listed_even_when_not_compared_or_stopped(licence_index):
    idx, preamble, _ = licence_index
    queries = [Document("empty.txt", "... !!!"), Document("preamble.txt", preamble),
               Document("later.txt", preamble)]
    result = query_index(idx, queries)
    assert result.documents["outcome"].tolist() == ["not compared", "contained", "contained"]
    assert "no words" in result.documents["detail"].iloc[0]
    calls = []
    stopped = query_index(idx, queries, should_stop=lambda: calls.append(1) or len(calls) > 2)
    assert stopped.documents["outcome"].tolist() == ["not compared", "contained", "not looked up (stopped)"]
    short = query_index(idx, [Document("short.txt", "seven words that are not in it")]).documents.iloc[0]
    assert short["outcome"] == NO_MATCH and "it has only 7 words, fewer than the 10" in short["detail"]


def test_exact_min_words_is_checked_and_sets_the_window():
    assert window_size(5, 10) == 6 and window_size(5, 5) == 1
    for bad in (4, 1001, 10.0, True):
        with pytest.raises(ValueError, match="shortest verbatim passage"):
            IndexParams(exact_min_words=bad).validate()
    assert IndexParams(ngram=8, exact_min_words=8).validate().exact_min_words == 8


def test_the_cheap_pre_check_leaves_out_only_candidates_that_fail_the_full_check(docs, licence_index):
    """With only_verified, candidates are first checked on n-gram hashes; the verified matches are exactly those
    the full check (only_verified=False) verifies, whatever passage length is asked for."""
    idx, preamble, _ = licence_index
    rng = random.Random(8)
    queries = [Document("preamble", preamble)]
    for i in range(60):
        tokens = rng.choice(docs).text.split()
        start, length = rng.randrange(len(tokens)), rng.randint(1, 30)
        piece = " ".join(tokens[start: start + length])
        queries.append(Document(f"q{i}", f"{random_text(rng, rng.randint(0, 25))} {piece} "
                                         f"{random_text(rng, rng.randint(0, 25))}"))
    for passage in (5, 8, 10, 14):
        full = query_index(idx, queries, only_verified=False, min_passage_words=passage).matches
        fast = query_index(idx, queries, min_passage_words=passage).matches
        assert fast.equals(full[full["verified"]].reset_index(drop=True))
        assert len(fast) > 20


def test_a_document_whose_candidates_were_not_all_checked_says_so(docs, licence_index):
    idx, _, _ = licence_index
    # 12 words from each of six corpus documents: six candidates, none sharing a passage of 30 words
    mixed = " ".join(" ".join(d.text.split()[20:32]) for d in docs[:6])
    outcome = query_index(idx, [Document("mixed", mixed)], max_candidates=2, min_passage_words=30).documents.iloc[0]
    assert outcome["outcome"] == NO_MATCH and outcome["candidates"] == 2
    assert "only the best 2 of 6 candidates were checked" in outcome["detail"]
    # the exact-excerpt index keeps 4 candidates per candidate checked: the others are counted as 'more than'
    outcome = query_index(idx, [Document("mixed", mixed)], max_candidates=1, min_passage_words=30).documents.iloc[0]
    assert "only the best 1 of more than 4 candidates were checked" in outcome["detail"]
    assert query_index(idx, [Document("mixed", mixed)], min_passage_words=12).documents["outcome"].tolist() == [
        "verbatim passage"]
