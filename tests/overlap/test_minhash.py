"""overlap.minhash: words and shingles, signatures equal to datasketch's, estimates within their standard error."""

from __future__ import annotations

import random

import numpy as np
import pytest
from corpus_texts import random_text
from datasketch import MinHash

from provenance import overlap
from provenance.overlap import minhash_signatures, shingle_hashes, shingles

def test_words_and_shingles_ignore_case_and_punctuation():
    assert overlap.words("The cat, THE  cat!") == ["the", "cat", "the", "cat"]
    assert shingles(["a", "b", "c", "d"], 3) == ["a b c", "b c d"]
    assert shingles(["a", "b"], 5) == ["a b"]  # short texts are one shingle
    assert shingles([], 5) == []


def test_signatures_equal_datasketch_minhash():
    rng = random.Random(1)
    texts = [random_text(rng, n) for n in (3, 40, 400)]
    for num_perm, seed in ((64, 1), (128, 7)):
        hash_sets = [shingle_hashes(shingles(overlap.words(t), 5)) for t in texts]
        sigs = minhash_signatures(hash_sets, num_perm, seed)
        for t, sig in zip(texts, sigs):
            m = MinHash(num_perm=num_perm, seed=seed)
            m.update_batch([s.encode("utf-8") for s in shingles(overlap.words(t), 5)])
            assert sig.dtype == np.uint32 and np.array_equal(sig, m.hashvalues)


@pytest.mark.parametrize("jaccard", [0.2, 0.5, 0.8])
@pytest.mark.parametrize("num_perm", [64, 256])
def test_estimated_jaccard_within_permutation_tolerance(jaccard, num_perm):
    # Two sets with an exactly known Jaccard: |A| = |B| = 600, |A n B| = s, J = s / (1200 - s).
    shared = round(1200 * jaccard / (1 + jaccard))
    exact = shared / (1200 - shared)
    a = np.arange(600, dtype=np.uint32)
    b = np.arange(600 - shared, 1200 - shared, dtype=np.uint32)
    a_h = shingle_hashes(str(x) for x in a)
    b_h = shingle_hashes(str(x) for x in b)
    estimates = []
    for seed in range(40):  # independent permutation families
        sig = minhash_signatures([a_h, b_h], num_perm, seed)
        estimates.append(float(np.mean(sig[0] == sig[1])))
    estimates = np.array(estimates)
    sd = overlap.jaccard_standard_error(exact, num_perm)
    assert np.all(np.abs(estimates - exact) <= 4.5 * sd)  # every single estimate within 4.5 standard errors
    assert abs(estimates.mean() - exact) <= 4 * sd / np.sqrt(len(estimates))  # unbiased
    assert 0.55 * sd <= estimates.std(ddof=1) <= 1.5 * sd  # spread as the permutation count implies
