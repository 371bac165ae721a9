"""How many times must an owner plant a ghost sentence before a fine-tuned model gives it away?

Plants identifiers at each repetition count (default 1, 3, 10, 30, 100; 10 identifiers per count) in a synthetic
background corpus, together with decoys from the same generator used once each (so every wordlist word is familiar
and the test measures memorisation of the exact sequence, design.md "Testing the statistics honestly") and
identifiers that are never planted (repetitions 0: the false-positive check). Fine-tunes a model on the corpus, then
runs ``ghost.detect`` and prints, per repetition count, the detection rate (p <= alpha), the last-k hit rate (any
k = 1..3, and k = 3 alone), the median p-value and the median exposure in bits.

    .venv/bin/python bench/ghost_repetitions.py                      # tiny model, CPU, a few minutes
    .venv/bin/python bench/ghost_repetitions.py --model default --device cuda --lora-rank 16 --learning-rate 1e-3

With ``--model tiny`` (default) a small Llama and its tokenizer are built from the background text plus the
wordlist (the tokenizer never sees the planted corpus, so planted and fresh identifiers are tokenised alike).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from provenance import ghost  # noqa: E402
from provenance.ghost import planting  # noqa: E402

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repetitions", default="1,3,10,30,100", help="comma-separated repetition counts")
    parser.add_argument("--per-count", type=int, default=10, help="identifiers planted at each count")
    parser.add_argument("--decoys", type=int, default=1000, help="decoy identifiers, used once each, never tested")
    parser.add_argument("--docs", type=int, default=1500, help="background documents")
    parser.add_argument("--sentences", type=int, default=6, help="sentences per background document")
    parser.add_argument("--null", type=int, default=1000, help="null draws (M)")
    parser.add_argument("--alpha", type=float, default=0.01, help="the false-positive rate: detection at p <= alpha")
    parser.add_argument("--words", type=int, default=ghost.DEFAULT_WORDS, help="words per identifier")
    parser.add_argument("--model", default="tiny", help="'tiny' (built here) or a model spec for load_model")
    parser.add_argument("--device", default=None)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lora-rank", type=int, default=None, help="LoRA-style fine-tuning with this rank")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (1 is fastest for the tiny model on a busy machine)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="also write the per-identifier table (.csv)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    reps = [int(r) for r in args.repetitions.split(",")]
    rng = random.Random(args.seed)
    t0 = time.time()

    generator = ghost.GhostGenerator(words=args.words)
    background = planting.background_corpus(args.docs, args.sentences, args.seed)
    plan = planting.plan_planting(background, reps, per_count=args.per_count, absent=args.per_count,
                                  decoys=args.decoys, generator=generator, rng=rng)
    if args.model == "tiny":
        model = planting.small_model_for(background, generator, seed=args.seed)
        if args.device:
            model.model.to(args.device)
            model.device = torch.device(args.device)
    else:
        from provenance.lm.loading import load_model

        model = load_model(args.model, device=args.device)
    print(f"model {model.name}: {model.n_parameters:,} parameters on {model.device}; corpus {len(plan.corpus)} "
          "documents", file=sys.stderr)
    tuned, report = planting.train_on_plan(model, plan, epochs=args.epochs, learning_rate=args.learning_rate,
                                           batch_size=args.batch_size, seed=args.seed, lora_rank=args.lora_rank)
    print(f"fine-tuned: {report.steps} steps, {report.tokens_seen:,} tokens, final loss {report.final_loss:.3f}, "
          f"{report.seconds:.0f} s", file=sys.stderr)
    result = planting.detect_planted(tuned, plan, n_null=args.null, alpha=args.alpha,
                                     rng=random.Random(args.seed + 1))
    summary = planting.summarise(result.table, args.alpha)
    print(f"\nGhost sentences of {args.words} words, {args.per_count} per count, M = {args.null} null draws, "
          f"detection at p <= {args.alpha}; {args.decoys} decoys; {report.tokens_seen // max(1, args.epochs):,} "
          f"tokens per epoch x {args.epochs} epochs ({'LoRA r=' + str(args.lora_rank) if args.lora_rank else 'full'}"
          f" fine-tuning of {model.name}); {time.time() - t0:.0f} s in all.\n")
    print(summary.to_markdown(index=False, floatfmt=".3g") if _has_tabulate() else summary.to_string(index=False))
    print(f"\nAll tested together: {result.verdict.sentence()}")
    if args.out:
        result.table.to_csv(args.out, index=False)
    return 0


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    raise SystemExit(main())
