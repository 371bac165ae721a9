"""Several models side by side, as one investigation: the same documents (and the same reference set) put to each
model in turn, read back as a grid of documents x models.

``compare_models`` is the use case the CLI (``score`` and ``sets compare`` with several ``--model``) and the
Documents page (extra models beside the sidebar's) share. It adds nothing to the statistics: for each model it calls
the single-model use case (``reference.compare_with_reference`` when there is a reference set, else
``scoring.score_set``), which records that model's run as its own investigation (resumable, with its own report and
per-token view), named ``<name> [<spec>]``. Models are loaded one at a time through the caller's ``load`` (the one
loading entry point, so every backend's spec works) and released before the next is loaded.

The investigation of kind ``Kind.MODELS`` records:
- its documents (``MAIN``) and reference texts (``REFERENCE``), and one row per document (``models_scored``: how
  many models scored it; ``models_with_evidence`` with a reference set), so lists count it like any other;
- the artifact ``model_runs``: one record per model (spec, name, identity, the investigation of its run, status,
  the sentence saying why it has no results when it has none, its set-level verdict);
- the artifact ``model_grid``: one row per (document, model) (``grid_columns``), the heatmap's data.
A model that cannot be loaded, or cannot compute a requested score (a missing capability, a score needing a model it
was not given), gets that sentence in its column instead of results; the other models still run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass

import pandas as pd

from ..documents import Document, IngestError, unique_names
from ..lm.interface import LanguageModel
from ..lm.memory import release_model
from ..lm.token_stats import ScoringSettings
from ..scores import registry
from ..scores.formulas import DEFAULT_K
from ..verdicts.dataset_inference import DEFAULT_SPLITS
from ..verdicts.pvalues import DEFAULT_FPR, DEFAULT_MIN_TOKENS
from ..verdicts.sets import DEFAULT_SET_TEST
from ..verdicts.shift import DEFAULT_SHIFT_THRESHOLD
from ..verdicts.verdict import Label, Verdict
from .records import Investigation, Kind
from .scoring import Recording, record_ingest_errors
from .store import MAIN, REFERENCE, InvestigationStore, StoreError

# A model's run, as the grid and the views read it.
SCORED, UNSCORABLE, REFUSED, NOT_RUN = "scored", "unscorable", "refused", "not run"
# The settings that change a model's numbers: a resumed investigation must keep them.
FIXED_SETTINGS = ("models", "scores", "k", "window", "stride", "reference_set")
GRID_BASE = ["document", "model", "spec", "model_index", "status", "reason", "value", "p_value", "verdict_label",
             "verdict", "tokens"]


def parse_model_specs(values: Iterable[str]) -> list[str]:
    """Model specs from repeated and comma-separated values ('a,b', 'c' -> ['a', 'b', 'c']), blanks dropped and
    duplicates kept once, in order."""
    specs = [part.strip() for value in values for part in str(value).split(",")]
    return list(dict.fromkeys(s for s in specs if s))


@dataclass
class ModelRun:
    """One model's part of the investigation: ``status`` is 'complete', 'interrupted' or 'failed' (its own
    investigation's status), 'refused' (it could not be loaded or cannot compute the scores asked: ``reason`` says
    why) or 'not run' (the run stopped before reaching it)."""

    index: int
    spec: str
    name: str = ""
    identity: str = ""
    investigation_id: str | None = None
    investigation_name: str = ""
    status: str = NOT_RUN
    reason: str = ""
    verdict: Verdict | None = None
    parameters: str = ""

    @property
    def label(self) -> str:
        """The column heading: the model's name (its spec until loaded)."""
        return self.name or self.spec

    def record(self) -> dict:
        """Plain JSON-able facts, as stored in the ``model_runs`` artifact."""
        out = asdict(self)
        out["verdict"] = self.verdict.to_dict() if self.verdict is not None else None
        out["label"] = self.label
        return out

    @classmethod
    def from_record(cls, record: dict) -> ModelRun:
        fields = {k: record.get(k) for k in ("index", "spec", "name", "identity", "investigation_id",
                                              "investigation_name", "status", "reason", "parameters")}
        verdict = record.get("verdict")
        return cls(**{k: v for k, v in fields.items() if v is not None},
                   verdict=Verdict.from_dict(verdict) if isinstance(verdict, dict) else None)


@dataclass
class ModelsComparison:
    """What ``compare_models`` returns: the investigation after the run, each model's run, the grid (one row per
    (document, model), see ``grid_columns``) and whether the run was cancelled."""

    investigation: Investigation
    runs: list[ModelRun]
    grid: pd.DataFrame
    cancelled: bool = False
    value: str = "p_value"


