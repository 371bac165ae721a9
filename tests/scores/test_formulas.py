"""Every score's formula against values computed by hand on a small known distribution."""

import math
import zlib

import numpy as np
import pytest
import torch

from provenance.scores import formulas as attacks
from provenance.lm.statistics import position_statistics
from provenance.lm.token_stats import NoScoredTokensError, TokenStats

# Three scored positions over a 4-word vocabulary; the observed tokens are 0, 2 and 3.
PROBS = np.array([[0.5, 0.25, 0.125, 0.125],
                  [0.1, 0.2, 0.3, 0.4],
                  [0.7, 0.1, 0.1, 0.1]])
TARGETS = np.array([0, 2, 3])


def known_stats(text: str = "Some Text here") -> TokenStats:
    """TokenStats whose per-token values are written out by hand from PROBS."""
    logp = np.log(PROBS)
    l_t = logp[np.arange(3), TARGETS]
    mu = (PROBS * logp).sum(1)
    sigma = np.sqrt((PROBS * logp ** 2).sum(1) - mu ** 2)  # design.md's form, in float64
    return TokenStats(text=text, token_ids=np.array([9, 0, 2, 3]), offsets=np.zeros((4, 2), dtype=np.int64),
                      logprob=l_t.astype(np.float32), mu=mu.astype(np.float32), sigma=sigma.astype(np.float32),
                      rank=np.array([1, 2, 2]))


def test_position_statistics_match_hand_values():
    out = position_statistics(torch.log(torch.tensor(PROBS, dtype=torch.float32)), torch.tensor(TARGETS))
    ref = known_stats()
    np.testing.assert_allclose(out["logprob"].numpy(), [math.log(0.5), math.log(0.3), math.log(0.1)], atol=1e-6)
    np.testing.assert_allclose(out["mu"].numpy(), ref.mu, atol=1e-6)
    # Hand value for position 0: entropy of (1/2, 1/4, 1/8, 1/8) is 1.75 bits.
    assert out["mu"][0].item() == pytest.approx(-1.75 * math.log(2), abs=1e-6)
    np.testing.assert_allclose(out["sigma"].numpy(), ref.sigma, atol=1e-6)
    # rank: token 0 is the most likely (1); 0.3 is beaten only by 0.4 (2); 0.1 is beaten by 0.7 only (2, ties don't count)
    assert out["rank"].tolist() == [1, 2, 2]


def test_position_statistics_top_k_alternatives():
    out = position_statistics(torch.log(torch.tensor(PROBS, dtype=torch.float32)), torch.tensor(TARGETS), top_k=2)
    # rows 0 and 1 have a unique top two; row 2 has a unique top one (0.7) and then a three-way tie
    assert out["top_ids"][:2].tolist() == [[0, 1], [3, 2]]
    assert out["top_ids"][2, 0].item() == 0
    np.testing.assert_allclose(out["top_logprobs"][:, 0].numpy(), np.log([0.5, 0.4, 0.7]), atol=1e-6)


def test_loss_perplexity_and_zlib():
    s = known_stats()
    nll = -(math.log(0.5) + math.log(0.3) + math.log(0.1)) / 3
    assert attacks.nll(s) == pytest.approx(nll, rel=1e-6)
    assert attacks.loss(s) == pytest.approx(-nll, rel=1e-6)
    assert attacks.perplexity(s) == pytest.approx(math.exp(nll), rel=1e-6)
    assert attacks.zlib_score(s) == pytest.approx(-nll / len(zlib.compress(b"Some Text here")), rel=1e-6)


def test_lowercase_ratio():
    s = known_stats()
    lower = known_stats("some text here")
    lower.logprob = lower.logprob * 2  # twice the NLL when lower-cased
    assert attacks.lowercase(s, lower) == pytest.approx(2.0, rel=1e-6)


def test_mink_uses_k_lowest_logprobs():
    s = known_stats()
    # n = 3: k = 0.2 -> K = max(1, floor(0.6)) = 1: the single lowest log-prob, log(0.1)
    assert attacks.mink(s, 0.2) == pytest.approx(math.log(0.1), rel=1e-6)
    # k = 0.7 -> K = 2: mean of log(0.1) and log(0.3)
    assert attacks.mink(s, 0.7) == pytest.approx((math.log(0.1) + math.log(0.3)) / 2, rel=1e-6)
    assert attacks.mink(s, 1.0) == pytest.approx(-attacks.nll(s), rel=1e-6)


def test_minkpp_uses_k_lowest_standardised_logprobs():
    s = known_stats()
    logp = np.log(PROBS)
    mu = (PROBS * logp).sum(1)
    sigma = np.sqrt((PROBS * logp ** 2).sum(1) - mu ** 2)
    z = (logp[np.arange(3), TARGETS] - mu) / sigma
    assert attacks.minkpp(s, 0.2) == pytest.approx(np.sort(z)[0], rel=1e-5)
    assert attacks.minkpp(s, 0.7) == pytest.approx(np.sort(z)[:2].mean(), rel=1e-5)


def test_ref_and_binoculars_and_gradnorm():
    target, reference = known_stats(), known_stats()
    reference.logprob = reference.logprob - 1.0  # the reference model finds every token e times less likely
    assert attacks.ref(target, reference) == pytest.approx(1.0, rel=1e-6)
    b = known_stats()
    b.xent = np.array([2.0, 2.0, 2.0], dtype=np.float32)
    assert attacks.binoculars(b) == pytest.approx(-attacks.nll(b) / 2.0, rel=1e-6)
    assert attacks.gradnorm(np.array([0.5, 1.5])) == pytest.approx(-1.0)


def test_ref_across_tokenizers_uses_bits_per_byte():
    text = "abcd"
    target = TokenStats(text, np.array([1, 2]), np.array([[0, 2], [2, 4]]), np.array([-math.log(2)] * 1, np.float32),
                        np.zeros(1, np.float32), np.ones(1, np.float32), np.ones(1, np.int64))
    reference = TokenStats(text, np.array([1, 2, 3]), np.array([[0, 1], [1, 2], [2, 4]]),
                           np.array([-math.log(2)] * 2, np.float32), np.zeros(2, np.float32),
                           np.ones(2, np.float32), np.ones(2, np.int64))
    # target: 1 bit over bytes 2..4 (2 bytes) = 0.5 bpb; reference: 2 bits over bytes 1..4 (3 bytes) = 0.667 bpb
    assert attacks.ref(target, reference, same_tokenizer=False) == pytest.approx(2 / 3 - 1 / 2, rel=1e-5)


def test_one_scored_token_is_never_nan():
    s = TokenStats("Hi", np.array([5, 6]), np.zeros((2, 2), np.int64), np.array([-0.0], np.float32),
                   np.array([0.0], np.float32), np.array([0.0], np.float32), np.array([1]))
    for value in (attacks.loss(s), attacks.zlib_score(s), attacks.mink(s), attacks.minkpp(s),
                  attacks.lowercase(s, s), attacks.perplexity(s)):
        assert np.isfinite(value)


def test_no_scored_token_raises_clear_error():
    s = TokenStats("Hi", np.array([5]), np.zeros((1, 2), np.int64), *(np.zeros(0, np.float32),) * 3,
                   np.zeros(0, np.int64))
    for score in (attacks.loss, attacks.mink, attacks.minkpp, attacks.zlib_score):
        with pytest.raises(NoScoredTokensError, match="at least 2 are needed"):
            score(s)


def test_k_out_of_range_is_rejected():
    with pytest.raises(ValueError, match="k must be"):
        attacks.mink(known_stats(), 0.0)
