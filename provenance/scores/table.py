"""Documents -> TokenStats -> one row of scores per document (the table the CLI writes and the pages show)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..documents import Document, unique_names
from ..lm.cache import StatsCache, cached_token_statistics
from ..lm.interface import LOGPROBS, TOP_K, LanguageModel, require
from ..lm.token_stats import NoScoredTokensError, ScoringSettings, TokenStats
from . import formulas, registry
from .approximate import APPROX_TOP_K
from .declared import MEMBER_TEXTS, NON_MEMBER_TEXTS, DeclaredTexts
from .formulas import DEFAULT_K
from .registry import Score, ScoreInputs

log = logging.getLogger(__name__)

BASE_COLUMNS = ["document", "tokens", "nll", "perplexity"]


@dataclass
class ScoredDocuments:
    """The score table (one row per document that could be scored), the TokenStats behind it, and one sentence
    per document that could not be scored."""

    table: pd.DataFrame
    stats: dict[str, TokenStats]
    errors: dict[str, str]


def validate_scores(scores: Sequence[str], model: LanguageModel, ref_model: LanguageModel | None,
                    observer: LanguageModel | None, declared: DeclaredTexts | None = None, *,
                    check_declared: bool = True) -> list[Score]:
    """The registered scores named in ``scores`` (de-duplicated, in order), after checking that the models they
    need were given, that the texts they read were declared (unless ``check_declared`` is False: the caller
    declares them later) and that the target model can provide what each needs; each failure is a sentence. A score
    the model cannot compute exactly is replaced by its registered approximation when the model can provide what
    that one needs (e.g. ``minkpp`` -> ``minkpp_approx`` on a served model); its column is then the
    approximation's, labelled "approx." wherever it is shown."""
    entries = [_exact_or_approximate(registry.get(name), model) for name in dict.fromkeys(scores)]
    entries = list(dict.fromkeys(entries))
    for entry in entries:
        if check_declared and NON_MEMBER_TEXTS in entry.inputs and (declared is None or not declared.non_members):
            raise ValueError(f"The '{entry.name}' score needs texts you declare non-members (a reference set: "
                             "--reference), never the documents being judged.")
        if check_declared and MEMBER_TEXTS in entry.inputs and (declared is None or not declared.members):
            raise ValueError(f"The '{entry.name}' score needs texts you declare members (--members), besides "
                             "non-members; on a labelled set they are held out of it by default.")
        if registry.REFERENCE_MODEL in entry.inputs and ref_model is None:
            raise ValueError(f"The '{entry.name}' score needs a reference model (--ref-model).")
        if registry.OBSERVER in entry.inputs and observer is None:
            raise ValueError(f"The '{entry.name}' score needs an observer model sharing the tokenizer (--observer).")
        for capability in sorted(entry.capabilities):
            require(model, capability, f"The '{entry.name}' score")
    return entries


def _exact_or_approximate(entry: Score, model: LanguageModel) -> Score:
    if entry.capabilities <= model.capabilities:
        return entry
    approximation = registry.approximation_of(entry.name)
    if approximation is not None and approximation.capabilities <= model.capabilities:
        log.info("%s cannot compute %s exactly; using %s", model.spec, entry.name, approximation.name)
        return approximation
    return entry  # refused below, with the sentence naming the backend and the missing capability


def settings_for(entries: Sequence[Score], settings: ScoringSettings, model: LanguageModel) -> ScoringSettings:
    """``settings`` with enough top-k alternatives for the scores that read them (approximations)."""
    if any(TOP_K in e.capabilities for e in entries) and settings.top_k < APPROX_TOP_K:
        return replace(settings, top_k=min(APPROX_TOP_K, getattr(model, "max_top_k", APPROX_TOP_K)))
    return settings


