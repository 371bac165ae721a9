"""``python -m provenance ghost ...``: generate, embed, detect and verify ghost sentences (see ``provenance/ghost``).

``ghost detect`` goes through ``investigations.ghost_test.run_ghost_test``, the use case the dashboard calls; with
``--investigation NAME`` the test is saved in the investigations database as it goes (its null draws as they are
scored) and running it again resumes it.
"""

from __future__ import annotations

import argparse
from datetime import date
import sys
import time
from pathlib import Path

import pandas as pd

from .. import ghost, paths
from . import (OUTPUT_SUFFIXES, CliError, ProgressBar, add_model_arguments, default_cache, load_model_from_args,
               write_table)
from .investigations import add_investigation_arguments, run_store, saved_sentence


def register(subparsers) -> None:
    """Add the ``ghost`` command group (new, embed, detect, verify, commitments) to the main parser."""
    p = subparsers.add_parser("ghost", help="ghost sentences: unique identifiers to plant in texts and test for")
    sub = p.add_subparsers(dest="ghost_command", required=True)

    new = sub.add_parser("new", help="generate new identifiers and add them to a registry")
    new.add_argument("--count", type=int, required=True, help="how many identifiers to generate")
    new.add_argument("--words", type=int, default=ghost.DEFAULT_WORDS,
                     help=f"words per identifier (default {ghost.DEFAULT_WORDS}: about 77 bits with eff-long)")
    new.add_argument("--registry", required=True, help="registry JSON file (created if absent); keep it private")
    new.add_argument("--wordlist", default="eff-long", choices=list(ghost.WORDLISTS))
    new.add_argument("--case", default="sentence", choices=list(ghost.CASES), help="capitalisation")
    new.add_argument("--separator", default=" ", help="between words: ' ', '-', '_' or ', '")
    new.add_argument("--lead-in", default="", help="a short opener such as 'Note:'")
    new.add_argument("--tag", default="", help="a short user tag placed after the words, such as '(acme)'")
    new.add_argument("--end", default=".", help="end punctuation: '', '.', '!', '?' or ';' (default '.')")
    new.add_argument("--commitments", default=None, help="also write the public commitments (JSON) here")
    new.set_defaults(func=_run_new)

    emb = sub.add_parser("embed", help="insert registered identifiers into .txt/.md/.html/.docx files")
    emb.add_argument("paths", nargs="+", help="documents to mark (copies are written; the originals stay)")
    emb.add_argument("--registry", required=True)
    emb.add_argument("--out-dir", required=True, help="folder for the marked copies")
    emb.add_argument("--ids", default="", help="comma-separated identifier ids (default: all in the registry)")
    emb.add_argument("--position", default="random", choices=list(ghost.POSITIONS))
    emb.add_argument("--repetitions", type=int, default=1, help="placements of each identifier per document")
    emb.add_argument("--spread", action="store_true",
                     help="deal identifiers out across the documents instead of putting all in each")
    emb.add_argument("--manifest", default=None, help="manifest JSON (default: OUT_DIR/ghost-manifest.json)")
    emb.set_defaults(func=_run_embed)

    det = sub.add_parser("detect", help="test a model for registered identifiers (exact p-values)")
    det.add_argument("--registry", required=True)
    add_model_arguments(det)
    det.add_argument("--null", type=int, default=ghost.DEFAULT_NULL,
                     help=f"fresh null draws per generator setting (default {ghost.DEFAULT_NULL})")
    det.add_argument("--out", required=True, help="output table (.csv, .jsonl or .parquet)")
    det.add_argument("--ids", default="", help="comma-separated identifier ids (default: all)")
    det.add_argument("--alpha", type=float, default=ghost.DEFAULT_ALPHA,
                     help="false-positive rate of the verdict (default 0.01)")
    det.add_argument("--context", default="", help="text placed before every identifier and null draw")
    det.add_argument("--last-k", default="1,2,3", help="k values for the last-k words test ('' to skip)")
    det.add_argument("--no-cache", action="store_true", help="do not read or write cached null draws")
    det.add_argument("--ref-model", default=None,
                     help="reference-calibrated test: a model released before the identifiers were registered; each "
                          "identifier is ranked by NLL_reference - NLL_model among fresh draws (stronger on real "
                          "pretrained models)")
    det.add_argument("--ref-released", default=None, type=_iso_date,
                     help="the reference model's release date, YYYY-MM-DD (needed with --ref-model; it must predate "
                          "the registration of every tested identifier)")
    add_investigation_arguments(det)
    det.set_defaults(func=_run_detect)

    ver = sub.add_parser("verify", help="check a registry against its commitments (and published ones)")
    ver.add_argument("--registry", required=True)
    ver.add_argument("--published", default=None, help="commitments file published earlier ('ghost commitments')")
    ver.set_defaults(func=_run_verify)

    pub = sub.add_parser("commitments", help="write the public commitments of a registry (safe to publish)")
    pub.add_argument("--registry", required=True)
    pub.add_argument("--out", required=True, help="JSON file to publish")
    pub.set_defaults(func=_run_commitments)


def _selected(registry: ghost.Registry, ids: str) -> list[ghost.GhostEntry]:
    return registry.get([i.strip() for i in ids.split(",") if i.strip()])


