"""Documents -> TokenStats -> one row of scores per document (the table the CLI writes and the pages show)."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import formulas as attacks
from ..lm.cache import StatsCache, cached_token_statistics
from .ngram_coverage import ngram_coverage
from ..documents import Document, unique_names
from ..lm.interface import LanguageModel
from ..lm.token_stats import NoScoredTokensError, ScoringSettings, TokenStats

log = logging.getLogger(__name__)

BASE_COLUMNS = ["document", "tokens", "nll", "perplexity"]


@dataclass
class ScoredDocuments:
    """The score table (one row per document that could be scored), the TokenStats behind it, and one sentence
    per document that could not be scored."""

    table: pd.DataFrame
    stats: dict[str, TokenStats]
    errors: dict[str, str]


def validate_scores(scores: Sequence[str], ref_model: LanguageModel | None, observer: LanguageModel | None) -> list[str]:
    """Check score names and that the models they need were given; return them de-duplicated in order."""
    unknown = [s for s in scores if s not in attacks.ALL_SCORES]
    if unknown:
        raise ValueError(f"Unknown score(s): {', '.join(unknown)}. Choose from: {', '.join(attacks.ALL_SCORES)}.")
    if "ref" in scores and ref_model is None:
        raise ValueError("The 'ref' score needs a reference model (--ref-model).")
    if "binoculars" in scores and observer is None:
        raise ValueError("The 'binoculars' score needs an observer model sharing the tokenizer (--observer).")
    return list(dict.fromkeys(scores))


def score_documents(
    model: LanguageModel,
    documents: Sequence[Document],
    scores: Sequence[str] = attacks.DEFAULT_SCORES,
    *,
    k: float = 0.2,
    settings: ScoringSettings = ScoringSettings(),
    cache: StatsCache | None = None,
    ref_model: LanguageModel | None = None,
    observer: LanguageModel | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_row: Callable[[dict], None] | None = None,
) -> ScoredDocuments:
    """Score documents with every requested membership score (all oriented higher = more likely a member).

    Returns a table with columns ``document, tokens, nll, perplexity`` and one column per score. ``tokens`` counts
    scored tokens. Documents with no scored token are left out of the table and explained in ``errors``.
    ``progress(tokens_done, tokens_total)`` reports the target model's passes (the texts and, for ``lowercase``,
    their lower-cased forms, scored together); ``on_row(row)`` is called as each row is ready.
    """
    scores = validate_scores(scores, ref_model, observer)
    documents = unique_names(documents)
    texts = [d.text for d in documents]
    lowered = lowercase_variants(texts, scores)
    stats = cached_token_statistics(model, texts + lowered, settings, cache=cache, progress=progress,
                                    should_stop=should_stop)
    main, lower = stats[: len(texts)], dict(zip(lowered, stats[len(texts):]))
    extra: dict[str, list[TokenStats]] = {}
    if "ref" in scores:
        extra["ref"] = cached_token_statistics(ref_model, texts, settings, cache=cache, should_stop=should_stop)
    if "binoculars" in scores:
        extra["binoculars"] = cached_token_statistics(model, texts, settings, cache=cache, observer=observer,
                                                      should_stop=should_stop)
    same_tokenizer = ref_model is not None and model.same_tokenizer(ref_model)
    rows, stats_by_name, errors = [], {}, {}
    for i, (doc, stats) in enumerate(zip(documents, main)):
        if stats.n_scored == 0:
            errors[doc.name] = str(NoScoredTokensError(f"{doc.name}: too short to score "
                                                        f"({stats.n_tokens} token(s); at least 2 are needed)."))
            continue
        row = {"document": doc.name, "tokens": stats.n_scored, "nll": stats.nll, "perplexity": attacks.perplexity(stats)}
        for name in scores:
            if name == "loss":
                row[name] = attacks.loss(stats)
            elif name == "zlib":
                row[name] = attacks.zlib_score(stats)
            elif name == "lowercase":
                low = lower.get(doc.text.lower())
                row[name] = 1.0 if low is None else _or_nan(lambda: attacks.lowercase(stats, low))
            elif name == "mink":
                row[name] = attacks.mink(stats, k)
            elif name == "minkpp":
                row[name] = attacks.minkpp(stats, k)
            elif name == "ref":
                row[name] = _or_nan(lambda: attacks.ref(stats, extra["ref"][i], same_tokenizer))
            elif name == "binoculars":
                row[name] = attacks.binoculars(extra["binoculars"][i])
            elif name == "gradnorm":
                row[name] = attacks.gradnorm(model.gradient_norms(doc.text, settings))
            elif name == "ngram_coverage":
                row[name] = ngram_coverage(model, doc.text)
        rows.append(row)
        stats_by_name[doc.name] = stats
        if on_row:
            on_row(row)
    table = pd.DataFrame(rows, columns=BASE_COLUMNS + list(scores))
    return ScoredDocuments(table=table, stats=stats_by_name, errors=errors)


def lowercase_variants(texts: Sequence[str], scores: Sequence[str]) -> list[str]:
    """The lower-cased texts the ``lowercase`` score needs: only those that change (the rest have ratio exactly 1),
    each once."""
    if "lowercase" not in scores:
        return []
    return list(dict.fromkeys(t.lower() for t in texts if t.lower() != t))


def tokens_to_score(model: LanguageModel, texts: Sequence[str], scores: Sequence[str]) -> int:
    """Scored tokens the target model's passes of ``score_documents`` go through (before any cache hit): the
    progress total of a run."""
    return sum(max(model.count_tokens(t) - 1, 0) for t in list(texts) + lowercase_variants(texts, scores))


def _or_nan(compute: Callable[[], float]) -> float:
    """A score whose auxiliary text has no scored token (e.g. lower-casing merged tokens) is missing, not fatal."""
    try:
        value = compute()
    except NoScoredTokensError:
        return math.nan
    return value if np.isfinite(value) else math.nan


# GLTR's rank buckets (Gehrmann et al. 2019): how far down the model's ranking each actual token was.
RANK_BUCKETS = ((10, "top 10"), (100, "top 100"), (1000, "top 1000"), (None, "beyond 1000"))


def rank_bucket(rank: int) -> str:
    for limit, label in RANK_BUCKETS:
        if limit is None or rank <= limit:
            return label
    return RANK_BUCKETS[-1][1]


def token_table(model: LanguageModel, stats: TokenStats, *, max_alternatives: int = 5) -> pd.DataFrame:
    """One row per scored token: its text (from the character offsets), position, log-probability, probability,
    rank, GLTR rank bucket, standardised log-probability z, and the model's top alternatives as readable text.

    Columns: position (token index, >= 1), token, start, end (character offsets in ``stats.text``), logprob (nats),
    probability, rank (1 = the model's first choice), bucket, z, alternatives ("'a' 0.31 · 'b' 0.12", empty when
    the statistics were computed without ``top_k``).
    """
    if not stats.n_scored:
        return pd.DataFrame(columns=["position", "token", "start", "end", "logprob", "probability", "rank",
                                     "bucket", "z", "alternatives"])
    offsets = stats.offsets[1:]
    tokens, previous = [], None
    for pos, (a, b) in enumerate(offsets, start=1):
        piece = stats.text[a:b]
        # byte-level tokenizers split one character into several tokens that share its span: show it once
        tokens.append("" if (a, b) == previous else (piece or model.token_text(int(stats.token_ids[pos]))))
        previous = (a, b)
    alternatives = [""] * stats.n_scored
    if stats.top_ids.size:
        k = min(max_alternatives, stats.top_ids.shape[1])
        alternatives = [" · ".join(f"{model.token_text(int(i))!r} {np.exp(lp):.3g}" for i, lp in zip(ids[:k], lps[:k]))
                        for ids, lps in zip(stats.top_ids, stats.top_logprobs)]
    from .formulas import standardised_logprob

    return pd.DataFrame({
        "position": np.arange(1, stats.n_tokens), "token": tokens, "start": offsets[:, 0], "end": offsets[:, 1],
        "logprob": stats.logprob.astype(float), "probability": np.exp(stats.logprob.astype(float)),
        "rank": stats.rank, "bucket": [rank_bucket(int(r)) for r in stats.rank],
        "z": standardised_logprob(stats), "alternatives": alternatives,
    })
