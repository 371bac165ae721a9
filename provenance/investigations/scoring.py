"""Scoring a set of documents as an investigation: every row saved as it is computed, an interrupted run resumed.

``score_set`` is the use case the CLI (``score --investigation``) and the Documents page share. The pieces it is
made of serve the other use cases of this package too: ``open_scoring`` finds or creates the investigation and
refuses to mix scores of another model or other settings (``scoring_settings_record`` is what is stored and compared
when resuming, ``scoring_settings_from_record`` reads it back); ``CollectionRun`` scores the pending documents of one
collection batch by batch, committing each row as it comes; ``TokenProgress`` reports tokens over several such
runs; ``Recording`` keeps the investigation's status (running, complete, interrupted, failed) in step with the work.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from ..documents import Document, IngestError
from ..files import sha256_text
from ..lm.interface import LanguageModel
from ..lm.token_stats import ScoringCancelled, ScoringSettings
from ..scores import registry
from ..scores.formulas import DEFAULT_K
from .records import Investigation, Kind, to_jsonable
from .store import COMPLETE, FAILED, INTERRUPTED, MAIN, RUNNING, InvestigationStore, StoreError

if TYPE_CHECKING:
    from ..lm.cache import StatsCache
    from ..scores.declared import DeclaredTexts


@dataclass
class SetScores:
    """One collection after a run: its score table (every row so far, earlier runs included, with ``sha256``), the
    sentences for its unscorable documents, the TokenStats computed in this run (document name -> TokenStats), how
    many documents this run scored and how many were already done."""

    table: pd.DataFrame
    errors: dict[str, str]
    stats: dict
    scored_now: int
    skipped: int


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


def scoring_settings_record(scores: Sequence[str], *, k: float, settings: ScoringSettings,
                            ref_model: LanguageModel | None = None, observer: LanguageModel | None = None) -> dict:
    """The settings that change the numbers, as stored with an investigation (and compared when resuming)."""
    return {
        "scores": list(dict.fromkeys(scores)), "k": float(k), "window": settings.window, "stride": settings.stride,
        "top_k": settings.top_k, "max_window": settings.max_window,
        "ref_model": None if ref_model is None else {"spec": ref_model.spec, "identity": ref_model.identity},
        "observer": None if observer is None else {"spec": observer.spec, "identity": observer.identity},
    }


def scoring_settings_from_record(record: dict, *, min_top_k: int = 0) -> ScoringSettings:
    """The ``ScoringSettings`` an investigation was scored with (from its stored settings record), so a later view
    (e.g. per-token statistics) sees the same windows; ``min_top_k`` asks for at least that many alternatives."""
    defaults = ScoringSettings()
    return ScoringSettings(window=record.get("window", defaults.window), stride=record.get("stride", defaults.stride),
                           top_k=max(int(record.get("top_k") or 0), min_top_k),
                           max_window=int(record.get("max_window") or defaults.max_window))


# Kinds one investigation may move between: documents scored on their own may later be compared with a
# reference set (and scored again); every other kind asks a different question and keeps it.
_KIND_UPGRADES = {(Kind.DOCUMENTS, Kind.REFERENCE): Kind.REFERENCE, (Kind.REFERENCE, Kind.DOCUMENTS): Kind.REFERENCE}


def open_investigation(store: InvestigationStore, ref: str | None, model: LanguageModel, record: dict,
                       kind: Kind = Kind.DOCUMENTS) -> Investigation:
    """Find the investigation ``ref`` (id or name) or create it with this model, settings record and ``kind``
    (what the calling use case asks, ``records.Kind``). An existing one must have been run with the same model
    identity and settings, and ask the same kind of question (documents may become documents against a reference
    set), or a StoreError explains the difference."""
    inv = store.find(ref) if ref else None
    if inv is None:  # find-or-create in one transaction: another process may be creating the same name right now
        inv = store.create(ref, model_spec=model.spec, model_identity=model.identity, model_info=model.describe(),
                           settings=record, kind=kind, existing_ok=True)
    if inv.kind != kind:
        if (inv.kind, kind) not in _KIND_UPGRADES:
            raise StoreError(f"The investigation '{inv.name}' is a {inv.kind.label.lower()}, not a "
                             f"{Kind(kind).label.lower()}; its results cannot be mixed. Choose another name.")
        if _KIND_UPGRADES[inv.kind, kind] != inv.kind:
            inv = store.set_kind(inv.id, _KIND_UPGRADES[inv.kind, kind])
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
    model: LanguageModel,
    documents: Sequence[Document],
    scores: Sequence[str] = registry.default_scores(),
    *,
    k: float = DEFAULT_K,
    settings: ScoringSettings | None = None,
    cache: StatsCache | None = None,
    ref_model: LanguageModel | None = None,
    observer: LanguageModel | None = None,
    declared: DeclaredTexts | None = None,
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
    time with ``scores.table.score_documents``; each row is committed as soon as ``on_row`` delivers it, so a killed
    process loses at most one batch. ``ingest_errors`` (files that could not be read) are kept as the artifact
    ``ingest_errors``. ``progress(tokens_done, tokens_total)`` covers the whole run. When ``should_stop()`` turns
    True the run ends between batches with status 'interrupted' and ``cancelled=True``; other errors mark the
    investigation 'failed' and are raised again. A process killed outright leaves the status 'running' with every
    finished row saved; calling this again with the same documents resumes it. ``declared``: texts the user declares
    non-members / members (a reference set), read by the scores that need them (scores/declared.py).
    """
    inv, scores, settings = open_scoring(store, investigation, model, scores, k=k, settings=settings,
                                         ref_model=ref_model, observer=observer, declared=declared)
    record_ingest_errors(store, inv.id, ingest_errors)
    part = CollectionRun(store, inv.id, documents)
    tokens = TokenProgress(progress, part.tokens_to_score(model, scores) if progress else 0)
    with Recording(store, inv.id, f"{len(part.pending)} document(s) to score, {part.skipped} already done.",
                   cancelled="Cancelled; run it again to score the remaining documents.") as recording:
        part.run(model, scores, k=k, settings=settings, cache=cache, ref_model=ref_model, observer=observer,
                 declared=declared, batch_documents=batch_documents, progress=tokens, should_stop=should_stop,
                 on_row=on_row)
        tokens.finish()
        recording.complete(f"{part.scored_now} document(s) scored in this run, {part.skipped} were already done.")
    scored = part.result()
    return ScoredSet(investigation=store.get(inv.id), table=scored.table, errors=scored.errors, stats=scored.stats,
                     scored_now=scored.scored_now, skipped=scored.skipped, cancelled=recording.cancelled)