def heatmap_value(reference: bool, scores: Sequence[str], value: str | None = None) -> str:
    """The grid column a heatmap colours: each document's p-value when there is a reference set (comparable across
    models: each is calibrated against the same texts), else ``value`` (a score; the first score by default)."""
    if reference:
        return "p_value"
    if value is not None and value not in scores:
        raise ValueError(f"The heatmap can show only a score that is computed ({', '.join(scores)}), not '{value}'.")
    return value or list(scores)[0]


def compare_models(
    store: InvestigationStore,
    investigation: str | None,
    specs: Sequence[str],
    load: Callable[[str], LanguageModel],
    documents: Sequence[Document],
    reference: Sequence[Document] = (),
    scores: Sequence[str] = registry.default_scores(),
    *,
    value: str | None = None,
    release: Callable[[LanguageModel], None] | None = release_model,
    k: float = DEFAULT_K,
    settings: ScoringSettings | None = None,
    cache=None,
    ref_model: LanguageModel | None = None,
    observer: LanguageModel | None = None,
    fpr: float = DEFAULT_FPR,
    min_tokens: int = DEFAULT_MIN_TOKENS,
    n_splits: int = DEFAULT_SPLITS,
    shift_threshold: float = DEFAULT_SHIFT_THRESHOLD,
    seed: int = 0,
    verdict_scores: Sequence[str] | None = None,
    set_test: str = DEFAULT_SET_TEST,
    ingest_errors: Iterable[IngestError] = (),
    batch_documents: int = 16,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_model: Callable[[ModelRun], None] | None = None,
    on_row: Callable[[dict], None] | None = None,
) -> ModelsComparison:
    """Put ``documents`` (and ``reference``, texts none of the models can have seen) to every model of ``specs``
    in turn, as the investigation ``investigation`` (id or name; created when unknown, None for a dated name) of
    kind ``Kind.MODELS``; see the module docstring for what is recorded.

    ``load(spec)`` returns a model (raising ModelLoadError or ValueError with a sentence when it cannot);
    ``release(model)`` is called once the model's run is over, before the next model is loaded (None keeps it).
    Every other argument is passed to the single-model use case as it is. ``progress(done, total)`` and ``on_row``
    see each model's run in turn (each run reports its own tokens); ``on_model(run)`` is called before each model is
    loaded and again when its run is over. ``value`` chooses the score the grid's ``value`` column holds when there
    is no reference set (with one it is the p-value). When ``should_stop()`` turns True the run ends between
    batches, status 'interrupted', ``cancelled=True``; running it again resumes every model where it stopped.
    """
    specs = parse_model_specs(specs)
    if not specs:
        raise ValueError("Name at least one model to compare.")
    scores = list(dict.fromkeys(scores))
    value_column = heatmap_value(bool(reference), scores, value)
    settings = settings or ScoringSettings()
    record = {"models": specs, "scores": scores, "k": float(k), "window": settings.window,
              "stride": settings.stride, "reference_set": bool(reference), "value": value_column, "fpr": fpr,
              "set_test": set_test, "verdict_scores": list(verdict_scores or scores)}
    inv = _open(store, investigation, specs, record)
    store.add_documents(inv.id, documents)
    if reference:
        store.add_documents(inv.id, reference, collection=REFERENCE)
    record_ingest_errors(store, inv.id, ingest_errors)
    earlier = {r.spec: r for r in stored_runs(store, inv.id)}
    runs = [ModelRun(i, spec, investigation_id=getattr(earlier.get(spec), "investigation_id", None))
            for i, spec in enumerate(specs)]
    single = dict(k=k, settings=settings, cache=cache, ref_model=ref_model, observer=observer,
                  batch_documents=batch_documents, progress=progress, should_stop=should_stop, on_row=on_row)
    if reference:
        single.update(fpr=fpr, min_tokens=min_tokens, n_splits=n_splits, shift_threshold=shift_threshold, seed=seed,
                      verdict_scores=verdict_scores, set_test=set_test)
    with Recording(store, inv.id, f"{len(specs)} model(s) to question, one after another.",
                   cancelled="Cancelled; run it again to resume every model where it stopped.") as recording:
        try:
            for run in runs:
                if on_model is not None:
                    on_model(run)
                _run_model(store, inv, run, load, release, documents, reference, scores, single)
                _record(store, inv.id, runs, value_column)  # each model's column appears as soon as it is done
                if on_model is not None:
                    on_model(run)
                if run.status == "interrupted":
                    from ..lm.token_stats import ScoringCancelled

                    raise ScoringCancelled("Scoring was cancelled.")
        finally:  # a stopped or failed run keeps the columns of the models that ran
            _record(store, inv.id, runs, value_column)
        recording.complete(_summary(runs))
    return ModelsComparison(investigation=store.get(inv.id), runs=runs, grid=model_grid(store, inv.id),
                            cancelled=recording.cancelled, value=value_column)


