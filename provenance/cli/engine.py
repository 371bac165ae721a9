"""``--engine ray`` for ``score`` and ``sets compare``: the options and the one call into ``scale.ray_engine``.

With ``--engine ray`` the corpus is scored on a Ray cluster (a local one by default; ``--ray-address`` or
``RAY_ADDRESS`` joins an existing one) and ``--out`` names a folder of Parquet shards plus ``manifest.json``;
running the same command again resumes it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..scale import ray_engine
from . import CliError

ENGINES = ("local", "ray")


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """--engine and the Ray options (pool size, batch size, resources, cluster address)."""
    group = parser.add_argument_group("scaling out (--engine ray)")
    group.add_argument("--engine", choices=ENGINES, default="local",
                       help="'local': this process (default); 'ray': a Ray cluster, --out is then a folder of Parquet "
                            "shards, and running again into it resumes")
    group.add_argument("--ray-address", default=None,
                       help="Ray cluster to join (default: $RAY_ADDRESS, else a new local cluster)")
    group.add_argument("--actors", default=None,
                       help="actor pool size, N or MIN,MAX (default: one per GPU, else one per --cpus-per-actor CPUs)")
    group.add_argument("--batch-size", type=int, default=ray_engine.DEFAULT_BATCH_SIZE,
                       help=f"documents per batch and per shard (default {ray_engine.DEFAULT_BATCH_SIZE})")
    group.add_argument("--cpus-per-actor", type=float, default=ray_engine.DEFAULT_CPUS_PER_ACTOR,
                       help=f"CPU threads per actor without GPUs (default {ray_engine.DEFAULT_CPUS_PER_ACTOR})")
    group.add_argument("--gpus-per-actor", type=float, default=None,
                       help="GPUs per actor (default: 1 when the cluster has GPUs, else 0)")
    group.add_argument("--object-store-mb", type=int, default=ray_engine.DEFAULT_OBJECT_STORE_MB,
                       help=f"object store of a local cluster, MB (default {ray_engine.DEFAULT_OBJECT_STORE_MB})")


def engine_options(args: argparse.Namespace) -> ray_engine.EngineOptions:
    return ray_engine.EngineOptions(ray_address=args.ray_address, actors=ray_engine.parse_actors(args.actors),
                                    batch_size=args.batch_size, cpus_per_actor=args.cpus_per_actor,
                                    gpus_per_actor=args.gpus_per_actor, object_store_mb=args.object_store_mb)


def scoring_job(args: argparse.Namespace, scores: list[str]) -> ray_engine.ScoringJob:
    from .models import model_specs

    specs = model_specs(args)
    if len(specs) > 1:
        raise CliError(f"--engine ray scores with one model at a time; got {len(specs)} ({', '.join(specs)}). Run it "
                       "once per model, each into its own --out folder.")
    return ray_engine.ScoringJob(model=specs[0], scores=tuple(scores), k=args.k,
                                 window=getattr(args, "window", None), stride=getattr(args, "stride", None),
                                 ref_model=args.ref_model, observer=args.observer, device=args.device,
                                 dtype=args.dtype, trust_remote_code=args.trust_remote_code)


def check_ray_out(args: argparse.Namespace) -> Path:
    """--out as a folder: refused when it names a table file."""
    out = Path(args.out)
    if out.suffix.lower() in (".csv", ".jsonl", ".parquet") and not out.is_dir():
        raise CliError(f"With --engine ray, --out names a folder for the Parquet shards, not a file like "
                       f"'{out.name}'.")
    return out


def run_ray(args: argparse.Namespace, paths: list[str], out: str | Path,
            scores: list[str]) -> ray_engine.RunSummary:
    """Score ``paths`` into the folder ``out`` with the engine; engine and folder refusals become CliErrors."""
    from ..scale.output import OutputFolderError

    try:
        return ray_engine.run_scoring(paths, out, scoring_job(args, scores), engine_options(args))
    except (ray_engine.EngineError, OutputFolderError) as exc:
        raise CliError(str(exc)) from exc
