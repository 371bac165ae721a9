"""Corpus overlap index: build and query throughput and peak memory on synthetic documents.

Builds an index of N synthetic documents (default 100,000; words drawn from a Zipf-distributed vocabulary of
20,000 made-up words, lengths log-uniform from 50 to 500 words), reporting documents/s for each build phase
(hashing MinHash signatures, filling the near-duplicate MinHashLSH, filling the containment MinHashLSHEnsemble), the
time to save and re-open it, then queries/s for a mix of planted near-duplicates (5% of words replaced), planted
excerpts (60 consecutive words of a longer document) and fresh documents, with how many were found. Peak memory is
the process's maximum resident set size (RSS).

    .venv/bin/python bench/overlap.py [--docs 100000] [--queries 600] [--num-perm 128] [--recall-weight 0.5]
                                      [--redis HOST:PORT]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from provenance.documents import Document  # noqa: E402
from provenance.overlap import IndexParams, OverlapIndex, load_index, query_index  # noqa: E402

SYLLABLES = ["ka", "lo", "mi", "nu", "pe", "ro", "su", "ti", "va", "ze", "bo", "da", "fe", "gi", "hu", "ja", "ke",
             "li", "mo", "ny", "pa", "qu", "ri", "so", "tu", "we", "xi", "yo", "zu", "ce"]


def make_vocabulary(size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` distinct made-up words of 2-4 syllables."""
    words: set[str] = set()
    while len(words) < size:
        n = int(rng.integers(2, 5))
        words.add("".join(SYLLABLES[i] for i in rng.integers(0, len(SYLLABLES), n)))
    return np.array(sorted(words))


def make_documents(n: int, vocab: np.ndarray, rng: np.random.Generator, *, min_words: int = 50,
                   max_words: int = 500, prefix: str = "doc") -> list[Document]:
    """n documents, word frequencies Zipf-like (rank^-1.1), lengths log-uniform in [min_words, max_words]."""
    ranks = np.arange(1, len(vocab) + 1, dtype=np.float64)
    p = ranks ** -1.1
    p /= p.sum()
    lengths = np.exp(rng.uniform(np.log(min_words), np.log(max_words), n)).astype(int)
    flat = vocab[rng.choice(len(vocab), size=int(lengths.sum()), p=p)]
    docs, start = [], 0
    for i, length in enumerate(lengths):
        docs.append(Document(f"{prefix}{i}", " ".join(flat[start: start + length])))
        start += length
    return docs


