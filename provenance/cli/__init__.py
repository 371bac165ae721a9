"""Command line: ``python -m provenance COMMAND ...``.

``score`` lives here; other command groups (ghost, sets, overlap, report) live in ``cli/<group>.py`` modules that
expose ``register(subparsers)`` and are listed in ``COMMAND_MODULES``.
"""

from __future__ import annotations

import argparse
import io
import importlib
import logging
import sys
import time
from pathlib import Path

import pandas as pd

from .. import paths
from ..scores import registry
from ..scores.formulas import DEFAULT_K
from ..files import atomic_write_bytes
from ..lm.loading import DEFAULT_SPEC, ModelLoadError, quiet_model_library_logs

COMMAND_MODULES: list[str] = ["provenance.cli.ghost", "provenance.cli.sets", "provenance.cli.overlap",
                              "provenance.cli.investigations"]

OUTPUT_SUFFIXES = (".csv", ".jsonl", ".parquet")


class CliError(Exception):
    """A problem the user can fix; printed as one sentence, exit status 2."""


def write_table(table: pd.DataFrame, out: str | Path) -> Path:
    """Write a table as .csv, .jsonl or .parquet, chosen by the file extension."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise CliError(f"Cannot write '{out.name}': use an output file ending in {', '.join(OUTPUT_SUFFIXES)}.")
    buffer = io.BytesIO()  # written whole, then moved into place: a killed run never leaves half a table
    if suffix == ".csv":
        buffer.write(table.to_csv(index=False).encode("utf-8"))
    elif suffix == ".jsonl":
        buffer.write(table.to_json(orient="records", lines=True, force_ascii=False).encode("utf-8"))
    else:
        table.to_parquet(buffer, index=False)
    return atomic_write_bytes(out, buffer.getvalue())


class ProgressBar:
    """A tqdm bar over tokens with tokens/s, shown on stderr (quiet when there is little to do)."""

    def __init__(self, desc: str, unit: str = "tok", min_total: int = 2000):
        self.desc, self.unit, self.min_total = desc, unit, min_total
        self.bar = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=self.desc, unit=self.unit, unit_scale=True, file=sys.stderr,
                            disable=total < self.min_total, dynamic_ncols=True)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


MODEL_HELP = ("'default' (bundled SmolLM2-135M-Instruct), a model folder, a .gguf file or a hub id (all run here, "
              "exact); 'vllm:SPEC' (vLLM in this process), 'openai:BASE_URL#MODEL' (an OpenAI-compatible completions "
              "server, key from $PROVENANCE_OPENAI_API_KEY), 'chat:BASE_URL#MODEL' (a chat API: generation only)")


def add_model_arguments(parser: argparse.ArgumentParser, *, several: bool = False) -> None:
    """--model, --device, --dtype, --trust-remote-code: shared by every command that loads a model. With
    ``several``, --model may be repeated or list specs separated by commas (``cli.models.model_specs``)."""
    if several:
        parser.add_argument("--model", action="append", default=None,
                            help=MODEL_HELP + "; repeat --model (or separate specs with commas) to compare several "
                                              "models side by side: one row per document and model")
    else:
        parser.add_argument("--model", default=DEFAULT_SPEC, help=MODEL_HELP)
    parser.add_argument("--device", default=None, help="cuda, mps or cpu (default: best available)")
    parser.add_argument("--dtype", default=None, help="float32, bfloat16 or float16 (default: bf16 on CUDA, else fp32)")
    parser.add_argument("--trust-remote-code", action="store_true",
                        help="run code shipped with the model (only for models you trust)")


def load_model_from_args(args: argparse.Namespace, spec: str | None = None):
    from ..lm.backends import load_model

    spec = spec or args.model
    print(f"Loading model {spec} ...", file=sys.stderr)
    return load_model(spec, device=args.device, dtype=args.dtype, trust_remote_code=args.trust_remote_code)


def second_models(args: argparse.Namespace) -> dict:
    """The reference and observer models the arguments name (loaded), as keyword arguments of the use cases."""
    return {"ref_model": load_model_from_args(args, args.ref_model) if args.ref_model else None,
            "observer": load_model_from_args(args, args.observer) if args.observer else None}


def default_cache():
    from ..lm.cache import StatsCache

    return StatsCache(paths.statistics_cache_dir())


def _add_score(sub) -> None:
    p = sub.add_parser("score", help="membership scores for documents, one row per document")
    p.add_argument("paths", nargs="+", help=".txt/.md files, folders of them, or .jsonl/.csv with a 'text' column "
                                            "(with --engine ray also .parquet)")
    add_model_arguments(p, several=True)
    p.add_argument("--out", required=True, help="output table (.csv, .jsonl or .parquet); with --engine ray a folder")
    p.add_argument("--scores", default="",
                   help=f"extra scores, comma-separated, from: {', '.join(registry.extra_scores())}")
    p.add_argument("--ref-model", default=None, help="reference model for the 'ref' score")
    p.add_argument("--observer", default=None, help="observer model (same tokenizer) for 'binoculars'")
    p.add_argument("--reference", nargs="+", default=None,
                   help="files or folders of texts the model cannot have seen: the prefixes, frequency tables and "
                        "population of recall, conrecall, dcpdd, camia and tagtab (never the documents scored)")
    p.add_argument("--members", nargs="+", default=None,
                   help="files or folders of texts you know the model was trained on: conrecall's member prefix")
    p.add_argument("--k", type=float, default=DEFAULT_K,
                   help=f"fraction of tokens for mink / minkpp (default {DEFAULT_K})")
    p.add_argument("--window", type=int, default=None, help="tokens per window for long texts")
    p.add_argument("--stride", type=int, default=None, help="tokens a window advances (default: half the window)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the statistics cache")
    p.add_argument("--investigation", default=None,
                   help="save the run as this investigation (id or name); an interrupted run resumes where it stopped")
    p.add_argument("--store", default=None, help="investigations database (default: $PROVENANCE_STORE or "
                                                 "~/.cache/provenance/investigations.sqlite)")
    from .engine import add_engine_arguments

    add_engine_arguments(p)
    p.set_defaults(func=_run_score)


def _run_score(args: argparse.Namespace) -> int:
    from ..documents import load_documents
    from ..scores.table import score_documents
    from ..lm.token_stats import ScoringSettings

    extra = [s.strip() for s in args.scores.split(",") if s.strip()]
    scores = list(registry.default_scores()) + [s for s in extra if s not in registry.default_scores()]
    if args.engine == "ray":
        from .engine import check_ray_out, run_ray

        out = check_ray_out(args)
        summary = run_ray(args, args.paths, out, scores)
        if args.investigation:  # the folder's rows, opened as an investigation (kept in the store)
            from ..investigations.scaled_runs import import_scored_folder
            from ..investigations.store import InvestigationStore

            with InvestigationStore(args.store) as store:
                imported = import_scored_folder(store, out, investigation=args.investigation)
            print(f"{imported.sentence()} Saved in investigation '{imported.investigation.name}' "
                  f"({imported.investigation.id}).", file=sys.stderr)
        return 0 if summary.documents > summary.failed or summary.skipped else 1
    if Path(args.out).suffix.lower() not in OUTPUT_SUFFIXES:
        raise CliError(f"Cannot write '{args.out}': use an output file ending in {', '.join(OUTPUT_SUFFIXES)}.")
    docs, errors = load_documents(args.paths)
    for err in errors:
        print(f"skipped {err}", file=sys.stderr)
    if not docs:
        raise CliError("No document could be read, so nothing was scored.")
    declared = _declared_from_args(args)
    from .models import model_specs, run_models

    specs = model_specs(args)
    if len(specs) > 1:  # several models side by side: one row per (document, model)
        return run_models(args, specs, docs, scores, ingest_errors=errors, k=args.k,
                          settings=ScoringSettings(args.window, args.stride),
                          cache=None if args.no_cache else default_cache(), **second_models(args))
    args.model = specs[0]
    model = load_model_from_args(args)
    second = second_models(args)
    ref_model, observer = second["ref_model"], second["observer"]
    bar = ProgressBar("scoring")
    t0 = time.time()
    run = dict(k=args.k, settings=ScoringSettings(args.window, args.stride),
               cache=None if args.no_cache else default_cache(), ref_model=ref_model, observer=observer,
               declared=declared, progress=bar)
    try:
        if args.investigation:  # saved row by row; the result holds every row of the investigation so far
            from ..investigations.scoring import score_set
            from ..investigations.store import InvestigationStore

            with InvestigationStore(args.store) as store:
                result = score_set(store, args.investigation, model, docs, scores, ingest_errors=errors, **run)
            print(f"Saved in investigation '{result.investigation.name}' ({result.investigation.id}); "
                  f"{result.skipped} document(s) were already done.", file=sys.stderr)
        else:
            result = score_documents(model, docs, scores, **run)
    finally:
        bar.close()
    for name, message in result.errors.items():
        print(f"skipped {message}", file=sys.stderr)
    out = write_table(result.table, args.out)
    tokens = int(result.table["tokens"].sum()) if len(result.table) else 0
    print(f"Scored {len(result.table)} document(s), {tokens} tokens, in {time.time() - t0:.1f} s -> {out}",
          file=sys.stderr)
    return 0 if len(result.table) else 1


def _declared_from_args(args: argparse.Namespace):
    """The texts ``--reference`` / ``--members`` declare (None when neither is given); unreadable files are printed
    as 'skipped ...'."""
    from ..documents import load_documents
    from ..scores.declared import from_reference

    if not args.reference and not args.members:
        return None
    loaded = {}
    for what, files in (("reference", args.reference), ("member", args.members)):
        docs, errors = load_documents(files) if files else ([], [])
        for err in errors:
            print(f"skipped {err}", file=sys.stderr)
        if files and not docs:
            raise CliError(f"No {what} text could be read.")
        loaded[what] = [d.text for d in docs]
    return from_reference(loaded["reference"], loaded["member"], held_out=False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m provenance",
                                     description="Was this text used to train this language model?")
    parser.add_argument("-v", "--verbose", action="store_true", help="developer logs on stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_score(sub)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    if not args.verbose:
        quiet_model_library_logs()
    try:
        return int(args.func(args) or 0)
    except (CliError, ModelLoadError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
