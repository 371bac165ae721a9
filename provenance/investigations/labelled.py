"""Evaluating every score on a labelled set of members and non-members, as an investigation: the use case behind
``sets evaluate`` and the Benchmark page.

``evaluate_labelled_set`` scores the labelled documents (collection ``MAIN``), each row saved with its ``label`` the
moment it is computed, so a stopped or killed run resumes where it stopped. Then ``verdicts.sets.evaluate_labelled``
(shift check, ROC / AUC with bootstrap intervals, TPR at low FPR, the privacy budget each attack implies, the
chunk-feature meta-classifier, the blind bag-of-words baseline with the scores it cannot be told from, the set-level
test of members against non-members) runs on the documents of this call, and the result is recorded: the
evaluation table (``labelled_evaluation``), the ROC points (``roc_curves``), ``shift_check``, ``meta_classifier``,
``dataset_inference`` (the set-level test), ``labelled_evaluation_settings`` and ``notes`` as artifacts, and the
set-level test's Verdict as the investigation's verdict (none when there were too few documents for it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..documents import Document, IngestError
from ..lm.interface import LanguageModel
from ..lm.token_stats import ScoringSettings
from ..scores import registry
from ..scores.chunk_features import DEFAULT_CHUNK_TOKENS
from ..scores.declared import DeclaredTexts, from_labelled
from ..scores.formulas import DEFAULT_K
from ..verdicts.roc import DEFAULT_BOOTSTRAP
from ..verdicts.sets import DEFAULT_SET_TEST, LabelledEvaluation, evaluate_labelled
from .records import Investigation, Kind
from .reference import declared_note
from .scoring import CollectionRun, Recording, SetScores, TokenProgress, open_scoring, record_ingest_errors
from .store import InvestigationStore

if TYPE_CHECKING:
    from ..lm.cache import StatsCache


def declared_for_labelled(scores: Sequence[str], documents: Sequence[Document], labels: Sequence[int], *,
                          reference: Sequence[Document] | None = None, members: Sequence[Document] | None = None,
                          seed: int = 0) -> DeclaredTexts | None:
    """The declared texts of a labelled evaluation (see ``evaluate_labelled_set``), or None when no chosen score
    reads any. A class given explicitly (``reference`` / ``members``) is used whole; a missing one is held out of
    the labelled set."""
    reads_non, reads_members = registry.reads_declared(list(scores))
    if not reads_non and not reads_members:
        return None
    held = from_labelled([d.text for d in documents], labels, members_too=reads_members and not members, seed=seed)
    non = [d.text for d in reference] if reference else list(held.non_members)
    mem = [d.text for d in members] if members else list(held.members)
    parts = [f"{len(reference)} reference text(s) you gave" if reference else
             f"{len(held.non_members)} held-out non-member(s) of the labelled set"]
    if reads_members:
        parts.append(f"{len(members)} member text(s) you gave" if members else
                     f"{len(held.members)} held-out member(s) of the labelled set")
    held_any = not reference or (reads_members and not members)
    source = " and ".join(parts) + (", left out of the evaluation of the scores that read them" if held_any else "")
    return DeclaredTexts(tuple(non), tuple(mem), source=source)


@dataclass
class LabelledSetEvaluation:
    """What ``evaluate_labelled_set`` returns: the investigation after the run, the scored set (every row so far,
    with its ``label``; unscorable documents; this run's counts), the evaluation (None when the run was cancelled)
    and whether it was cancelled."""

    investigation: Investigation
    scores: SetScores
    evaluation: LabelledEvaluation | None
    cancelled: bool = False


def evaluate_labelled_set(
    store: InvestigationStore,
    investigation: str | None,
    model: LanguageModel,
    documents: Sequence[Document],
    labels: Sequence[int],
    scores: Sequence[str] = registry.default_scores(),
    *,
    k: float = DEFAULT_K,
    settings: ScoringSettings | None = None,
    cache: StatsCache | None = None,
    ref_model: LanguageModel | None = None,
    observer: LanguageModel | None = None,
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS,
    n_bootstrap: int = DEFAULT_BOOTSTRAP,
    seed: int = 0,
    set_test: str = DEFAULT_SET_TEST,
    reference: Sequence[Document] | None = None,
    members: Sequence[Document] | None = None,
    ingest_errors: Iterable[IngestError] = (),
    batch_documents: int = 16,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_row: Callable[[dict], None] | None = None,
) -> LabelledSetEvaluation:
    """Score the labelled ``documents`` (``labels[i]`` is 1 for a member, 0 for a non-member) in the investigation
    ``investigation`` (id or name; created when unknown, None for a dated name) and evaluate every score on them;
    see the module docstring for what is recorded.

    Scoring is as in ``scoring.score_set`` (same model and scoring settings required to resume; documents already
    done are skipped, their labels brought up to date). A ValueError says so before anything is scored when the
    labels do not match the documents or one class is missing. ``chunk_tokens``, ``n_bootstrap``, ``seed`` and
    ``set_test`` go to ``verdicts.sets.evaluate_labelled``. When ``should_stop()`` turns True the run ends between
    batches, status 'interrupted', ``cancelled=True`` and no evaluation.

    Scores that read declared texts (ReCaLL and Con-ReCall prefixes, DC-PDD and Tag&Tab frequencies, CAMIA's
    population) take them from ``reference`` (texts declared non-members) and ``members`` when given, else from a
    seeded held-out part of the labelled non-members (and members, for Con-ReCall); held-out documents get NaN for
    those scores, so they are left out of those scores' evaluation, and a note says so.
    """
    labels = [int(y) for y in labels]
    if len(labels) != len(documents):
        raise ValueError(f"There are {len(documents)} documents but {len(labels)} labels; give one label each.")
    n_members = sum(1 for y in labels if y == 1)
    if n_members == 0 or n_members == len(labels) or any(y not in (0, 1) for y in labels):
        raise ValueError(f"The labelled set needs both members (1) and non-members (0); it has {n_members} "
                         f"member(s) and {len(labels) - n_members} other document(s).")
    declared = declared_for_labelled(scores, documents, labels, reference=reference, members=members, seed=seed)
    inv, scores, settings = open_scoring(store, investigation, model, scores, k=k, settings=settings,
                                         ref_model=ref_model, observer=observer, kind=Kind.LABELLED,
                                         declared=declared)
    record_ingest_errors(store, inv.id, ingest_errors)
    part = CollectionRun(store, inv.id, documents)
    label_of = {d.name: y for d, y in zip(part.documents, labels)}
    tokens = TokenProgress(progress, part.tokens_to_score(model, scores) if progress else 0)
    evaluation = None
    with Recording(store, inv.id, f"{len(part.pending)} labelled document(s) to score, {part.skipped} already done.",
                   cancelled="Cancelled; run it again to score the remaining documents and evaluate.") as recording:
        part.run(model, scores, k=k, settings=settings, cache=cache, ref_model=ref_model, observer=observer,
                 declared=declared, batch_documents=batch_documents, progress=tokens, should_stop=should_stop,
                 on_row=on_row, fields={name: {"label": y} for name, y in label_of.items()})
        tokens.finish()
        evaluation = record_evaluation(store, inv.id, model, part, label_of, scores, k=k, settings=settings,
                                       cache=cache, chunk_tokens=chunk_tokens, n_bootstrap=n_bootstrap, seed=seed,
                                       set_test=set_test, declared=declared)
        best, blind = evaluation.table.iloc[0], evaluation.blind
        versus = f"; blind baseline (no model) AUC {blind['auc']:.3f}" if blind else ""
        recording.complete(f"{part.scored_now} document(s) scored in this run, {part.skipped} were already done. "
                           f"Best score: {best['score']}, AUC {best['auc']:.3f}{versus}.")
    return LabelledSetEvaluation(investigation=store.get(inv.id), scores=part.result(), evaluation=evaluation,
                                 cancelled=recording.cancelled)


def record_evaluation(store: InvestigationStore, investigation_id: str, model: LanguageModel, part: CollectionRun,
                      label_of: dict[str, int], scores: Sequence[str], *, k: float, settings: ScoringSettings,
                      cache: StatsCache | None, chunk_tokens: int, n_bootstrap: int, seed: int,
                      set_test: str = DEFAULT_SET_TEST, declared: DeclaredTexts | None = None) -> LabelledEvaluation:
    """Evaluate the scored documents of ``label_of`` (document name -> label) and record the result (see the module
    docstring). TokenStats for the meta-classifier come from this run, else from ``cache`` or a new pass.
    ``declared`` (when scores read declared texts) adds a note saying where they came from."""
    from ..lm.cache import cached_token_statistics

    stored = store.results(investigation_id)
    store.set_result_fields(investigation_id, {d: {"label": label_of[d]} for d in stored["document"] if d in label_of})
    table = store.results(investigation_id)
    table = table[table["document"].isin(label_of)].drop(columns=["sha256"]).reset_index(drop=True)
    texts = {d.name: d.text for d in part.documents}
    missing = [d for d in table["document"] if d not in part.stats]
    stats = dict(part.stats) | dict(zip(missing, cached_token_statistics(model, [texts[d] for d in missing], settings,
                                                                         cache=cache)))
    evaluation = evaluate_labelled([d.text for d in part.documents], [label_of[d.name] for d in part.documents],
                                   table, scores, stats=stats, chunk_tokens=chunk_tokens, k=k,
                                   n_bootstrap=n_bootstrap, seed=seed, set_test=set_test)
    if declared is not None:
        evaluation.notes.append(declared_note(scores, declared))
    summary = evaluation.summary()
    store.put_artifacts(investigation_id, {
        "labelled_evaluation": evaluation.table, "roc_curves": evaluation.roc, "shift_check": summary["shift_check"],
        "meta_classifier": summary["meta_classifier"], "dataset_inference": summary["dataset_inference"],
        "notes": evaluation.notes or None,
        "labelled_evaluation_settings": {"members": evaluation.n_members, "non_members": evaluation.n_non_members,
                                         "chunk_tokens": chunk_tokens, "n_bootstrap": n_bootstrap, "seed": seed,
                                         "set_test": set_test}})
    store.set_verdict(investigation_id, evaluation.verdict)
    return evaluation
