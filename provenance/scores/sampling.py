"""SaMIA (Kaneko et al. 2024, "Sampling-based Pseudo-Likelihood for Membership Inference Attacks"; code
github.com/nlp-titech/samia, ported in the peer tool fast-mia ``src/methods/samia.py``): a generation-only score.

The text's W whitespace-separated words are split at floor(ratio * W), ratio = 0.5; the model continues the first
part ``samples`` = 5 times (temperature 1, top-k 50, seeded); each continuation's ROUGE-1 recall against the true
rest is the number of the rest's words it contains (counted with multiplicity, clipped) divided by the rest's word
count; ``samia`` is the mean over samples (in [0, 1]). A model that saw the text reproduces more of it: higher =
member. Words are compared exactly as split (case and punctuation kept), as in the reference. Each continuation is
as many tokens long as the true rest (at most 256 and half the model's context; the reference asks for up to 1024
new tokens, which only adds words after the rest's length and cannot lower recall much but costs a lot on CPU), and
the whole continuation is the candidate (fast-mia drops the first W/2 words of it, a leftover from the original
code where the output included the prompt).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ..lm.interface import LanguageModel

SAMIA_SAMPLES = 5
SAMIA_RATIO = 0.5
SAMIA_TOP_K = 50
SAMIA_MAX_NEW_TOKENS = 256


def split_prefix(text: str, ratio: float = SAMIA_RATIO) -> tuple[str, list[str]]:
    """(prompt, reference words): the first floor(ratio * W) words joined by spaces, and the remaining words."""
    words = text.split()
    n = int(len(words) * ratio)
    return " ".join(words[:n]), words[n:]


def rouge1_recall(candidate: Sequence[str], reference: Sequence[str]) -> float:
    """Clipped unigram overlap divided by len(reference); 0 when either is empty."""
    if not candidate or not reference:
        return 0.0
    overlap = Counter(candidate) & Counter(reference)
    return sum(overlap.values()) / len(reference)


def samia_from_samples(samples: Sequence[str], reference: Sequence[str]) -> float:
    """Mean ROUGE-1 recall of the samples (split on whitespace) against the reference words."""
    if not samples:
        return 0.0
    return sum(rouge1_recall(s.split(), reference) for s in samples) / len(samples)


def samia(model: LanguageModel, text: str, *, num_samples: int = SAMIA_SAMPLES, ratio: float = SAMIA_RATIO,
          top_k: int = SAMIA_TOP_K, max_new_tokens: int = SAMIA_MAX_NEW_TOKENS, seed: int = 0) -> float:
    """SaMIA of one text (higher = member); 0 for a text with no words after the prompt or no prompt words."""
    prompt, reference = split_prefix(text, ratio)
    if not reference or not prompt:
        return 0.0
    n_new = max(1, min(model.count_tokens(" " + " ".join(reference), special_tokens=False), max_new_tokens,
                       model.context_length // 2))
    samples = model.sampled_continuations(prompt, num_samples=num_samples, max_new_tokens=n_new, temperature=1.0,
                                          top_k=top_k, seed=seed)
    return samia_from_samples(samples, reference)
