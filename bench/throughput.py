"""Scoring throughput and memory on the default model, as ratios measured in one run.

Compares, on the same few hundred documents of mixed length:
  engine  provenance's token statistics (logprob, mu, sigma, rank) and every one-pass score (loss, zlib, mink, minkpp)
  bare    the model's own forward pass (full logits, nothing else), batched the same way
  naive   a reference-style loop: one document at a time, full log-softmax kept, statistics computed afterwards
The methods alternate in rounds over slices of the documents, so load from other processes hits them alike.
Then the peak RSS of scoring one long document (default 50,000 tokens) in a fresh process.

    .venv/bin/python bench/throughput.py [--docs 240] [--long-tokens 50000] [--device cuda --dtype bfloat16]

With ``--backend vllm`` or ``--backend openai`` it measures instead the tokens/s of that backend's statistics
(loss, zlib, mink from the same documents) against the hf engine on the same documents, alternating rounds:
    PYTHONPATH=. .venv-vllm/bin/python bench/throughput.py --backend vllm [--device cuda]   (vLLM in-process)
    scripts/vllm-server.sh 8000 & .venv/bin/python bench/throughput.py --backend openai --url http://127.0.0.1:8000/v1
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from provenance.scores import formulas as attacks  # noqa: E402
from provenance.lm.loading import load_model  # noqa: E402
from provenance.lm.statistics import _batches, _Segment, default_batching, token_statistics  # noqa: E402

WORDS = ("time people year way day man thing woman life child world school state family student group country "
         "problem hand part place case week company system program question work government number night point "
         "home water room mother area money story fact month lot right study book eye job word business issue side "
         "kind head house service friend father power hour game line end member law car city community name").split()
VERBS = "is was makes takes finds gives tells feels becomes leaves puts means keeps lets begins seems helps".split()


def make_documents(n: int, seed: int = 0) -> list[str]:
    """n English-like documents whose lengths spread log-uniformly from about 15 to about 900 tokens."""
    rng = random.Random(seed)
    docs = []
    for _ in range(n):
        n_sentences = max(1, int(round(2 ** rng.uniform(0, 6))))
        sentences = []
        for _ in range(n_sentences):
            words = [rng.choice(WORDS) for _ in range(rng.randint(4, 12))]
            words.insert(rng.randint(1, len(words) - 1), rng.choice(VERBS))
            sentences.append("The " + " ".join(words) + ".")
        docs.append(" ".join(sentences))
    return docs


@torch.inference_mode()
def run_bare(model, texts: list[str], max_batch_tokens: int, max_batch_size: int) -> int:
    """The model's forward pass with full logits, batched and padded exactly like the engine. Returns tokens."""
    tokenised = [model.tokenize(t)[0] for t in texts]
    segs = [_Segment(i, 0, len(ids), 1) for i, ids in enumerate(tokenised) if len(ids) > 1]
    pad = model.tokenizer.pad_token_id or 0
    for batch in _batches(segs, max_batch_tokens, max_batch_size):
        longest = max(s.end for s in batch)
        ids = torch.full((len(batch), longest), pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for b, s in enumerate(batch):
            ids[b, : s.end] = torch.from_numpy(tokenised[s.text_index])
            mask[b, : s.end] = 1
        mask = None if bool(mask.all()) else mask.to(model.device)  # as the engine does
        model.model(input_ids=ids.to(model.device), attention_mask=mask, use_cache=False).logits
    return sum(len(ids) - 1 for ids in tokenised)


@torch.inference_mode()
def run_naive(model, texts: list[str]) -> int:
    """One document at a time; keep the whole (length x vocabulary) log-softmax, then compute statistics."""
    n = 0
    for text in texts:
        ids = torch.from_numpy(model.tokenize(text)[0])[None].to(model.device)
        if ids.shape[1] < 2:
            continue
        lp = torch.log_softmax(model.model(input_ids=ids).logits[0, :-1].float(), -1)
        target = ids[0, 1:]
        logprob = lp.gather(-1, target[:, None])[:, 0]
        p = lp.exp()
        mu = (p * lp).sum(-1)
        sigma = ((p * lp * lp).sum(-1) - mu ** 2).clamp_min(0).sqrt()
        rank = (lp > logprob[:, None]).sum(-1) + 1
        z = (logprob - mu) / sigma
        k = max(1, int(0.2 * len(logprob)))
        (logprob.sort().values[:k].mean(), z.sort().values[:k].mean(), rank.float().mean())
        n += len(target)
    return n


def run_engine(model, texts: list[str], max_batch_tokens: int, max_batch_size: int) -> int:
    stats = token_statistics(model, texts, max_batch_tokens=max_batch_tokens, max_batch_size=max_batch_size)
    for s in stats:
        if s.n_scored:
            attacks.loss(s), attacks.zlib_score(s), attacks.mink(s), attacks.minkpp(s)
    return sum(s.n_scored for s in stats)


def peak_rss_mib() -> float:
    """This process's peak resident set size in MiB (VmHWM). Unlike ru_maxrss, which Linux carries over from the
    parent across fork and exec, VmHWM belongs to this process image alone."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("/proc/self/status has no VmHWM line")


def long_document_memory(spec: str, tokens: int, device: str | None, dtype: str | None) -> dict:
    """Peak RSS of scoring one document of about ``tokens`` tokens, measured in a fresh process."""
    code = f"""
import json, sys
sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
from bench.throughput import make_documents, peak_rss_mib
from provenance.lm.loading import load_model
from provenance.lm.statistics import token_statistics
before = peak_rss_mib()
m = load_model({spec!r}, device={device!r}, dtype={dtype!r})
text, n = "", 0
pool = make_documents(400, seed=7)
while n < {tokens}:
    text += " " + pool[len(text) % len(pool)]
    n = len(m.tokenize(text)[0])
loaded = peak_rss_mib()
import time; t = time.time()
s = token_statistics(m, [text])[0]
elapsed = time.time() - t
peak = peak_rss_mib()
model_bytes = sum(p.numel() * p.element_size() for p in m.model.parameters())
print(json.dumps(dict(tokens=s.n_tokens, seconds=elapsed, rss_before_model_mib=before, rss_after_model_mib=loaded,
                      peak_rss_mib=peak, model_mib=model_bytes / 2**20)))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_backend(model, texts: list[str]) -> int:
    """Statistics through any backend (``token_statistics``) and the loss-family scores. Returns scored tokens."""
    stats = model.token_statistics(texts)
    for s in stats:
        if s.n_scored:
            attacks.loss(s), attacks.zlib_score(s), attacks.mink(s)
    return sum(s.n_scored for s in stats)


def compare_backend(args) -> None:
    """tokens/s of a served or vLLM backend against the hf engine, on the same documents, in alternating rounds."""
    from provenance.lm.backends import load_model as load_any

    spec = f"vllm:{args.model}" if args.backend == "vllm" else f"openai:{args.url}#{args.served_name}"
    t = time.perf_counter()
    served = load_any(spec, device=args.device, dtype=args.dtype)
    print(f"{spec}: loaded in {time.perf_counter() - t:.1f} s")
    hf = None if args.skip_hf else load_model(args.model, device=args.device, dtype=args.dtype)
    docs = make_documents(args.docs)
    run_backend(served, docs[:4])
    if hf is not None:
        run_backend(hf, docs[:4])
    totals = {args.backend: [0.0, 0], "hf": [0.0, 0]}
    for r in range(args.rounds):
        part = docs[r:: args.rounds]
        methods = [(args.backend, served)] + ([("hf", hf)] if hf is not None else [])
        for name, model in methods if r % 2 == 0 else methods[::-1]:
            t = time.perf_counter()
            totals[name][1] += run_backend(model, part)
            totals[name][0] += time.perf_counter() - t
    rate = {k: (v[1] / v[0] if v[0] else float("nan")) for k, v in totals.items()}
    for name, (seconds, tokens) in totals.items():
        if seconds:
            print(f"{name:7s} {rate[name]:9.1f} tokens/s  ({tokens} tokens in {seconds:.1f} s)")
    if hf is not None:
        print(f"{args.backend} / hf : {rate[args.backend] / rate['hf']:.2f}x on the same documents")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="default")
    ap.add_argument("--backend", choices=("hf", "vllm", "openai"), default="hf",
                    help="hf: the engine against the bare forward and the naive loop; vllm / openai: that backend "
                         "against the hf engine")
    ap.add_argument("--url", default="http://127.0.0.1:8000/v1", help="openai: the server's base URL")
    ap.add_argument("--served-name", default="default", help="openai: the model's name on the server")
    ap.add_argument("--skip-hf", action="store_true", help="vllm / openai: do not run the hf engine beside it")
    ap.add_argument("--docs", type=int, default=240)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--long-tokens", type=int, default=50_000)
    ap.add_argument("--device", default=None)
    ap.add_argument("--dtype", default=None)
    ap.add_argument("--max-batch-tokens", type=int, default=None)
    ap.add_argument("--max-batch-size", type=int, default=None)
    ap.add_argument("--peak-tflops", type=float, default=989.0,
                    help="accelerator's dense bf16 peak, for the roofline fraction (H100 SXM: 989)")
    ap.add_argument("--skip-naive", action="store_true")
    args = ap.parse_args()
    if args.backend != "hf":
        compare_backend(args)
        return

    model = load_model(args.model, device=args.device, dtype=args.dtype)
    default_tokens, default_size = default_batching(model.device)
    mbt, mbs = args.max_batch_tokens or default_tokens, args.max_batch_size or default_size
    docs = make_documents(args.docs)
    lengths = [len(model.tokenize(d)[0]) for d in docs]
    print(f"model {model.name} {model.describe()['parameters_human']} on {model.device} {model.dtype}; "
          f"{len(docs)} documents, {sum(lengths)} tokens, lengths {min(lengths)}-{max(lengths)} "
          f"(median {sorted(lengths)[len(lengths) // 2]})")
    print(f"batching: at most {mbs} row(s) and {mbt} tokens per forward pass (the engine's default on this device)")
    run_engine(model, docs[:4], mbt, mbs), run_bare(model, docs[:4], mbt, mbs)  # warm-up
    totals = {"engine": [0.0, 0], "bare": [0.0, 0], "naive": [0.0, 0]}
    for r in range(args.rounds):
        part = docs[r:: args.rounds]
        methods = [("bare", lambda: run_bare(model, part, mbt, mbs)),
                   ("engine", lambda: run_engine(model, part, mbt, mbs))]
        if not args.skip_naive:
            methods.append(("naive", lambda: run_naive(model, part)))
        for name, fn in methods if r % 2 == 0 else methods[::-1]:
            sync = torch.cuda.synchronize if model.device.type == "cuda" else (lambda: None)
            sync()
            t = time.perf_counter()
            n = fn()
            sync()
            totals[name][0] += time.perf_counter() - t
            totals[name][1] += n
    rate = {k: (v[1] / v[0] if v[0] else float("nan")) for k, v in totals.items()}
    for k in ("bare", "engine", "naive"):
        if totals[k][0]:
            print(f"{k:7s} {rate[k]:9.1f} tokens/s  ({totals[k][1]} tokens in {totals[k][0]:.1f} s)")
    print(f"engine / bare forward : {rate['engine'] / rate['bare']:.3f}x   (target on CPU >= 0.85x)")
    if not args.skip_naive:
        print(f"engine / naive loop   : {rate['engine'] / rate['naive']:.3f}x   (target >= 1x on CPU, >= 10x bf16 GPU)")
    if model.device.type == "cuda":
        achieved = rate["engine"] * 2 * model.n_parameters / 1e12
        print(f"roofline: {achieved:.1f} TFLOP/s = {achieved / args.peak_tflops:.2%} of {args.peak_tflops} TFLOP/s "
              "(2 x parameters FLOPs per token)")
    if args.long_tokens:
        mem = long_document_memory(args.model, args.long_tokens, args.device, args.dtype)
        extra = mem["peak_rss_mib"] - mem["rss_after_model_mib"]
        print(f"long document: {mem['tokens']} tokens in {mem['seconds']:.0f} s; peak RSS {mem['peak_rss_mib']:.0f} MiB "
              f"(interpreter and libraries {mem['rss_before_model_mib']:.0f} MiB, after loading the model "
              f"{mem['rss_after_model_mib']:.0f} MiB, weights {mem['model_mib']:.0f} MiB); scoring added "
              f"{extra:.0f} MiB (target <= 1024 MiB)")


if __name__ == "__main__":
    main()
