"""scores.ngram_coverage: halves, coverage profiles, and the score ranking a model's own continuation first."""

from __future__ import annotations

import random

import numpy as np
import pytest

from provenance.documents import Document
from provenance.documents.words import _WORD_RE
from provenance.scores.ngram_coverage import coverage_profile, coverage_score, ngram_coverage, split_halves, words

def test_split_halves_and_coverage_profile():
    assert split_halves("one two, three four five.") == ("one two, three", "four five.")
    assert split_halves("single") == ("single", "")
    # generated: a b c d x y; reference: q a b c d r x y -> runs "a b c d" (4 words) and "x y" (2 words)
    profile = coverage_profile("a b c d x y".split(), "q a b c d r x y".split(), 2, 5)
    assert np.allclose(profile, [6 / 6, 4 / 6, 4 / 6, 0.0])
    assert coverage_score(["zz yy", "a b c d x y"], "q a b c d r x y", 2, 5) == pytest.approx(7 / 3)
    assert coverage_score([], "a b", 2, 12) == 0.0


def test_ngram_coverage_ranks_the_models_own_continuation_above_random_text(tiny_model):
    prompt = "the cat sat on the mat and the dog ran"
    n_prompt = len(words(prompt))
    settings = dict(num_samples=5, seed=0)
    samples = tiny_model.sampled_continuations(prompt, max_new_tokens=60, **settings)
    # Take one continuation that starts between words and has enough words to be the second half of the text.
    usable = [s for s in samples if s[:1] and not s[0].isalnum() and s[0] != "_" and len(words(s)) >= n_prompt]
    assert usable, f"no usable continuation among {samples!r}"
    cont = usable[0]
    cut = [m.end() for m in _WORD_RE.finditer(cont)][n_prompt - 1]
    generated_text = prompt + cont[:cut]
    assert split_halves(generated_text)[0] == prompt

    own = ngram_coverage(tiny_model, generated_text, max_new_tokens=60, **settings)
    rng = random.Random(3)
    randoms = [ngram_coverage(tiny_model, " ".join(rng.choice(prompt.split()) for _ in range(2 * n_prompt)),
                              max_new_tokens=60, **settings) for _ in range(2)]
    assert 0.0 <= min(randoms) and own <= 11.0
    assert own >= 5.0 > max(randoms)
    assert ngram_coverage(tiny_model, "single") == 0.0  # no second half: nothing can be covered


def test_ngram_coverage_is_a_pipeline_score(tiny_model):
    from provenance.scores import registry
    from provenance.scores.table import score_documents

    assert "ngram_coverage" in registry.SCORES and "N-Gram Coverage" in registry.description("ngram_coverage")
    texts = [Document("a", "the cat sat on the mat and the dog ran over the rug quickly"),
             Document("b", "a bird flew under the old tree near the river then sat")]
    result = score_documents(tiny_model, texts, ["loss", "ngram_coverage"])
    assert list(result.table.columns[-2:]) == ["loss", "ngram_coverage"]
    assert result.table["ngram_coverage"].between(0, 11).all()
