"""Every attack in the score registry on one member / non-member experiment, beside the blind baseline.

The default model (SmolLM2-135M) is fine-tuned on a random half of ``--passages`` passages of a public-domain book
(Botchan, as in bench/real_model_control.py: its ``book_text()`` and ``passages()``); the other half is held out.
Members and non-members therefore come from one generator, so a score that separates them shows what the fine-tune
memorised, and the blind row (a bag-of-words classifier that never sees the model) should stay near AUC 0.5.

For every score in the registry that the default model can compute (the registry is iterated, so scores added
later appear by themselves; ``ref`` and ``binoculars`` get the base model as reference / observer), it prints,
through the use case ``sets evaluate`` runs (``investigations.labelled.evaluate_labelled_set``):
- AUC with its 95% bootstrap interval and TPR at 1% FPR (n/a below 100 non-members);
- the privacy budget each attack implies: ``epsilon_mean``, ``epsilon_lower`` (Bayesian, Jeffreys prior) and
  ``epsilon_cp_lower`` (Clopper-Pearson), in nats, delta = 0 (verdicts/privacy.py);
- whether its AUC interval overlaps the blind baseline's;
- seconds per 1,000 scored tokens: each score computed alone (after the evaluation, on all passages or the first
  ``--timing-passages``) with no statistics cache, so the figure includes the forward (or generation / backward)
  passes that score needs by itself. These are wall-clock figures: on a shared machine they measure the load too.

    .venv/bin/python bench/attacks.py --passages 30          # small: a few minutes on 2 CPU cores
    .venv/bin/python bench/attacks.py                        # 60 passages, LoRA, 1 epoch
    .venv/bin/python bench/attacks.py --passages 200 --kind full --epochs 3   # scaled up (GPU advised)
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench.real_model_control import book_text, passages  # noqa: E402
from provenance.documents import Document  # noqa: E402
from provenance.investigations.labelled import evaluate_labelled_set  # noqa: E402
from provenance.investigations.store import InvestigationStore  # noqa: E402
from provenance.lm.cache import StatsCache  # noqa: E402
from provenance.lm.loading import load_model, wrap_model  # noqa: E402
from provenance.lm.training import fine_tune  # noqa: E402
from provenance.scores import registry  # noqa: E402
from provenance.scores.table import score_documents, validate_scores  # noqa: E402
from provenance.verdicts.baseline import INDISTINGUISHABLE_COLUMN, comparison_column, display_name  # noqa: E402
from provenance.verdicts.roc import measured_operating_points  # noqa: E402


def computable_scores(model, second: dict, names: list[str] | None = None) -> tuple[list[str], dict[str, str]]:
    """The registry's scores (or ``names``) the model can compute with the second models given, and for the others
    the sentence saying why not. Declared texts are not asked for here: the labelled evaluation holds out part of
    the labelled texts for the scores that read them (prefixes, frequency tables)."""
    ok, skipped = [], {}
    for name in names or list(registry.SCORES):
        try:
            validate_scores([name], model, second.get("ref_model"), second.get("observer"), check_declared=False)
        except ValueError as exc:
            skipped[name] = str(exc)
        else:
            ok.append(name)
    return ok, skipped


def seconds_per_1000_tokens(model, docs: list[Document], name: str, second: dict) -> tuple[float, str | None]:
    """Seconds per 1,000 scored tokens of ``name`` computed alone on ``docs`` without a statistics cache (NaN and a
    sentence when it cannot be computed here)."""
    start = time.perf_counter()
    try:
        scored = score_documents(model, docs, [name], cache=None, **second)
    except ValueError as exc:
        return float("nan"), str(exc)
    seconds = time.perf_counter() - start
    return 1000 * seconds / max(1, int(scored.table["tokens"].sum())), None


def evaluate(store: InvestigationStore, model, docs: list[Document], labels: list[int], scores: list[str],
             second: dict, n_bootstrap: int, seed: int):
    """``evaluate_labelled_set`` on ``scores``; a score the use case refuses (a ValueError naming it) is dropped
    with its sentence and the rest evaluated."""
    scores, refused = list(scores), {}
    cache = StatsCache()
    while scores:
        try:
            return evaluate_labelled_set(store, None, model, docs, labels, scores, cache=cache,
                                         n_bootstrap=n_bootstrap, seed=seed, chunk_tokens=32, **second), refused
        except ValueError as exc:
            named = [s for s in scores if re.search(rf"'{re.escape(s)}'", str(exc))]
            if not named:
                raise
            refused[named[0]] = str(exc)
            scores.remove(named[0])
    raise SystemExit("No score could be evaluated.")


def results_table(table: pd.DataFrame, timing: dict[str, float]) -> str:
    """The evaluation (``measured_operating_points`` of it) with the seconds per 1,000 tokens, as printed."""
    shown = pd.DataFrame({
        "score": [display_name(s) for s in table["score"]],
        "AUC": table["auc"], "low": table["auc_low"], "high": table["auc_high"],
        "TPR@1%": table["tpr_at_1pct_fpr"], "eps_mean": table["epsilon_mean"], "eps_lower": table["epsilon_lower"],
        "eps_cp_lower": table["epsilon_cp_lower"],
        "s/1k tok": [timing.get(s, np.nan) for s in table["score"]],
        "vs blind": comparison_column(table)})
    return shown.to_string(index=False, na_rep="n/a", float_format=lambda v: f"{v:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=60, help="passages of the book, half of them members "
                                                                 "(default 60)")
    parser.add_argument("--kind", choices=["lora", "full"], default="lora", help="fine-tuning (default lora)")
    parser.add_argument("--epochs", type=int, default=1, help="fine-tuning epochs (default 1)")
    parser.add_argument("--lr", type=float, default=5e-5, help="full fine-tuning learning rate; LoRA uses 20x")
    parser.add_argument("--scores", default="", help="comma-separated scores (default: every registered score the "
                                                     "default model can compute)")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the member split and the evaluation")
    parser.add_argument("--no-timing", action="store_true", help="skip the per-score timing passes")
    parser.add_argument("--timing-passages", type=int, default=0,
                        help="time each score on the first N passages only (default: all)")
    args = parser.parse_args()
    if args.passages < 8:
        raise SystemExit("--passages must be at least 8 (4 members and 4 held out).")
    import torch

    t0 = time.time()
    texts = passages(book_text(), args.passages, seed=args.seed)
    order = np.random.default_rng(args.seed + 1).permutation(len(texts))
    member = set(order[: len(texts) // 2].tolist())
    docs = [Document(f"{'member' if i in member else 'held-out'}-{i}", t) for i, t in enumerate(texts)]
    labels = [int(i in member) for i in range(len(texts))]
    base = load_model("default")
    print(f"{base.name} on {base.device}: {sum(labels)} member and {len(labels) - sum(labels)} held-out passages of "
          f"Botchan ({sum(len(t.split()) for t in texts) / len(texts):.0f} words each); torch threads "
          f"{torch.get_num_threads()}", flush=True)
    tuned = wrap_model(copy.deepcopy(base.model), base.tokenizer, name=f"{base.name}+{args.kind}{args.epochs}",
                       identity_seed=f"attacks-{args.kind}-{args.epochs}-{args.lr}-{args.passages}-{args.seed}")
    lr = args.lr * (20 if args.kind == "lora" else 1)
    lora = {"lora_rank": 16} if args.kind == "lora" else {}
    model, report = fine_tune(tuned, [d.text for d, y in zip(docs, labels) if y], epochs=args.epochs,
                              learning_rate=lr, block_size=128, seed=args.seed, **lora)
    print(f"{args.kind} fine-tuning, {args.epochs} epoch(s), lr {lr:g}: final loss {report.final_loss:.3f} in "
          f"{report.seconds:.0f} s", flush=True)

    second = {"ref_model": base, "observer": base}
    wanted = [s.strip() for s in args.scores.split(",") if s.strip()] or None
    scores, skipped = computable_scores(model, second, wanted)
    for name, why in skipped.items():
        print(f"skipped {name}: {why}")
    with tempfile.TemporaryDirectory() as folder, InvestigationStore(Path(folder) / "bench.sqlite") as store:
        result, refused = evaluate(store, model, docs, labels, scores, second, args.bootstrap, args.seed)
    for name, why in refused.items():
        print(f"not evaluated {name}: {why}")
    evaluation = result.evaluation
    table = measured_operating_points(evaluation.table)
    print(f"evaluated in {time.time() - t0:.0f} s so far\n{results_table(table, {})}", flush=True)
    timing: dict[str, float] = {}
    if not args.no_timing:
        timed = docs[: args.timing_passages] if args.timing_passages else docs
        for name in [s for s in table["score"] if s in scores]:
            timing[name], why = seconds_per_1000_tokens(model, timed, name, second)
            print(f"  timed {name} on {len(timed)} passages: "
                  + (f"{timing[name]:.2f} s per 1,000 tokens" if why is None else why), flush=True)
    print(f"\n{evaluation.n_members} members vs {evaluation.n_non_members} held out; shift check: "
          f"{evaluation.shift.sentence}")
    print(results_table(table, timing))
    blind_auc = table.loc[table["score"] == "blind", "auc"].max()
    above = int((~table[INDISTINGUISHABLE_COLUMN] & (table["auc"] > blind_auc)).sum())
    print(f"\n{above} of {int((table['score'] != 'blind').sum())} rows lie above the blind baseline with intervals "
          f"apart; {time.time() - t0:.0f} s in all")


if __name__ == "__main__":
    main()
