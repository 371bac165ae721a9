"""How many times must an owner plant a ghost sentence before a fine-tuned model gives it away?

Plants identifiers at each repetition count (default 1, 3, 10, 30, 100; 10 identifiers per count) in a synthetic
background corpus, together with decoys from the same generator used once each (so every wordlist word is familiar
and the test measures memorisation of the exact sequence, design.md "Testing the statistics honestly") and
identifiers that are never planted (repetitions 0: the false-positive check). Fine-tunes a model on the corpus, then
runs ``ghost.detect`` and prints, per repetition count, the detection rate (p < alpha), the last-k hit rate (any
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

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from provenance import ghost  # noqa: E402
from provenance.training import build_small_model, fine_tune, train_tokenizer  # noqa: E402

SUBJECTS = ("the farmer", "a teacher", "my neighbour", "the old sailor", "a small child", "the mayor", "her brother",
            "the baker", "our guide", "a tired nurse", "the young painter", "his cousin", "the driver", "a student")
VERBS = ("carried", "painted", "found", "sold", "watched", "repaired", "described", "borrowed", "cleaned", "opened",
         "remembered", "followed", "visited", "measured", "forgot", "noticed")
OBJECTS = ("the wooden boat", "a heavy basket", "the blue door", "an old map", "the quiet garden", "a broken clock",
           "the narrow bridge", "a letter", "the market stall", "the red kite", "a jar of honey", "the stone wall")
ENDINGS = ("before dawn", "after the storm", "near the river", "in the village", "on a cold morning", "without a word",
           "for the second time", "under the bright lamps", "at the edge of town", "during the festival")


def background_corpus(n_docs: int, sentences_per_doc: int, seed: int) -> list[str]:
    """Synthetic documents of simple English sentences (a few hundred distinct words, no wordlist passphrases)."""
    rng = random.Random(seed)
    docs = []
    for _ in range(n_docs):
        sentences = [f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(ENDINGS)}."
                     for _ in range(sentences_per_doc)]
        docs.append(" ".join(s[0].upper() + s[1:] for s in sentences))
    return docs


def summarise(table: pd.DataFrame, counts: dict[str, int], alpha: float) -> pd.DataFrame:
    """One row per repetition count: identifiers, detection rate, last-k hit rates, median p and exposure."""
    table = table.assign(repetitions=table["id"].map(counts))
    rows = []
    for reps, group in table.groupby("repetitions"):
        rows.append({"repetitions": int(reps), "identifiers": len(group),
                     "detection_rate": float((group["p_value"] < alpha).mean()),
                     "last_k_hit_rate": float(group["last_k_hit"].mean()),
                     "last_3_hit_rate": float(group["last_3_hit"].mean()),
                     "median_p": float(group["p_value"].median()),
                     "median_exposure_bits": float(group["exposure_bits"].median())})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repetitions", default="1,3,10,30,100", help="comma-separated repetition counts")
    parser.add_argument("--per-count", type=int, default=10, help="identifiers planted at each count")
    parser.add_argument("--decoys", type=int, default=1000, help="decoy identifiers, used once each, never tested")
    parser.add_argument("--docs", type=int, default=1500, help="background documents")
    parser.add_argument("--sentences", type=int, default=6, help="sentences per background document")
    parser.add_argument("--null", type=int, default=1000, help="null draws (M)")
    parser.add_argument("--alpha", type=float, default=0.01, help="detection threshold on p")
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
    registry = ghost.Registry()
    planted = {r: ghost.new_entries(registry, generator, args.per_count, rng=rng) for r in reps}
    absent = ghost.new_entries(registry, generator, args.per_count, rng=rng)
    decoys = ghost.new_entries(ghost.Registry(list(registry.entries)), generator, args.decoys, rng=rng)
    background = background_corpus(args.docs, args.sentences, args.seed)
    plan = [(e, r) for r, es in planted.items() for e in es] + [(d, 1) for d in decoys]
    corpus = ghost.plant_corpus(background, plan, rng=rng)

    if args.model == "tiny":
        words = ghost.load_wordlist(generator.wordlist)
        tokenizer = train_tokenizer(background + [" ".join(words[i: i + 50]) for i in range(0, len(words), 50)],
                                    2000)
        model = build_small_model([], tokenizer=tokenizer, hidden_size=64, layers=2, context_length=128,
                                  seed=args.seed, name="tiny-ghost")
        if args.device:
            model.model.to(args.device)
            model.device = torch.device(args.device)
    else:
        from provenance.models import load_model

        model = load_model(args.model, device=args.device)
    print(f"model {model.name}: {model.n_parameters:,} parameters on {model.device}; corpus {len(corpus)} documents",
          file=sys.stderr)
    tuned, report = fine_tune(model, corpus, epochs=args.epochs, learning_rate=args.learning_rate,
                              batch_size=args.batch_size, seed=args.seed, lora_rank=args.lora_rank)
    print(f"fine-tuned: {report.steps} steps, {report.tokens_seen:,} tokens, final loss {report.final_loss:.3f}, "
          f"{report.seconds:.0f} s", file=sys.stderr)

    entries = [e for es in planted.values() for e in es] + absent
    counts = {e.id: r for r, es in planted.items() for e in es} | {e.id: 0 for e in absent}
    exclude = registry.identifiers + [d.identifier for d in decoys]
    result = ghost.detect(tuned, entries, n_null=args.null, alpha=args.alpha, exclude=exclude,
                          rng=random.Random(args.seed + 1))
    summary = summarise(result.table, counts, args.alpha)
    print(f"\nGhost sentences of {args.words} words, {args.per_count} per count, M = {args.null} null draws, "
          f"detection at p < {args.alpha}; {args.decoys} decoys; {report.tokens_seen // max(1, args.epochs):,} "
          f"tokens per epoch x {args.epochs} epochs ({'LoRA r=' + str(args.lora_rank) if args.lora_rank else 'full'}"
          f" fine-tuning of {model.name}); {time.time() - t0:.0f} s in all.\n")
    print(summary.to_markdown(index=False, floatfmt=".3g") if _has_tabulate() else summary.to_string(index=False))
    print(f"\nAll tested together: {result.sentence}")
    if args.out:
        result.table.assign(repetitions=result.table["id"].map(counts)).to_csv(args.out, index=False)
    return 0


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    raise SystemExit(main())
