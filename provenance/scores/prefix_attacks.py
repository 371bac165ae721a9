"""ReCaLL and Con-ReCall: how much a text's likelihood changes when the model first reads texts declared
non-members (and, for Con-ReCall, members) as a prefix.

- ReCaLL (Xie et al. 2024, "ReCaLL: Membership Inference via Relative Conditional Log-Likelihoods"; code
  github.com/ruoyuxie/recall): ``recall = NLL(x | P_non) / NLL(x)``. Conditioning on non-member text lowers a
  member's likelihood more than a non-member's, so the ratio is larger for members: higher = member.
- Con-ReCall (Wang et al. 2024, "Con-ReCall: Detecting Pre-training Data in LLMs via Contrastive Decoding"):
  ``conrecall = (NLL(x | P_non) - gamma * NLL(x | P_mem)) / NLL(x)``, gamma = 0.5 (the peer tool's default). A
  member prefix raises a member's likelihood, a non-member prefix lowers it: higher = member.

NLL(x) is the project's NLL (tokens 1..n-1 of the text). NLL(x | P) is the mean over the text's tokens of the
prefixed string ``P + x``, the text's first token included (it is predicted from the prefix), as the reference code
does. The prefix is the first ``n_shots`` declared texts joined by a blank line and ended with one (the reference
joins them with nothing and concatenates token ids: see bench/parity_attacks.py); when they do not fit in
``budget`` tokens, the last shots that fit are kept, as the reference's ``process_prefix`` keeps
``prefix[-max_shots:]``. The statistics of ``P + x`` come from the same cached token-statistics pass as every other
text, so a text longer than the window minus the prefix is scored in rolling windows and its later tokens see
only part of the prefix.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..lm.token_stats import TokenStats, no_scored_tokens_error, require_scored

DEFAULT_SHOTS = 10  # declared texts in one prefix (the peer tool's default num_shots)
DEFAULT_GAMMA = 0.5  # Con-ReCall's weight of the member prefix
SEPARATOR = "\n\n"  # between prefix texts and between the prefix and the text


def build_prefix(texts: Sequence[str], count_tokens: Callable[[str], int], budget: int, *,
                 n_shots: int = DEFAULT_SHOTS, separator: str = SEPARATOR) -> str:
    """The prefix string: the first ``n_shots`` of ``texts``, or when their tokens exceed ``budget``, the last
    ``m`` of them where ``m`` is how many fit counting from the first (the reference's truncation rule). Each shot is
    followed by ``separator``; an empty string when none fits."""
    shots = list(texts)[:max(0, n_shots)]
    counts = [count_tokens(s + separator) for s in shots]
    if sum(counts) > budget:
        fit, used = 0, 0
        for c in counts:
            if used + c > budget:
                break
            fit, used = fit + 1, used + c
        shots = shots[len(shots) - fit:] if fit else []
    return "".join(s + separator for s in shots)


def conditional_nll(prefixed: TokenStats, prefix_chars: int) -> float:
    """Mean NLL of the tokens of ``prefixed`` (statistics of ``prefix + text``) that start at or after character
    ``prefix_chars``: the text's tokens given the prefix. Raises NoScoredTokensError when there are none."""
    require_scored(prefixed)
    starts = prefixed.offsets[1:, 0]
    ends = prefixed.offsets[1:, 1]
    mask = (starts >= prefix_chars) & (ends > starts)
    if not mask.any():
        raise no_scored_tokens_error(prefixed.text[prefix_chars:], 0)
    return float(-np.mean(prefixed.logprob[mask], dtype=np.float64))


def recall_score(nll: float, nll_given_non_members: float) -> float:
    """ReCaLL: NLL(x | P_non) / NLL(x) (higher = member)."""
    return nll_given_non_members / max(nll, 1e-12)


def conrecall_score(nll: float, nll_given_non_members: float, nll_given_members: float,
                    gamma: float = DEFAULT_GAMMA) -> float:
    """Con-ReCall: (NLL(x | P_non) - gamma * NLL(x | P_mem)) / NLL(x) (higher = member)."""
    return (nll_given_non_members - gamma * nll_given_members) / max(nll, 1e-12)
