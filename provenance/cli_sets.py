"""``python -m provenance sets ...``: calibrated verdicts for sets of documents.

- ``sets compare``: a suspect collection against a reference collection (texts the model cannot have seen):
  distribution-shift check, dataset inference (with its false-positive mode) and a p-value and verdict per suspect
  document. The per-document table goes to ``--out``; the set-level figures to ``<out stem>.summary.json`` beside it.
- ``sets evaluate``: a labelled table (``text`` and ``label`` columns): one row per score with AUC, its bootstrap
  interval and TPR at 1% / 0.1% FPR, plus the chunk-feature meta-classifier as the row ``chunk_meta``.

Model use stays here and in pipeline.py; the statistics are the pure functions of calibration.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import attacks, calibration
from .cli import (OUTPUT_SUFFIXES, CliError, ProgressBar, add_model_arguments, default_cache, load_model_from_args,
                  write_table)

META_SCORE_NAME = "chunk_meta"


def register(subparsers) -> None:
    """Add the ``sets`` command group (``compare`` and ``evaluate``) to the top-level parser."""
    sets = subparsers.add_parser("sets", help="calibrated verdicts for sets: compare suspect vs reference, "
                                              "evaluate scores on a labelled set")
    sub = sets.add_subparsers(dest="sets_command", required=True)

    p = sub.add_parser("compare", help="suspect documents vs a reference set the model cannot have seen")
    p.add_argument("--suspect", nargs="+", required=True, help="files or folders of the documents under suspicion")
    p.add_argument("--reference", nargs="+", required=True,
                   help="files or folders of texts the model cannot have seen (e.g. written after its release)")
    _add_common(p)
    p.add_argument("--fpr", type=float, default=calibration.DEFAULT_FPR,
                   help=f"false-positive rate of the verdicts (default {calibration.DEFAULT_FPR})")
    p.add_argument("--verdict-scores", default="",
                   help="scores a document verdict combines (Bonferroni), comma-separated (default: all scores)")
    p.add_argument("--min-tokens", type=int, default=calibration.DEFAULT_MIN_TOKENS,
                   help=f"documents with fewer scored tokens are inconclusive (default {calibration.DEFAULT_MIN_TOKENS})")
    p.add_argument("--splits", type=int, default=calibration.DEFAULT_SPLITS,
                   help=f"random splits for dataset inference (default {calibration.DEFAULT_SPLITS})")
    p.add_argument("--shift-threshold", type=float, default=calibration.DEFAULT_SHIFT_THRESHOLD,
                   help="shift-check AUC above which the sets count as confounded "
                        f"(default {calibration.DEFAULT_SHIFT_THRESHOLD})")
    p.set_defaults(func=_run_compare)

    e = sub.add_parser("evaluate", help="every score on a labelled member / non-member set (ROC, AUC, TPR)")
    e.add_argument("--labelled", nargs="+", required=True,
                   help=".jsonl or .csv tables with 'text' and 'label' (member / non-member, 1 / 0, true / false)")
    _add_common(e)
    e.add_argument("--chunk-tokens", type=int, default=calibration.DEFAULT_CHUNK_TOKENS,
                   help=f"tokens per chunk for the meta-classifier (default {calibration.DEFAULT_CHUNK_TOKENS})")
    e.add_argument("--bootstrap", type=int, default=calibration.DEFAULT_BOOTSTRAP,
                   help=f"bootstrap resamples for AUC intervals (default {calibration.DEFAULT_BOOTSTRAP})")
    e.set_defaults(func=_run_evaluate)


def _add_common(p: argparse.ArgumentParser) -> None:
    add_model_arguments(p)
    p.add_argument("--out", required=True, help="output table (.csv, .jsonl or .parquet); a .summary.json is "
                                                "written beside it")
    p.add_argument("--scores", default="",
                   help="extra scores, comma-separated: gradnorm (white-box, slower)")
    p.add_argument("--k", type=float, default=0.2, help="fraction of tokens for mink / minkpp (default 0.2)")
    p.add_argument("--seed", type=int, default=0, help="seed for splits, folds and bootstrap (default 0)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the statistics cache")


def _scores_from_args(args: argparse.Namespace) -> list[str]:
    extra = [s.strip() for s in args.scores.split(",") if s.strip()]
    needs_model = [s for s in extra if s in ("ref", "binoculars")]
    if needs_model:
        raise CliError(f"The score(s) {', '.join(needs_model)} need a second model and are not available in "
                       "'sets'; use 'score' for them.")
    return list(attacks.DEFAULT_SCORES) + [s for s in extra if s not in attacks.DEFAULT_SCORES]


def _check_out(out: str) -> None:
    if Path(out).suffix.lower() not in OUTPUT_SUFFIXES:
        raise CliError(f"Cannot write '{out}': use an output file ending in {', '.join(OUTPUT_SUFFIXES)}.")


def summary_path(out: str | Path) -> Path:
    """Where the set-level summary of a table written to ``out`` goes: ``results.csv`` -> ``results.summary.json``."""
    return Path(out).with_suffix(".summary.json")


def _write_summary(summary: dict, out: str | Path) -> Path:
    path = summary_path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, default=_json_default) + "\n", encoding="utf-8")
    return path


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _load(paths: list[str], what: str):
    from .ingest import load_documents

    docs, errors = load_documents(paths)
    for err in errors:
        print(f"skipped {err}", file=sys.stderr)
    if not docs:
        raise CliError(f"No {what} document could be read.")
    return docs


def _score(model, docs, scores: list[str], args: argparse.Namespace, desc: str):
    from .pipeline import score_documents

    bar = ProgressBar(desc)
    try:
        result = score_documents(model, docs, scores, k=args.k, cache=None if args.no_cache else default_cache(),
                                 progress=bar)
    finally:
        bar.close()
    for message in result.errors.values():
        print(f"skipped {message}", file=sys.stderr)
    return result


def _run_compare(args: argparse.Namespace) -> int:
    _check_out(args.out)
    scores = _scores_from_args(args)
    verdict_scores = [s.strip() for s in args.verdict_scores.split(",") if s.strip()] or scores
    unknown = [s for s in verdict_scores if s not in scores]
    if unknown:
        raise CliError(f"--verdict-scores names {', '.join(unknown)}, which is not among the scores computed "
                       f"({', '.join(scores)}).")
    suspect_docs = _load(args.suspect, "suspect")
    reference_docs = _load(args.reference, "reference")
    t0 = time.time()
    notes: list[str] = []
    shift = None
    if min(len(suspect_docs), len(reference_docs)) >= 2:
        shift = calibration.shift_check([d.text for d in suspect_docs], [d.text for d in reference_docs],
                                        threshold=args.shift_threshold, seed=args.seed)
    else:
        notes.append("The shift check needs at least 2 documents in each set, so it was not run: nothing checks "
                     "that the suspect and reference texts are alike.")
    model = load_model_from_args(args)
    suspect = _score(model, suspect_docs, scores, args, "scoring suspect set")
    reference = _score(model, reference_docs, scores, args, "scoring reference set")
    if suspect.table.empty or reference.table.empty:
        raise CliError("No document of the suspect or the reference set could be scored.")
    inference = false_positive = None
    if min(len(suspect.table), len(reference.table)) >= calibration.MIN_DATASET_DOCUMENTS:
        inference = calibration.dataset_inference(suspect.table, reference.table, scores, n_splits=args.splits,
                                                  seed=args.seed)
    else:
        notes.append(f"Dataset inference needs at least {calibration.MIN_DATASET_DOCUMENTS} scored documents in "
                     f"each set (suspect: {len(suspect.table)}, reference: {len(reference.table)}), so only "
                     "per-document verdicts were made.")
    if len(reference.table) >= 2 * calibration.MIN_DATASET_DOCUMENTS:
        false_positive = calibration.dataset_inference_false_positive(reference.table, scores,
                                                                       n_splits=args.splits, seed=args.seed)
    verdicts = calibration.document_verdicts(suspect.table, reference.table, verdict_scores, fpr=args.fpr,
                                             min_tokens=args.min_tokens, shift=shift)
    table = suspect.table.merge(verdicts.drop(columns=["tokens"], errors="ignore"), on="document", how="left")
    out = write_table(table, args.out)
    thresholds = calibration.score_thresholds(reference.table, scores, args.fpr)
    summary = {
        "model": model.name, "fpr": args.fpr, "scores": scores, "verdict_scores": verdict_scores,
        "verdict": inference.verdict(args.fpr, shift) if inference else None,
        "dataset_inference": inference.summary() if inference else None,
        "false_positive_mode": false_positive.summary() if false_positive else None,
        "shift_check": shift.summary() if shift else None,
        # score above which one document is called a member at this FPR; null: the reference set is too small
        "thresholds_at_fpr": {s: (v if np.isfinite(v) else None) for s, v in thresholds.items()},
        "documents": {"suspect": len(suspect.table), "reference": len(reference.table),
                      "evidence": int(table["verdict"].str.startswith("evidence").sum())},
        "notes": notes,
    }
    summary_file = _write_summary(summary, out)
    if shift is not None:
        prefix = "WARNING: the sets are confounded: " if shift.confounded else "Shift check: "
        print(f"{prefix}{shift.reason}.", file=sys.stderr)
    for note in notes:
        print(f"Note: {note}", file=sys.stderr)
    if inference is not None:
        print(f"Dataset inference: p = {calibration.format_p(inference.p_value)} with {inference.n_suspect} suspect "
              f"and {inference.n_reference} reference documents -> {summary['verdict']}.", file=sys.stderr)
    if false_positive is not None:
        print(f"False-positive mode (reference half vs reference half): p = "
              f"{calibration.format_p(false_positive.p_value)} (should not be significant).", file=sys.stderr)
    print(f"{summary['documents']['evidence']} of {len(table)} suspect document(s) show evidence of training at "
          f"FPR {args.fpr:g}. Done in {time.time() - t0:.1f} s -> {out}, {summary_file}", file=sys.stderr)
    return 0


def _run_evaluate(args: argparse.Namespace) -> int:
    _check_out(args.out)
    scores = _scores_from_args(args)
    from .ingest import load_labelled_documents

    docs, label_list, errors = load_labelled_documents(args.labelled)
    labels = np.array(label_list, dtype=int)
    for err in errors:
        print(f"skipped {err}", file=sys.stderr)
    if not docs:
        raise CliError("No labelled document could be read, so nothing was evaluated.")
    n_members = int(labels.sum())
    if n_members == 0 or n_members == len(labels):
        raise CliError(f"The labelled set needs both members and non-members; it has {n_members} member(s) and "
                       f"{len(labels) - n_members} non-member(s).")
    t0 = time.time()
    label_by_name = {d.name: int(y) for d, y in zip(docs, labels)}
    members = [d.text for d in docs if label_by_name[d.name] == 1]
    non_members = [d.text for d in docs if label_by_name[d.name] == 0]
    shift = calibration.shift_check(members, non_members, seed=args.seed, names=("member", "non-member"))
    model = load_model_from_args(args)
    result = _score(model, docs, scores, args, "scoring labelled set")
    y = result.table["document"].map(label_by_name).to_numpy(dtype=int)
    table = calibration.evaluate_scores(result.table, y, scores, n_bootstrap=args.bootstrap, seed=args.seed)
    features = np.stack([calibration.document_features(result.stats[name], args.chunk_tokens, args.k)
                         for name in result.table["document"]])
    meta = calibration.meta_classifier(features, y, n_bootstrap=args.bootstrap, seed=args.seed)
    meta_row = calibration.evaluation_row(META_SCORE_NAME, y, meta.out_of_fold, n_bootstrap=args.bootstrap,
                                          seed=args.seed)
    table = (pd.concat([table, pd.DataFrame([meta_row])], ignore_index=True)
             .sort_values("auc", ascending=False, kind="stable").reset_index(drop=True))
    out = write_table(table, args.out)
    summary = {"model": model.name, "documents": len(result.table), "members": int(y.sum()),
               "non_members": int(len(y) - y.sum()), "shift_check": shift.summary(),
               "meta_classifier": {"auc": meta.auc, "auc_low": meta.auc_low, "auc_high": meta.auc_high,
                                   "folds": meta.folds, "chunk_tokens": args.chunk_tokens},
               "scores": table.to_dict(orient="records")}
    summary_file = _write_summary(summary, out)
    if shift.confounded:
        print(f"WARNING: members and non-members differ by themselves: {shift.reason}. The AUCs below may measure "
              "that difference, not training.", file=sys.stderr)
    else:
        print(f"Shift check: {shift.reason}.", file=sys.stderr)
    best = table.iloc[0]
    print(f"Best: {best['score']} AUC {best['auc']:.3f} ({best['auc_low']:.3f}-{best['auc_high']:.3f}) on "
          f"{int(y.sum())} members and {int(len(y) - y.sum())} non-members. Done in {time.time() - t0:.1f} s -> "
          f"{out}, {summary_file}", file=sys.stderr)
    return 0
