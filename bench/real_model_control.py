"""A positive control on a real pretrained model: does what the tools say hold when a model really learned the texts?

The default model (SmolLM2-135M) is fine-tuned on a random half of 120 passages of a public-domain book (the
English translation of Natsume Soseki's Botchan, shipped in sentencepiece's source distribution on PyPI: fetched
once with pip and cached), for 1 and 3 epochs, with full fine-tuning and with LoRA. The other half is held out. For
each fine-tune, through the code the CLI's `sets evaluate` and `sets compare` use (verdicts.sets), it prints:
- AUC per score with its 95% bootstrap interval and TPR at 1% FPR (members vs held-out passages);
- the set-level p-value of members vs held-out: the rank test (default) and Maini et al.'s split-half test;
- the false-positive mode (held-out half vs held-out half) p-value of the rank test;
- the share of members called "evidence of training" per document at FPR 0.05 (held-out passages as the
  reference set, the default scores' combined rank);
- the `ref` score with the base model as reference (Pandora's FLoRA setting): AUC and rank-test p-value.

    .venv/bin/python bench/real_model_control.py            # all four: 13 min 38 s measured on 2 idle cores
    .venv/bin/python bench/real_model_control.py --runs full:1
"""

from __future__ import annotations

import argparse
import copy
import random
import re
import subprocess
import sys
import tarfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from provenance import paths  # noqa: E402
from provenance.documents import Document  # noqa: E402
from provenance.lm.cache import StatsCache  # noqa: E402
from provenance.lm.loading import load_model, wrap_model  # noqa: E402
from provenance.lm.training import fine_tune  # noqa: E402
from provenance.scores import registry  # noqa: E402
from provenance.scores.table import score_documents  # noqa: E402
from provenance.verdicts.pvalues import document_verdicts  # noqa: E402
from provenance.verdicts.rank_tests import rank_test, rank_test_false_positive  # noqa: E402
from provenance.verdicts.sets import compare_sets, evaluate_labelled  # noqa: E402

SDIST = "sentencepiece==0.2.3"
BOOK_MEMBER = "test/botchan.txt"
SCORES = list(registry.default_scores())


def book_text() -> str:
    """Botchan in English, from sentencepiece's source distribution (downloaded with pip once, then cached)."""
    folder = paths.cache_root() / "bench" / "sentencepiece"
    cached = folder / "botchan.txt"
    if not cached.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                        SDIST, "-d", str(folder)], check=True)
        archive = next(folder.glob("sentencepiece-*.tar.gz"))
        with tarfile.open(archive) as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith(BOOK_MEMBER))
            cached.write_bytes(tar.extractfile(member).read())
    return cached.read_text(encoding="utf-8-sig")


def passages(text: str, n: int, words_per_passage: int = 110, seed: int = 0) -> list[str]:
    """``n`` passages of about ``words_per_passage`` words from the book's body (Gutenberg header and licence cut),
    each ending at a sentence end, drawn at random without overlap."""
    body = text[text.index("CHAPTER I"): text.index("End of Project Gutenberg")]
    sentences = re.split(r"(?<=[.!?])\s+", " ".join(body.split()))
    chunks, current = [], []
    for sentence in sentences:
        current.append(sentence)
        if sum(len(s.split()) for s in current) >= words_per_passage:
            chunks.append(" ".join(current))
            current = []
    chunks = [c for c in chunks if not c.startswith("CHAPTER")]
    return random.Random(seed).sample(chunks, n)


