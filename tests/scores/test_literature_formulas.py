"""The formulas of the scores from the literature (issue 15) on cases small enough to compute by hand."""

import math
import random
from collections import Counter

import numpy as np
import pytest
from scipy.stats import percentileofscore

from provenance.lm.token_stats import NoScoredTokensError, TokenStats
from provenance.scores import camia, dcpdd, declared, perturbation, prefix_attacks, sampling, token_attacks


def stats_of(text, ids, offsets, logprob, sigma=None, top_ids=None, top_logprobs=None):
    n = len(logprob)
    return TokenStats(text=text, token_ids=np.array(ids), offsets=np.array(offsets, dtype=np.int64).reshape(-1, 2),
                      logprob=np.array(logprob, dtype=np.float32), mu=np.zeros(n, dtype=np.float32),
                      sigma=np.array(sigma if sigma is not None else np.ones(n), dtype=np.float32),
                      rank=np.ones(n, dtype=np.int64),
                      top_ids=np.array(top_ids if top_ids is not None else np.zeros((0, 0)), dtype=np.int64),
                      top_logprobs=np.array(top_logprobs if top_logprobs is not None else np.zeros((0, 0)),
                                            dtype=np.float32))


# --- ReCaLL / Con-ReCall -------------------------------------------------------------------------------------------

def test_prefix_keeps_the_last_shots_that_fit_like_the_reference():
    count = len  # one "token" per character
    texts = ["aaaa", "bb", "cccccc", "d"]
    # all four with separators: 5 + 3 + 7 + 2 = 17 > 10; counting from the first, "aaaa|" and "bb|" fit (8), so the
    # reference keeps the LAST two shots: "cccccc" and "d"
    assert prefix_attacks.build_prefix(texts, count, 10, separator="|") == "cccccc|d|"
    assert prefix_attacks.build_prefix(texts, count, 100, separator="|") == "aaaa|bb|cccccc|d|"
    assert prefix_attacks.build_prefix(texts, count, 100, n_shots=2, separator="|") == "aaaa|bb|"
    assert prefix_attacks.build_prefix(texts, count, 3, separator="|") == ""


def test_conditional_nll_reads_only_the_text_tokens():
    # "P\n\nab": tokens "P", "\n\n", "a", "b"; scored: "\n\n" (-1), "a" (-2), "b" (-4)
    s = stats_of("P\n\nab", [5, 6, 7, 8], [(0, 1), (1, 3), (3, 4), (4, 5)], [-1.0, -2.0, -4.0])
    assert prefix_attacks.conditional_nll(s, 3) == pytest.approx(3.0)
    with pytest.raises(NoScoredTokensError):
        prefix_attacks.conditional_nll(s, 5)


def test_recall_and_conrecall_formulas():
    assert prefix_attacks.recall_score(2.0, 3.0) == pytest.approx(1.5)
    # (NLL | non - 0.5 NLL | mem) / NLL = (3 - 0.5 * 1) / 2
    assert prefix_attacks.conrecall_score(2.0, 3.0, 1.0) == pytest.approx(1.25)


# --- DC-PDD ---------------------------------------------------------------------------------------------------------

def test_dcpdd_by_hand():
    counts = dcpdd.token_counts([np.array([0, 0, 1]), np.array([2])], vocab_size=4)
    assert counts.tolist() == [2, 1, 1, 0]
    f = dcpdd.smoothed_frequencies(counts)  # (c + 1) / (4 + 4)
    np.testing.assert_allclose(f, [3 / 8, 2 / 8, 2 / 8, 1 / 8])
    # scored tokens 1, 3, 1 (the second 1 is not a first occurrence), probabilities 0.5, 0.02, 0.9
    s = stats_of("x", [9, 1, 3, 1], np.zeros((4, 2)), np.log([0.5, 0.02, 0.9]))
    a1 = min(0.5 * -math.log(2 / 8), 0.01)  # clipped at a = 0.01
    a3 = min(0.02 * -math.log(1 / 8), 0.01)
    assert dcpdd.dcpdd(s, f) == pytest.approx((a1 + a3) / 2)
    assert dcpdd.dcpdd(s, f, clip=10.0) == pytest.approx((0.5 * math.log(4) + 0.02 * math.log(8)) / 2)


# --- Gap-K% and Tag&Tab ---------------------------------------------------------------------------------------------

