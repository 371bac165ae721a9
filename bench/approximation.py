"""How close Min-K%++ approx. (top-k alternatives, tail mass bounded: scores/approximate.py) comes to the exact
Min-K%++ on the default model: Spearman correlation across documents, mean absolute error, and the share of
positions whose true mu lies inside the bounds (it must be all of them).

    .venv/bin/python bench/approximation.py [--docs 40] [--top-k 20]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.throughput import make_documents  # noqa: E402
from provenance.lm.backends import load_model  # noqa: E402
from provenance.lm.token_stats import ScoringSettings  # noqa: E402
from provenance.scores import formulas  # noqa: E402
from provenance.scores.approximate import minkpp_approx, tail_bounded_moments  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="default")
    ap.add_argument("--docs", type=int, default=40)
    ap.add_argument("--top-k", type=int, default=20)
    args = ap.parse_args()
    model = load_model(args.model)
    vocab = len(model.tokenizer)
    docs = [d for d in make_documents(args.docs * 2, seed=3) if len(d) > 200][: args.docs]
    stats = model.token_statistics(docs, ScoringSettings(top_k=args.top_k))
    exact = np.array([formulas.minkpp(s) for s in stats])
    approx = np.array([minkpp_approx(s, formulas.DEFAULT_K, vocab) for s in stats])
    inside = total = 0
    for s in stats:
        for t in range(s.n_scored):
            _, _, low, high = tail_bounded_moments(float(s.logprob[t]), s.top_logprobs[t], vocab)
            inside += low - 1e-4 <= float(s.mu[t]) <= high + 1e-4
            total += 1
    print(f"{len(docs)} documents, {total} positions, top-{args.top_k}, vocabulary {vocab}")
    print(f"Spearman(exact, approx) = {spearmanr(exact, approx)[0]:.3f}; mean |exact - approx| = "
          f"{np.abs(exact - approx).mean():.3f} (exact values {exact.min():.2f} .. {exact.max():.2f})")
    print(f"true mu inside the bounds at {inside}/{total} positions")


if __name__ == "__main__":
    main()
