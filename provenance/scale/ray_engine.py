"""Score a corpus on a Ray cluster with Ray Data: the same rows as the single-process ``score``, resumable.

Pipeline: the corpus files (``corpus.corpus_files``) -> ``ray.data.from_items`` -> ``flat_map(corpus.file_rows)``
(each file read by a worker with provenance's own readers, rows already written skipped) -> ``map_batches`` over an
actor pool (``ActorPoolStrategy(min, max)``; each actor loads its model(s) once through
``lm.backends.load_model(spec)``, scores a batch with ``batch.score_rows`` and writes it as one shard with
``output.write_shard``) -> one small summary per batch back to the driver, which prints the final line (documents,
tokens, tokens/s, failed rows). Ray Data shows its own progress.

Resources: on a cluster with GPUs each actor takes ``num_gpus=1`` (and one CPU); otherwise each takes
``cpus_per_actor`` CPUs and Ray sets its OMP_NUM_THREADS (torch's thread count) to that. ``ray.init()`` starts a
local cluster (modest object store, no dashboard, usage statistics off) unless ``ray_address`` or ``RAY_ADDRESS``
names one to join; a cluster's nodes must see the corpus and the output folder at the same paths (a shared file
system) and have provenance installed, as with any Ray job reading local paths.

Ray is imported only inside ``run_scoring`` and the actor: importing this module costs nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..scores import registry
from ..scores.formulas import DEFAULT_K
from . import output
from .corpus import corpus_files, error_row

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 32  # documents per batch and per shard: what a killed run may lose per actor
DEFAULT_CPUS_PER_ACTOR = 2  # torch threads per actor on CPUs
DEFAULT_OBJECT_STORE_MB = 512  # object store of a local cluster: rows in flight only (shards go to disk)
READ_CPUS = 0.25  # the read stage is light: it must never wait for CPUs the actors hold
# Passed on to the workers when set here: offline switches, where converted models and the store live.
WORKER_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "PROVENANCE_CACHE", "TOKENIZERS_PARALLELISM",
              "RAY_USAGE_STATS_ENABLED")


class EngineError(ValueError):
    """A run that cannot start or was refused by its workers; the message is a sentence."""


@dataclass(frozen=True)
class ScoringJob:
    """What is computed: model specs (``lm.backends.load_model`` specs, any backend), scores and the settings that
    change the numbers. ``device`` / ``dtype`` None choose automatically (CUDA and bf16 on GPUs, CPU and fp32)."""

    model: str
    scores: tuple[str, ...] = registry.default_scores()
    k: float = DEFAULT_K
    window: int | None = None
    stride: int | None = None
    ref_model: str | None = None
    observer: str | None = None
    device: str | None = None
    dtype: str | None = None
    trust_remote_code: bool = False
    top_k: int = 0
    max_window: int = 2048

    def settings_record(self) -> dict:
        """The manifest's settings (``output.NUMBER_SETTINGS``)."""
        return {"model": self.model, "scores": list(self.scores), "k": float(self.k), "window": self.window,
                "stride": self.stride, "top_k": self.top_k, "max_window": self.max_window, "ref_model": self.ref_model,
                "observer": self.observer, "dtype": self.dtype, "trust_remote_code": self.trust_remote_code}

    def check(self) -> None:
        """Refuse unknown scores and scores whose second model is missing, before any cluster starts."""
        for name in self.scores:
            entry = registry.get(name)
            if registry.REFERENCE_MODEL in entry.inputs and not self.ref_model:
                raise EngineError(f"The '{name}' score needs a reference model (--ref-model).")
            if registry.OBSERVER in entry.inputs and not self.observer:
                raise EngineError(f"The '{name}' score needs an observer model sharing the tokenizer (--observer).")


@dataclass(frozen=True)
class EngineOptions:
    """How the work is spread. ``actors``: pool size as (min, max) (None: one per GPU on a GPU cluster, else one per
    ``cpus_per_actor`` CPUs); ``gpus_per_actor`` None: 1 when the cluster has GPUs, else 0."""

    ray_address: str | None = None
    actors: tuple[int, int] | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    cpus_per_actor: float = DEFAULT_CPUS_PER_ACTOR
    gpus_per_actor: float | None = None
    object_store_mb: int = DEFAULT_OBJECT_STORE_MB


@dataclass
class RunSummary:
    """What one run did: documents scored now (error rows included), scored tokens, seconds, rows with an error,
    rows skipped because an earlier run wrote them, the pool size, and where the rows are."""

    folder: str
    documents: int = 0
    tokens: int = 0
    seconds: float = 0.0
    failed: int = 0
    skipped: int = 0
    actors: str = ""
    shards: int = 0
    identity: str | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        """The final line a run prints."""
        return (f"Scored {self.documents} document(s), {self.tokens} tokens in {self.seconds:.1f} s "
                f"({self.tokens_per_second:.0f} tokens/s) on {self.actors} actor(s); {self.failed} failed row(s) "
                f"(see the 'error' column); {self.skipped} already done -> {self.folder}")