def score_documents(
    model: LanguageModel,
    documents: Sequence[Document],
    scores: Sequence[str] = registry.default_scores(),
    *,
    k: float = DEFAULT_K,
    settings: ScoringSettings = ScoringSettings(),
    cache: StatsCache | None = None,
    ref_model: LanguageModel | None = None,
    observer: LanguageModel | None = None,
    declared: DeclaredTexts | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_row: Callable[[dict], None] | None = None,
) -> ScoredDocuments:
    """Score documents with every requested membership score (all oriented higher = more likely a member).

    Returns a table with columns ``document, tokens, nll, perplexity`` and one column per score. ``tokens`` counts
    scored tokens. Documents with no scored token are left out of the table and explained in ``errors``.
    ``progress(tokens_done, tokens_total)`` reports the target model's passes (the texts and, for ``lowercase``,
    their lower-cased forms, scored together); ``on_row(row)`` is called as each row is ready. ``declared``: the
    texts some scores read besides the document (scores/declared.py); a document among them gets NaN for those.
    """
    entries = validate_scores(scores, model, ref_model, observer, declared)
    settings = settings_for(entries, settings, model)
    names = [e.name for e in entries]
    if entries and not any(LOGPROBS in e.capabilities for e in entries):
        return _generation_only(model, unique_names(documents), entries, k, settings, on_row)
    needs = set().union(*(e.inputs for e in entries)) if entries else set()
    documents = unique_names(documents)
    texts = [d.text for d in documents]
    lowered = lowercase_variants(texts, names)
    stats = cached_token_statistics(model, texts + lowered, settings, cache=cache, progress=progress,
                                    should_stop=should_stop)
    main, lower = stats[: len(texts)], dict(zip(lowered, stats[len(texts):]))
    ref_stats = observer_stats = None
    if registry.REFERENCE_MODEL in needs:
        ref_stats = cached_token_statistics(ref_model, texts, settings, cache=cache, should_stop=should_stop)
    if registry.OBSERVER in needs:
        observer_stats = cached_token_statistics(model, texts, settings, cache=cache, observer=observer,
                                                 should_stop=should_stop)
    same_tokenizer = ref_model is not None and model.same_tokenizer(ref_model)
    rows, stats_by_name, errors = [], {}, {}
    for i, (doc, doc_stats) in enumerate(zip(documents, main)):
        if doc_stats.n_scored == 0:
            errors[doc.name] = str(NoScoredTokensError(f"{doc.name}: too short to score "
                                                        f"({doc_stats.n_tokens} token(s); at least 2 are needed)."))
            continue
        inputs = ScoreInputs(stats=doc_stats, k=k, lower_stats=lower.get(doc.text.lower()),
                             ref_stats=ref_stats[i] if ref_stats else None, same_tokenizer=same_tokenizer,
                             observer_stats=observer_stats[i] if observer_stats else None, model=model,
                             settings=settings, cache=cache, declared=declared)
        row = {"document": doc.name, "tokens": doc_stats.n_scored, "nll": doc_stats.nll,
               "perplexity": formulas.perplexity(doc_stats)}
        row.update({e.name: e.compute(inputs) for e in entries})
        rows.append(row)
        stats_by_name[doc.name] = doc_stats
        if on_row:
            on_row(row)
    table = pd.DataFrame(rows, columns=BASE_COLUMNS + names)
    return ScoredDocuments(table=table, stats=stats_by_name, errors=errors)


def _generation_only(model: LanguageModel, documents: Sequence[Document], entries: Sequence[Score], k: float,
                     settings: ScoringSettings, on_row: Callable[[dict], None] | None) -> ScoredDocuments:
    """Rows for scores that only generate (n-gram coverage), e.g. on a chat API that returns no likelihoods:
    ``tokens`` is the model's count of the text's tokens (an estimate where the server cannot count them), ``nll``
    and ``perplexity`` are missing (NaN)."""
    rows = []
    for doc in documents:
        empty = TokenStats(text=doc.text, token_ids=np.zeros(0, dtype=np.int64), offsets=np.zeros((0, 2), np.int64),
                           logprob=np.zeros(0, np.float32), mu=np.zeros(0, np.float32),
                           sigma=np.zeros(0, np.float32), rank=np.zeros(0, np.int64))
        inputs = ScoreInputs(stats=empty, k=k, model=model, settings=settings)
        row = {"document": doc.name, "tokens": max(model.count_tokens(doc.text) - 1, 0), "nll": np.nan,
               "perplexity": np.nan}
        row.update({e.name: e.compute(inputs) for e in entries})
        rows.append(row)
        if on_row:
            on_row(row)
    table = pd.DataFrame(rows, columns=BASE_COLUMNS + [e.name for e in entries])
    return ScoredDocuments(table=table, stats={}, errors={})


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

    return pd.DataFrame({
        "position": np.arange(1, stats.n_tokens), "token": tokens, "start": offsets[:, 0], "end": offsets[:, 1],
        "logprob": stats.logprob.astype(float), "probability": np.exp(stats.logprob.astype(float)),
        "rank": stats.rank, "bucket": [rank_bucket(int(r)) for r in stats.rank],
        "z": formulas.standardised_logprob(stats), "alternatives": alternatives,
    })
