"""Step 4 of ghost sentences: testing a model for registered identifiers.

(a) The perplexity test: each identifier's NLL (``identifier_nll``, only the identifier's tokens after an optional
context) is ranked among M fresh draws from the same generator scored the same way (``null_nll``, cached per model,
generator, scoring settings and context in a ``NullCache``). p = (1 + #{null NLL <= observed}) / (M + 1) is exactly
uniform when the model never saw the identifier; exposure = log2(M + 1) - log2(rank) in bits; Fisher's method combines
identifiers. (b) The last-k words test: prompt with all but the last k words and check whether greedy decoding
reproduces them exactly. ``detect`` runs both and returns a ``GhostDetection`` whose ``verdict`` is a
``verdicts.verdict.Verdict`` made by ``decide`` (``verdict_for``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from ..files import sha256_text
from ..lm.cache import StatsCache, cached_token_statistics
from ..lm.interface import GENERATION, LOGPROBS, LanguageModel, require
from ..verdicts.pvalues import empirical_p_values
from ..lm.token_stats import ScoringSettings, TokenStats
from ..verdicts.verdict import Verdict, decide, format_p
from .generator import GhostError, GhostGenerator, generate_identifiers, load_wordlist
from .registry import GhostEntry, write_json

DEFAULT_NULL = 1000
DEFAULT_ALPHA = 0.01
DEFAULT_LAST_K = (1, 2, 3)
NULL_CHUNK = 25  # null draws scored between two saves of a NullCache: a Stop loses at most these


def span_nll(stats: TokenStats, start_char: int = 0) -> float:
    """Mean NLL (nats per token) of the scored tokens that end after character ``start_char`` of the scored text,
    i.e. the identifier's tokens when the text is ``context + identifier`` and ``start_char = len(context)``."""
    mask = stats.offsets[1:, 1] > start_char
    if not mask.any():
        raise GhostError(f"The identifier in '{stats.text[:60]}' has no scored token; it is too short to test.")
    return float(-np.mean(stats.logprob[mask], dtype=np.float64))