def test_gapk_by_hand():
    logprob = [-1.0, -2.0, -0.5, -3.0, -1.0]
    top1 = [[-1.0], [-0.5], [-0.5], [-1.0], [-0.2]]
    sigma = [1.0, 2.0, 1.0, 0.5, 1.0]
    s = stats_of("x", list(range(6)), np.zeros((6, 2)), logprob, sigma=sigma, top_ids=[[0]] * 5, top_logprobs=top1)
    gaps = [0.0, -0.75, 0.0, -4.0, -0.8]
    np.testing.assert_allclose(token_attacks.top1_gaps(s), gaps, rtol=1e-6)
    smoothed = [(0 - 0.75 + 0) / 3, (-0.75 + 0 - 4) / 3, (0 - 4 - 0.8) / 3]
    # 3 smoothed values, K = max(1, floor(0.2 * 3)) = 1: the lowest
    assert token_attacks.gapk(s, k=0.2) == pytest.approx(min(smoothed), rel=1e-6)
    assert token_attacks.gapk(s, k=1.0) == pytest.approx(np.mean(smoothed), rel=1e-6)
    # shorter than the window: no smoothing
    short = stats_of("x", [0, 1, 2], np.zeros((3, 2)), [-1.0, -2.0], top_ids=[[0], [0]], top_logprobs=[[-1.0], [-1.0]])
    assert token_attacks.gapk(short, k=0.5) == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="top-1"):
        token_attacks.gapk(stats_of("x", [0, 1], np.zeros((2, 2)), [-1.0]))


def test_tagtab_picks_the_rarest_words_of_each_sentence():
    counts = Counter({"the": 50, "cat": 5, "sat": 3, "dog": 2})
    text = "The cat sat. The dog!"
    # -p log2 p with p = count / 60: sat 0.216 < the 0.219 < cat 0.299 (entropy is not monotone in p: a very common
    # word has low entropy too, as in the reference); sentence 2: dog 0.164 < the 0.219
    assert token_attacks.keyword_spans(text, counts, keywords=2) == [(8, 12), (0, 3), (17, 21), (13, 16)]
    # tokens: "The"(0,3) " cat"(3,7) " sat"(7,11) "."(11,12) " The"(12,16) " dog"(16,20) "!"(20,21)
    offsets = [(0, 3), (4, 7), (8, 11), (11, 12), (13, 16), (17, 20), (20, 21)]
    s = stats_of(text, list(range(7)), offsets, [-1.0, -2.0, -3.0, -4.0, -5.0, -6.0])
    # keywords with 1 per sentence: 'sat' (8..12 covers "sat" and ".") and 'dog' (17..21 covers "dog" and "!")
    assert token_attacks.tagtab(s, counts, keywords=1) == pytest.approx(np.mean([-2.0, -3.0, -5.0, -6.0]))
    # a word the corpus never saw has entropy 0: it is the rarest
    assert token_attacks.keyword_spans("the zebra", counts, keywords=1) == [(4, 9)]


# --- PAC and the neighbourhood --------------------------------------------------------------------------------------

def test_polarized_distance_and_pac_by_hand():
    x = np.arange(-20.0, 0.0)  # 20 values: 5% -> 1 highest (-1), 30% -> 6 lowest (-20..-15)
    assert perturbation.polarized_distance(x) == pytest.approx(-1.0 - np.mean(np.arange(-20.0, -14.0)))
    s = stats_of("x", [0, 1, 2, 3], np.zeros((4, 2)), [-1.0, -2.0, -4.0])  # PD = -1 - (-4) = 3
    a = stats_of("y", [0, 1, 2, 3], np.zeros((4, 2)), [-1.0, -1.0, -6.0])  # PD = 5
    b = stats_of("z", [0, 1, 2, 3], np.zeros((4, 2)), [-2.0, -2.0, -3.0])  # PD = 1
    assert perturbation.pac(s, [a, b]) == pytest.approx(3.0 - 3.0)
    assert perturbation.pac(s, [a]) == pytest.approx(2.0)


def test_augmentations_swap_words_reproducibly():
    text = "one two three four five six seven eight nine ten"
    first = perturbation.augmentations(text, rng=random.Random(3))
    assert first == perturbation.augmentations(text, rng=random.Random(3))
    assert len(first) == 5
    for copy in first:
        assert sorted(copy.split(" ")) == sorted(text.split(" ")) and copy != text