def _open(store: InvestigationStore, ref: str | None, specs: list[str], record: dict) -> Investigation:
    """Find or create the investigation; an existing one must compare the same models with the same scores."""
    inv = store.find(ref) if ref else None
    if inv is None:
        inv = store.create(ref, model_spec=", ".join(specs), model_info={"name": _models_name(specs)},
                           settings=record, kind=Kind.MODELS, existing_ok=True)
    if inv.kind is not Kind.MODELS:
        raise StoreError(f"The investigation '{inv.name}' is a {inv.kind.label.lower()}, not a comparison of several "
                         "models; its results cannot be mixed. Choose another name.")
    changed = [key for key in FIXED_SETTINGS if inv.settings.get(key) != record.get(key)]
    if inv.settings and changed:
        raise StoreError(f"The investigation '{inv.name}' compared other models or settings ({', '.join(changed)}); "
                         "its results cannot be mixed. Use the same models and settings, or another name.")
    return store.update_metadata(inv.id, settings=record)


def _models_name(specs: Sequence[str]) -> str:
    return ", ".join(specs)


def _models_info(runs: Sequence[ModelRun]) -> dict:
    """The investigation's model facts: every model's name (its spec until loaded) and what is known of it."""
    return {"name": ", ".join(r.label for r in runs),
            "models": [{"spec": r.spec, "name": r.name, "identity": r.identity, "parameters_human": r.parameters}
                       for r in runs]}


def _run_model(store: InvestigationStore, parent: Investigation, run: ModelRun, load, release, documents,
               reference, scores: list[str], single: dict) -> None:
    """Load one model, run the single-model use case as its own investigation, release the model; a model that
    cannot be loaded or cannot compute the scores is 'refused' with the sentence saying why."""
    from ..lm.loading import ModelLoadError
    from .reference import compare_with_reference
    from .scoring import score_set

    try:
        model = load(run.spec)
    except (ModelLoadError, ValueError, OSError, ImportError) as exc:  # ImportError: a backend not installed
        run.status, run.reason = REFUSED, f"{run.spec} could not be loaded: {exc}"
        return
    run.name, run.identity = model.name, model.identity
    run.parameters = str(model.describe().get("parameters_human") or "")
    child = run.investigation_id or f"{parent.name} [{run.spec}]"
    try:
        if reference:
            result = compare_with_reference(store, child, model, documents, reference, scores, **single)
        else:
            result = score_set(store, child, model, documents, scores, **single)
    except (ModelLoadError, ValueError) as exc:  # a missing capability, a score needing another model, ...
        run.status, run.reason = REFUSED, str(exc)
        return
    finally:
        if release is not None:
            release(model)
        del model
    inv = result.investigation
    run.investigation_id, run.investigation_name = inv.id, inv.name
    run.status, run.verdict = ("interrupted" if result.cancelled else inv.status), inv.verdict
    run.reason = "" if inv.status == "complete" else inv.message


def _summary(runs: Sequence[ModelRun]) -> str:
    parts = []
    for run in runs:
        if run.status == REFUSED:
            parts.append(f"{run.label}: no results ({run.reason})")
        elif run.verdict is not None:
            parts.append(f"{run.label}: {run.verdict.words()}")
        else:
            parts.append(f"{run.label}: {run.status}")
    return f"{len(runs)} model(s) questioned. " + "; ".join(parts) + "."


def stored_runs(store: InvestigationStore, investigation_id: str) -> list[ModelRun]:
    """The ``model_runs`` artifact of a models investigation, as ModelRun values (empty when there is none)."""
    records = store.get_artifact(investigation_id, "model_runs") or []
    return [ModelRun.from_record(r) for r in records if isinstance(r, dict) and r.get("spec")]


