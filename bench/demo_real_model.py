"""The guided demo on the real default model, as the Guided demo page runs it with "SmolLM2-135M" chosen.

Plants 3 ghost sentences in the sample article, copies it into a small corpus (``planting.REAL_DEMO``), measures this
machine's pace and prints the time the page would announce before starting, then fine-tunes a private copy of the
default model with LoRA and runs the reference-calibrated test (the model before training as the reference) with the
page's settings. Prints the estimate beside the measured times, and the two verdicts the page shows (3 hidden in the
article, 3 never published) with each phrase's p-value.

    .venv/bin/python bench/demo_real_model.py            # a few minutes on 2 idle CPU cores

Measured here on 2 CPU cores shared with other work (load average about 20; OMP_NUM_THREADS=1, copies 10, seed 0):
paces 27 tokens/s training, 16 tokens/s scoring (measured in 43 s); announced 492 s, took 536 s (training 8,098
tokens in 298 s, test 238 s). The 3 phrases hidden in the article: each at the floor p = 1/201 (NLL difference
6.9-7.4 nats per token), together "evidence of training (p = 1.77e-05, at FPR 0.01)"; the 3 never published:
differences -0.5 to 1.6, "no evidence (p = 0.591, at FPR 0.01)".
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from provenance.ghost import planting  # noqa: E402
from provenance.lm.loading import load_model  # noqa: E402

NULL_DRAWS, ALPHA = 200, 0.01  # app_pages/demo.py's settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=10, help="copies of the article in the corpus (page default)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    setup = planting.REAL_DEMO
    t0 = time.time()
    base = load_model(setup.base)
    loaded = time.time() - t0
    demo = planting.plan_article_demo(copies=args.copies, background_docs=setup.background_docs,
                                      decoys=setup.decoys, rng=random.Random(args.seed))
    t1 = time.time()
    training_rate, scoring_rate = planting.measure_demo_pace(base, demo, setup)
    measured = time.time() - t1
    estimate = planting.estimate_article_demo(base, demo, setup, NULL_DRAWS, training_rate, scoring_rate)
    print(f"{base.name} loaded in {loaded:.0f} s; pace measured in {measured:.0f} s: training {training_rate:.0f} "
          f"tokens/s, scoring {scoring_rate:.0f} tokens/s", flush=True)
    print(f"estimate: training {estimate.training_tokens:,} tokens = {estimate.training_seconds:.0f} s, test "
          f"{estimate.scoring_tokens:,} tokens = {estimate.seconds - estimate.training_seconds:.0f} s, "
          f"{estimate.seconds:.0f} s in all", flush=True)
    t2 = time.time()
    tuned, report = planting.train_article_model(demo, base=base, setup=setup)
    trained = time.time() - t2
    print(f"trained: {report.steps} steps, {report.tokens_seen:,} tokens in {trained:.0f} s, final loss "
          f"{report.final_loss:.3f}", flush=True)
    t3 = time.time()
    result = planting.detect_article_demo(tuned, demo, n_null=NULL_DRAWS, alpha=ALPHA,
                                          rng=random.Random(args.seed), ref_model=base,
                                          ref_released=setup.base_released)
    tested = time.time() - t3
    print(f"tested in {tested:.0f} s; training + test {trained + tested:.0f} s (estimated {estimate.seconds:.0f} s)")
    columns = ["identifier", "published", "nll", "nll_difference", "p_value", "exposure_bits", "last_k_hit"]
    print(result.table[columns].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"hidden in the article: {result.published.words()}")
    print(f"never published: {result.unpublished.words()}")


if __name__ == "__main__":
    main()
