"""Cross-backend parity table: the same texts (provenance.scores.parity.parity_texts) through a reference backend
(the exact hf engine) and one or more others; prints per text whether token ids and offsets are identical, the
largest per-token log-probability difference (nats) and the loss-family scores' relative differences.

    scripts/vllm-server.sh 8000 &
    .venv/bin/python bench/parity.py --other openai:http://127.0.0.1:8000/v1#default
    PYTHONPATH=. .venv-vllm/bin/python bench/parity.py --other vllm:default     (vLLM in-process)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from provenance.lm.backends import load_model  # noqa: E402
from provenance.lm.token_stats import ScoringSettings  # noqa: E402
from provenance.scores.parity import compare_models, parity_table, parity_texts  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", default="hf:default")
    ap.add_argument("--other", action="append", required=True, help="a model spec to compare (repeatable)")
    ap.add_argument("--window", type=int, default=1024)
    ap.add_argument("--stride", type=int, default=512)
    args = ap.parse_args()
    settings = ScoringSettings(window=args.window, stride=args.stride)
    reference = load_model(args.reference, dtype="float32")
    texts = parity_texts()
    for spec in args.other:
        t = time.perf_counter()
        other = load_model(spec, dtype="float32")
        print(f"\n{spec} (loaded in {time.perf_counter() - t:.0f} s) against {args.reference}, window "
              f"{args.window}, stride {args.stride}:")
        rows = compare_models(reference, other, texts, settings)
        print(parity_table(rows))
        print(f"max abs logprob diff over all texts: {max(r.max_logprob_diff for r in rows):.2e} nats; max score "
              f"rel diff: {max(max(r.score_rel_diff.values()) for r in rows):.1e}")


if __name__ == "__main__":
    main()
