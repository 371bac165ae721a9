"""Comparing a suspect set with a reference set, as an investigation: the use case behind ``sets compare`` and the
Documents page with a reference set.

``compare_with_reference`` scores the suspect documents (collection ``MAIN``) and the reference texts (collection
``REFERENCE``, texts the model cannot have seen) of one investigation, committing every row as it comes, so a stopped
or killed run resumes where it stopped. Then ``verdicts.sets.compare_sets`` (shift check, per-document p-values,
the set-level test and its false-positive mode) runs on everything the two collections hold, and the result is
recorded: per-document p-values and verdicts as fields of the suspect rows, the set-level findings as artifacts
(``shift_check``, ``dataset_inference``, ``false_positive_mode``, ``set_comparison``, ``notes``) and the set's
Verdict as the investigation's verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..documents import Document, IngestError
from ..lm.interface import LanguageModel
from ..lm.token_stats import ScoringSettings
from ..scores import registry
from ..scores.declared import DeclaredTexts, from_reference, needs_declared
from ..scores.formulas import DEFAULT_K
from ..verdicts.dataset_inference import DEFAULT_SPLITS
from ..verdicts.pvalues import DEFAULT_FPR, DEFAULT_MIN_TOKENS
from ..verdicts.sets import DEFAULT_SET_TEST, SetComparison, compare_sets
from ..verdicts.shift import DEFAULT_SHIFT_THRESHOLD
from .records import Investigation, Kind
from .scoring import CollectionRun, Recording, SetScores, TokenProgress, open_scoring, record_ingest_errors
from .store import REFERENCE, InvestigationStore

if TYPE_CHECKING:
    from ..lm.cache import StatsCache


def declared_from_reference(scores: Sequence[str], reference: Sequence[Document], members: Sequence[Document] = (),
                            *, seed: int = 0) -> DeclaredTexts | None:
    """The declared texts of a comparison: a held-out part of the reference set (and the texts declared members),
    or None when no chosen score reads declared texts."""
    reads_non, reads_members = registry.reads_declared(list(scores))
    if not reads_non and not reads_members:
        return None
    return from_reference([d.text for d in reference], [d.text for d in members], held_out=True, seed=seed)


def declared_note(scores: Sequence[str], declared: DeclaredTexts) -> str:
    """One sentence for the output: which scores read declared texts and where they came from."""
    readers = [s for s in scores if needs_declared(registry.get(s).inputs)]
    return f"{', '.join(readers)}: prefixes / frequency tables / population from {declared.source}."

# Columns a comparison adds to the suspect rows (p_<score>, p_value, verdict_label, verdict) and its artifacts.
COMPARISON_FIELD_PREFIXES = ("p_", "verdict")
COMPARISON_ARTIFACTS = ("shift_check", "dataset_inference", "false_positive_mode", "set_comparison", "notes")


@dataclass
class ReferenceComparison:
    """What ``compare_with_reference`` returns: the investigation after the run, both collections (tables with every
    row so far, unscorable documents, this run's counts), the comparison (None when the run was cancelled or a set
    has no scored document; the investigation's message says which) and whether the run was cancelled."""

    investigation: Investigation
    suspect: SetScores
    reference: SetScores
    comparison: SetComparison | None
    cancelled: bool = False


def compare_with_reference(
    store: InvestigationStore,
    investigation: str | None,
    model: LanguageModel,
    documents: Sequence[Document],
    reference: Sequence[Document],
    scores: Sequence[str] = registry.default_scores(),
    *,
    k: float = DEFAULT_K,
    settings: ScoringSettings | None = None,
    cache: StatsCache | None = None,
    ref_model: LanguageModel | None = None,
    observer: LanguageModel | None = None,
    fpr: float = DEFAULT_FPR,
    min_tokens: int = DEFAULT_MIN_TOKENS,
    n_splits: int = DEFAULT_SPLITS,
    shift_threshold: float = DEFAULT_SHIFT_THRESHOLD,
    seed: int = 0,
    verdict_scores: Sequence[str] | None = None,
    set_test: str = DEFAULT_SET_TEST,
    members: Sequence[Document] = (),
    ingest_errors: Iterable[IngestError] = (),
    batch_documents: int = 16,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_row: Callable[[dict], None] | None = None,
    on_reference_row: Callable[[dict], None] | None = None,
) -> ReferenceComparison:
    """Score ``documents`` (the suspect set) and ``reference`` in the investigation ``investigation`` (id or name;
    created when unknown, None for a dated name) and compare them; see the module docstring for what is recorded.

    Scoring is as in ``scoring.score_set`` (same model and scoring settings required to resume; documents already
    done are skipped); ``on_row`` / ``on_reference_row`` see each suspect / reference row as it is saved and
    ``progress(tokens_done, tokens_total)`` covers both sets. The comparison settings (``fpr``, ``min_tokens``,
    ``n_splits``, ``shift_threshold``, ``seed``, ``verdict_scores``, ``set_test``: see
    ``verdicts.sets.compare_sets``) may change between runs: the comparison is made again from the stored rows each
    time. When ``should_stop()`` turns True the run ends between batches, status 'interrupted', ``cancelled=True``
    and no comparison.

    Scores that read declared texts (ReCaLL's prefix, DC-PDD's frequencies, ...) take them from a seeded held-out
    part of ``reference`` (scores/declared.py); those reference texts get NaN for those scores, so they are left out
    of that score's comparison, and never scores itself. ``members``: texts declared members (Con-ReCall).
    """
    declared = declared_from_reference(scores, reference, members, seed=seed)
    inv, scores, settings = open_scoring(store, investigation, model, scores, k=k, settings=settings,
                                         ref_model=ref_model, observer=observer, kind=Kind.REFERENCE,
                                         declared=declared)
    record_ingest_errors(store, inv.id, ingest_errors)
    suspect = CollectionRun(store, inv.id, documents)
    references = CollectionRun(store, inv.id, reference, collection=REFERENCE)
    if suspect.pending or references.pending:
        store.set_verdict(inv.id, None)  # the sets change: an earlier verdict no longer describes them
    total = suspect.tokens_to_score(model, scores) + references.tokens_to_score(model, scores) if progress else 0
    tokens = TokenProgress(progress, total)
    run = dict(k=k, settings=settings, cache=cache, ref_model=ref_model, observer=observer, declared=declared,
               batch_documents=batch_documents, progress=tokens, should_stop=should_stop)
    comparison = None
    with Recording(store, inv.id, f"{len(suspect.pending)} suspect and {len(references.pending)} reference "
                                  "document(s) to score.",
                   cancelled="Cancelled; run it again to score the remaining documents and compare.") as recording:
        suspect.run(model, scores, on_row=on_row, **run)
        references.run(model, scores, on_row=on_reference_row, **run)
        tokens.finish()
        comparison, outcome = record_comparison(store, inv.id, scores, fpr=fpr, min_tokens=min_tokens,
                                                n_splits=n_splits, shift_threshold=shift_threshold, seed=seed,
                                                verdict_scores=verdict_scores, set_test=set_test,
                                                declared=declared)
        recording.complete(f"{suspect.scored_now} suspect and {references.scored_now} reference document(s) scored "
                           f"in this run ({suspect.skipped} and {references.skipped} were already done). {outcome}")
    return ReferenceComparison(investigation=store.get(inv.id), suspect=suspect.result(),
                               reference=references.result(), comparison=comparison, cancelled=recording.cancelled)


def record_comparison(store: InvestigationStore, investigation_id: str, scores: Sequence[str], *,
                      fpr: float = DEFAULT_FPR, min_tokens: int = DEFAULT_MIN_TOKENS, n_splits: int = DEFAULT_SPLITS,
                      shift_threshold: float = DEFAULT_SHIFT_THRESHOLD, seed: int = 0,
                      verdict_scores: Sequence[str] | None = None,
                      set_test: str = DEFAULT_SET_TEST,
                      declared: DeclaredTexts | None = None) -> tuple[SetComparison | None, str]:
    """Compare the investigation's stored suspect rows with its stored reference rows (``compare_sets``) and record
    the result (see the module docstring). Returns the comparison, or None when a set has no scored document, with
    a sentence saying what was found. ``declared`` (when scores read declared texts) adds a note saying where
    they came from."""
    from ..scores.table import BASE_COLUMNS

    suspect = store.results(investigation_id)
    reference = store.results(investigation_id, collection=REFERENCE)
    stale = [c for c in suspect.columns if c.startswith(COMPARISON_FIELD_PREFIXES)]
    if suspect.empty or reference.empty:
        which = "suspect" if suspect.empty else "reference"
        sentence = f"No document of the {which} set could be scored, so the sets were not compared."
        store.set_result_fields(investigation_id, {}, drop=stale)
        store.put_artifacts(investigation_id, dict.fromkeys(COMPARISON_ARTIFACTS) | {"notes": [sentence]})
        store.set_verdict(investigation_id, None)
        return None, sentence
    columns = [c for c in [*BASE_COLUMNS, *scores] if c in suspect.columns and c in reference.columns]
    texts = {d.name: d.text for d in store.documents(investigation_id)}
    reference_texts = {d.name: d.text for d in store.documents(investigation_id, collection=REFERENCE)}
    comparison = compare_sets([texts[d] for d in suspect["document"]], suspect[columns],
                              [reference_texts[d] for d in reference["document"]], reference[columns], scores,
                              fpr=fpr, min_tokens=min_tokens, n_splits=n_splits, shift_threshold=shift_threshold,
                              seed=seed, verdict_scores=verdict_scores, set_test=set_test)
    if declared is not None:
        comparison.notes.append(declared_note(scores, declared))
    added = [c for c in comparison.documents.columns if c.startswith(COMPARISON_FIELD_PREFIXES)]
    store.set_result_fields(investigation_id, {row["document"]: {c: row[c] for c in added}
                                               for row in comparison.documents.to_dict("records")}, drop=stale)
    summary = comparison.summary()
    summary["documents"]["reference"] = len(reference)
    store.put_artifacts(investigation_id, {
        "shift_check": summary["shift_check"], "dataset_inference": summary["dataset_inference"],
        "false_positive_mode": summary["false_positive_mode"], "notes": comparison.notes or None,
        "set_comparison": {"fpr": fpr, "set_test": set_test, "scores": comparison.scores,
                           "verdict_scores": list(verdict_scores or comparison.scores), "min_tokens": min_tokens,
                           "n_splits": n_splits, "shift_threshold": shift_threshold, "seed": seed,
                           "thresholds_at_fpr": summary["thresholds_at_fpr"], "documents": summary["documents"]}})
    store.set_verdict(investigation_id, comparison.verdict)
    return comparison, f"Verdict for the set: {comparison.verdict.words()}."