def _record(store: InvestigationStore, investigation_id: str, runs: Sequence[ModelRun], value: str) -> None:
    """Write the runs, the grid built from the models' own investigations, and one row per document."""
    grid = build_grid(store, investigation_id, runs, value)
    store.put_artifacts(investigation_id, {"model_runs": [r.record() for r in runs], "model_grid": grid,
                                           "shift_check": _shift_check(store, runs)})
    store.update_metadata(investigation_id, model_info=_models_info(runs))
    names = [d.name for d in store.documents(investigation_id)]
    rows, unscorable = [], {}
    for name in names:
        cells = grid[grid["document"] == name]
        scored = cells[cells["status"] == SCORED]
        if len(scored):
            row = {"document": name, "models_scored": len(scored)}
            if value == "p_value":
                row["models_with_evidence"] = int((scored["verdict_label"] == Label.EVIDENCE.value).sum())
            rows.append(row)
        elif len(cells) and (cells["status"] != NOT_RUN).all():
            unscorable[name] = f"{name}: no model could score it (" + "; ".join(
                f"{m}: {r}" for m, r in zip(cells["model"], cells["reason"])) + ")"
    if rows:
        store.add_results(investigation_id, rows)
    for name, message in unscorable.items():
        store.add_unscorable(investigation_id, name, message)


def _shift_check(store: InvestigationStore, runs: Sequence[ModelRun]) -> dict | None:
    """The distribution-shift check of the documents against the reference set. It involves no model (a
    bag-of-words classifier), so every model's run finds the same; the first one recorded stands for all."""
    for run in runs:
        if run.investigation_id and store.find(run.investigation_id) is not None:
            shift = store.get_artifact(run.investigation_id, "shift_check")
            if isinstance(shift, dict):
                return shift
    return None


def grid_columns(scores: Sequence[str]) -> list[str]:
    """The grid's columns: document, model (its name, the column heading), spec, model_index, status ('scored',
    'unscorable', 'refused', 'not run'), reason (why a cell has no number), value (what the heatmap colours:
    p-value or a score), p_value, verdict_label, verdict (words), tokens, then every score."""
    return GRID_BASE + [s for s in scores if s not in GRID_BASE]


def build_grid(store: InvestigationStore, investigation_id: str, runs: Sequence[ModelRun], value: str) -> pd.DataFrame:
    """One row per (document, model), read from each model's own investigation (see ``grid_columns``)."""
    inv = store.get(investigation_id)
    scores = list(inv.settings.get("scores") or [])
    names = [d.name for d in unique_names(store.documents(investigation_id))]
    labels = _unique_labels([r.label for r in runs])
    rows = []
    for run, label in zip(runs, labels):
        results, unscorable = pd.DataFrame(), {}
        if run.investigation_id and store.find(run.investigation_id) is not None:
            results = store.results(run.investigation_id, collection=MAIN)
            unscorable = store.unscorable(run.investigation_id)
        by_name = {r["document"]: r for r in results.to_dict("records")}
        for name in names:
            row = {"document": name, "model": label, "spec": run.spec, "model_index": run.index}
            found = by_name.get(name)
            if found is not None:
                row.update({k: v for k, v in found.items() if k in grid_columns(scores)})
                row.update(status=SCORED, reason="", value=found.get(value))
                if not isinstance(row.get("verdict"), str):
                    row["verdict"] = "no verdict: scores only (add a reference set)"
            elif name in unscorable:
                row.update(status=UNSCORABLE, reason=unscorable[name])
            elif run.status == REFUSED:
                row.update(status=REFUSED, reason=run.reason)
            else:
                row.update(status=NOT_RUN, reason="not scored yet: the run stopped before this model reached it")
            rows.append(row)
    grid = pd.DataFrame(rows, columns=grid_columns(scores))
    for column in ["value", "p_value", "tokens", *scores]:
        grid[column] = pd.to_numeric(grid[column], errors="coerce")
    return grid


def _unique_labels(labels: list[str]) -> list[str]:
    """Column headings, made unique with ' (2)', ' (3)' ... (two folders may hold models of the same name)."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def model_grid(store: InvestigationStore, investigation_id: str) -> pd.DataFrame:
    """The recorded grid of a models investigation (empty, with its columns, before any model ran)."""
    grid = store.get_artifact(investigation_id, "model_grid")
    if isinstance(grid, pd.DataFrame):
        return grid
    return pd.DataFrame(columns=grid_columns(store.get(investigation_id).settings.get("scores") or []))


@dataclass
class ModelsView:
    """A models investigation read back for a view or a report: its runs, its grid and what the grid colours."""

    runs: list[ModelRun]
    grid: pd.DataFrame
    value: str = "p_value"
    fpr: float | None = None


def read_models(store: InvestigationStore, investigation_id: str) -> ModelsView:
    """The runs and grid of a models investigation, as recorded."""
    inv = store.get(investigation_id)
    return ModelsView(runs=stored_runs(store, inv.id), grid=model_grid(store, inv.id),
                      value=str(inv.settings.get("value") or "p_value"), fpr=inv.settings.get("fpr"))
