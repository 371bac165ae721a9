"""The score registry: one entry per membership score, with its name, label, description, what it needs and the
function that computes it. Every score is oriented "higher = more likely a member" (design.md, "Scores").

A new score is a new function in formulas.py (or its own module) and one ``register(Score(...))`` call; the score
table (scores/table.py), the CLI, the pages, charts and reports all read this registry.

What a score needs:
- ``capabilities`` of the target model (lm/interface.py): log-probabilities, full-vocabulary moments, gradients,
  generation; a model that lacks one is refused with a sentence (``interface.require``);
- ``inputs`` beyond the target model's statistics of the text: ``lowercase`` (statistics of the lower-cased text),
  ``reference_model`` (statistics under a second model), ``observer`` (cross-entropy from an observer model),
  ``non_member_texts`` / ``member_texts`` (texts the user declares, scores/declared.py: prefixes, frequency tables,
  a population; a document that is itself a declared text gets NaN for such a score).

Scores that read other texts than the document (prefixed, perturbed or declared texts) get their statistics through
``ScoreInputs.statistics``, the same cached pass as every other text (lm/cache.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from ..lm.interface import GENERATION, GRADIENTS, LOGPROBS, MOMENTS, TOP_K
from ..lm.token_stats import NoScoredTokensError, ScoringSettings, TokenStats
from . import formulas
from .declared import MEMBER_TEXTS, NON_MEMBER_TEXTS, DeclaredTexts
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
    ``model`` (a LanguageModel) and ``settings`` serve scores that run the model again (gradients, sampling);
    ``cache`` (a StatsCache or None) serves the statistics of the other texts they read; ``declared`` holds the
    texts the user declares non-members / members (scores/declared.py).
    """

    stats: TokenStats
    k: float = DEFAULT_K
    lower_stats: TokenStats | None = None
    ref_stats: TokenStats | None = None
    same_tokenizer: bool = True
    observer_stats: TokenStats | None = None
    model: object | None = None
    settings: ScoringSettings = field(default_factory=ScoringSettings)
    cache: object | None = None
    declared: DeclaredTexts | None = None

    def statistics(self, texts: Sequence[str], *, top_k: int = 0) -> list[TokenStats]:
        """The target model's TokenStats of other texts (prefixed, perturbed, declared), with the run's scoring
        settings and at least ``top_k`` alternatives, through the statistics cache."""
        settings = replace(self.settings, top_k=max(self.settings.top_k, top_k))
        from ..lm.loading import LoadedModel

        if isinstance(self.model, LoadedModel):
            from ..lm.cache import cached_token_statistics

            return cached_token_statistics(self.model, list(texts), settings, cache=self.cache)
        return self.model.token_statistics(list(texts), settings)

    def with_top_k(self, top_k: int) -> TokenStats:
        """The document's statistics with at least ``top_k`` alternatives (the main pass's when it has them)."""
        if self.stats.top_ids.ndim == 2 and self.stats.top_ids.shape[1] >= top_k:
            return self.stats
        return self.statistics([self.stats.text], top_k=top_k)[0]


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


def reads_declared(names: Sequence[str]) -> tuple[bool, bool]:
    """(whether any of the scores ``names`` reads texts declared non-members, whether any reads declared members)."""
    inputs = set().union(*(get(n).inputs for n in names)) if names else set()
    return NON_MEMBER_TEXTS in inputs, MEMBER_TEXTS in inputs


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


def _judged(x: ScoreInputs, need_members: bool = False) -> DeclaredTexts | None:
    """The declared texts, or None when this document is one of them (it is left out: the score is NaN)."""
    if x.declared is None or not x.declared.non_members or (need_members and not x.declared.members):
        raise ValueError("This score needs texts declared non-members" + (" and members" if need_members else "")
                         + " (a reference set).")
    return None if x.declared.contains(x.stats.text, members=need_members) else x.declared