def open_scoring(store: InvestigationStore, investigation: str | None, model: LanguageModel, scores: Sequence[str],
                 *, k: float, settings: ScoringSettings | None, ref_model: LanguageModel | None = None,
                 observer: LanguageModel | None = None, extra: dict | None = None, kind: Kind = Kind.DOCUMENTS,
                 declared: DeclaredTexts | None = None) -> tuple[Investigation, list[str], ScoringSettings]:
    """Check the scores against the models and the declared texts (a ValueError says what is missing), then open
    the investigation (``open_investigation``, of this ``kind``) with the scoring settings record (the declared
    texts' counts, source and fingerprint included, when any score reads them) plus ``extra`` settings. Returns
    the investigation, the score names (de-duplicated, in order) and the scoring settings (defaults when None)."""
    from ..scores.declared import needs_declared
    from ..scores.table import validate_scores

    settings = settings or ScoringSettings()
    entries = validate_scores(scores, model, ref_model, observer, declared)
    names = [entry.name for entry in entries]
    record = scoring_settings_record(names, k=k, settings=settings, ref_model=ref_model, observer=observer)
    if declared is not None and any(needs_declared(e.inputs) for e in entries):
        record["declared_texts"] = declared.record()
    return open_investigation(store, investigation, model, {**record, **(extra or {})}, kind), names, settings


def record_ingest_errors(store: InvestigationStore, investigation_id: str, errors: Iterable[IngestError]) -> None:
    """Keep the files that could not be read (source and sentence) in the artifact ``ingest_errors``, added to
    those of earlier runs without repeating any."""
    found = [{"source": e.source, "message": e.message} for e in errors]
    if found:
        previous = store.get_artifact(investigation_id, "ingest_errors", []) or []
        store.put_artifact(investigation_id, "ingest_errors", previous + [e for e in found if e not in previous])


