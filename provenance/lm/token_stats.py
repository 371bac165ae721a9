"""Token statistics as data: what one forward pass yields per text (TokenStats), the settings that change it, and
the rolling-window plan. Plain numpy, no torch, so scores, verdicts and pages can read statistics without loading
a deep-learning framework.

Conventions (design.md, "Token statistics"): token 0 is never scored; token t >= 1 is scored given tokens < t; all
log-probabilities are natural logs (nats).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


class NoScoredTokensError(ValueError):
    """A text has no token that can be scored (empty, or a single token)."""


class ScoringCancelled(RuntimeError):
    """The caller asked scoring to stop; results finished so far were already delivered."""


@dataclass
class TokenStats:
    """Per-token statistics of one text under one model.

    Shapes: ``token_ids`` and ``offsets`` cover all n tokens; the per-position arrays cover the n - 1 scored tokens
    (token 1 .. n-1), so ``logprob[i]`` belongs to token ``i + 1``. ``offsets[j] = (start, end)`` are character
    offsets of token j in ``text``. ``top_ids`` / ``top_logprobs`` (n - 1, top_k) hold the most likely alternatives.
    ``xent`` (n - 1,) is filled only when an observer model was given: the cross-entropy
    -sum_v p_observer(v) log p_model(v) at each position, in nats (Binoculars).
    """

    text: str
    token_ids: np.ndarray
    offsets: np.ndarray
    logprob: np.ndarray
    mu: np.ndarray
    sigma: np.ndarray
    rank: np.ndarray
    top_ids: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    top_logprobs: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    xent: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))

    @property
    def n_tokens(self) -> int:
        return int(len(self.token_ids))

    @property
    def n_scored(self) -> int:
        return int(len(self.logprob))

    @property
    def nll(self) -> float:
        """Mean negative log-likelihood per scored token, in nats."""
        require_scored(self)
        return float(-np.mean(self.logprob, dtype=np.float64))

    def arrays(self) -> dict[str, np.ndarray]:
        """All arrays by name (for caching with np.savez; no pickled objects)."""
        return {k: getattr(self, k) for k in ("token_ids", "offsets", "logprob", "mu", "sigma", "rank", "top_ids",
                                              "top_logprobs", "xent")}


def require_scored(stats: TokenStats) -> None:
    """Raise a user-facing error when a text has no scored token."""
    if stats.n_scored == 0:
        raise no_scored_tokens_error(stats.text, stats.n_tokens)


def no_scored_tokens_error(text: str, n_tokens: int) -> NoScoredTokensError:
    preview = text[:40].replace("\n", " ")
    return NoScoredTokensError(
        f"The text '{preview}' has {n_tokens} token(s); at least 2 are needed because the first token is never "
        "scored. Add more text."
    )


@dataclass(frozen=True)
class ScoringSettings:
    """Settings that change the statistics (part of every cache key). ``window=None`` means the model's context
    length capped at ``max_window``; ``stride=None`` means half the window."""

    window: int | None = None
    stride: int | None = None
    top_k: int = 0
    max_window: int = 2048

    def resolve(self, context_length: int) -> tuple[int, int]:
        window = self.window or min(context_length, self.max_window)
        window = max(2, min(window, context_length))
        stride = self.stride or max(1, window // 2)
        if not 1 <= stride <= window - 1:
            raise ValueError(f"stride must be between 1 and window - 1 = {window - 1}; got {stride}.")
        return window, stride

    def key(self, context_length: int) -> str:
        window, stride = self.resolve(context_length)
        return f"w{window}-s{stride}-k{self.top_k}"


def plan_windows(n_tokens: int, window: int, stride: int) -> list[tuple[int, int, int]]:
    """Rolling windows over n tokens as (start, end, first_target) triples.

    The first window scores tokens 1..min(n, window)-1; each later window ends ``stride`` tokens further and scores
    only the tokens after the previous window's end, with the rest of the window as left context.
    """
    if n_tokens < 2:
        return []
    end = min(n_tokens, window)
    plan = [(0, end, 1)]
    while end < n_tokens:
        new_end = min(n_tokens, end + stride)
        plan.append((new_end - window, new_end, end))
        end = new_end
    return plan


def bits_per_byte(stats: TokenStats) -> float:
    """Total NLL of the scored tokens in bits, divided by the UTF-8 bytes they cover (tokenizer-independent)."""
    require_scored(stats)
    start = int(stats.offsets[1:, 0].min()) if stats.n_tokens > 1 else 0
    end = int(stats.offsets[1:, 1].max()) if stats.n_tokens > 1 else 0
    n_bytes = max(1, len(stats.text[start:end].encode("utf-8")))
    return float(-np.sum(stats.logprob, dtype=np.float64) / math.log(2) / n_bytes)
