"""Token statistics on a tiny model built from a config: batch / single / window invariance, offsets, cache."""

import numpy as np
import pytest
import torch

from textgen import random_sentences
from provenance.lm.cache import StatsCache, cached_token_statistics
from provenance.documents import Document
from provenance.scores.table import score_documents
from provenance.lm.statistics import (ScoringSettings, iter_token_statistics, plan_windows, position_statistics,
                                token_statistics, ScoringCancelled)

ATOL = 1e-4


def direct_statistics(model, ids: np.ndarray) -> dict:
    """Reference: one plain forward pass over exactly these tokens, full log-softmax kept (no batching/chunking)."""
    with torch.no_grad():
        logits = model.model(input_ids=torch.tensor(ids)[None]).logits[0].float()
    stats = position_statistics(logits[:-1], torch.tensor(ids[1:]))
    return {k: v.numpy() for k, v in stats.items()}


@pytest.fixture(scope="module")
def texts():
    # mixed lengths, including one longer than the tiny model's 128-token context
    lengths = [3, 10, 25, 60, 120, 400]
    return [random_sentences(1, length=n, seed=n)[0] for n in lengths]


def test_single_text_matches_direct_forward_pass(tiny_model, texts):
    stats = token_statistics(tiny_model, [texts[3]])[0]
    ref = direct_statistics(tiny_model, stats.token_ids)
    for name in ("logprob", "mu", "sigma"):
        np.testing.assert_allclose(getattr(stats, name), ref[name], atol=ATOL)
    np.testing.assert_array_equal(stats.rank, ref["rank"])


def test_batch_equals_single(tiny_model, texts):
    batched = token_statistics(tiny_model, texts, max_batch_tokens=512, max_batch_size=8)  # padded batches
    for text, b in zip(texts, batched):
        alone = token_statistics(tiny_model, [text])[0]
        assert b.n_scored == alone.n_scored == len(alone.token_ids) - 1
        for name in ("logprob", "mu", "sigma"):
            np.testing.assert_allclose(getattr(b, name), getattr(alone, name), atol=ATOL)


def test_chunk_size_does_not_change_results(tiny_model, texts, monkeypatch):
    a = token_statistics(tiny_model, texts, chunk=7)
    monkeypatch.setattr("provenance.lm.statistics.default_block", lambda vocab: 3)  # several blocks in every chunk
    b = token_statistics(tiny_model, texts, chunk=4096)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x.logprob, y.logprob, atol=ATOL)
        np.testing.assert_allclose(x.sigma, y.sigma, atol=ATOL)


def test_every_token_scored_exactly_once_with_rolling_windows():
    for n, window, stride in [(1, 8, 4), (2, 8, 4), (8, 8, 4), (9, 8, 4), (100, 16, 5), (37, 10, 9)]:
        covered = []
        for start, end, first in plan_windows(n, window, stride):
            assert end - start <= window and start >= 0 and start < first <= end
            covered.extend(range(first, end))
        assert covered == list(range(1, n))


def test_smaller_window_gives_each_token_its_window_context(tiny_model, texts):
    """With a smaller window, each token's statistics equal a direct pass over exactly the window it was scored in,
    and tokens inside the first window are unchanged from full-context scoring."""
    text = texts[4]
    window, stride = 32, 12
    full = token_statistics(tiny_model, [text])[0]
    small = token_statistics(tiny_model, [text], ScoringSettings(window=window, stride=stride))[0]
    assert small.n_scored == full.n_scored
    np.testing.assert_allclose(small.logprob[: window - 1], full.logprob[: window - 1], atol=ATOL)
    ids = small.token_ids
    for start, end, first in plan_windows(len(ids), window, stride):
        ref = direct_statistics(tiny_model, ids[start:end])
        local = slice(first - start - 1, end - start - 1)
        np.testing.assert_allclose(small.logprob[first - 1: end - 1], ref["logprob"][local], atol=ATOL)
        np.testing.assert_allclose(small.mu[first - 1: end - 1], ref["mu"][local], atol=ATOL)


def test_long_text_beyond_context_is_scored_entirely(tiny_model, texts):
    stats = token_statistics(tiny_model, [texts[5]])[0]
    assert stats.n_tokens > tiny_model.context_length
    assert stats.n_scored == stats.n_tokens - 1
    assert np.isfinite(stats.logprob).all() and (stats.rank >= 1).all()


