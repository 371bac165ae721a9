"""Scoring a set of documents as an investigation: every row saved as it is computed, an interrupted run resumed.

``score_set`` is the one path the CLI and the dashboard share; ``open_investigation`` finds or creates the
investigation and refuses to mix scores of another model or other settings; ``scoring_settings_record`` is what is
stored (and compared when resuming) and ``scoring_settings_from_record`` reads it back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from ..documents import Document, IngestError
from ..scores import registry
from ..scores.formulas import DEFAULT_K
from .records import Investigation, text_sha256, to_jsonable
from .store import COMPLETE, FAILED, INTERRUPTED, RUNNING, InvestigationStore, StoreError


@dataclass
class ScoredSet:
    """What ``score_set`` returns: the investigation after the run, the full result table (earlier runs
    included), the sentences for unscorable documents, the TokenStats computed in this run (for per-token views),
    how many documents this run scored and skipped, and whether it was cancelled."""

    investigation: Investigation
    table: pd.DataFrame
    errors: dict[str, str]
    stats: dict = field(default_factory=dict)
    scored_now: int = 0
    skipped: int = 0
    cancelled: bool = False


def scoring_settings_record(scores: Sequence[str], *, k: float, settings, ref_model=None, observer=None) -> dict:
    """The settings that change the numbers, as stored with an investigation (and compared when resuming)."""
    return {
        "scores": list(dict.fromkeys(scores)), "k": float(k), "window": settings.window, "stride": settings.stride,
        "top_k": settings.top_k, "max_window": settings.max_window,
        "ref_model": None if ref_model is None else {"spec": ref_model.spec, "identity": ref_model.identity},
        "observer": None if observer is None else {"spec": observer.spec, "identity": observer.identity},
    }


def scoring_settings_from_record(record: dict, *, min_top_k: int = 0):
    """The ``ScoringSettings`` an investigation was scored with (from its stored settings record), so a later view
    (e.g. per-token statistics) sees the same windows; ``min_top_k`` asks for at least that many alternatives."""
    from ..lm.token_stats import ScoringSettings

    defaults = ScoringSettings()
    return ScoringSettings(window=record.get("window", defaults.window), stride=record.get("stride", defaults.stride),
                           top_k=max(int(record.get("top_k") or 0), min_top_k),
                           max_window=int(record.get("max_window") or defaults.max_window))


def open_investigation(store: InvestigationStore, ref: str | None, model, record: dict) -> Investigation:
    """Find the investigation ``ref`` (id or name) or create it with this model and settings record. An existing
    one must have been run with the same model identity and settings, or a StoreError explains the difference."""
    inv = store.find(ref) if ref else None
    if inv is None:
        return store.create(ref, model_spec=model.spec, model_identity=model.identity, model_info=model.describe(),
                            settings=record)
    if inv.model_identity and inv.model_identity != model.identity:
        raise StoreError(f"The investigation '{inv.name}' was run with the model {inv.model_name} "
                         f"({inv.model_identity[:12]}), not {model.name} ({model.identity[:12]}); its scores cannot "
                         "be mixed. Use the same model, or start a new investigation with another name.")
    if inv.settings and _comparable(inv.settings) != _comparable(record):
        changed = sorted(k for k in set(inv.settings) | set(record) if inv.settings.get(k) != record.get(k))
        raise StoreError(f"The investigation '{inv.name}' was run with different settings ({', '.join(changed)}); "
                         "its scores cannot be mixed. Use the same settings, or start a new investigation.")
    if not inv.model_identity:
        inv = store.update_metadata(inv.id, model_spec=model.spec, model_identity=model.identity,
                                    model_info=model.describe(), settings=record)
    return inv


def _comparable(record: dict) -> str:
    return json.dumps(to_jsonable(record), sort_keys=True)


def score_set(
    store: InvestigationStore,
    investigation: str | None,
    model,
    documents: Sequence[Document],
    scores: Sequence[str] = registry.default_scores(),
    *,
    k: float = DEFAULT_K,
    settings=None,
    cache=None,
    ref_model=None,
    observer=None,
    ingest_errors: Iterable[IngestError] = (),
    batch_documents: int = 16,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_row: Callable[[dict], None] | None = None,
) -> ScoredSet:
    """Score documents as part of an investigation, saving every row as it is computed and resuming where an
    earlier run stopped: the one path the CLI and the dashboard share.

    ``investigation`` is an id or name (created when unknown; None creates one with a dated name). Documents are
    added to it; those already done (same name and text) are skipped. The rest are scored ``batch_documents`` at a
    time with ``pipeline.score_documents``; each row is committed as soon as ``on_row`` delivers it, so a killed
    process loses at most one batch. ``ingest_errors`` (files that could not be read) are kept as the artifact
    ``ingest_errors``. ``progress(tokens_done, tokens_total)`` covers the whole run. When ``should_stop()`` turns
    True the run ends between batches with status 'interrupted' and ``cancelled=True``; other errors mark the
    investigation 'failed' and are raised again. A process killed outright leaves the status 'running' with every
    finished row saved; calling this again with the same documents resumes it.
    """
    from ..scores.table import score_documents, tokens_to_score, validate_scores
    from ..lm.token_stats import ScoringCancelled, ScoringSettings

    settings = settings or ScoringSettings()
    scores = [entry.name for entry in validate_scores(scores, model, ref_model, observer)]
    record = scoring_settings_record(scores, k=k, settings=settings, ref_model=ref_model, observer=observer)
    inv = open_investigation(store, investigation, model, record)
    documents = store.add_documents(inv.id, documents)
    errors_list = [{"source": e.source, "message": e.message} for e in ingest_errors]
    if errors_list:
        previous = store.get_artifact(inv.id, "ingest_errors", []) or []
        merged = previous + [e for e in errors_list if e not in previous]
        store.put_artifact(inv.id, "ingest_errors", merged)
    pending = store.pending_documents(inv.id, documents)
    skipped = len(documents) - len(pending)
    hashes = {d.name: text_sha256(d.text) for d in pending}
    total = tokens_to_score(model, [d.text for d in pending], scores) if progress else 0
    offset = 0
    stats: dict = {}
    scored_now = 0
    cancelled = False
    store.set_status(inv.id, RUNNING, f"{len(pending)} document(s) to score, {skipped} already done.")

    def save_row(row: dict) -> None:
        nonlocal scored_now
        store.add_results(inv.id, [row], hashes=[hashes[row["document"]]])
        scored_now += 1
        if on_row is not None:
            on_row(row)

    try:
        for lo in range(0, len(pending), max(1, batch_documents)):
            if should_stop is not None and should_stop():
                raise ScoringCancelled("Scoring was cancelled.")
            batch = pending[lo: lo + max(1, batch_documents)]
            batch_total = [0]

            def batch_progress(done: int, batch_tokens: int) -> None:
                batch_total[0] = batch_tokens  # tokens this batch computes (cached documents cost nothing)
                if progress is not None:
                    progress(min(offset + done, total), total)

            result = score_documents(model, batch, scores, k=k, settings=settings, cache=cache, ref_model=ref_model,
                                     observer=observer, progress=batch_progress, should_stop=should_stop,
                                     on_row=save_row)
            for name, message in result.errors.items():
                store.add_unscorable(inv.id, name, message, sha256=hashes[name])
            stats.update(result.stats)
            offset += batch_total[0]
        if progress is not None and total:
            progress(total, total)
        store.set_status(inv.id, COMPLETE, f"{scored_now} document(s) scored in this run, {skipped} were already "
                                           "done.")
    except ScoringCancelled:
        cancelled = True
        store.set_status(inv.id, INTERRUPTED, "Cancelled; run it again to score the remaining documents.")
    except BaseException as exc:
        interrupted = isinstance(exc, (KeyboardInterrupt, SystemExit))
        store.set_status(inv.id, INTERRUPTED if interrupted else FAILED,
                         "Stopped; run it again to resume." if interrupted else f"Failed: {exc}")
        raise
    return ScoredSet(investigation=store.get(inv.id), table=store.results(inv.id),
                            errors=store.unscorable(inv.id), stats=stats, scored_now=scored_now, skipped=skipped,
                            cancelled=cancelled)
