"""Ghost sentences on a real pretrained model, beside the published figure.

Zhao et al. 2024 (Protecting Copyrighted Material with Unique Identifiers in LLM Training) report a perplexity-test
AUC of 0.891 for LLaMA-13B with 30 identifiers seen about 7 times each. Here identifiers from the default generator
are planted 1, 3, 7, 10 and 30 times (5 each) into 150 passages of a public-domain book (Botchan, as in
bench/real_model_control.py), with decoys from the same generator used once each (so the words themselves are not
what is learned) and 10 identifiers never published; the default model (SmolLM2-135M) is fine-tuned for one epoch.
Then both exact-null tests run through ghost.detect, with 1,000 fresh draws:
- the plain test: the identifier's NLL ranked among the fresh draws' NLLs;
- the reference-calibrated test: NLL_base - NLL_fine-tuned ranked among the same difference for the fresh draws
  (the base model, released before the identifiers were drawn, as the reference).
Per repetition count: detection rate at p < 0.01, AUC planted vs never published, last-k hits, median exposure.

    .venv/bin/python bench/ghost_real_model.py                 # 8 min 19 s measured on 2 idle cores
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import random
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402

from bench.real_model_control import book_text, passages  # noqa: E402
from provenance import ghost, paths  # noqa: E402
from provenance.ghost import planting  # noqa: E402
from provenance.lm.cache import StatsCache  # noqa: E402
from provenance.lm.loading import load_model, wrap_model  # noqa: E402
from provenance.lm.training import fine_tune  # noqa: E402
from provenance.verdicts import auc_score  # noqa: E402

COUNTS = (1, 3, 7, 10, 30)
PAPER = "Zhao et al. 2024: LLaMA-13B, 30 identifiers seen about 7 times each: perplexity-test AUC 0.891"
SMOLLM2_RELEASED = date(2024, 11, 1)  # SmolLM2's release: long before these identifiers are drawn


def per_count(table: pd.DataFrame, column: str, alpha: float) -> pd.DataFrame:
    """One row per repetition count: detection rate at p < alpha, AUC of ``column`` (higher = more familiar)
    planted vs never published, last-k hit rate, median exposure in bits."""
    absent = table[table["repetitions"] == 0]
    rows = []
    for count in (0, *COUNTS):
        part = table[table["repetitions"] == count]
        row = {"repetitions": count, "identifiers": len(part), "detected": float((part["p_value"] < alpha).mean()),
               "median_p": float(part["p_value"].median()), "median_exposure_bits": float(
                   part["exposure_bits"].median())}
        if "last_k_hit" in part:
            row["last_k_hits"] = float(part["last_k_hit"].mean())
        if count:
            both = pd.concat([part, absent])
            row["auc_vs_never"] = auc_score((both["repetitions"] > 0).astype(int), both[column])
        rows.append(row)
    return pd.DataFrame(rows)


def fine_tuned(base, corpus: list[str], args: argparse.Namespace):
    """The base model fine-tuned on ``corpus``; the weights are kept in the cache so that a rerun (after a kill, or
    with another --null) skips the fine-tune and, through the statistics cache, the draws already scored."""
    from safetensors.torch import load_file, save_file

    key = hashlib.sha256("\n".join([f"{args.epochs}|{args.lr}|{args.passages}", *corpus]).encode()).hexdigest()[:16]
    saved = paths.cache_root() / "bench" / f"ghost-real-model-{key}.safetensors"
    model = copy.deepcopy(base.model)

    def wrapped(net):  # one identity for a fresh and a reused fine-tune, so cached statistics are shared
        return wrap_model(net, base.tokenizer, name=f"{base.name}+planted", identity_seed=f"ghost-bench-{key}")

    if saved.exists():
        model.load_state_dict(load_file(str(saved)), strict=False)
        print(f"{base.name} fine-tuned weights reused from {saved}", flush=True)
        return wrapped(model)
    target, report = fine_tune(wrapped(model), corpus, epochs=args.epochs, learning_rate=args.lr, block_size=128,
                               seed=0)
    saved.parent.mkdir(parents=True, exist_ok=True)
    tmp = saved.with_suffix(".tmp")
    save_file({k: v.contiguous() for k, v in target.model.state_dict().items() if "lm_head" not in k}, str(tmp))
    tmp.replace(saved)
    print(f"{base.name} fine-tuned {args.epochs} epoch(s) at lr {args.lr:g} on {len(corpus)} passages with "
          f"identifiers planted {', '.join(map(str, COUNTS))} times (5 each), decoys used once, 10 never "
          f"published: {report.seconds:.0f} s, final loss {report.final_loss:.3f}", flush=True)
    return wrapped(target.model)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--null", type=int, default=1000, help="fresh draws per test (p-value floor 1/(M+1))")
    parser.add_argument("--passages", type=int, default=150)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--alpha", type=float, default=0.01)
    args = parser.parse_args()
    t0 = time.time()
    background = passages(book_text(), args.passages, seed=2)
    plan = planting.plan_planting(background, COUNTS, per_count=5, absent=10, decoys=60, rng=random.Random(0))
    base = load_model("default")
    target = fine_tuned(base, plan.corpus, args)
    cache = StatsCache()
    results = {}
    for name, reference in (("plain", None), ("reference-calibrated", base)):
        start = time.time()
        result = ghost.detect(target, plan.tested, n_null=args.null, exclude=plan.exclude, alpha=args.alpha,
                              cache=cache, rng=random.Random(1), ref_model=reference,
                              ref_released=SMOLLM2_RELEASED if reference is not None else None,
                              last_k=ghost.DEFAULT_LAST_K if reference is None else ())
        table = result.table.assign(repetitions=result.table["id"].map(plan.repetitions))
        column = "nll_difference" if reference is not None else "nll"
        familiar = table[column] if reference is not None else -table[column]
        results[name] = per_count(table.assign(familiarity=familiar), "familiarity", args.alpha)
        print(f"\n== {name} test ({time.time() - start:.0f} s): {result.verdict.words()}")
        print(results[name].to_string(index=False, float_format=lambda v: f"{v:.3g}"), flush=True)
    seven = {name: float(r.loc[r["repetitions"] == 7, "auc_vs_never"].iloc[0]) for name, r in results.items()}
    print(f"\n{PAPER}.\nHere, SmolLM2-135M, 5 identifiers seen 7 times vs 10 never published: AUC "
          f"{seven['plain']:.3f} (plain), {seven['reference-calibrated']:.3f} (reference-calibrated).")
    print(f"{time.time() - t0:.0f} s in all")


if __name__ == "__main__":
    main()