def make_queries(docs: list[Document], vocab: np.ndarray, n: int, rng: np.random.Generator
                 ) -> tuple[list[Document], dict[str, str]]:
    """n/3 near-duplicates, n/3 excerpts (half of them from documents at most twice as long, half from documents
    5-8 times as long), the rest fresh documents; returns them and query name -> planted source."""
    third = n // 3
    queries, source = [], {}
    for k, i in enumerate(rng.choice(len(docs), third, replace=False)):
        tokens = docs[i].text.split()
        for j in rng.choice(len(tokens), max(1, len(tokens) // 20), replace=False):
            tokens[j] = str(vocab[rng.integers(len(vocab))])
        queries.append(Document(f"near{k}", " ".join(tokens)))
        source[f"near{k}"] = docs[i].name
    # excerpts of 60 words from documents up to twice as long, and from documents 5-8 times as long
    for kind, lo, hi in (("excerpt_x2_", 60, 120), ("excerpt_x5_", 300, 480)):
        ids = [i for i, d in enumerate(docs) if lo <= len(d.text.split()) <= hi]
        for k, i in enumerate(rng.choice(ids, third // 2, replace=False)):
            tokens = docs[i].text.split()
            start = int(rng.integers(0, len(tokens) - 60 + 1))
            queries.append(Document(f"{kind}{k}", " ".join(tokens[start: start + 60])))
            source[f"{kind}{k}"] = docs[i].name
    queries.extend(make_documents(n - len(queries), vocab, rng, prefix="fresh"))
    return queries, source


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=600)
    ap.add_argument("--num-perm", type=int, default=128)
    ap.add_argument("--ngram", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--recall-weight", type=float, default=0.5, help="ensemble_recall_weight (default 0.5)")
    ap.add_argument("--redis", default=None, metavar="HOST:PORT", help="keep the LSH tables in Redis")
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    t = time.perf_counter()
    vocab = make_vocabulary(20_000, rng)
    docs = make_documents(args.docs, vocab, rng)
    queries, source = make_queries(docs, vocab, args.queries, rng)
    n_words = sum(len(d.text.split()) for d in docs)
    print(f"corpus: {len(docs):,} documents, {n_words:,} words (mean {n_words / len(docs):.0f}), made in "
          f"{time.perf_counter() - t:.1f} s; RSS {rss_mb():.0f} MiB", flush=True)

    storage = None
    if args.redis:
        host, _, port = args.redis.rpartition(":")
        storage = {"type": "redis", "redis": {"host": host, "port": int(port)}}
    params = IndexParams(ngram=args.ngram, num_perm=args.num_perm, ensemble_recall_weight=args.recall_weight)
    index = OverlapIndex(params, storage_config=storage)
    figures: dict[str, float] = {"documents": len(docs), "words": n_words, "num_perm": args.num_perm,
                                 "ngram": args.ngram, "recall_weight": args.recall_weight,
                                 "storage": "redis" if storage else "memory"}

    t = time.perf_counter()
    index.add_documents(docs)
    figures["hash_s"] = time.perf_counter() - t
    t = time.perf_counter()
    index.prepare(containment=False)
    figures["lsh_s"] = time.perf_counter() - t
    figures["rss_after_lsh_mb"] = rss_mb()
    t = time.perf_counter()
    index.prepare(containment=True)
    figures["ensemble_s"] = time.perf_counter() - t
    figures["rss_after_ensemble_mb"] = rss_mb()
    build = figures["hash_s"] + figures["lsh_s"] + figures["ensemble_s"]
    figures["build_docs_per_s"] = len(docs) / build
    print(f"build: {build:.1f} s = {figures['build_docs_per_s']:,.0f} documents/s  (hashing "
          f"{len(docs) / figures['hash_s']:,.0f}/s, MinHashLSH {len(docs) / figures['lsh_s']:,.0f}/s, "
          f"MinHashLSHEnsemble {len(docs) / figures['ensemble_s']:,.0f}/s); RSS {rss_mb():.0f} MiB", flush=True)

    t = time.perf_counter()
    result = query_index(index, queries)
    figures["query_s"] = time.perf_counter() - t
    figures["queries_per_s"] = len(queries) / figures["query_s"]
    m = result.matches
    found = {(d, x) for d, x in zip(m["document"], m["match"])}
    for kind in ("near", "excerpt_x2_", "excerpt_x5_"):
        planted = [q for q in source if q.startswith(kind)]
        figures[f"{kind}_found"] = sum((q, source[q]) in found for q in planted) / len(planted)
    figures["fresh_with_matches"] = int(m["document"].str.startswith("fresh").sum())
    print(f"query: {len(queries)} documents in {figures['query_s']:.1f} s = {figures['queries_per_s']:,.1f} "
          f"queries/s (LSH candidates, exact verification and spans); planted near-duplicates found "
          f"{figures['near_found']:.1%}; 60-word excerpts found: of documents up to 2x longer "
          f"{figures['excerpt_x2__found']:.1%}, of documents 5-8x longer {figures['excerpt_x5__found']:.1%}; matches "
          f"for fresh documents {figures['fresh_with_matches']}", flush=True)

    folder = Path(tempfile.mkdtemp(prefix="overlap-bench-"))
    try:
        t = time.perf_counter()
        index.save(folder / "index")
        figures["save_s"] = time.perf_counter() - t
        figures["disk_mb"] = sum(p.stat().st_size for p in (folder / "index").iterdir()) / 2**20
        del index
        t = time.perf_counter()
        reopened = load_index(folder / "index")
        figures["load_s"] = time.perf_counter() - t
        if storage:
            reopened.drop_storage()
        del reopened
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    figures["peak_rss_mb"] = peak_rss_mb()
    print(f"disk: saved in {figures['save_s']:.1f} s ({figures['disk_mb']:.0f} MiB), re-opened (checksums, "
          f"MinHashLSH rebuilt) in {figures['load_s']:.1f} s", flush=True)
    print(f"peak memory (max RSS): {figures['peak_rss_mb']:,.0f} MiB")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