def test_neighbours_take_the_best_swaps_from_the_models_alternatives():
    text = "a cat sat"
    # tokens "a", " cat", " sat"; the model's top-2 at each scored position (ids), with probabilities
    offsets = [(0, 1), (2, 5), (6, 9)]
    s = stats_of(text, [1, 2, 3], offsets, np.log([0.5, 0.8]), top_ids=[[2, 4], [3, 5]],
                 top_logprobs=np.log([[0.5, 0.3], [0.8, 0.1]]))
    words = {4: " dog", 5: " ran"}
    # swap scores: dog 0.3 / (1 - 0.5) = 0.6; ran 0.1 / (1 - 0.8) = 0.5 (the originals are skipped)
    assert perturbation.neighbour_texts(s, words.get, n=5) == ["a dog sat", "a cat ran"]
    assert perturbation.neighbour_texts(s, words.get, n=1) == ["a dog sat"]
    n1 = stats_of("y", [0, 1, 2], np.zeros((3, 2)), [-1.0, -3.0])  # NLL 2
    n2 = stats_of("z", [0, 1, 2], np.zeros((3, 2)), [-3.0, -3.0])  # NLL 3
    assert perturbation.neighbour_score(s, [n1, n2]) == pytest.approx(2.5 - s.nll)


# --- SaMIA ----------------------------------------------------------------------------------------------------------

def test_samia_rouge1_recall_by_hand():
    assert sampling.split_prefix("a b c d e") == ("a b", ["c", "d", "e"])
    reference = ["the", "cat", "the", "end"]
    # candidate has 'the' once and 'cat': clipped overlap 2 of 4
    assert sampling.rouge1_recall(["the", "cat", "dog"], reference) == pytest.approx(0.5)
    assert sampling.rouge1_recall([], reference) == 0.0
    assert sampling.samia_from_samples(["the cat dog", "the the end"], reference) == pytest.approx((0.5 + 0.75) / 2)


# --- CAMIA ----------------------------------------------------------------------------------------------------------

def test_camia_signals_and_percentiles_by_hand():
    l = [-0.5, -1.5, -2.5, -0.2]
    s = stats_of("x", [7, 1, 1, 2, 3], np.zeros((5, 2)), l)
    sig = camia.signals(s)
    mean = np.mean(l)
    diversity = 3 / 4  # target ids 1, 1, 2, 3
    # above previous mean: -1.5 > -0.5? no; -2.5 > -1.0? no; -0.2 > -1.5? yes -> 1/3
    expected = [mean] * 3 + [0.5, 0.75, 1.0] + [mean / diversity] * 3 + [1 / 3] * 3
    np.testing.assert_allclose(sig, expected, rtol=1e-6)
    pop = np.array([0.1, 0.5, 0.5, 0.9])
    for v in (0.0, 0.5, 0.7, 1.0):
        assert camia.percentile_rank(v, pop) == pytest.approx(percentileofscore(pop, v, kind="rank") / 100)
    population = [sig - 1, sig + 1]  # the text sits between the two: percentile 0.5 on every signal
    assert camia.camia(s, population) == pytest.approx(0.5)
    assert camia.camia(s, [sig - 1, sig - 2]) == pytest.approx(1.0)


# --- declared texts -------------------------------------------------------------------------------------------------

def test_held_out_part_is_seeded_and_bounded():
    texts = [f"t{i}" for i in range(40)]
    picked = declared.hold_out(texts, 10, seed=4)
    assert picked == declared.hold_out(texts, 10, seed=4) and len(set(picked)) == 10
    assert len(declared.hold_out(texts[:8], 10)) == 2  # at most a quarter
    assert len(declared.hold_out(texts[:2], 10)) == 1 and declared.hold_out(texts[:1], 10) == []
    d = declared.from_labelled(texts, [i % 2 for i in range(40)], members_too=True, seed=1)
    assert len(d.non_members) == 5 and len(d.members) == 5 and "left out" in d.source
    assert all(int(t[1:]) % 2 == 0 for t in d.non_members) and all(int(t[1:]) % 2 == 1 for t in d.members)
    assert d.contains(d.members[0]) and not d.contains(d.members[0], members=False) and not d.contains("other")
    assert d.fingerprint() != declared.from_labelled(texts, [i % 2 for i in range(40)], members_too=True,
                                                     seed=2).fingerprint()
