"""Scores that compare a text with perturbed copies of itself: PAC and the neighbourhood attack.

- PAC (Ye et al. 2024, "Data Contamination Calibration for Black-box LLMs", Polarized Augment Calibration; code
  github.com/yyy01/PAC): the polarized distance of a text is PD = mean of its 5% highest token log-probabilities
  minus the mean of its 30% lowest (each count max(1, floor(share * n))). Each of N = 5 augmented copies swaps
  max(1, floor(0.3 * W)) random pairs of its W space-separated words (the reference's EDA random swap, same
  algorithm and random calls, seeded here: seed 0 for every text, so a text's score does not depend on the
  others). ``pac = mean PD(augmented) - PD(text)``: the reference reports PD(text) - mean PD(augmented) and
  negates it for its AUC, so higher = member.
- Neighbourhood comparison (Mattern et al. 2023, "Membership Inference Attacks against Language Models via
  Neighbourhood Comparison"): ``neighbor = mean NLL(neighbours) - NLL(text)``: a member is more likely than texts
  one word away from it, higher = member. The paper (and MIMIR, fast-mia) draws neighbours from a second network,
  a masked language model (BERT) that proposes a replacement for one token given both sides, with dropout on that
  token's embedding. Here no second network is downloaded: the candidates are the target model's own top-k
  alternatives at each position (given the left context only), scored like the paper's swaps,
  ``p(candidate) / (1 - p(original))``; the ``n_neighbours`` best (position, candidate) swaps each give one
  neighbour (the text with that one token replaced). Deterministic: no dropout, so nothing to seed. Because the
  candidates come from the same model being tested, they are tokens it already finds likely at that point, which
  makes neighbours look relatively more probable than MLM neighbours would; the comparison is still within one
  text, so it stays a calibration of the text's own likelihood.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import numpy as np

from ..lm.token_stats import TokenStats, require_scored

PAC_AUGMENTATIONS = 5
PAC_SWAP_SHARE = 0.3
PAC_LOCAL = 0.3
PAC_FAR = 0.05
NEIGHBOURS = 25
NEIGHBOUR_TOP_K = 10


def polarized_distance(logprob: np.ndarray, local: float = PAC_LOCAL, far: float = PAC_FAR) -> float:
    """Mean of the max(1, floor(far * n)) highest values minus the mean of the max(1, floor(local * n)) lowest."""
    x = np.sort(np.asarray(logprob, dtype=np.float64))
    n_local, n_far = max(int(len(x) * local), 1), max(int(len(x) * far), 1)
    return float(np.mean(x[::-1][:n_far]) - np.mean(x[:n_local]))


def _swap_word(words: list[str], rng: random.Random) -> list[str]:
    i = rng.randint(0, len(words) - 1)
    j, tries = i, 0
    while j == i:
        j = rng.randint(0, len(words) - 1)
        tries += 1
        if tries > 3:
            return words
    words[i], words[j] = words[j], words[i]
    return words


def augmentations(text: str, *, n: int = PAC_AUGMENTATIONS, share: float = PAC_SWAP_SHARE,
                  rng: random.Random | None = None) -> list[str]:
    """``n`` copies of ``text`` with max(1, floor(share * W)) random swaps of space-separated words each, in the
    reference's order of random calls (then shuffled, as the reference does)."""
    rng = rng or random.Random(0)
    words = text.split(" ")
    swaps = max(1, int(share * len(words)))
    out = []
    for _ in range(n):
        copy = words.copy()
        for _ in range(swaps):
            copy = _swap_word(copy, rng)
        out.append(" ".join(copy))
    rng.shuffle(out)
    return out[:n]


def pac(stats: TokenStats, augmented: Sequence[TokenStats]) -> float:
    """mean PD(augmented) - PD(text) (higher = member); augmented copies without scored tokens are skipped."""
    require_scored(stats)
    pds = [polarized_distance(a.logprob) for a in augmented if a.n_scored]
    if not pds:
        return float("nan")
    return float(np.mean(pds)) - polarized_distance(stats.logprob)


def neighbour_texts(stats: TokenStats, token_text: Callable[[int], str], n: int = NEIGHBOURS) -> list[str]:
    """Up to ``n`` neighbours of ``stats.text``, each with one token replaced by one of the model's top-k
    alternatives at that position, best swap score p(candidate) / (1 - p(original)) first (ties: earlier position,
    then more likely candidate). Needs ``stats.top_ids`` / ``top_logprobs``. Tokens without their own characters
    (special tokens, pieces of one character) are never replaced, and a neighbour equal to the text is dropped."""
    if stats.top_ids.ndim != 2 or stats.top_ids.shape[1] == 0 or len(stats.top_ids) != stats.n_scored:
        raise ValueError("The neighbourhood score needs statistics computed with top-k alternatives.")
    offsets = stats.offsets
    candidates: list[tuple[float, int, int, int]] = []
    for i in range(stats.n_scored):
        a, b = int(offsets[i + 1, 0]), int(offsets[i + 1, 1])
        if b <= a or any(tuple(offsets[j]) == (a, b) for j in (i, i + 2) if 0 <= j < len(offsets)):
            continue
        p_orig = float(np.exp(stats.logprob[i]))
        denominator = 1.0 - p_orig if p_orig < 1.0 else 0.1  # the reference floors a certain original the same way
        for rank, (cand, lp) in enumerate(zip(stats.top_ids[i], stats.top_logprobs[i])):
            if int(cand) == int(stats.token_ids[i + 1]):
                continue
            candidates.append((-float(np.exp(lp)) / denominator, i, rank, int(cand)))
    candidates.sort()
    out: list[str] = []
    seen = {stats.text}
    for _, i, _, cand in candidates:
        a, b = int(offsets[i + 1, 0]), int(offsets[i + 1, 1])
        piece = token_text(cand)
        if a > 0 and stats.text[a - 1].isspace() and piece[:1].isspace():
            piece = piece.lstrip()  # offsets that leave out a token's leading space: keep one space, not two
        neighbour = stats.text[:a] + piece + stats.text[b:]
        if neighbour not in seen:
            seen.add(neighbour)
            out.append(neighbour)
        if len(out) >= n:
            break
    return out


def neighbour_score(stats: TokenStats, neighbours: Sequence[TokenStats]) -> float:
    """mean NLL(neighbours) - NLL(text) (higher = member); NaN without a scorable neighbour."""
    require_scored(stats)
    nlls = [s.nll for s in neighbours if s.n_scored]
    return float(np.mean(nlls)) - stats.nll if nlls else float("nan")