def identifier_nll(model: LanguageModel, identifiers: Sequence[str], *, context: str = "",
                   settings: ScoringSettings = ScoringSettings(), cache: StatsCache | None = None,
                   **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """NLL of each identifier scored after ``context`` and its number of scored tokens: two arrays of shape (n,),
    float64 NLL in nats per token (lower = more likely) and int64 token counts.

    One batched pass through ``lm.cache.cached_token_statistics``; other keyword arguments (progress, should_stop,
    max_batch_tokens ...) go to ``lm.statistics.iter_token_statistics``.
    """
    texts = [context + ident for ident in identifiers]
    stats = cached_token_statistics(model, texts, settings, cache, **kwargs)
    nll = np.array([span_nll(s, len(context)) for s in stats], dtype=np.float64)
    tokens = np.array([int(np.count_nonzero(s.offsets[1:, 1] > len(context))) for s in stats], dtype=np.int64)
    return nll, tokens


class NullCache:
    """Null draws and their NLLs, per model identity, generator settings, scoring settings and context.

    Kept on disk as small JSON files (texts and NLLs) when ``directory`` is given, else in memory. Asking for more
    draws than cached scores only the extra ones; asking for fewer reuses the first M. An entry may hold more texts
    than NLLs: draws made but not scored yet (a run that stopped while scoring them), the first to be scored next.
    A subclass may keep entries elsewhere by overriding ``load`` and ``store``.
    """

    def __init__(self, directory: str | Path | None = None):
        self.directory = Path(directory) if directory else None
        self._memory: dict[str, dict] = {}

    @staticmethod
    def key(model: LanguageModel, generator: GhostGenerator, settings: ScoringSettings, context: str) -> str:
        parts = [model.identity, generator.key(), settings.key(model.context_length),
                 sha256_text(context)]
        return sha256_text("|".join(parts))[:32]

    def load(self, key: str) -> tuple[list[str], list[float]]:
        """(draws, NLLs of the first ``len(NLLs)`` draws) for ``key``; ([], []) when none are kept."""
        if key in self._memory:
            entry = self._memory[key]
        elif self.directory is not None and (self.directory / f"{key}.json").is_file():
            try:
                entry = json.loads((self.directory / f"{key}.json").read_text(encoding="utf-8"))
                if len(entry["texts"]) < len(entry["nll"]):
                    raise ValueError
            except (OSError, ValueError, KeyError, TypeError):
                return [], []  # a damaged cache file is recomputed, never trusted
            self._memory[key] = entry
        else:
            return [], []
        return list(entry["texts"]), [float(x) for x in entry["nll"]]

    def store(self, key: str, texts: list[str], nll: list[float], meta: dict) -> None:
        """Keep the draws ``texts`` and the NLLs of the first ``len(nll)`` of them (``meta`` says what they are)."""
        entry = {**meta, "texts": texts, "nll": nll}
        self._memory[key] = entry
        if self.directory is not None:
            write_json(entry, self.directory / f"{key}.json")


def null_nll(model: LanguageModel, generator: GhostGenerator, n_null: int = DEFAULT_NULL, **kwargs) -> np.ndarray:
    """NLLs of ``n_null`` fresh identifiers from ``generator`` scored exactly like the tested ones; shape (M,)
    (``null_draws`` without the draws themselves; the same keyword arguments)."""
    return null_draws(model, generator, n_null, **kwargs)[1]


def null_draws(model: LanguageModel, generator: GhostGenerator, n_null: int = DEFAULT_NULL, *, context: str = "",
               exclude: Iterable[str] = (), settings: ScoringSettings = ScoringSettings(),
               null_cache: NullCache | None = None, rng=None, chunk: int = NULL_CHUNK,
               progress: Callable[[int, int], None] | None = None,
               on_draws: Callable[[int, int], None] | None = None, **kwargs) -> tuple[list[str], np.ndarray]:
    """``n_null`` fresh identifiers from ``generator`` and their NLLs (shape (M,)), scored exactly like the tested
    ones.

    Draws never equal an identifier in ``exclude`` (the registry). With a ``null_cache``, the draws are kept before
    any is scored and the NLLs after every ``chunk`` of them, so a stopped or killed run loses at most one chunk and
    the next call scores exactly the draws that are missing (the same draws an uninterrupted run would have scored).
    Scored by ``identifier_nll``; ``progress(tokens_done, tokens_total)`` covers every chunk; ``on_draws(scored,
    n_null)`` counts draws instead: those already scored (a resumed run) at once, then as each chunk goes (within
    a chunk, in proportion to its tokens), so a page can say how many draws are done and kept. Other keyword
    arguments (should_stop, max_batch_tokens ...) go to the scorer.
    """
    if n_null < 1:
        raise GhostError(f"The number of null draws must be at least 1; got {n_null}.")
    key = NullCache.key(model, generator, settings, context)
    texts, values = null_cache.load(key) if null_cache is not None else ([], [])
    excluded = set(exclude)
    scored = [(t, v) for t, v in zip(texts, values) if t not in excluded]
    drawn = [t for t in texts[len(values):] if t not in excluded]
    texts, values = [t for t, _ in scored] + drawn, [v for _, v in scored]
    meta = {"model": model.identity, "model_name": model.name, "generator": generator.to_dict(), "context": context,
            "scoring": settings.key(model.context_length)}
    if len(texts) < n_null:
        texts += generate_identifiers(generator, n_null - len(texts), exclude=excluded | set(texts), rng=rng)
        if null_cache is not None:
            null_cache.store(key, texts, values, meta)
    todo = texts[len(values): n_null]
    total = sum(max(model.count_tokens(context + t) - 1, 0) for t in todo) if progress is not None and todo else 0
    offset = 0
    if on_draws is not None:
        on_draws(min(len(values), n_null), n_null)
    for lo in range(0, len(todo), max(1, chunk)):
        chunk_tokens = [0]
        batch = todo[lo: lo + max(1, chunk)]
        before = len(values)

        def chunk_progress(done: int, tokens: int) -> None:
            chunk_tokens[0] = tokens
            if progress is not None:
                progress(min(offset + done, total), total)
            if on_draws is not None and tokens:
                on_draws(min(before + int(len(batch) * done / tokens), n_null), n_null)

        track = progress is not None or on_draws is not None
        nll = identifier_nll(model, batch, context=context, settings=settings,
                             progress=chunk_progress if track else None, **kwargs)[0]
        values += nll.tolist()
        offset += chunk_tokens[0]
        if null_cache is not None:
            null_cache.store(key, texts, values, meta)
        if on_draws is not None:
            on_draws(min(len(values), n_null), n_null)
    return texts[:n_null], np.asarray(values[:n_null], dtype=np.float64)


def empirical_p_value(observed: float, null: np.ndarray) -> tuple[float, int]:
    """(p, rank) with rank = 1 + #{null <= observed} and p = rank / (M + 1): small when the observed NLL is lower
    than almost all null NLLs. Exactly uniform on {1/(M+1), ..., 1} when observed and null are exchangeable.

    This is ``verdicts.empirical_p_values`` (one definition of an empirical p-value) on the score -NLL, so that
    higher = more likely trained on, as everywhere else."""
    null = np.asarray(null, dtype=np.float64)
    p = float(empirical_p_values([-observed], -null)[0])
    return p, int(round(p * (len(null) + 1)))


def exposure_bits(rank: int, n_null: int) -> float:
    """Exposure (Carlini et al. 2019) in bits: log2(M + 1) - log2(rank); 0 for the least likely, log2(M+1) at most."""
    return math.log2(n_null + 1) - math.log2(rank)


def fisher_combined(p_values: Sequence[float]) -> float:
    """Fisher's method across independent p-values (scipy.stats.combine_pvalues)."""
    from scipy.stats import combine_pvalues

    p = np.asarray(p_values, dtype=np.float64)
    if len(p) == 1:
        return float(p[0])
    return float(combine_pvalues(p, method="fisher").pvalue)


def last_k_prompts(entry: GhostEntry, k: int, context: str = "") -> tuple[str, list[str]]:
    """(prompt, target words): the context and the identifier up to (not including) the separator before its last k
    words, and those k words as rendered."""
    g = entry.generator
    prefix, words, _ = g.split(entry.identifier)
    if not 1 <= k < len(words):
        raise GhostError(f"The last-k words test needs k between 1 and {len(words) - 1} for identifiers of "
                         f"{len(words)} words; got k = {k}.")
    return context + prefix + g.separator.join(words[:-k]), words[-k:]


def _is_hit(continuation: str, separator: str, target: Sequence[str]) -> bool:
    """Exact match: the continuation starts with separator + the target words, not followed by more letters."""
    expected = separator + separator.join(target)
    if separator == " ":
        continuation, expected = " " + continuation.lstrip(" "), " " + expected.lstrip(" ")
    return continuation.startswith(expected) and not continuation[len(expected): len(expected) + 1].isalpha()


def last_k_test(model: LanguageModel, entries: Sequence[GhostEntry], ks: Sequence[int] = DEFAULT_LAST_K, *,
                context: str = "") -> pd.DataFrame:
    """The last-k words test: for each entry and k, prompt with all but the last k words and decode greedily.

    Returns one row per entry with a boolean column ``last_{k}_hit`` per k (True = the greedy continuation is
    exactly the k withheld words) and the continuation ``last_{k}_output``.
    """
    rows = [{"id": e.id} for e in entries]
    for k in ks:
        prompts, targets = zip(*(last_k_prompts(e, k, context) for e in entries))
        longest = max(model.count_tokens(" " + " ".join(t), special_tokens=False) for t in targets)
        outputs = model.greedy_continuations(prompts, max_new_tokens=longest + 2)
        for row, e, target, output in zip(rows, entries, targets, outputs):
            row[f"last_{k}_hit"] = _is_hit(output, e.generator.separator, target)
            row[f"last_{k}_output"] = output
    return pd.DataFrame(rows)


@dataclass
class GhostDetection:
    """Result of ``detect``.

    ``table``: one row per identifier: ``id, identifier, tokens, nll`` (nats per token), ``null_median_nll``,
    ``rank``, ``p_value``, ``exposure_bits``, ``last_k_hit`` (any k) and ``last_{k}_hit`` per k; with a reference
    model also ``ref_nll`` and ``nll_difference`` (ref_nll - nll: higher = the tested model finds the identifier
    easier than the reference does) and ``null_median_difference``.
    ``statistic``: the column the identifiers were ranked by, "nll" (lower = more familiar) or "nll_difference"
    (higher = more familiar). ``null``: that statistic for the null draws, per generator key, shape (M,);
    ``n_null``: M, the fresh draws per generator. ``reference``: the reference model's name, or None.
    ``verdict``: the calibrated verdict on all identifiers together (``verdicts.verdict.Verdict``, made by
    ``decide``): its ``p_value`` is Fisher's method over the ``p_value`` column, its ``fpr`` the false-positive rate
    the test was set at; ``sentence()`` and ``words()`` are for people, ``label`` for code.
    """

    table: pd.DataFrame
    null: dict[str, np.ndarray]
    n_null: int
    verdict: Verdict
    statistic: str = "nll"
    reference: str | None = None

    @property
    def combined_p(self) -> float:
        """Fisher's method over the identifiers' p-values (small = the model finds them familiar)."""
        return self.verdict.p_value

    @property
    def alpha(self) -> float:
        """The false-positive rate the verdict is set at."""
        return self.verdict.fpr


def smallest_combined_p(n_identifiers: int, n_null: int) -> float:
    """The smallest combined p-value ``n_identifiers`` identifiers can reach with ``n_null`` draws each: Fisher's
    method over p = 1 / (n_null + 1), every identifier ranked first."""
    return fisher_combined([1 / (n_null + 1)] * n_identifiers)


def fewest_null_draws(n_identifiers: int, alpha: float) -> int:
    """The smallest number of null draws M with which ``n_identifiers`` identifiers, each ranked first, reach a
    combined p-value of at most ``alpha`` (for one identifier: M = 1/alpha - 1, rounded up)."""
    if not 0 < alpha < 1:
        raise GhostError(f"The false-positive rate must be between 0 and 1; got {alpha}.")
    lo, hi = 1, 1
    while smallest_combined_p(n_identifiers, hi) > alpha:
        hi *= 2
    while lo < hi:
        mid = (lo + hi) // 2
        if smallest_combined_p(n_identifiers, mid) <= alpha:
            hi = mid
        else:
            lo = mid + 1
    return lo


def describe_method(n_identifiers: int, n_null: int, reference: str | None = None) -> str:
    """What the identifiers were compared with, in words (the ``method`` of a ghost verdict); ``reference`` names
    the reference model of a reference-calibrated test."""
    statistic = "its NLL" if reference is None else f"its NLL under {reference} minus its NLL under the tested model"
    subject = (f"{n_identifiers} identifier(s), each ranked by {statistic}" if n_identifiers > 1
               else f"1 identifier, ranked by {statistic}")
    method = f"{subject} among {n_null} fresh draws from its generator (never published, so never trained on)"
    return method + ("; combined with Fisher's method" if n_identifiers > 1 else "")


def verdict_for(combined_p: float, n_identifiers: int, n_null: int, alpha: float,
                reference: str | None = None) -> Verdict:
    """The verdict on ``n_identifiers`` identifiers whose exact p-values (each a rank among ``n_null`` fresh draws)
    combine to ``combined_p``, at false-positive rate ``alpha``, made by ``verdicts.verdict.decide``.

    The false-positive rate is ``alpha`` exactly, because the p-values are exact under "never trained on these
    identifiers". Inconclusive when too few null draws were taken for any result to reach ``alpha`` (the smallest
    possible combined p is above it): the reason says how many draws are needed.
    """
    floor = smallest_combined_p(n_identifiers, n_null)
    problems = []
    if floor > alpha:
        problems.append(f"too few null draws: the smallest possible p = {format_p(floor)} is above the "
                        f"false-positive rate {alpha:g}, so at least {fewest_null_draws(n_identifiers, alpha)} "
                        f"draws are needed")
    return decide(combined_p, alpha, method=describe_method(n_identifiers, n_null, reference), problems=problems)


def check_test(entries: Sequence[GhostEntry], alpha: float, last_k: Sequence[int] = DEFAULT_LAST_K) -> None:
    """Refuse, with a GhostError saying why, a test that cannot run: no identifiers, a false-positive rate outside
    (0, 1), or a last-k value impossible for an identifier's number of words. Nothing is scored."""
    if not entries:
        raise GhostError("The registry has no identifiers to test.")
    if not 0 < alpha < 1:
        raise GhostError(f"The false-positive rate must be between 0 and 1; got {alpha}.")
    for e in entries:
        for k in last_k:
            last_k_prompts(e, k)


def last_k_chance(generator: GhostGenerator, ks: Sequence[int]) -> float:
    """Under "never trained on it", the chance that any of the last-k tests in ``ks`` hits: the withheld k words of
    an unpublished identifier are k independent uniform draws from the wordlist (size V), unknown to the model, so
    whatever it continues with matches them with probability V^-k; over several k, at most the sum (union bound)."""
    size = len(load_wordlist(generator.wordlist))
    return float(min(1.0, sum(size ** -float(k) for k in ks)))


def generation_test(model: LanguageModel, entries: Sequence[GhostEntry], *, ks: Sequence[int] = DEFAULT_LAST_K,
                    context: str = "", alpha: float = DEFAULT_ALPHA) -> GhostDetection:
    """The ghost test for a model that only generates text (a chat API): the last-k words test with an exact
    p-value per identifier: ``last_k_chance`` when any k hits (a continuation a model that never saw the identifier
    produces with at most that probability), 1 otherwise; combined over identifiers with Fisher's method, which
    stays valid (conservative) for such super-uniform p-values. It needs many repetitions in training to hit.

    Returns a GhostDetection whose table has ``id, identifier, p_value, last_k_hit, last_{k}_hit, last_{k}_output``;
    ``statistic`` is "last_k" and there is no null of draws (``null`` empty, ``n_null`` 0).
    """
    require(model, GENERATION, "The last-k words test")
    if not ks:
        raise GhostError(f"{model.name} ({model.spec}) only generates text, so only the last-k words test can run; "
                         "choose at least one k.")
    check_test(entries, alpha, ks)
    hits = last_k_test(model, entries, ks, context=context)
    hit_cols = [f"last_{k}_hit" for k in ks]
    any_hit = hits[hit_cols].any(axis=1).to_numpy()
    chance = np.array([last_k_chance(e.generator, ks) for e in entries])
    table = pd.DataFrame({"id": [e.id for e in entries], "identifier": [e.identifier for e in entries],
                          "p_value": np.where(any_hit, chance, 1.0), "last_k_hit": any_hit})
    for k in ks:
        table[f"last_{k}_hit"] = hits[f"last_{k}_hit"].to_numpy()
        table[f"last_{k}_output"] = hits[f"last_{k}_output"].to_numpy()
    method = (f"the last-k words test (k = {', '.join(map(str, ks))}) on {len(entries)} identifier(s): a hit by a "
              "model that never saw an identifier has a known, tiny chance (the wordlist size to the power -k)"
              + ("; combined with Fisher's method" if len(entries) > 1 else ""))
    return GhostDetection(table=table, null={}, n_null=0, statistic="last_k",
                          verdict=decide(fisher_combined(table["p_value"].to_numpy()), alpha, method=method))


def registered_on(entries: Sequence[GhostEntry]) -> date:
    """The day (UTC, as the registry records it) the earliest of ``entries`` was registered: a reference model
    must have been released before it (``check_reference``)."""
    if not entries:
        raise GhostError("The registry has no identifiers to test.")
    return min(datetime.fromisoformat(e.created).date() for e in entries)


def check_reference(entries: Sequence[GhostEntry], ref_released: date | None) -> None:
    """Refuse a reference model that may have seen the identifiers: one released on or after the day the earliest
    tested identifier was registered (``registered_on``), or one whose release date the user did not state."""
    if ref_released is None:
        raise GhostError("Say when the reference model was released: it must predate your identifiers, so that it "
                         "cannot have been trained on them.")
    registered = registered_on(entries)
    if ref_released >= registered:
        raise GhostError(f"The reference model was released on {ref_released.isoformat()}, but the earliest of these "
                         f"identifiers was registered on {registered.isoformat()}: a model released after that day "
                         "may have been trained on them, so it cannot serve as a reference. Choose a model released "
                         "before it.")


def detect(model: LanguageModel, entries: Sequence[GhostEntry], *, n_null: int = DEFAULT_NULL, context: str = "",
           alpha: float = DEFAULT_ALPHA, last_k: Sequence[int] = DEFAULT_LAST_K,
           settings: ScoringSettings = ScoringSettings(), cache: StatsCache | None = None,
           null_cache: NullCache | None = None, exclude: Iterable[str] = (), rng=None,
           progress: Callable[[int, int], None] | None = None,
           should_stop: Callable[[], bool] | None = None, ref_model: LanguageModel | None = None,
           ref_released: date | None = None,
           on_draws: Callable[[int, int], None] | None = None) -> GhostDetection:
    """Test a model for registered identifiers: the perplexity test (exact p-values, exposure, Fisher) and the
    last-k words test (skipped when ``last_k`` is empty).

    Every identifier is ranked among ``n_null`` draws from its own generator settings, scored with the same model,
    ``context`` and scoring settings. The identifiers in ``entries`` and ``exclude`` never appear among the draws.
    ``rng`` draws the nulls (``secrets.SystemRandom()`` by default). Identifiers of one generator share one set of
    draws (cached in ``null_cache``): each p-value is still exactly uniform for an unseen identifier, and the
    dependence this sharing adds between p-values, which Fisher's method assumes independent, shrinks as 1/sqrt(M).
    ``progress(tokens_done, tokens_total)`` reports the scoring of the null draws, the long part;
    ``on_draws(draws_done, draws_total)`` counts the same work in draws, over every generator's null together.

    With ``ref_model`` (the reference-calibrated test), each identifier is ranked by NLL_ref - NLL_target among the
    same difference for the fresh draws, scored the same way under both models. The null stays exact (fresh draws
    were never published, so neither model saw them), and what cancels is each passphrase's own difficulty, which
    is what hides memorisation from the plain test on a real pretrained model. ``ref_released`` must predate the
    registration of every tested identifier (``check_reference``).
    """
    if LOGPROBS not in model.capabilities:  # a chat API: only the black-box test can run
        if ref_model is not None:
            raise GhostError(f"{model.name} ({model.spec}) returns generated text only, so the reference-calibrated "
                             "test, which needs its likelihood of each identifier, cannot run; leave the reference "
                             "model out to run the last-k words test.")
        return generation_test(model, entries, ks=last_k, context=context, alpha=alpha)
    check_test(entries, alpha, last_k)
    if ref_model is not None:
        check_reference(entries, ref_released)
    excluded = set(exclude) | {e.identifier for e in entries}
    observed, tokens = identifier_nll(model, [e.identifier for e in entries], context=context, settings=settings,
                                      cache=cache, should_stop=should_stop)
    observed_ref = (identifier_nll(ref_model, [e.identifier for e in entries], context=context, settings=settings,
                                   cache=cache, should_stop=should_stop)[0] if ref_model is not None else None)
    nulls: dict[str, np.ndarray] = {}
    generators = list(dict.fromkeys(e.generator for e in entries))
    for i, g in enumerate(generators):
        counted = None if on_draws is None else \
            (lambda done, _total, i=i: on_draws(i * n_null + done, len(generators) * n_null))
        texts, null = null_draws(model, g, n_null, context=context, exclude=excluded, settings=settings,
                                 null_cache=null_cache, rng=rng, progress=progress, should_stop=should_stop,
                                 on_draws=counted)
        if ref_model is not None:  # the same draws under the reference model (kept in ``cache`` as they are scored)
            null = identifier_nll(ref_model, texts, context=context, settings=settings, cache=cache,
                                  should_stop=should_stop)[0] - null
        nulls[g.key()] = null
    rows = []
    for i, (e, nll) in enumerate(zip(entries, observed)):
        null = nulls[e.generator.key()]
        row = {"id": e.id, "identifier": e.identifier, "tokens": int(tokens[i]), "nll": float(nll)}
        if ref_model is None:
            p, rank = empirical_p_value(float(nll), null)
            row["null_median_nll"] = float(np.median(null))
        else:  # higher difference = more familiar: rank its negation as an NLL
            difference = float(observed_ref[i] - nll)
            p, rank = empirical_p_value(-difference, -null)
            row.update(ref_nll=float(observed_ref[i]), nll_difference=difference,
                       null_median_difference=float(np.median(null)))
        rows.append(row | {"rank": rank, "p_value": p, "exposure_bits": exposure_bits(rank, len(null))})
    table = pd.DataFrame(rows)
    if last_k:
        hits = last_k_test(model, entries, last_k, context=context)
        hit_cols = [f"last_{k}_hit" for k in last_k]
        table["last_k_hit"] = hits[hit_cols].any(axis=1).to_numpy()
        for k in last_k:
            table[f"last_{k}_hit"] = hits[f"last_{k}_hit"].to_numpy()
    combined = fisher_combined(table["p_value"].to_numpy())
    reference = ref_model.name if ref_model is not None else None
    return GhostDetection(table=table, null=nulls, n_null=n_null,
                          verdict=verdict_for(combined, len(entries), n_null, alpha, reference),
                          statistic="nll" if ref_model is None else "nll_difference", reference=reference)
