"""The score registry: one entry per membership score, with its name, label, description, what it needs and the
function that computes it. Every score is oriented "higher = more likely a member" (design.md, "Scores").

A new score is a new function in formulas.py (or its own module) and one ``register(Score(...))`` call; the score
table (scores/table.py), the CLI, the pages, charts and reports all read this registry.

What a score needs:
- ``capabilities`` of the target model (lm/interface.py): log-probabilities, full-vocabulary moments, gradients,
  generation; a model that lacks one is refused with a sentence (``interface.require``);
- ``inputs`` beyond the target model's statistics of the text: ``lowercase`` (statistics of the lower-cased text),
  ``reference_model`` (statistics under a second model), ``observer`` (cross-entropy from an observer model).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from ..lm.interface import GENERATION, GRADIENTS, LOGPROBS, MOMENTS, TOP_K
from ..lm.token_stats import NoScoredTokensError, ScoringSettings, TokenStats
from . import formulas
from .formulas import DEFAULT_K

LOWERCASE = "lowercase"
REFERENCE_MODEL = "reference_model"
OBSERVER = "observer"


@dataclass
class ScoreInputs:
    """Everything a score function may read for one document.

    ``stats``: the target model's statistics of the text. ``lower_stats``: of the lower-cased text (None when
    lower-casing changes nothing). ``ref_stats``: under the reference model; ``same_tokenizer`` says whether the
    two models share a tokenizer. ``observer_stats``: the target's statistics with the observer's cross-entropy.
    ``model`` (a LanguageModel) and ``settings`` serve scores that run the model again (gradients, sampling).
    """

    stats: TokenStats
    k: float = DEFAULT_K
    lower_stats: TokenStats | None = None
    ref_stats: TokenStats | None = None
    same_tokenizer: bool = True
    observer_stats: TokenStats | None = None
    model: object | None = None
    settings: ScoringSettings = field(default_factory=ScoringSettings)


@dataclass(frozen=True)
class Score:
    """One membership score. ``compute(inputs) -> float`` (higher = member; NaN when an auxiliary text has no
    scored token). ``default``: computed unless the user chooses otherwise. ``approximates``: for an approximate
    score, the exact one it replaces on backends that cannot compute that one (scores/approximate.py)."""

    name: str
    label: str
    description: str
    compute: Callable[[ScoreInputs], float]
    capabilities: frozenset[str] = frozenset({LOGPROBS})
    inputs: frozenset[str] = frozenset()
    default: bool = False
    approximates: str | None = None  # the exact score this one stands in for where a backend lacks its needs

    @property
    def approximate(self) -> bool:
        """True for an approximation of another score (its label says "approx.")."""
        return self.approximates is not None


SCORES: dict[str, Score] = {}


def register(score: Score) -> Score:
    """Add a score to the registry (its name must be new)."""
    if score.name in SCORES:
        raise ValueError(f"A score named '{score.name}' is already registered.")
    SCORES[score.name] = score
    return score


def get(name: str) -> Score:
    """The registered score called ``name``, or a sentence listing the known ones."""
    try:
        return SCORES[name]
    except KeyError:
        raise ValueError(f"Unknown score '{name}'. Choose from: {', '.join(SCORES)}.") from None


def default_scores() -> tuple[str, ...]:
    return tuple(name for name, s in SCORES.items() if s.default)


def extra_scores() -> tuple[str, ...]:
    """Scores the user may add (approximations are not chosen directly: they replace their exact score)."""
    return tuple(name for name, s in SCORES.items() if not s.default and not s.approximate)


def is_approximate(name: str) -> bool:
    """Whether a score (or table column) is an approximation, from the registry entry (never from its label)."""
    return name in SCORES and SCORES[name].approximate


def approximation_of(name: str) -> Score | None:
    """The registered approximation of the exact score ``name``, if there is one."""
    return next((s for s in SCORES.values() if s.approximates == name), None)


def label(name: str) -> str:
    """A readable label for a score (or any other table column)."""
    return SCORES[name].label if name in SCORES else COLUMN_LABELS.get(name, name.replace("_", " "))


def description(name: str) -> str:
    return SCORES[name].description if name in SCORES else name


COLUMN_LABELS = {"perplexity": "perplexity", "nll": "NLL (nats/token)", "tokens": "scored tokens"}


def _or_nan(compute: Callable[[], float]) -> float:
    """A score whose auxiliary text has no scored token (e.g. lower-casing merged tokens) is missing, not fatal."""
    try:
        value = compute()
    except NoScoredTokensError:
        return math.nan
    return value if math.isfinite(value) else math.nan


def _lowercase(x: ScoreInputs) -> float:
    return 1.0 if x.lower_stats is None else _or_nan(lambda: formulas.lowercase(x.stats, x.lower_stats))


def _gradnorm(x: ScoreInputs) -> float:
    return formulas.gradnorm(x.model.gradient_norms(x.stats.text, x.settings))


def _minkpp_approx(x: ScoreInputs) -> float:
    from .approximate import DEFAULT_VOCAB, minkpp_approx

    return minkpp_approx(x.stats, x.k, getattr(x.model, "vocab_size", None) or DEFAULT_VOCAB)


def _ngram_coverage(x: ScoreInputs) -> float:
    from .ngram_coverage import ngram_coverage

    return ngram_coverage(x.model, x.stats.text)


register(Score("loss", "loss (−NLL)", "minus the mean negative log-likelihood per token",
               lambda x: formulas.loss(x.stats), default=True))
register(Score("zlib", "zlib ratio", "minus NLL divided by the zlib-compressed length of the text in bytes",
               lambda x: formulas.zlib_score(x.stats), default=True))
register(Score("lowercase", "lowercase ratio", "NLL of the lower-cased text divided by NLL of the text",
               _lowercase, inputs=frozenset({LOWERCASE}), default=True))
register(Score("mink", "Min-K% Prob", "mean log-probability of the k% least likely tokens (Min-K% Prob)",
               lambda x: formulas.mink(x.stats, x.k), default=True))
register(Score("minkpp", "Min-K%++", "mean of the k% lowest standardised log-probabilities (Min-K%++)",
               lambda x: formulas.minkpp(x.stats, x.k), capabilities=frozenset({LOGPROBS, MOMENTS}), default=True))
register(Score("minkpp_approx", "Min-K%++ (approx.)",
               "Min-K%++ with the full-vocabulary mean and spread estimated from the top-k alternatives, the tail "
               "mass bounded (backends without full distributions; see scores/approximate.py)", _minkpp_approx,
               capabilities=frozenset({LOGPROBS, TOP_K}), approximates="minkpp"))
register(Score("ref", "reference-model difference",
               "reference model's NLL minus the target model's NLL (per token, or bits per byte across tokenizers)",
               lambda x: _or_nan(lambda: formulas.ref(x.stats, x.ref_stats, x.same_tokenizer)),
               inputs=frozenset({REFERENCE_MODEL})))
register(Score("gradnorm", "gradient norm (negated)",
               "minus the mean over parameter tensors of the largest gradient entry of NLL (white-box)",
               _gradnorm, capabilities=frozenset({LOGPROBS, GRADIENTS})))
register(Score("binoculars", "Binoculars (negated)",
               "minus the ratio of NLL to the observer-to-model cross-entropy (Binoculars)",
               lambda x: formulas.binoculars(x.observer_stats), capabilities=frozenset({LOGPROBS, MOMENTS}),
               inputs=frozenset({OBSERVER})))
register(Score("ngram_coverage", "n-gram coverage",
               "black-box: best coverage of the true second half by sampled continuations of the first half, summed "
               "over n-gram lengths 2..12 (N-Gram Coverage Attack)", _ngram_coverage,
               capabilities=frozenset({GENERATION})))
