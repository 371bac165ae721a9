"""Ray engine scaling on this machine: documents/s and tokens/s for 1 and 2 actors, and the single-process engine
measured in the same run on the same corpus (the ratio is what this script is for: absolute figures on a shared
2-core machine move with the load of other processes, which is printed beside them).

Every figure is end to end, as a user waits for it: the single process loads the model then scores; a Ray run
starts its actors (each loads the model) on an already running local cluster, reads the corpus, scores and writes
its shards. The single process's scoring-only rate is printed too.

    .venv/bin/python bench/ray_scaling.py [--docs 48] [--words 90] [--actors 1,2]
    # on a machine with GPUs (leave the CPU runs out; one actor per GPU, bf16):
    .venv/bin/python bench/ray_scaling.py --docs 20000 --words 400 --gpus-per-actor 1 --actors 1,2,4,8
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.throughput import WORDS  # noqa: E402  (the same English-like vocabulary as the throughput bench)
from provenance.documents import load_documents  # noqa: E402
from provenance.scale.ray_engine import EngineOptions, ScoringJob, cluster, run_scoring  # noqa: E402
from provenance.scores import registry  # noqa: E402


def write_corpus(folder: Path, n_docs: int, words: int, files: int = 4) -> Path:
    """``n_docs`` English-like documents of about ``words`` words in ``files`` .jsonl files; returns the folder."""
    import random

    rng = random.Random(0)
    corpus = folder / "corpus"
    corpus.mkdir()
    for f in range(files):
        with open(corpus / f"part{f}.jsonl", "w", encoding="utf-8") as fh:
            for i in range(f, n_docs, files):
                text = " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."
                fh.write(json.dumps({"id": f"d{i}", "text": text}) + "\n")
    return corpus


def single_process(corpus: Path, model_spec: str, threads: int | None = None) -> dict:
    """The single-process engine (``score`` without --engine): load, then ``score_documents`` over everything;
    ``threads`` sets torch's intra-op threads (None: torch's default, one per core)."""
    import torch

    from provenance.lm.loading import load_model
    from provenance.scores.table import score_documents

    if threads:
        torch.set_num_threads(threads)
    t0 = time.perf_counter()
    model = load_model(model_spec)
    loaded = time.perf_counter()
    docs, _ = load_documents([corpus])
    table = score_documents(model, docs, registry.default_scores()).table
    done = time.perf_counter()
    return {"documents": len(table), "tokens": int(table["tokens"].sum()), "seconds": done - t0,
            "scoring_seconds": done - loaded}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=48)
    parser.add_argument("--words", type=int, default=90, help="words per document (about 1.1 tokens each)")
    parser.add_argument("--model", default="default")
    parser.add_argument("--actors", default="1,2", help="pool sizes to measure, comma-separated")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--gpus-per-actor", type=float, default=0)
    parser.add_argument("--skip-single", action="store_true", help="leave out the single-process run")
    parser.add_argument("--single-threads", type=int, default=None,
                        help="torch threads of the single process (default: one per core); on a loaded machine two "
                             "threads thrash where one does not, so compare with 1 there")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="ray-scaling-") as tmp:
        corpus = write_corpus(Path(tmp), args.docs, args.words)
        print(f"corpus: {args.docs} documents of about {args.words} words; {cores} CPU core(s); "
              f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
        results = {}
        if not args.skip_single:
            results["single process"] = single_process(corpus, args.model, args.single_threads)
        sizes = [int(a) for a in args.actors.split(",")]
        # one local cluster for every pool size (its start is not part of any run); CPUs: the largest pool + reads
        biggest = max(sizes)
        cpus_each = 1 if args.gpus_per_actor else max(1, cores // biggest)
        with cluster(EngineOptions(actors=(biggest, biggest), cpus_per_actor=cpus_each)):
            for n in sizes:
                cpus = 1 if args.gpus_per_actor else max(1, cores // n)
                options = EngineOptions(actors=(n, n), batch_size=args.batch_size, cpus_per_actor=cpus,
                                        gpus_per_actor=args.gpus_per_actor)
                summary = run_scoring([corpus], Path(tmp) / f"out-{n}", ScoringJob(model=args.model), options,
                                      echo=lambda line: None)
                label = f"ray, {n} actor(s) x {'1 GPU' if args.gpus_per_actor else f'{cpus} CPU thread(s)'}"
                results[label] = {"documents": summary.documents, "tokens": summary.tokens,
                                  "seconds": summary.seconds}
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    base = results.get("single process")
    print(f"{'engine':<34} {'docs':>5} {'tokens':>7} {'seconds':>8} {'docs/s':>7} {'tokens/s':>9} {'vs single':>9}")
    for label, r in results.items():
        rate = r["tokens"] / r["seconds"]
        ratio = f"{rate / (base['tokens'] / base['seconds']):.2f}x" if base else "-"
        print(f"{label:<34} {r['documents']:>5} {r['tokens']:>7} {r['seconds']:>8.1f} "
              f"{r['documents'] / r['seconds']:>7.2f} {rate:>9.0f} {ratio:>9}")
    if base:
        print(f"single process, scoring only (model already loaded): "
              f"{base['tokens'] / base['scoring_seconds']:.0f} tokens/s")


if __name__ == "__main__":
    main()
