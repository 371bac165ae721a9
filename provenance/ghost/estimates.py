"""How long a ghost test will take, said before it starts, and how many fresh draws a p-value floor needs.

A test's long part is scoring M fresh draws per generator (``detection.null_nll``). Its cost is M times the
tokens of one draw (measured on draws from the generator itself, with the model's own tokenizer) divided by the
model's pace in tokens per second: measured cheaply on a few fresh draws (``measure_scoring_rate``), or taken from a
test that already ran. The smallest p-value M draws allow is 1 / (M + 1) (``p_floor``); ``draws_for_floor`` is
the fewest draws for a floor at or below a given value, ``detection.fewest_null_draws`` the fewest with which
several identifiers combined by Fisher's method can reach a false-positive rate.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ..lm.interface import LanguageModel
from ..lm.token_stats import ScoringSettings
from .detection import DEFAULT_LAST_K, fewest_null_draws, identifier_nll
from .generator import GhostGenerator, generate_identifiers
from .registry import GhostEntry

RATE_SAMPLE = 16  # fresh draws scored to measure a model's pace: well under a second for a small model on a CPU
TOKENS_SAMPLE = 64  # fresh draws tokenised to measure the tokens of one draw
DRAW_CHOICES = (100, 200, 500, 1000, 2000, 5000)


def p_floor(n_null: int) -> float:
    """The smallest p-value an identifier ranked among ``n_null`` fresh draws can get: 1 / (M + 1)."""
    return 1.0 / (n_null + 1)


def draws_for_floor(floor: float) -> int:
    """The fewest fresh draws M with 1 / (M + 1) <= ``floor``."""
    if not 0 < floor < 1:
        raise ValueError(f"A p-value floor must be between 0 and 1; got {floor}.")
    return max(1, math.ceil(1.0 / floor - 1 - 1e-9))


def recommended_draws(alpha: float, choices: Sequence[int] = DRAW_CHOICES) -> int:
    """The default number of fresh draws at false-positive rate ``alpha``: the smallest choice whose floor is at
    most alpha / 2, so that one identifier can be called at ``alpha`` without having to beat every single draw."""
    needed = draws_for_floor(alpha / 2)
    return next((m for m in sorted(choices) if m >= needed), max(choices))


def tokens_per_draw(model: LanguageModel, generator: GhostGenerator, *, context: str = "",
                    sample: int = TOKENS_SAMPLE, rng=None) -> float:
    """Mean tokens the model goes through to score one fresh draw of ``generator`` after ``context`` (as
    ``null_nll`` counts them), from ``sample`` draws (seeded, so the estimate does not change on every rerun)."""
    draws = generate_identifiers(generator, sample, rng=rng or random.Random(0))
    return sum(max(model.count_tokens(context + d) - 1, 0) for d in draws) / len(draws)


def measure_scoring_rate(model: LanguageModel, generator: GhostGenerator, *, context: str = "",
                         settings: ScoringSettings | None = None, sample: int = RATE_SAMPLE, rng=None) -> float:
    """The model's pace in tokens per second when scoring fresh draws, measured on ``sample`` of them (after a
    warm-up pass on two more; nothing is cached or kept)."""
    settings = settings or ScoringSettings()
    draws = generate_identifiers(generator, sample + 2, rng=rng or random.Random(1))
    identifier_nll(model, draws[:2], context=context, settings=settings)  # first-call costs are not the pace
    started = time.perf_counter()
    identifier_nll(model, draws[2:], context=context, settings=settings)
    seconds = max(time.perf_counter() - started, 1e-6)
    return sum(max(model.count_tokens(context + d) - 1, 0) for d in draws[2:]) / seconds


@dataclass(frozen=True)
class GhostTestEstimate:
    """What a ghost test will cost: fresh draws to score (every generator's null), their tokens, and the seconds
    at ``tokens_per_second``; ``floor`` is the smallest p-value one identifier can get, ``fewest_draws`` the fewest
    draws with which all the identifiers together (Fisher) can reach the false-positive rate."""

    draws: int
    tokens: int
    tokens_per_second: float
    floor: float
    fewest_draws: int
    reference_tokens: int = 0
    reference_tokens_per_second: float = 0.0

    @property
    def seconds(self) -> float:
        """Scoring the fresh draws (under the reference model too, for a reference-calibrated test); the
        identifiers themselves and the last-k test add a few seconds."""
        seconds = self.tokens / self.tokens_per_second if self.tokens_per_second > 0 else math.inf
        if self.reference_tokens:
            seconds += (self.reference_tokens / self.reference_tokens_per_second
                        if self.reference_tokens_per_second > 0 else math.inf)
        return seconds


def estimate_ghost_test(model: LanguageModel, entries: Sequence[GhostEntry], n_null: int, tokens_per_second: float,
                        *, alpha: float, context: str = "", last_k: Sequence[int] = DEFAULT_LAST_K,
                        ref_model: LanguageModel | None = None, ref_tokens_per_second: float = 0.0,
                        ) -> GhostTestEstimate:
    """The cost of testing ``entries`` against ``n_null`` fresh draws per generator at ``tokens_per_second``; a
    reference-calibrated test also scores the draws and the identifiers under ``ref_model`` (with its own
    tokenizer) at ``ref_tokens_per_second``."""
    generators = list(dict.fromkeys(e.generator for e in entries))

    def scored(lm: LanguageModel, passes: int) -> int:
        draws = sum(tokens_per_draw(lm, g, context=context) for g in generators) * n_null
        return round(draws + sum(max(lm.count_tokens(context + e.identifier) - 1, 0) for e in entries) * passes)

    return GhostTestEstimate(draws=n_null * len(generators), tokens=scored(model, 1 + len(last_k)),
                             tokens_per_second=tokens_per_second, floor=p_floor(n_null),
                             fewest_draws=fewest_null_draws(max(1, len(entries)), alpha),
                             reference_tokens=scored(ref_model, 1) if ref_model is not None else 0,
                             reference_tokens_per_second=ref_tokens_per_second)