def parse_actors(text: str | None) -> tuple[int, int] | None:
    """'4' -> (4, 4); '2,8' -> (2, 8) (an autoscaling pool); None or '' -> None (automatic)."""
    if not text:
        return None
    try:
        parts = [int(p) for p in str(text).split(",")]
    except ValueError:
        raise EngineError(f"--actors takes a number or MIN,MAX (e.g. 4 or 2,8), not '{text}'.") from None
    low, high = (parts[0], parts[0]) if len(parts) == 1 else (parts[0], parts[-1])
    if len(parts) > 2 or low < 1 or high < low:
        raise EngineError(f"--actors takes a number or MIN,MAX with 1 <= MIN <= MAX, not '{text}'.")
    return low, high


def run_scoring(paths: Sequence[str | Path], out: str | Path, job: ScoringJob,
                options: EngineOptions = EngineOptions(), *,
                echo: Callable[[str], None] | None = None) -> RunSummary:
    """Score every document of ``paths`` (files or folders) into the folder ``out`` on a Ray cluster; see the
    module docstring. Rows already in ``out`` (same document name and text hash) are skipped; a folder written with
    other settings is refused (``output.OutputFolderError``). Returns the run's summary; ``echo`` receives the
    sentences a user reads (files skipped, the final line)."""
    echo = echo or (lambda line: print(line, file=sys.stderr))
    job.check()
    if options.batch_size < 1:
        raise EngineError("--batch-size must be at least 1.")
    files, listing_errors = corpus_files(paths)
    if not files and not listing_errors:
        raise EngineError("No file to score was found in the inputs.")
    out = Path(out)
    manifest = output.open_output(out, job.settings_record(), paths)
    done = output.done_keys(out)
    identity = manifest.get("model_identity") or next(
        (i for i in map(output.shard_identity, output.shard_paths(out)) if i), None)
    summary = RunSummary(folder=str(out), identity=identity)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    leftovers = [error_row(e.source, e.message) for e in listing_errors]
    leftovers = [r for r in leftovers if output.row_key(r["document"], r["sha256"]) not in done]
    if leftovers:  # inputs that are missing or not files: error rows written by the driver
        output.write_shard(out, leftovers, manifest["columns"], identity or "")
        summary.documents += len(leftovers)
        summary.failed += len(leftovers)
    status = "complete"
    try:
        if files:
            _run_pipeline(files, out, job, options, manifest, done, summary, echo)
    except BaseException as exc:
        status = "failed" if isinstance(exc, Exception) else "interrupted"
        raise
    finally:
        summary.seconds = time.perf_counter() - t0
        summary.skipped = len(done)
        output.add_run(out, manifest, {
            "started": started, "seconds": round(summary.seconds, 3), "status": status, "actors": summary.actors,
            "engine": {k: v for k, v in asdict(options).items() if k != "ray_address"},
            "joined_cluster": bool(options.ray_address or os.environ.get("RAY_ADDRESS")),
            "inputs": [str(Path(p).resolve()) for p in paths], "documents": summary.documents,
            "tokens": summary.tokens, "failed": summary.failed, "skipped": summary.skipped})
    echo(summary.line())
    return summary


def _run_pipeline(files: list[tuple[str, str]], out: Path, job: ScoringJob, options: EngineOptions, manifest: dict,
                  done: set[str], summary: RunSummary, echo: Callable[[str], None]) -> None:
    ray, started_here = _connect(options)
    try:
        import ray.data

        from .corpus import file_rows

        gpus = options.gpus_per_actor
        if gpus is None:
            gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
        cpus = 1 if gpus else options.cpus_per_actor
        low, high = options.actors or _automatic_pool(ray.cluster_resources(), cpus, gpus)
        summary.actors = str(low) if low == high else f"{low}-{high}"
        ray.data.DataContext.get_current().enable_progress_bars = True
        dataset = (ray.data.from_items([{"path": p, "name": n} for p, n in files], override_num_blocks=len(files))
                   .flat_map(file_rows, fn_kwargs={"done": done}, num_cpus=READ_CPUS)
                   # one file's rows split into batch-sized blocks (streaming, no shuffle), so every actor gets work
                   .repartition(target_num_rows_per_block=options.batch_size)
                   .map_batches(ScoreActor, fn_constructor_kwargs={"job": job, "folder": str(out),
                                                                   "columns": manifest["columns"],
                                                                   "identity": summary.identity},
                                batch_size=options.batch_size, batch_format="pandas",
                                compute=ray.data.ActorPoolStrategy(min_size=low, max_size=high),
                                num_cpus=cpus, num_gpus=gpus))
        for batch in dataset.iter_batches(batch_size=None, batch_format="pandas"):
            for report in batch.to_dict("records"):
                if report.get("failure"):
                    raise EngineError(report["failure"])
                if report["identity"] and report["identity"] != summary.identity:
                    output.record_identity(out, manifest, report["identity"])
                    summary.identity = report["identity"]
                summary.documents += int(report["rows"])
                summary.tokens += int(report["tokens"])
                summary.failed += int(report["failed"])
                summary.shards += 1
    finally:
        if started_here:
            ray.shutdown()