def evaluate(model, base, members: list[str], held_out: list[str], cache: StatsCache) -> dict:
    docs = ([Document(f"member-{i}", t) for i, t in enumerate(members)]
            + [Document(f"held-out-{i}", t) for i, t in enumerate(held_out)])
    scored = score_documents(model, docs, SCORES + ["ref"], ref_model=base, cache=cache)
    table = scored.table
    labels = table["document"].str.startswith("member").astype(int).to_numpy()
    table = table.assign(label=labels)
    evaluation = evaluate_labelled(members + held_out, labels.tolist(), table, SCORES + ["ref"], stats=scored.stats,
                                   n_bootstrap=1000)
    suspect, reference = table[labels == 1], table[labels == 0]
    rank = compare_sets(members, suspect, held_out, reference, SCORES, fpr=0.05)
    split = compare_sets(members, suspect, held_out, reference, SCORES, fpr=0.05, set_test="split_half")
    evidence_share = float((rank.documents["verdict_label"] == "evidence of training").mean())
    by_ref = document_verdicts(suspect, reference, ["ref"], fpr=0.05)
    evidence_share_ref = float((by_ref["verdict_label"] == "evidence of training").mean())
    return {"evaluation": evaluation.table, "shift_auc": evaluation.shift.auc,
            "rank_p": rank.inference.p_value, "split_half_p": split.inference.p_value,
            "false_positive_p": rank_test_false_positive(reference, SCORES, seed=0).p_value,
            "evidence_share": evidence_share, "evidence_share_ref": evidence_share_ref, "ref_rank_p": rank_test(suspect, reference, ["ref"]).p_value}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", default="full:1,full:3,lora:1,lora:3", help="kind:epochs, comma-separated")
    parser.add_argument("--passages", type=int, default=120, help="passages, half of them members")
    parser.add_argument("--lr", type=float, default=5e-5, help="full fine-tuning learning rate (LoRA uses 20x)")
    args = parser.parse_args()
    import torch

    t0 = time.time()
    texts = passages(book_text(), args.passages)
    order = np.random.default_rng(1).permutation(len(texts))
    members = [texts[i] for i in order[: len(texts) // 2]]
    held_out = [texts[i] for i in order[len(texts) // 2:]]
    base = load_model("default")
    print(f"{base.name}: {len(members)} member and {len(held_out)} held-out passages of Botchan "
          f"({sum(len(t.split()) for t in texts) / len(texts):.0f} words each); torch threads "
          f"{torch.get_num_threads()}", flush=True)
    cache = StatsCache()  # the base model's statistics (the ref score) are computed once for all runs
    rows = []
    for run in args.runs.split(","):
        kind, epochs = run.split(":")
        start = time.time()
        copy_ = wrap_model(copy.deepcopy(base.model), base.tokenizer, name=f"{base.name}+{kind}{epochs}",
                           identity_seed=f"bench-{kind}-{epochs}-{args.lr}")
        lora = {"lora_rank": 16} if kind == "lora" else {}
        lr = args.lr * (20 if kind == "lora" else 1)
        model, report = fine_tune(copy_, members, epochs=int(epochs), learning_rate=lr, block_size=128, seed=0,
                                  **lora)
        result = evaluate(model, base, members, held_out, cache)
        seconds = time.time() - start
        table = result["evaluation"].set_index("score")
        print(f"\n== {kind} fine-tuning, {epochs} epoch(s), lr {lr:g}: final loss {report.final_loss:.3f}, "
              f"{seconds:.0f} s (training {report.seconds:.0f} s)")
        print(table[["auc", "auc_low", "auc_high", "tpr_at_1pct_fpr"]].round(3).to_string())
        print(f"shift check AUC {result['shift_auc']:.2f} (0.5 = the sets say the same things)")
        print(f"set-level p, members vs held-out: rank test {result['rank_p']:.2g}, split-half "
              f"{result['split_half_p']:.2g}; false-positive mode (held-out halves, rank test) "
              f"{result['false_positive_p']:.2g}")
        print(f"members called evidence per document at FPR 0.05: {result['evidence_share']:.0%} with the default "
              f"scores, {result['evidence_share_ref']:.0%} with ref; ref (base model as reference): AUC "
              f"{table.loc['ref', 'auc']:.3f}, rank-test p {result['ref_rank_p']:.2g}", flush=True)
        rows.append({"run": f"{kind}:{epochs}", "auc_loss": table.loc["loss", "auc"],
                     "auc_minkpp": table.loc["minkpp", "auc"], "auc_ref": table.loc["ref", "auc"],
                     "rank_p": result["rank_p"], "split_half_p": result["split_half_p"],
                     "false_positive_p": result["false_positive_p"], "evidence_share": result["evidence_share"],
                     "evidence_share_ref": result["evidence_share_ref"], "seconds": round(seconds)})
    print("\n" + pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(f"\n{time.time() - t0:.0f} s in all")


if __name__ == "__main__":
    main()
