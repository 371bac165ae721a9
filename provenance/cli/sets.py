"""``python -m provenance sets ...``: calibrated verdicts for sets of documents.

- ``sets compare``: a suspect collection against a reference collection (texts the model cannot have seen):
  distribution-shift check, dataset inference (with its false-positive mode) and a p-value and verdict per suspect
  document. The per-document table goes to ``--out``; the set-level figures to ``<out stem>.summary.json`` beside it.
- ``sets evaluate``: a labelled table (``text`` and ``label`` columns): one row per score with AUC, its bootstrap
  interval, TPR at 1% / 0.1% FPR and the privacy budget its attack implies (``epsilon_mean``, ``epsilon_lower``,
  ``epsilon_cp_lower``), plus the chunk-feature meta-classifier as the row ``chunk_meta`` and the blind baseline (a
  bag-of-words classifier, no model) as the row ``blind``; ``indistinguishable_from_blind`` marks the scores whose
  AUC interval overlaps the baseline's. The same table is printed, in words, on the terminal.

Both go through the use cases the dashboard calls (``investigations.reference.compare_with_reference``,
``investigations.labelled.evaluate_labelled_set``); the statistics are the pure functions of provenance/verdicts/.
With ``--investigation NAME`` the run is saved in the investigations database (``--store``) as it goes, and running
the same command again resumes it; without, it is recorded in a throwaway store.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from ..files import atomic_write_text
from ..scores import registry
from ..scores.formulas import DEFAULT_K
from .. import verdicts
from ..scores.chunk_features import DEFAULT_CHUNK_TOKENS
from ..verdicts.sets import DEFAULT_SET_TEST, SET_TESTS
from . import (OUTPUT_SUFFIXES, CliError, ProgressBar, second_models, add_model_arguments, default_cache,
               load_model_from_args, write_table)
from .engine import add_engine_arguments
from .investigations import add_investigation_arguments, run_store, saved_sentence

def register(subparsers) -> None:
    """Add the ``sets`` command group (``compare`` and ``evaluate``) to the top-level parser."""
    sets = subparsers.add_parser("sets", help="calibrated verdicts for sets: compare suspect vs reference, "
                                              "evaluate scores on a labelled set")
    sub = sets.add_subparsers(dest="sets_command", required=True)

    p = sub.add_parser("compare", help="suspect documents vs a reference set the model cannot have seen")
    p.add_argument("--suspect", nargs="+", required=True, help="files or folders of the documents under suspicion")
    p.add_argument("--reference", nargs="+", required=True,
                   help="files or folders of texts the model cannot have seen (e.g. written after its release)")
    _add_common(p, several=True)
    p.add_argument("--fpr", type=float, default=verdicts.DEFAULT_FPR,
                   help=f"false-positive rate of the verdicts (default {verdicts.DEFAULT_FPR})")
    p.add_argument("--verdict-scores", default="",
                   help="scores whose combined rank a document verdict and the rank test rest on, comma-separated "
                        "(default: all scores)")
    p.add_argument("--min-tokens", type=int, default=verdicts.DEFAULT_MIN_TOKENS,
                   help=f"documents with fewer scored tokens are inconclusive (default {verdicts.DEFAULT_MIN_TOKENS})")
    p.add_argument("--splits", type=int, default=verdicts.DEFAULT_SPLITS,
                   help=f"random splits for --set-test split_half (default {verdicts.DEFAULT_SPLITS})")
    p.add_argument("--shift-threshold", type=float, default=verdicts.DEFAULT_SHIFT_THRESHOLD,
                   help="shift-check AUC above which the sets count as confounded "
                        f"(default {verdicts.DEFAULT_SHIFT_THRESHOLD})")
    add_engine_arguments(p)
    p.add_argument("--members", nargs="+", default=None,
                   help="files or folders of texts you know the model was trained on: Con-ReCall's member prefix "
                        "(the non-member prefixes and frequency tables come from a held-out part of --reference)")
    p.set_defaults(func=_run_compare)

    e = sub.add_parser("evaluate", help="every score on a labelled member / non-member set (ROC, AUC, TPR)")
    e.add_argument("--labelled", nargs="+", required=True,
                   help=".jsonl or .csv tables with 'text' and 'label' (member / non-member, 1 / 0, true / false)")
    _add_common(e)
    e.add_argument("--chunk-tokens", type=int, default=DEFAULT_CHUNK_TOKENS,
                   help=f"tokens per chunk for the meta-classifier (default {DEFAULT_CHUNK_TOKENS})")
    e.add_argument("--bootstrap", type=int, default=verdicts.DEFAULT_BOOTSTRAP,
                   help=f"bootstrap resamples for AUC intervals (default {verdicts.DEFAULT_BOOTSTRAP})")
    e.add_argument("--reference", nargs="+", default=None,
                   help="files or folders of texts declared non-members for the scores that read some (recall, "
                        "conrecall, dcpdd, camia, tagtab); default: a held-out part of the labelled non-members, "
                        "left out of those scores' evaluation")
    e.add_argument("--members", nargs="+", default=None,
                   help="files or folders of texts declared members for conrecall; default: a held-out part of "
                        "the labelled members, left out of its evaluation")
    e.set_defaults(func=_run_evaluate)


def _add_common(p: argparse.ArgumentParser, *, several: bool = False) -> None:
    add_model_arguments(p, several=several)
    p.add_argument("--out", required=True, help="output table (.csv, .jsonl or .parquet); a .summary.json is "
                                                "written beside it")
    p.add_argument("--scores", default="",
                   help=f"extra scores, comma-separated, from: {', '.join(registry.extra_scores())} (ref needs "
                        "--ref-model, binoculars --observer; recall, conrecall, dcpdd, camia and tagtab read "
                        "declared texts)")
    p.add_argument("--ref-model", default=None,
                   help="reference model for the 'ref' score (added automatically): the strongest evidence when it is "
                        "the base model of a fine-tune, or an older model of the same family")
    p.add_argument("--observer", default=None, help="observer model sharing the tokenizer, for 'binoculars'")
    p.add_argument("--set-test", default=DEFAULT_SET_TEST, choices=list(SET_TESTS),
                   help="set-level test: 'rank' (one-sided rank test of the combined rank, every document used) or "
                        "'split_half' (Maini et al.'s dataset inference) (default rank)")
    p.add_argument("--k", type=float, default=DEFAULT_K,
                   help=f"fraction of tokens for mink / minkpp (default {DEFAULT_K})")
    p.add_argument("--seed", type=int, default=0, help="seed for splits, folds and bootstrap (default 0)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the statistics cache")
    add_investigation_arguments(p)


def _scores_from_args(args: argparse.Namespace) -> list[str]:
    extra = [s.strip() for s in args.scores.split(",") if s.strip()]
    if args.ref_model and "ref" not in extra:
        extra.append("ref")
    if args.observer and "binoculars" not in extra:
        extra.append("binoculars")
    return list(registry.default_scores()) + [s for s in extra if s not in registry.default_scores()]


def _check_out(out: str) -> None:
    if Path(out).suffix.lower() not in OUTPUT_SUFFIXES:
        raise CliError(f"Cannot write '{out}': use an output file ending in {', '.join(OUTPUT_SUFFIXES)}.")


def summary_path(out: str | Path) -> Path:
    """Where the set-level summary of a table written to ``out`` goes: ``results.csv`` -> ``results.summary.json``."""
    return Path(out).with_suffix(".summary.json")


def _write_summary(summary: dict, out: str | Path) -> Path:
    path = summary_path(out)
    return atomic_write_text(path, json.dumps(summary, indent=2, default=_json_default) + "\n")


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _load(paths: list[str], what: str):
    """The documents of ``paths`` and the files that could not be read (each printed as 'skipped ...')."""
    from ..documents import load_documents

    docs, errors = load_documents(paths)
    for err in errors:
        print(f"skipped {err}", file=sys.stderr)
    if not docs:
        raise CliError(f"No {what} document could be read.")
    return docs, errors


def _report_unscorable(*sets) -> None:
    for scored in sets:
        for message in scored.errors.values():
            print(f"skipped {message}", file=sys.stderr)


def _run_compare(args: argparse.Namespace) -> int:
    if args.engine != "ray":
        _check_out(args.out)
    scores = _scores_from_args(args)
    verdict_scores = [s.strip() for s in args.verdict_scores.split(",") if s.strip()] or scores
    unknown = [s for s in verdict_scores if s not in scores]
    if unknown:
        raise CliError(f"--verdict-scores names {', '.join(unknown)}, which is not among the scores computed "
                       f"({', '.join(scores)}).")
    if args.engine == "ray":
        return _run_compare_ray(args, scores, verdict_scores)
    from ..investigations.reference import compare_with_reference

    suspect_docs, suspect_errors = _load(args.suspect, "suspect")
    reference_docs, reference_errors = _load(args.reference, "reference")
    member_docs, member_errors = _load(args.members, "member") if args.members else ([], [])
    from .models import model_specs, run_models

    specs = model_specs(args)
    if len(specs) > 1:  # several models, each judged against the same reference set
        return run_models(args, specs, suspect_docs, scores, reference=reference_docs,
                          ingest_errors=suspect_errors + reference_errors, k=args.k,
                          cache=None if args.no_cache else default_cache(), fpr=args.fpr, min_tokens=args.min_tokens,
                          n_splits=args.splits, shift_threshold=args.shift_threshold, seed=args.seed,
                          verdict_scores=verdict_scores, set_test=args.set_test, **second_models(args))
    args.model = specs[0]
    t0 = time.time()
    model = load_model_from_args(args)
    second = second_models(args)
    bar = ProgressBar("scoring suspect and reference sets")
    try:
        with run_store(args) as store:
            result = compare_with_reference(
                store, args.investigation, model, suspect_docs, reference_docs, scores, k=args.k,
                cache=None if args.no_cache else default_cache(), fpr=args.fpr, min_tokens=args.min_tokens,
                n_splits=args.splits, shift_threshold=args.shift_threshold, seed=args.seed,
                verdict_scores=verdict_scores, ingest_errors=suspect_errors + reference_errors + member_errors,
                progress=bar, set_test=args.set_test, members=member_docs, **second)
    finally:
        bar.close()
    _report_unscorable(result.suspect, result.reference)
    comparison = result.comparison
    if comparison is None:
        raise CliError("No document of the suspect or the reference set could be scored.")
    out = write_table(comparison.documents, args.out)
    _report_comparison(args, comparison, model.name, verdict_scores, len(result.reference.table), out, t0)
    saved = saved_sentence(args, result.investigation)
    if saved:
        print(saved, file=sys.stderr)
    return 0


def _run_compare_ray(args: argparse.Namespace, scores: list[str], verdict_scores: list[str]) -> int:
    """``sets compare --engine ray``: both sets scored on the cluster into ``--out``/suspect and ``--out``/reference
    (each resumable), then compared as usual (``investigations.scaled_runs.import_scored_folder``); the verdict
    table goes to ``--out``/verdicts.parquet with its summary beside it."""
    from ..investigations.scaled_runs import import_scored_folder
    from ..scale.ray_engine import cluster
    from .engine import check_ray_out, engine_options, run_ray

    out = check_ray_out(args)
    t0 = time.time()
    with cluster(engine_options(args)):
        run_ray(args, args.suspect, out / "suspect", scores)
        run_ray(args, args.reference, out / "reference", scores)
    with run_store(args) as store:
        result = import_scored_folder(store, out / "suspect", investigation=args.investigation,
                                      reference=out / "reference", fpr=args.fpr, min_tokens=args.min_tokens,
                                      n_splits=args.splits, shift_threshold=args.shift_threshold, seed=args.seed,
                                      verdict_scores=verdict_scores, set_test=args.set_test)
        n_reference = len(store.results(result.investigation.id, collection="reference"))
    print(result.sentence(), file=sys.stderr)
    if result.comparison is None:
        raise CliError("No document of the suspect or the reference set could be scored.")
    table = write_table(result.comparison.documents, out / "verdicts.parquet")
    _report_comparison(args, result.comparison, args.model, verdict_scores, n_reference, table, t0)
    saved = saved_sentence(args, result.investigation)
    if saved:
        print(saved, file=sys.stderr)
    return 0


def _report_comparison(args: argparse.Namespace, comparison, model_name: str, verdict_scores: list[str],
                       n_reference: int, out: Path, t0: float) -> None:
    """Write the set-level summary beside ``out`` and print the findings."""
    summary = {"model": model_name, "verdict_scores": verdict_scores, **comparison.summary()}
    summary["documents"]["reference"] = n_reference
    summary_file = _write_summary(summary, out)
    shift, inference, false_positive = comparison.shift, comparison.inference, comparison.false_positive
    if shift is not None:
        prefix = "WARNING: the sets are confounded: " if shift.confounded else "Shift check: "
        print(f"{prefix}{shift.sentence}", file=sys.stderr)
    for note in comparison.notes:
        print(f"Note: {note}", file=sys.stderr)
    if inference is not None:
        print(f"Set-level test: p = {verdicts.format_p(inference.p_value)}, {inference.method}.", file=sys.stderr)
    if false_positive is not None:
        print(f"False-positive mode (reference half vs reference half): p = "
              f"{verdicts.format_p(false_positive.p_value)} (should not be significant).", file=sys.stderr)
    print(f"Verdict for the set: {comparison.verdict.sentence()}", file=sys.stderr)
    print(f"{summary['documents']['evidence']} of {len(comparison.documents)} suspect document(s) show evidence of "
          f"training at FPR {args.fpr:g}. Done in {time.time() - t0:.1f} s -> {out}, {summary_file}", file=sys.stderr)


def evaluation_text(table) -> str:
    """The evaluation table as the terminal shows it: one line per score (the blind baseline last) with AUC and its
    95% interval, TPR at 1% and 0.1% FPR (n/a where the sample cannot measure it), the privacy budget columns and
    how the score compares with the blind baseline, in words; then the privacy-budget and baseline sentences."""
    import pandas as pd

    from ..verdicts.baseline import (blind_baseline_sentence, comparison_column, display_name,
                                     privacy_budget_sentence)
    from ..verdicts.roc import measured_operating_points

    measured = measured_operating_points(table)

    def num(values, digits: int) -> list[str]:
        return [f"{v:.{digits}f}" if pd.notna(v) else "n/a" for v in values]

    shown = pd.DataFrame({
        "score": [display_name(s) for s in measured["score"]],
        "AUC": num(measured["auc"], 3),
        "95% interval": [f"{lo:.3f}-{hi:.3f}" if pd.notna(lo) and pd.notna(hi) else "n/a"
                         for lo, hi in zip(measured["auc_low"], measured["auc_high"])],
        "TPR@1%FPR": num(measured["tpr_at_1pct_fpr"], 3), "TPR@0.1%FPR": num(measured["tpr_at_0_1pct_fpr"], 3),
        "epsilon_mean": num(measured["epsilon_mean"], 2), "epsilon_lower": num(measured["epsilon_lower"], 2),
        "epsilon_cp_lower": num(measured["epsilon_cp_lower"], 2),
        "blind baseline": comparison_column(measured)})
    lines = [shown.to_string(index=False)]
    lines += [s for s in (blind_baseline_sentence(table), privacy_budget_sentence(table)) if s]
    return "\n".join(lines)


def _run_evaluate(args: argparse.Namespace) -> int:
    _check_out(args.out)
    scores = _scores_from_args(args)
    from ..documents import load_labelled_documents

    docs, label_list, errors = load_labelled_documents(args.labelled)
    labels = np.array(label_list, dtype=int)
    for err in errors:
        print(f"skipped {err}", file=sys.stderr)
    if not docs:
        raise CliError("No labelled document could be read, so nothing was evaluated.")
    reference_docs, reference_errors = _load(args.reference, "reference") if args.reference else (None, [])
    member_docs, member_errors = _load(args.members, "member") if args.members else (None, [])
    n_members = int(labels.sum())
    if n_members == 0 or n_members == len(labels):
        raise CliError(f"The labelled set needs both members and non-members; it has {n_members} member(s) and "
                       f"{len(labels) - n_members} non-member(s).")
    from ..investigations.labelled import evaluate_labelled_set

    t0 = time.time()
    model = load_model_from_args(args)
    second = second_models(args)
    bar = ProgressBar("scoring labelled set")
    try:
        with run_store(args) as store:
            result = evaluate_labelled_set(store, args.investigation, model, docs, labels.tolist(), scores, k=args.k,
                                           cache=None if args.no_cache else default_cache(),
                                           chunk_tokens=args.chunk_tokens, n_bootstrap=args.bootstrap,
                                           seed=args.seed, ingest_errors=errors + reference_errors + member_errors,
                                           progress=bar, set_test=args.set_test, reference=reference_docs,
                                           members=member_docs, **second)
    finally:
        bar.close()
    _report_unscorable(result.scores)
    evaluation = result.evaluation
    table, shift = evaluation.table, evaluation.shift
    out = write_table(table, args.out)
    summary = {"model": model.name, "documents": evaluation.n_members + evaluation.n_non_members,
               **evaluation.summary()}
    summary_file = _write_summary(summary, out)
    if shift.confounded:
        print(f"WARNING: members and non-members differ by themselves. {shift.sentence} The AUCs below may measure "
              "that difference, not training.", file=sys.stderr)
    else:
        print(f"Shift check: {shift.sentence}", file=sys.stderr)
    print(evaluation_text(table), file=sys.stderr)
    for note in evaluation.notes:
        print(f"Note: {note}", file=sys.stderr)
    best = table.iloc[0]
    print(f"Best: {best['score']} AUC {best['auc']:.3f} ({best['auc_low']:.3f}-{best['auc_high']:.3f}) on "
          f"{evaluation.n_members} members and {evaluation.n_non_members} non-members. Done in "
          f"{time.time() - t0:.1f} s -> {out}, {summary_file}", file=sys.stderr)
    saved = saved_sentence(args, result.investigation)
    if saved:
        print(saved, file=sys.stderr)
    return 0
