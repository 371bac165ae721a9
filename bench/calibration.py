"""Calibrated verdicts on a controlled experiment: do the attacks separate members, and is the null honest?

A tiny Llama is fine-tuned on 100 member documents; 100 non-members and 200 further never-seen documents come from
the same generator (random sequences over one vocabulary of pseudo-words) and the same random draw, so the only
difference is training (design.md, "Testing the statistics honestly"). Prints:
  - every score's AUC with its bootstrap interval and TPR at low FPR, and the chunk meta-classifier
    (verdicts.evaluate_labelled, the path of `sets evaluate` and the Benchmark page);
  - dataset inference, members vs non-members, and its false-positive mode over 20 seeds
    (verdicts.compare_sets, the path of `sets compare` and the Documents page);
  - the fraction of never-seen documents called members at FPR 5% (should be about 5%);
  - the shift check on a random split of one set and on two sets with different vocabularies.

    .venv/bin/python bench/calibration.py
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from provenance import verdicts  # noqa: E402
from provenance.documents import Document  # noqa: E402
from provenance.scores.table import score_documents  # noqa: E402
from provenance.lm.training import build_small_model, fine_tune  # noqa: E402
from provenance.verdicts.sets import compare_sets, evaluate_labelled  # noqa: E402

SCORES = ["loss", "zlib", "mink", "minkpp"]


def pseudo_words(n: int, seed: int) -> list[str]:
    syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
    return random.Random(seed).sample(sorted({a + b for a in syllables for b in syllables}), n)


def documents(vocabulary: list[str], n: int, seed: int, length: int = 30) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(vocabulary) for _ in range(length)) + "." for _ in range(n)]


def main() -> None:
    torch.set_num_threads(1)  # a tiny model gains nothing from threads
    t0 = time.time()
    vocabulary = pseudo_words(200, seed=11)
    texts = documents(vocabulary, 400, seed=1)
    random.Random(2).shuffle(texts)
    members, non_members, unseen = texts[:100], texts[100:200], texts[200:]
    base = build_small_model(documents(vocabulary, 300, seed=99), vocab_size=1000, context_length=128)
    model, report = fine_tune(base, members, epochs=30, learning_rate=3e-3)
    print(f"fine-tuned {model.n_parameters:,} parameters on 100 members: {report.steps} steps, "
          f"{report.seconds:.0f} s, final loss {report.final_loss:.2f}")
    docs = ([Document(f"member-{i}", t) for i, t in enumerate(members)]
            + [Document(f"non-member-{i}", t) for i, t in enumerate(non_members)]
            + [Document(f"unseen-{i}", t) for i, t in enumerate(unseen)])
    scored = score_documents(model, docs, SCORES)
    table = scored.table
    kind = table["document"].str.rsplit("-", n=1).str[0]

    labelled = table[kind != "unseen"].assign(label=(kind[kind != "unseen"] == "member").astype(int))
    result = evaluate_labelled(members + non_members, [1] * 100 + [0] * 100, labelled, SCORES, stats=scored.stats,
                               chunk_tokens=10)
    print("\nMembers vs held-out non-members (100 each):")
    print(result.table[["score", "auc", "auc_low", "auc_high", "tpr_at_1pct_fpr", "tpr_at_0_1pct_fpr"]]
          .to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"shift check: AUC {result.shift.auc:.3f} -> confounded: {result.shift.confounded}")

    suspect, reference = table[kind == "member"], table[kind == "non-member"]
    comparison = compare_sets(members, suspect, non_members, reference, SCORES)
    print(f"\nDataset inference, members vs non-members: p = {comparison.inference.p_value:.3g} "
          f"({comparison.inference.method}); {comparison.inference.details()}")
    fp = [verdicts.dataset_inference_false_positive(reference, SCORES, seed=s).p_value for s in range(20)]
    print(f"false-positive mode (reference half vs half), 20 seeds: p > 0.05 in {sum(p > 0.05 for p in fp)} of 20 "
          f"(smallest {min(fp):.3f})")
    unseen_table = table[kind == "unseen"]
    unseen_vs_ref = compare_sets(unseen, unseen_table, non_members, reference, SCORES)
    called = (unseen_vs_ref.documents["verdict_label"] == verdicts.Label.EVIDENCE).mean()
    print(f"never-seen documents called members at FPR 0.05 (per-document, Bonferroni over {len(SCORES)} scores): "
          f"{called:.1%}; dataset inference never-seen vs non-members: p = {unseen_vs_ref.inference.p_value:.3g}")

    split = verdicts.shift_check(texts[:200], texts[200:])
    other = verdicts.shift_check(members, documents(pseudo_words(200, seed=12), 100, seed=3))
    print(f"\nshift check, random split of one set: AUC {split.auc:.3f} [{split.auc_low:.3f}, {split.auc_high:.3f}], "
          f"confounded {split.confounded}; different vocabularies: AUC {other.auc:.3f}, confounded {other.confounded}")
    print(f"\n{time.time() - t0:.0f} s in all")


if __name__ == "__main__":
    main()