class TokenProgress:
    """``progress(tokens_done, tokens_total)`` over several scoring passes (batches, collections) that each report
    their own ``(done, total)``: a pass reports through this object, ``advance`` moves past a finished pass."""

    def __init__(self, progress: Callable[[int, int], None] | None, total: int):
        self.progress, self.total, self.offset = progress, total, 0

    def __call__(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(min(self.offset + done, self.total), self.total)

    def advance(self, tokens: int) -> None:
        self.offset += tokens

    def finish(self) -> None:
        """Report the whole run as done (cached texts cost no tokens, so the passes may end short of the total)."""
        if self.progress is not None and self.total:
            self.progress(self.total, self.total)


class CollectionRun:
    """The documents of one collection of an investigation and their scoring, batch by batch.

    Creating it adds ``documents`` to the collection (``InvestigationStore.add_documents``) and finds those still
    pending (no row for this name and text yet); ``run`` scores them, committing every row and every unscorable
    document the moment it is known; ``result`` reads the collection back from the store."""

    def __init__(self, store: InvestigationStore, investigation_id: str, documents: Sequence[Document], *,
                 collection: str = MAIN):
        self.store, self.investigation_id, self.collection = store, investigation_id, collection
        self.documents = store.add_documents(investigation_id, documents, collection=collection)
        self.pending = store.pending_documents(investigation_id, self.documents, collection=collection)
        self.skipped = len(self.documents) - len(self.pending)
        self.scored_now = 0
        self.stats: dict = {}

    def tokens_to_score(self, model: LanguageModel, scores: Sequence[str]) -> int:
        """Tokens the target model goes through for the pending documents (the progress total)."""
        from ..scores.table import tokens_to_score

        return tokens_to_score(model, [d.text for d in self.pending], scores)

    def run(self, model: LanguageModel, scores: Sequence[str], *, k: float, settings: ScoringSettings,
            cache: StatsCache | None = None, ref_model: LanguageModel | None = None,
            observer: LanguageModel | None = None, declared: DeclaredTexts | None = None, batch_documents: int = 16,
            progress: TokenProgress | None = None, should_stop: Callable[[], bool] | None = None,
            on_row: Callable[[dict], None] | None = None, fields: Mapping[str, Mapping] | None = None) -> None:
        """Score the pending documents ``batch_documents`` at a time (``scores.table.score_documents``). Raises
        ScoringCancelled between batches once ``should_stop()`` is True; every row delivered before stays saved.
        ``fields`` (document name -> extra columns, e.g. a label) are saved with each document's row."""
        from ..scores.table import score_documents

        hashes = {d.name: sha256_text(d.text) for d in self.pending}

        def save_row(row: dict) -> None:
            row.update((fields or {}).get(row["document"], {}))
            self.store.add_results(self.investigation_id, [row], hashes=[hashes[row["document"]]],
                                   collection=self.collection)
            self.scored_now += 1
            if on_row is not None:
                on_row(row)

        step = max(1, batch_documents)
        for lo in range(0, len(self.pending), step):
            if should_stop is not None and should_stop():
                raise ScoringCancelled("Scoring was cancelled.")
            batch_tokens = [0]

            def batch_progress(done: int, total: int) -> None:
                batch_tokens[0] = total  # tokens this batch computes (cached documents cost nothing)
                if progress is not None:
                    progress(done, total)

            result = score_documents(model, self.pending[lo: lo + step], scores, k=k, settings=settings, cache=cache,
                                     ref_model=ref_model, observer=observer, declared=declared,
                                     progress=batch_progress,
                                     should_stop=should_stop, on_row=save_row)
            for name, message in result.errors.items():
                self.store.add_unscorable(self.investigation_id, name, message, sha256=hashes[name],
                                          collection=self.collection)
            self.stats.update(result.stats)
            if progress is not None:
                progress.advance(batch_tokens[0])

    def result(self) -> SetScores:
        """The collection as stored now, with this run's counts and TokenStats."""
        return SetScores(table=self.store.results(self.investigation_id, collection=self.collection),
                         errors=self.store.unscorable(self.investigation_id, collection=self.collection),
                         stats=dict(self.stats), scored_now=self.scored_now, skipped=self.skipped)


class Recording:
    """``with Recording(store, investigation_id, message) as recording:`` keeps the investigation's status in step
    with the work inside the block: 'running' (with ``message``) on entry; on a normal exit 'complete' with the
    sentence given to ``complete``; when the work raises ScoringCancelled (a Stop button, ``should_stop``)
    'interrupted' with the sentence ``cancelled``, the exception is swallowed and ``recording.cancelled`` is True;
    an interruption that is not an error (KeyboardInterrupt, SystemExit, a dashboard rerun stopping the script:
    BaseExceptions outside Exception) leaves 'interrupted', an error 'failed' with its message, and both are raised
    again. A process killed outright leaves 'running'; every row committed before stays."""

    def __init__(self, store: InvestigationStore, investigation_id: str, message: str, *,
                 cancelled: str = "Cancelled; run it again to resume."):
        self.store, self.investigation_id = store, investigation_id
        self.message, self.cancelled_message = message, cancelled
        self.done_message = "Complete."
        self.cancelled = False

    def complete(self, message: str) -> None:
        """The sentence the status 'complete' will carry."""
        self.done_message = message

    def __enter__(self) -> Recording:
        self.store.set_status(self.investigation_id, RUNNING, self.message)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.store.set_status(self.investigation_id, COMPLETE, self.done_message)
            return False
        if issubclass(exc_type, ScoringCancelled):
            self.cancelled = True
            self.store.set_status(self.investigation_id, INTERRUPTED, self.cancelled_message)
            return True
        if not issubclass(exc_type, Exception):
            self.store.set_status(self.investigation_id, INTERRUPTED, "Stopped; run it again to resume.")
        else:
            self.store.set_status(self.investigation_id, FAILED, f"Failed: {exc}")
        return False