def _run_new(args: argparse.Namespace) -> int:
    if args.count < 1:
        raise CliError("--count must be at least 1.")
    generator = ghost.GhostGenerator(wordlist=args.wordlist, words=args.words, case=args.case,
                                     separator=args.separator, lead_in=args.lead_in, tag=args.tag, end=args.end)
    registry = ghost.load_registry(args.registry, missing_ok=True)
    added = ghost.new_entries(registry, generator, args.count)
    ghost.save_registry(registry, args.registry)
    for e in added:
        print(f"{e.id}\t{e.identifier}")
    print(f"Added {len(added)} identifier(s) of {generator.bits:.1f} bits each to {args.registry} "
          f"({len(registry.entries)} in all). Keep this file private.", file=sys.stderr)
    if args.commitments:
        ghost.save_commitments(registry, args.commitments)
        print(f"Public commitments written to {args.commitments}.", file=sys.stderr)
    return 0


def _run_embed(args: argparse.Namespace) -> int:
    registry = ghost.load_registry(args.registry)
    entries = _selected(registry, args.ids)
    manifest = ghost.embed_files(args.paths, args.out_dir, entries, position=args.position,
                                 repetitions=args.repetitions, spread=args.spread)
    path = ghost.save_manifest(manifest, args.manifest or Path(args.out_dir) / "ghost-manifest.json")
    n = sum(len(d["placements"]) for d in manifest["documents"])
    print(f"Placed {n} identifier(s) in {len(manifest['documents'])} document(s) under {args.out_dir}; "
          f"manifest: {path}.", file=sys.stderr)
    return 0


def _parse_ks(text: str) -> list[int]:
    try:
        ks = [int(k) for k in text.split(",") if k.strip()]
    except ValueError as exc:
        raise CliError(f"--last-k must be comma-separated whole numbers such as 1,2,3; got '{text}'.") from exc
    if any(k < 1 for k in ks):
        raise CliError("--last-k values must be at least 1.")
    return ks


def detection_table(result: ghost.GhostDetection) -> pd.DataFrame:
    """The per-identifier table followed by one row holding Fisher's combined p-value, the false-positive rate, the
    verdict's label and its words (label, p-value and false-positive rate, or why it is inconclusive)."""
    verdict = result.verdict
    combined = {"id": "combined (Fisher)", "p_value": verdict.p_value, "fpr": verdict.fpr,
                "label": verdict.label.value, "verdict": verdict.words()}
    return pd.concat([result.table, pd.DataFrame([combined])], ignore_index=True)


def _run_detect(args: argparse.Namespace) -> int:
    from ..investigations.ghost_test import run_ghost_test

    if Path(args.out).suffix.lower() not in OUTPUT_SUFFIXES:
        raise CliError(f"Cannot write '{args.out}': use an output file ending in {', '.join(OUTPUT_SUFFIXES)}.")
    if args.null < 1:
        raise CliError("--null must be at least 1.")
    ks = _parse_ks(args.last_k)
    registry = ghost.load_registry(args.registry)
    entries = _selected(registry, args.ids)
    if args.ref_model is not None:  # refuse an unsuitable reference before loading anything
        ghost.check_reference(entries, args.ref_released)
    model = load_model_from_args(args)
    ref_model = load_model_from_args(args, args.ref_model) if args.ref_model else None
    null_cache = None if args.no_cache else ghost.NullCache(paths.ghost_null_cache_dir())
    bar = ProgressBar("scoring")
    t0 = time.time()
    try:
        with run_store(args) as store:
            test = run_ghost_test(store, args.investigation, model, entries, n_null=args.null, context=args.context,
                                  alpha=args.alpha, last_k=ks, null_cache=null_cache, exclude=registry.identifiers,
                                  progress=bar, ref_model=ref_model, ref_released=args.ref_released,
                                  cache=None if args.no_cache else default_cache())
    finally:
        bar.close()
    result = test.detection
    out = write_table(detection_table(result), args.out)
    print(result.verdict.words())
    print(f"Method: {result.verdict.method}.", file=sys.stderr)
    against = f"against {args.null} null draws" if result.n_null else "with the last-k words test only"
    print(f"Tested {len(entries)} identifier(s) {against} in {time.time() - t0:.1f} s -> {out}", file=sys.stderr)
    saved = saved_sentence(args, test.investigation)
    if saved:
        print(saved, file=sys.stderr)
    return 0


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2024-03-31.") from None


def _run_verify(args: argparse.Namespace) -> int:
    registry = ghost.load_registry(args.registry)  # raises with the first problem when tampered or damaged
    undated = ghost.undated_entries(registry)
    print(f"{args.registry}: all {len(registry.entries)} identifier(s) match their SHA-256 commitments"
          + (", and their creation dates match their date commitments." if not undated else "."))
    if undated:
        print(f"The creation dates of {len(undated)} identifier(s) ({', '.join(undated[:5])}"
              f"{', ...' if len(undated) > 5 else ''}) are NOT covered by any commitment: they were registered by "
              "an older version of provenance, so their 'created' field could have been changed without notice. "
              "Only a commitments file published at a known time dates them.")
    if not args.published:
        return 0
    table = ghost.verify_against_published(registry, ghost.load_published(args.published))
    for row in table.itertuples():
        state = (f"published (listed {row.published_created})" if row.published
                 else "NOT in the published commitments")
        date = "date committed" if row.date_covered else "date NOT covered"
        print(f"{row.id}\tcreated {row.created} ({date})\t{state}")
    missing = int((~table["published"]).sum())
    if missing:
        print(f"{missing} identifier(s) are not in {args.published}; their creation date cannot be proven with it.",
              file=sys.stderr)
        return 1
    print(f"All {len(table)} identifier(s) are in {args.published}: each existed when that file was published.")
    return 0


def _run_commitments(args: argparse.Namespace) -> int:
    registry = ghost.load_registry(args.registry)
    ghost.save_commitments(registry, args.out)
    print(f"Wrote {len(registry.entries)} commitment(s) to {args.out}; publish it (it reveals no identifier).",
          file=sys.stderr)
    return 0
