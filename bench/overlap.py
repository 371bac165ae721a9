"""Corpus overlap index: build and query throughput and memory on synthetic documents, MinHash and exact-excerpt
indexes side by side.

Builds an index of N synthetic documents (default 100,000; words drawn from a Zipf-distributed vocabulary of
20,000 made-up words, lengths log-uniform from 50 to 500 words), reporting documents/s for each build phase
(MinHash signatures, the exact-excerpt index's winnowed fingerprints, filling the near-duplicate MinHashLSH, filling
the containment MinHashLSHEnsemble) and the memory of each, measured: resident set size (RSS) growth per corpus
document for the MinHash phases, and the bytes its fingerprint arrays hold per corpus document for the exact index
(plus its files on disk). Then the time to save and re-open it, and queries/s for a mix of planted near-duplicates
(5% of words replaced), planted excerpts (60 consecutive words of a document up to 2x or 5-8x as long, 30 words of
one 10-16x as long) and fresh documents, with how many were found, by default and with the MinHash indexes alone.
Peak memory is the process's maximum RSS.

    .venv/bin/python bench/overlap.py [--docs 100000] [--queries 600] [--num-perm 128] [--recall-weight 0.5]
                                      [--exact-min-words 10] [--redis HOST:PORT] [--json FILE]
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
from provenance.overlap import NO_MATCH, IndexParams, OverlapIndex, load_index, query_index  # noqa: E402

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


EXCERPTS = (("excerpt_x2_", 60, 60, 120), ("excerpt_x5_", 60, 300, 480), ("excerpt_x10_", 30, 300, 480))


def make_queries(docs: list[Document], vocab: np.ndarray, n: int, rng: np.random.Generator
                 ) -> tuple[list[Document], dict[str, str]]:
    """n/3 near-duplicates, n/3 excerpts (a third each: 60 words of documents at most twice as long, 60 words of
    documents 5-8 times as long, 30 words of documents 10-16 times as long), the rest fresh documents; returns them
    and query name -> planted source."""
    third = n // 3
    queries, source = [], {}
    for k, i in enumerate(rng.choice(len(docs), third, replace=False)):
        tokens = docs[i].text.split()
        for j in rng.choice(len(tokens), max(1, len(tokens) // 20), replace=False):
            tokens[j] = str(vocab[rng.integers(len(vocab))])
        queries.append(Document(f"near{k}", " ".join(tokens)))
        source[f"near{k}"] = docs[i].name
    for kind, length, lo, hi in EXCERPTS:
        ids = [i for i, d in enumerate(docs) if lo <= len(d.text.split()) <= hi]
        for k, i in enumerate(rng.choice(ids, third // len(EXCERPTS), replace=False)):
            tokens = docs[i].text.split()
            start = int(rng.integers(0, len(tokens) - length + 1))
            queries.append(Document(f"{kind}{k}", " ".join(tokens[start: start + length])))
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
    ap.add_argument("--exact-min-words", type=int, default=10,
                    help="shortest verbatim passage the exact-excerpt index always finds (default 10)")
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
    params = IndexParams(ngram=args.ngram, num_perm=args.num_perm, ensemble_recall_weight=args.recall_weight,
                         exact_min_words=args.exact_min_words)
    index = OverlapIndex(params, storage_config=storage)
    figures: dict[str, float] = {"documents": len(docs), "words": n_words, "num_perm": args.num_perm,
                                 "ngram": args.ngram, "recall_weight": args.recall_weight,
                                 "exact_min_words": args.exact_min_words, "storage": "redis" if storage else "memory"}
    per_doc = 2**20 / len(docs)  # MiB of the whole corpus -> bytes per corpus document

    figures["rss_before_build_mb"] = rss_mb()
    t = time.perf_counter()
    report = index.add_documents(docs)
    hashing = time.perf_counter() - t
    figures["exact_s"] = report.exact_seconds
    figures["hash_s"] = hashing - report.exact_seconds  # MinHash signatures (words read once for both)
    figures["exact_bytes_per_doc"] = index.exact_nbytes / len(docs)
    figures["signature_bytes_per_doc"] = index.signatures.nbytes / len(docs)
    figures["rss_after_hashing_mb"] = rss_mb()
    t = time.perf_counter()
    index.prepare(containment=False)
    figures["lsh_s"] = time.perf_counter() - t
    figures["rss_after_lsh_mb"] = rss_mb()
    t = time.perf_counter()
    index.prepare(containment=True)
    figures["ensemble_s"] = time.perf_counter() - t
    figures["rss_after_ensemble_mb"] = rss_mb()
    figures["lsh_rss_bytes_per_doc"] = (figures["rss_after_lsh_mb"] - figures["rss_after_hashing_mb"]) * per_doc
    figures["ensemble_rss_bytes_per_doc"] = (figures["rss_after_ensemble_mb"] - figures["rss_after_lsh_mb"]) * per_doc
    build = figures["hash_s"] + figures["exact_s"] + figures["lsh_s"] + figures["ensemble_s"]
    figures["build_docs_per_s"] = len(docs) / build
    print(f"build: {build:.1f} s = {figures['build_docs_per_s']:,.0f} documents/s  (MinHash signatures "
          f"{len(docs) / figures['hash_s']:,.0f}/s, exact-excerpt fingerprints {len(docs) / figures['exact_s']:,.0f}/s "
          f"({figures['exact_s']:.1f} s), MinHashLSH {len(docs) / figures['lsh_s']:,.0f}/s, MinHashLSHEnsemble "
          f"{len(docs) / figures['ensemble_s']:,.0f}/s); RSS {rss_mb():.0f} MiB", flush=True)
    print(f"memory per corpus document: MinHash signatures {figures['signature_bytes_per_doc']:,.0f} bytes, "
          f"MinHashLSH {figures['lsh_rss_bytes_per_doc']:,.0f} bytes (RSS growth), MinHashLSHEnsemble "
          f"{figures['ensemble_rss_bytes_per_doc']:,.0f} bytes (RSS growth); exact-excerpt index "
          f"{figures['exact_bytes_per_doc']:,.0f} bytes (its arrays: {index.exact_nbytes / 2**20:.1f} MiB in all, "
          f"passages of {args.exact_min_words}+ words always found)", flush=True)

    for label, exact in (("", True), ("minhash_only_", False)):
        t = time.perf_counter()
        result = query_index(index, queries, exact=exact)
        figures[f"{label}query_s"] = time.perf_counter() - t
        figures[f"{label}queries_per_s"] = len(queries) / figures[f"{label}query_s"]
        m = result.matches
        found = {(d, x) for d, x in zip(m["document"], m["match"])}
        for kind in ("near",) + tuple(e[0] for e in EXCERPTS):
            planted = [q for q in source if q.startswith(kind)]
            figures[f"{label}{kind}_found"] = sum((q, source[q]) in found for q in planted) / len(planted)
        figures[f"{label}fresh_with_matches"] = int(m["document"].str.startswith("fresh").sum())
        figures[f"{label}no_match_documents"] = int((result.documents["outcome"] == NO_MATCH).sum())
        what = "with the exact-excerpt index (default)" if exact else "MinHash indexes alone (exact=False)"
        print(f"query, {what}: {len(queries)} documents in {figures[f'{label}query_s']:.1f} s = "
              f"{figures[f'{label}queries_per_s']:,.1f} queries/s (candidates, exact verification and spans); "
              f"planted near-duplicates found {figures[f'{label}near_found']:.1%}; excerpts found: 60 words of "
              f"documents up to 2x longer {figures[f'{label}excerpt_x2__found']:.1%}, of 5-8x longer "
              f"{figures[f'{label}excerpt_x5__found']:.1%}, 30 words of 10-16x longer "
              f"{figures[f'{label}excerpt_x10__found']:.1%}; matches for fresh documents "
              f"{figures[f'{label}fresh_with_matches']}; documents with no match "
              f"{figures[f'{label}no_match_documents']}", flush=True)

    folder = Path(tempfile.mkdtemp(prefix="overlap-bench-"))
    try:
        t = time.perf_counter()
        index.save(folder / "index")
        figures["save_s"] = time.perf_counter() - t
        figures["disk_mb"] = sum(p.stat().st_size for p in (folder / "index").iterdir()) / 2**20
        figures["exact_disk_mb"] = sum(p.stat().st_size for p in (folder / "index").glob("*.exact.npz")) / 2**20
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
    print(f"disk: saved in {figures['save_s']:.1f} s ({figures['disk_mb']:.0f} MiB, of which the exact-excerpt index "
          f"{figures['exact_disk_mb']:.1f} MiB), re-opened (checksums, MinHashLSH rebuilt) in {figures['load_s']:.1f} "
          "s", flush=True)
    print(f"peak memory (max RSS): {figures['peak_rss_mb']:,.0f} MiB")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
