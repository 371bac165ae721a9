"""Testing a model for ghost sentences, as an investigation: the use case behind ``ghost detect`` and the Ghost
sentences page.

``run_ghost_test`` runs ``ghost.detect`` with its null draws recorded in the investigation as they are scored: one
collection per null (``null <NullCache key>``: model, generator, scoring settings and context), each draw a
document and its NLL the document's row, kept before scoring and after every chunk (``ghost.null_nll``). A stopped
or killed test therefore resumes by scoring exactly the missing draws of the same null. When the test is done, the
per-identifier table (artifact ``ghost_detection``), a summary of each null (``null_draws``), the settings of the
test (``ghost_test_settings``) and the combined Verdict are recorded. A reference-calibrated test ranks
NLL_reference - NLL_target, which the null collections (the tested model's NLLs) cannot give back: its null draws'
differences are recorded too (``null_differences``: generator key -> the M differences, in the order drawn), so
the test reopened later draws the same null histogram.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from ..documents import Document
from ..files import sha256_text
from ..ghost.detection import (DEFAULT_ALPHA, DEFAULT_LAST_K, DEFAULT_NULL, GhostDetection, NullCache,
                               check_reference, check_test, detect)
from ..ghost.registry import GhostEntry
from ..lm.interface import LanguageModel
from ..lm.token_stats import ScoringSettings
from .records import Investigation, Kind
from .scoring import Recording, open_investigation
from .store import InvestigationStore

if TYPE_CHECKING:
    from ..lm.cache import StatsCache

NULL_COLLECTION_PREFIX = "null "


@dataclass
class GhostTest:
    """What ``run_ghost_test`` returns: the investigation after the run, the detection (None when the run was
    cancelled) and whether it was cancelled."""

    investigation: Investigation
    detection: GhostDetection | None
    cancelled: bool = False


def run_ghost_test(
    store: InvestigationStore,
    investigation: str | None,
    model: LanguageModel,
    entries: Sequence[GhostEntry],
    *,
    n_null: int = DEFAULT_NULL,
    alpha: float = DEFAULT_ALPHA,
    context: str = "",
    last_k: Sequence[int] = DEFAULT_LAST_K,
    settings: ScoringSettings | None = None,
    cache: StatsCache | None = None,
    null_cache: NullCache | None = None,
    exclude: Iterable[str] = (),
    rng=None,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    ref_model: LanguageModel | None = None,
    ref_released: date | None = None,
    on_draws: Callable[[int, int], None] | None = None,
) -> GhostTest:
    """Test ``model`` for the identifiers ``entries`` in the investigation ``investigation`` (id or name; created
    when unknown, None for a dated name); see the module docstring for what is recorded.

    The arguments are those of ``ghost.detect`` (``on_draws`` counts the fresh draws scored, those recorded
    earlier included); ``null_cache`` (e.g. the on-disk cache the CLI keeps) is asked
    for null draws the investigation does not hold yet and is kept up to date too. Resuming needs the same model,
    context and scoring settings (the numbers the null draws are); the number of draws, the false-positive rate
    and the last-k values may change between runs. A GhostError says what is wrong before anything is recorded
    when the test cannot run. When ``should_stop()`` turns True the run ends between batches, status
    'interrupted', ``cancelled=True`` and no detection.
    """
    check_test(entries, alpha, last_k)
    if ref_model is not None:
        check_reference(entries, ref_released)
    settings = settings or ScoringSettings()
    record = {"test": "ghost sentences", "context": context, "window": settings.window, "stride": settings.stride,
              "top_k": settings.top_k, "max_window": settings.max_window}
    if ref_model is not None:  # a reference-calibrated test: resuming needs the same reference model
        record |= {"reference_model": ref_model.identity, "reference_model_name": ref_model.name,
                   "reference_released": ref_released.isoformat()}
    inv = open_investigation(store, investigation, model, record, Kind.GHOST)
    store.put_artifact(inv.id, "ghost_test_settings", {"identifiers": [e.id for e in entries], "n_null": n_null,
                                                       "alpha": alpha, "last_k": list(last_k)})
    detection = None
    with Recording(store, inv.id, f"Testing {len(entries)} identifier(s) against {n_null} fresh draws per generator.",
                   cancelled="Cancelled; run it again to score the remaining draws and test.") as recording:
        detection = detect(model, entries, n_null=n_null, context=context, alpha=alpha, last_k=last_k,
                           settings=settings, cache=cache, null_cache=RecordedNullCache(store, inv.id, null_cache),
                           exclude=exclude, rng=rng, progress=progress, should_stop=should_stop,
                           ref_model=ref_model, ref_released=ref_released, on_draws=on_draws)
        generators = {e.generator.key(): e.generator for e in entries}
        store.put_artifacts(inv.id, {"ghost_detection": detection.table,
                                     "null_draws": null_summary(detection, generators),
                                     "null_differences": null_differences(detection)})
        store.set_verdict(inv.id, detection.verdict)
        recording.complete(f"{len(entries)} identifier(s) tested against {n_null} fresh draws per generator: "
                           f"{detection.verdict.words()}.")
    return GhostTest(investigation=store.get(inv.id), detection=detection, cancelled=recording.cancelled)


def recorded_null_draws(store: InvestigationStore, investigation: str) -> int:
    """Fresh draws whose NLL the investigation ``investigation`` (id or name) holds, over all its nulls: the work a
    stopped test keeps (0 for an unknown investigation)."""
    inv = store.find(investigation)
    if inv is None:
        return 0
    return sum(len(store.results(inv.id, collection=c)) for c in store.collections(inv.id)
               if c.startswith(NULL_COLLECTION_PREFIX))


def null_summary(detection: GhostDetection, generators: dict) -> list[dict]:
    """One record per null (generator key -> ``ghost.GhostGenerator``): the generator's settings, the number of
    draws, the smallest p-value they allow (1 / (M + 1)), the statistic the identifiers were ranked by
    (``detection.statistic``: "nll" or "nll_difference") and its distribution over the draws (``min_<statistic>``,
    ``p05_``, ``median_``, ``p95_``, ``max_``)."""
    out = []
    stat = detection.statistic
    for key, null in detection.null.items():
        values = np.asarray(null, dtype=np.float64)
        low, p05, median, p95, high = np.quantile(values, [0.0, 0.05, 0.5, 0.95, 1.0])
        out.append({"generator": generators[key].to_dict() if key in generators else key, "draws": len(values),
                    "smallest_p": 1 / (len(values) + 1), "statistic": stat, f"min_{stat}": low, f"p05_{stat}": p05,
                    f"median_{stat}": median, f"p95_{stat}": p95, f"max_{stat}": high})
    return out


def null_differences(detection: GhostDetection) -> dict[str, list[float]] | None:
    """A reference-calibrated test's null: for each generator key, NLL_reference - NLL_target of the M fresh draws
    in the order they were drawn (what the identifiers were ranked among); None for the plain test, whose null the
    recorded null collections hold (a None artifact leaves nothing of an earlier run behind)."""
    if detection.statistic != "nll_difference":
        return None
    return {key: np.asarray(null, dtype=np.float64).tolist() for key, null in detection.null.items()}


class RecordedNullCache(NullCache):
    """A NullCache whose entries are collections of one investigation (``null <key>``): each draw a document named
    by its text's SHA-256, its NLL that document's row. Draws the investigation does not hold are asked of
    ``fallback`` (another NullCache), which is kept up to date as well."""

    def __init__(self, store: InvestigationStore, investigation_id: str, fallback: NullCache | None = None):
        super().__init__()
        self.investigations, self.investigation_id, self.fallback = store, investigation_id, fallback

    def load(self, key: str) -> tuple[list[str], list[float]]:
        """The recorded draws in the order they were drawn, with the NLLs of the leading scored ones."""
        collection = NULL_COLLECTION_PREFIX + key
        draws = self.investigations.documents(self.investigation_id, collection=collection)
        if not draws:
            return self.fallback.load(key) if self.fallback is not None else ([], [])
        rows = self.investigations.results(self.investigation_id, collection=collection)
        nll = dict(zip(rows["document"], rows["nll"])) if len(rows) else {}
        values = []
        for draw in draws:
            if draw.name not in nll:
                break
            values.append(float(nll[draw.name]))
        return [d.text for d in draws], values

    def store(self, key: str, texts: list[str], nll: list[float], meta: dict) -> None:
        """Record the draws not recorded yet and the NLLs not recorded yet (one transaction each)."""
        collection = NULL_COLLECTION_PREFIX + key
        digests = [sha256_text(t) for t in texts]
        draws = [Document(digest[:16], text) for digest, text in zip(digests, texts)]
        self.investigations.add_documents(self.investigation_id, draws, collection=collection)
        done = self.investigations.done_keys(self.investigation_id, collection=collection)
        new = [(draw, digest, value) for draw, digest, value in zip(draws, digests, nll)
               if (draw.name, digest) not in done]
        self.investigations.add_results(self.investigation_id, [{"document": d.name, "nll": v} for d, _, v in new],
                               hashes=[digest for _, digest, _ in new], collection=collection)
        if self.fallback is not None:
            self.fallback.store(key, texts, nll, meta)