def test_offsets_point_into_the_original_text(tiny_model):
    text = "Café owners sat near the river.\n  Then the dog ran!"
    stats = token_statistics(tiny_model, [text])[0]
    assert stats.offsets.shape == (stats.n_tokens, 2)
    assert (stats.offsets[:, 0] >= 0).all() and (stats.offsets[:, 1] <= len(text)).all()
    assert (np.diff(stats.offsets[:, 0]) >= 0).all()
    # every visible character lies in some token's span (a multi-byte character may be shared by two byte tokens)
    covered = np.zeros(len(text), dtype=bool)
    for a, b in stats.offsets:
        covered[a:b] = True
    assert all(covered[i] for i, ch in enumerate(text) if not ch.isspace())
    assert "Café" in text[stats.offsets[0, 0]: stats.offsets[2, 1] + 1]


def test_results_stream_as_texts_finish_and_progress_counts_tokens(tiny_model, texts):
    seen, calls = [], []
    for i, stats in iter_token_statistics(tiny_model, texts, max_batch_tokens=256,
                                          progress=lambda d, t: calls.append((d, t))):
        seen.append(i)
    assert sorted(seen) == list(range(len(texts)))
    total = sum(len(tiny_model.tokenize(t)[0]) - 1 for t in texts)
    assert calls[-1] == (total, total)
    assert all(a[0] <= b[0] for a, b in zip(calls, calls[1:]))


def test_cancel_stops_between_batches(tiny_model, texts):
    delivered = []
    with pytest.raises(ScoringCancelled):
        for i, _ in iter_token_statistics(tiny_model, texts, max_batch_tokens=128, max_batch_size=1,
                                          should_stop=lambda: len(delivered) >= 2):
            delivered.append(i)
    assert 2 <= len(delivered) < len(texts)


def test_cache_serves_repeats_without_recomputation(tiny_model, texts, tmp_path):
    cache = StatsCache(tmp_path)
    first = cached_token_statistics(tiny_model, texts[:3], cache=cache)
    assert cache.misses == 3 and cache.hits == 0
    again = cached_token_statistics(tiny_model, texts[:3], cache=cache)
    assert cache.hits == 3 and all(a is b for a, b in zip(first, again))
    # a fresh process reads the disk tier; different settings are a different key
    disk = StatsCache(tmp_path)
    from_disk = cached_token_statistics(tiny_model, texts[:3], cache=disk)
    assert disk.hits == 3
    np.testing.assert_array_equal(from_disk[2].logprob, first[2].logprob)
    cached_token_statistics(tiny_model, texts[:1], ScoringSettings(window=16), cache=disk)
    assert disk.misses == 1


def test_score_documents_table_and_short_text_error(tiny_model):
    docs = [Document("a", "The cat sat on the mat and the dog ran."), Document("empty", ""),
            Document("A", "THE CAT SAT ON THE MAT.")]
    result = score_documents(tiny_model, docs)
    assert list(result.table.columns) == ["document", "tokens", "nll", "perplexity", "loss", "zlib", "lowercase",
                                          "mink", "minkpp"]
    assert result.table["document"].tolist() == ["a", "A"]
    assert not result.table.isna().any().any()
    assert "empty" in result.errors and "too short" in result.errors["empty"]
    row = result.table.iloc[0]
    assert row["loss"] == pytest.approx(-row["nll"]) and row["perplexity"] == pytest.approx(np.exp(row["nll"]))


def test_extra_scores_need_their_models(tiny_model):
    with pytest.raises(ValueError, match="reference model"):
        score_documents(tiny_model, [Document("a", "the cat sat")], ["loss", "ref"])
    with pytest.raises(ValueError, match="observer"):
        score_documents(tiny_model, [Document("a", "the cat sat")], ["binoculars"])
    with pytest.raises(ValueError, match="Unknown score"):
        score_documents(tiny_model, [Document("a", "the cat sat")], ["nonsense"])


def test_ref_binoculars_gradnorm_on_tiny_models(tiny_model, fresh_tiny_model):
    from provenance.lm.training import fine_tune

    members = random_sentences(8, length=30, seed=11)
    tuned, _ = fine_tune(fresh_tiny_model, members, epochs=20, learning_rate=3e-3)
    docs = [Document(f"m{i}", t) for i, t in enumerate(members[:3])] + \
           [Document(f"n{i}", t) for i, t in enumerate(random_sentences(3, length=30, seed=99))]
    table = score_documents(tuned, docs, ["loss", "ref", "binoculars", "gradnorm"], ref_model=tiny_model,
                            observer=tiny_model).table
    assert not table.isna().any().any()
    members_ref = table[table.document.str.startswith("m")]["ref"]
    others_ref = table[table.document.str.startswith("n")]["ref"]
    assert members_ref.min() > others_ref.max()  # fine-tuning lowered NLL on members more than on others
    gm = table[table.document.str.startswith("m")]["gradnorm"]
    gn = table[table.document.str.startswith("n")]["gradnorm"]
    assert gm.mean() > gn.mean()  # members sit nearer a minimum: smaller gradients, higher score
