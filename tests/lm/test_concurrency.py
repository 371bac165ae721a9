"""Two sessions scoring at the same time on one shared model get the same, separate results as sequential runs."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from textgen import random_sentences
from provenance.lm.cache import StatsCache
from provenance.documents import Document
from provenance.scores.table import score_documents
from provenance.investigations.scoring import score_set
from provenance.investigations.store import InvestigationStore

SCORES = ("loss", "zlib", "lowercase", "mink", "minkpp")


def session_documents(seed: int, n: int = 6) -> list[Document]:
    texts = random_sentences(n, length=30 + 7 * seed, seed=100 + seed)
    # Mixed case so the 'lowercase' score needs its second pass; one long text so windows are used.
    texts[0] = texts[0].upper()
    texts[-1] = " ".join(texts)
    return [Document(f"s{seed}-{i}", t) for i, t in enumerate(texts)]


def run_concurrently(jobs):
    """Start every job at the same moment (a barrier) in its own thread; return results in job order."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)
    failures: list = []

    def worker(i, job):
        try:
            barrier.wait()
            results[i] = job()
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not failures, failures
    return results


@pytest.mark.parametrize("shared_cache", [False, True])
def test_two_sessions_on_one_model_match_sequential_runs(tiny_model, shared_cache):
    sets = [session_documents(0), session_documents(1)]
    sequential = [score_documents(tiny_model, docs, SCORES).table for docs in sets]
    cache = StatsCache() if shared_cache else None
    for _ in range(3):  # several rounds: interleavings differ from run to run
        concurrent = run_concurrently([lambda docs=docs: score_documents(tiny_model, docs, SCORES, cache=cache)
                                       for docs in sets])
        for got, want in zip(concurrent, sequential):
            pd.testing.assert_frame_equal(got.table, want, check_exact=False, rtol=1e-5, atol=1e-6)
        # each session got its own documents, none of the other's
        assert set(concurrent[0].table["document"]) == {d.name for d in sets[0]}
        assert set(concurrent[1].table["document"]) == {d.name for d in sets[1]}


def test_concurrent_gradient_norms_match_sequential(tiny_model):
    sets = [session_documents(0, n=3), session_documents(1, n=3)]
    sequential = [score_documents(tiny_model, docs, ("loss", "gradnorm")).table for docs in sets]
    for _ in range(2):
        concurrent = run_concurrently([lambda docs=docs: score_documents(tiny_model, docs, ("loss", "gradnorm"))
                                       for docs in sets])
        for got, want in zip(concurrent, sequential):
            pd.testing.assert_frame_equal(got.table, want, check_exact=False, rtol=1e-5, atol=1e-7)
    assert all(p.grad is None for p in tiny_model.model.parameters())


def test_concurrent_investigations_in_one_store(tiny_model, tmp_path):
    sets = [session_documents(0), session_documents(1)]
    with InvestigationStore(tmp_path / "shared.sqlite") as store:
        runs = run_concurrently([
            lambda i=i, docs=docs: score_set(store, f"session {i}", tiny_model, docs, SCORES,
                                             batch_documents=2)
            for i, docs in enumerate(sets)])
        for i, (run, docs) in enumerate(zip(runs, sets)):
            want = score_documents(tiny_model, docs, SCORES).table
            got = store.results(f"session {i}").drop(columns="sha256")
            pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-5, atol=1e-6)
            assert run.investigation.status == "complete" and run.investigation.n_scored == len(docs)


def test_concurrent_seeded_sampling_matches_sequential(tiny_model):
    """ngram_coverage samples with a fixed seed; concurrent sessions must not draw from each other's RNG stream."""
    prompts = [random_sentences(1, length=12, seed=s)[0] for s in (7, 8)]
    sequential = [tiny_model.sampled_continuations(p, num_samples=3, max_new_tokens=8) for p in prompts]
    for _ in range(3):
        concurrent = run_concurrently([lambda p=p: tiny_model.sampled_continuations(p, num_samples=3,
                                                                                    max_new_tokens=8)
                                       for p in prompts])
        assert concurrent == sequential


def test_concurrent_greedy_decodes_on_one_shared_model_equal_sequential_ones(tiny_model):
    """Two ghost tests decoding at once on the model all sessions share: batches of prompts of different lengths
    are left-padded without touching the shared tokenizer, so each thread gets what it gets alone."""
    tokenizer_side = tiny_model.tokenizer.padding_side
    batches = [[random_sentences(1, length=n, seed=s)[0] for n, s in ((3, 1), (11, 2), (6, 3))],
               [random_sentences(1, length=n, seed=s)[0] for n, s in ((9, 4), (2, 5), (14, 6), (5, 7))]]
    alone = [[tiny_model.greedy_continuations([p], max_new_tokens=6)[0] for p in batch] for batch in batches]
    sequential = [tiny_model.greedy_continuations(batch, max_new_tokens=6) for batch in batches]
    assert sequential == alone  # left padding is masked: a batch decodes as its prompts do one by one
    for _ in range(5):
        concurrent = run_concurrently([lambda b=b: tiny_model.greedy_continuations(b, max_new_tokens=6)
                                       for b in batches])
        assert concurrent == sequential
    assert tiny_model.tokenizer.padding_side == tokenizer_side