def _prefix(x: ScoreInputs, texts: Sequence[str]) -> str:
    from .prefix_attacks import build_prefix

    window, _ = x.settings.resolve(x.model.context_length)
    key = ("prefix", x.model.identity, window, texts)
    if key not in x.declared.memo:
        x.declared.memo[key] = build_prefix(texts, lambda t: x.model.count_tokens(t, special_tokens=False),
                                            window // 2)
    return x.declared.memo[key]


def _conditional_nlls(x: ScoreInputs, prefixes: Sequence[str]) -> list[float]:
    from .prefix_attacks import conditional_nll

    stats = x.statistics([p + x.stats.text for p in prefixes])
    return [conditional_nll(s, len(p)) for s, p in zip(stats, prefixes)]


def _recall(x: ScoreInputs) -> float:
    from .prefix_attacks import recall_score

    declared = _judged(x)
    if declared is None:
        return math.nan
    return _or_nan(lambda: recall_score(x.stats.nll, *_conditional_nlls(x, [_prefix(x, declared.non_members)])))


def _conrecall(x: ScoreInputs) -> float:
    from .prefix_attacks import conrecall_score

    declared = _judged(x, need_members=True)
    if declared is None:
        return math.nan
    prefixes = [_prefix(x, declared.non_members), _prefix(x, declared.members)]
    return _or_nan(lambda: conrecall_score(x.stats.nll, *_conditional_nlls(x, prefixes)))


def _dcpdd(x: ScoreInputs) -> float:
    from . import dcpdd

    declared = _judged(x)
    if declared is None:
        return math.nan
    key = ("dcpdd", x.model.identity)
    if key not in declared.memo:
        counts = dcpdd.token_counts((x.model.tokenize(t)[0] for t in declared.non_members), x.model.vocab_size)
        declared.memo[key] = dcpdd.smoothed_frequencies(counts)
    return _or_nan(lambda: dcpdd.dcpdd(x.stats, declared.memo[key]))


def _tagtab(x: ScoreInputs) -> float:
    from .token_attacks import tagtab, word_counts

    declared = _judged(x)
    if declared is None:
        return math.nan
    key = ("tagtab",)
    if key not in declared.memo:
        declared.memo[key] = word_counts(declared.non_members)
    return _or_nan(lambda: tagtab(x.stats, declared.memo[key]))


def _camia(x: ScoreInputs) -> float:
    from .camia import camia, signals

    declared = _judged(x)
    if declared is None:
        return math.nan
    key = ("camia", x.model.identity, x.settings.key(x.model.context_length))
    if key not in declared.memo:
        declared.memo[key] = [signals(s) for s in x.statistics(declared.non_members) if s.n_scored]
    return _or_nan(lambda: camia(x.stats, declared.memo[key]))


def _gapk(x: ScoreInputs) -> float:
    from .token_attacks import gapk

    return _or_nan(lambda: gapk(x.with_top_k(1), x.k))


def _pac(x: ScoreInputs) -> float:
    from .perturbation import augmentations, pac

    return _or_nan(lambda: pac(x.stats, x.statistics(augmentations(x.stats.text))))


def _neighbor(x: ScoreInputs) -> float:
    from .perturbation import NEIGHBOUR_TOP_K, neighbour_score, neighbour_texts

    neighbours = neighbour_texts(x.with_top_k(NEIGHBOUR_TOP_K), x.model.token_text)
    return _or_nan(lambda: neighbour_score(x.stats, x.statistics(neighbours)))


def _samia(x: ScoreInputs) -> float:
    from .sampling import samia

    return samia(x.model, x.stats.text)


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


# Attacks from the literature beyond the loss family (issue 15); each module's docstring has the paper, the exact
# definition and how it differs from the reference code (bench/parity_attacks.py compares them).
NON_MEMBERS, BOTH = frozenset({NON_MEMBER_TEXTS}), frozenset({NON_MEMBER_TEXTS, MEMBER_TEXTS})
register(Score("recall", "ReCaLL",
               "NLL of the text after a prefix of declared non-members divided by its NLL (ReCaLL, Xie et al. 2024)",
               _recall, inputs=NON_MEMBERS))
register(Score("conrecall", "Con-ReCall",
               "(NLL after a non-member prefix - 0.5 x NLL after a member prefix) / NLL (Con-ReCall, Wang et al. 2024)",
               _conrecall, inputs=BOTH))
register(Score("dcpdd", "DC-PDD",
               "token probabilities calibrated by token frequencies of declared non-members (DC-PDD, Zhang et al. "
               "2024)", _dcpdd, inputs=NON_MEMBERS))
register(Score("pac", "PAC", "polarized distance of 5 word-swapped copies minus the text's own (PAC, Ye et al. 2024)",
               _pac))
register(Score("neighbor", "neighbourhood",
               "mean NLL of one-token neighbours from the model's own top-10 alternatives minus the text's NLL "
               "(after Mattern et al. 2023)", _neighbor, capabilities=frozenset({LOGPROBS, TOP_K})))
register(Score("samia", "SaMIA",
               "black-box: ROUGE-1 recall of sampled continuations of the first half against the true second half "
               "(SaMIA, Kaneko et al. 2024)", _samia, capabilities=frozenset({GENERATION})))
register(Score("camia", "CAMIA",
               "percentile of the per-token loss dynamics among declared non-members (CAMIA, Chang et al. 2025)",
               _camia, inputs=NON_MEMBERS))
register(Score("gapk", "Gap-K%",
               "mean of the k% lowest smoothed gaps between the observed token and the top-1 token (Gap-K%, 2026)",
               _gapk, capabilities=frozenset({LOGPROBS, TOP_K, MOMENTS})))
register(Score("tagtab", "Tag&Tab",
               "mean log-probability of each sentence's rarest keywords, rarity from declared non-members (Tag&Tab, "
               "Antebi et al. 2025)", _tagtab, inputs=NON_MEMBERS))