def _automatic_pool(resources: dict, cpus: float, gpus: float) -> tuple[int, int]:
    """One actor per GPU (or per ``gpus`` share) on a GPU cluster, else one per ``cpus`` CPUs, at least one."""
    if gpus:
        n = int(resources.get("GPU", 0) // gpus)
    else:
        n = int(max(resources.get("CPU", 1) - READ_CPUS, 1) // max(cpus, 0.001))
    return max(1, n), max(1, n)


@contextlib.contextmanager
def cluster(options: EngineOptions = EngineOptions()) -> Iterator[None]:
    """``with cluster(options):`` keeps one Ray connection (a local cluster, or the one joined) for several runs
    (``sets compare`` scores two sets), shut down at the end when this block started it."""
    ray, started_here = _connect(options)
    try:
        yield
    finally:
        if started_here:
            ray.shutdown()


def _connect(options: EngineOptions):
    """Ray, connected: to ``options.ray_address`` or ``RAY_ADDRESS`` when given, else to a new local cluster sized
    for the pool (returns whether this call started it, so the run shuts down only what it started). Usage
    statistics are always off; a local cluster has no dashboard and a small object store."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # no telemetry, ever (design: documents never leave the machine)
    import ray

    if ray.is_initialized():
        return ray, False
    package = Path(__file__).resolve().parents[1]
    env = {k: os.environ[k] for k in WORKER_ENV if k in os.environ}
    quiet = dict(logging_level=logging.WARNING, log_to_driver=True)
    address = options.ray_address or os.environ.get("RAY_ADDRESS")
    if address:  # the cluster's nodes get this very provenance package with the job (and need its requirements)
        ray.init(address=address, runtime_env={"py_modules": [str(package)], "env_vars": env}, **quiet)
        return ray, True
    low_high = options.actors or (1, 1)
    cpus = max(os.cpu_count() or 1, int(low_high[1] * (options.cpus_per_actor or 1) + 1))
    env["PYTHONPATH"] = os.pathsep.join([str(package.parent)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    ray.init(num_cpus=cpus, object_store_memory=options.object_store_mb * 2**20, include_dashboard=False,
             runtime_env={"env_vars": env}, **quiet)
    return ray, True


class ScoreActor:
    """One actor of the pool: loads the model(s) once (``lm.backends.load_model``, one load at a time per machine so
    two actors never convert the same file at once), then scores batches and writes each as a shard.

    A model that cannot be loaded, a score it cannot compute, or weights that differ from the folder's are not
    raised here (Ray would retry the actor and bury the sentence): the actor answers every batch with that
    sentence as ``failure`` and writes nothing, and the driver stops the run with it."""

    def __init__(self, job: ScoringJob, folder: str, columns: list[str], identity: str | None):
        self.job, self.folder, self.columns = job, folder, columns
        self.failure = None
        try:
            self.models = _load_models(job)
            model = self.models["model"]
            from ..scores.table import validate_scores

            validate_scores(job.scores, model, self.models.get("ref_model"), self.models.get("observer"))
            if identity and model.identity != identity:
                raise output.OutputFolderError(
                    f"The model loaded on this worker (identity {model.identity[:12]}) is not the one {folder} was "
                    f"scored with ({identity[:12]}); use the same weights on every machine to resume.")
        except Exception as exc:  # noqa: BLE001 - reported to the driver as a sentence, see the class docstring
            log.exception("actor could not start")
            self.failure = str(exc) or type(exc).__name__

    def __call__(self, batch):
        import pandas as pd

        if self.failure:
            return pd.DataFrame([{"failure": self.failure, "rows": 0, "tokens": 0, "failed": 0, "identity": ""}])
        from ..lm.token_stats import ScoringSettings
        from .batch import score_rows

        job, model = self.job, self.models["model"]
        scored = score_rows(model, batch.to_dict("records"), job.scores, k=job.k,
                            settings=ScoringSettings(job.window, job.stride, job.top_k, job.max_window),
                            ref_model=self.models.get("ref_model"), observer=self.models.get("observer"))
        output.write_shard(self.folder, scored.rows, self.columns, model.identity)
        return pd.DataFrame([{"failure": "", "rows": len(scored.rows), "tokens": scored.tokens,
                              "failed": scored.failed, "identity": model.identity}])


def _load_models(job: ScoringJob) -> dict:
    """The job's models by role, each loaded with ``lm.backends.load_model(spec, ...)``, under a per-machine lock."""
    import fcntl

    from .. import paths
    from ..lm.backends import load_model
    from ..lm.loading import quiet_model_library_logs

    quiet_model_library_logs()
    lock = paths.cache_root() / "model-load.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    specs = {"model": job.model, "ref_model": job.ref_model, "observer": job.observer}
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            return {role: load_model(spec, device=job.device, dtype=job.dtype,
                                     trust_remote_code=job.trust_remote_code)
                    for role, spec in specs.items() if spec}
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
