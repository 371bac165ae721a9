"""Several models side by side from the command line: ``score`` and ``sets compare`` with more than one model
(``--model A --model B`` or ``--model A,B``). One model keeps each command's own output unchanged.

Both go through ``investigations.models.compare_models`` (the use case the Documents page calls), loading each model
with the command's ``--device`` / ``--dtype`` through the one loading entry point, one model at a time. ``--out``
gets one row per (document, model): the heatmap's data (p-value and verdict per cell with a reference set, the
scores otherwise); ``sets compare`` also writes each model's set-level verdict to ``<out stem>.summary.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from ..files import atomic_write_text
from ..lm.loading import DEFAULT_SPEC


def model_specs(args: argparse.Namespace) -> list[str]:
    """The model specs of ``--model`` (repeated and/or comma-separated), 'default' when none was given."""
    from ..investigations.models import parse_model_specs

    given = args.model if isinstance(args.model, list) else [args.model or DEFAULT_SPEC]
    return parse_model_specs(given) or [DEFAULT_SPEC]


class ModelBars:
    """One token progress bar per model, on stderr: ``on_model`` starts a model's bar, the object is the progress
    callback of the run in flight."""

    def __init__(self) -> None:
        self.bar = None

    def on_model(self, run) -> None:
        from . import ProgressBar

        self.close()
        if run.status == "not run":  # the model is about to be loaded
            self.bar = ProgressBar(f"scoring with {run.spec}")

    def __call__(self, done: int, total: int) -> None:
        if self.bar is not None:
            self.bar(done, total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def run_models(args: argparse.Namespace, specs: list[str], documents, scores: list[str], *, reference=(),
               ingest_errors=(), **options) -> int:
    """Compare ``specs`` on ``documents`` (and ``reference``) with ``compare_models``, write the grid to
    ``args.out`` (and, with a reference set, the summary beside it) and print one line per model. ``options`` go to
    ``compare_models`` as they are (k, settings, cache, fpr, ...). Exit status 0 when any model scored a
    document, else 1."""
    from . import load_model_from_args, write_table
    from .investigations import run_store, saved_sentence
    from ..investigations.models import REFUSED, compare_models

    t0 = time.time()
    bars = ModelBars()
    try:
        with run_store(args) as store:
            result = compare_models(store, getattr(args, "investigation", None), specs,
                                    lambda spec: load_model_from_args(args, spec), documents, reference, scores,
                                    ingest_errors=ingest_errors, progress=bars, on_model=bars.on_model, **options)
    finally:
        bars.close()
    out = write_table(result.grid, args.out)
    for run in result.runs:
        if run.status == REFUSED:
            print(f"{run.label}: no results. {run.reason}", file=sys.stderr)
        elif run.verdict is not None:
            print(f"{run.label}: {run.verdict.sentence()}", file=sys.stderr)
        else:
            print(f"{run.label}: {run.status}" + (f" ({run.reason})" if run.reason else "")
                  + ("" if reference else "; scores only, no verdict without a reference set") + ".", file=sys.stderr)
    written = [str(out)]
    if reference:
        from .sets import summary_path

        summary = {"models": [run.record() for run in result.runs], "value": result.value,
                   "documents": len(documents), "reference": len(reference)}
        written.append(str(atomic_write_text(summary_path(out), json.dumps(summary, indent=2, default=str) + "\n")))
    scored = int((result.grid["status"] == "scored").sum()) if len(result.grid) else 0
    print(f"{len(specs)} models, {scored} (document, model) cell(s) scored in {time.time() - t0:.1f} s -> "
          f"{', '.join(written)}", file=sys.stderr)
    saved = saved_sentence(args, result.investigation)
    if saved:
        print(saved, file=sys.stderr)
    return 0 if scored else 1
