"""A ghost-sentence test as an investigation: null draws recorded as they are scored, a stopped test resumed with the
same draws to the same result, the detection table, null summary and Verdict stored and read back unchanged."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from provenance import ghost
from provenance.investigations.ghost_test import NULL_COLLECTION_PREFIX, run_ghost_test
from provenance.investigations.store import COMPLETE, INTERRUPTED, InvestigationStore
from provenance.lm.token_stats import ScoringSettings
from provenance.verdicts.verdict import Verdict

N_NULL = 250  # three chunks of null draws (ghost.detection.NULL_CHUNK = 100)


@pytest.fixture
def store(tmp_path):
    s = InvestigationStore(tmp_path / "inv.sqlite")
    yield s
    s.close()


@pytest.fixture(scope="module")
def entries():
    return ghost.new_entries(ghost.Registry(), ghost.GhostGenerator(words=4), 3, rng=random.Random(41))


def null_collection(model, entries) -> str:
    return NULL_COLLECTION_PREFIX + ghost.NullCache.key(model, entries[0].generator, ScoringSettings(), "")


def test_null_draws_are_recorded_as_they_come_and_a_stopped_test_resumes_to_the_same_result(store, tiny_model,
                                                                                            entries):
    collection = null_collection(tiny_model, entries)

    def recorded() -> int:
        inv = store.find("ghost")
        return len(store.results(inv.id, collection=collection)) if inv else 0

    stopped = run_ghost_test(store, "ghost", tiny_model, entries, n_null=N_NULL, last_k=(1,), rng=random.Random(3),
                             should_stop=lambda: recorded() >= 100)
    assert stopped.cancelled and stopped.detection is None
    inv = stopped.investigation
    assert inv.status == INTERRUPTED and inv.verdict is None
    assert store.collections(inv.id) == {collection: N_NULL}  # every draw is kept before it is scored
    assert recorded() == 100  # the first chunk's NLLs
    drawn = [d.text for d in store.documents(inv.id, collection=collection)]

    resumed = run_ghost_test(store, "ghost", tiny_model, entries, n_null=N_NULL, last_k=(1,), rng=random.Random(77))
    assert resumed.investigation.status == COMPLETE and recorded() == N_NULL
    assert [d.text for d in store.documents(inv.id, collection=collection)] == drawn  # the same draws, none new

    direct = run_ghost_test(store, "uninterrupted", tiny_model, entries, n_null=N_NULL, last_k=(1,),
                            rng=random.Random(3))
    pd.testing.assert_frame_equal(resumed.detection.table, direct.detection.table)
    key = entries[0].generator.key()
    assert resumed.detection.null[key] == pytest.approx(direct.detection.null[key])
    assert resumed.detection.verdict.label == direct.detection.verdict.label


def test_table_null_summary_and_verdict_read_back_unchanged(store, tiny_model, entries, tmp_path):
    disk = ghost.NullCache(tmp_path / "nulls")
    result = run_ghost_test(store, None, tiny_model, entries, n_null=N_NULL, alpha=0.05, last_k=(1, 2),
                            null_cache=disk)
    inv = store.get(result.investigation.id)
    assert inv.name.startswith("Investigation ") and inv.n_documents == 0  # the identifiers are not documents
    assert isinstance(inv.verdict, Verdict) and inv.verdict == result.detection.verdict and inv.verdict.fpr == 0.05
    pd.testing.assert_frame_equal(store.get_artifact(inv.id, "ghost_detection"), result.detection.table)
    (summary,) = store.get_artifact(inv.id, "null_draws")
    assert summary["draws"] == N_NULL and summary["smallest_p"] == pytest.approx(1 / (N_NULL + 1))
    assert summary["generator"] == entries[0].generator.to_dict()
    assert store.get_artifact(inv.id, "ghost_test_settings")["last_k"] == [1, 2]
    key = ghost.NullCache.key(tiny_model, entries[0].generator, ScoringSettings(), "")
    assert len(disk.load(key)[1]) == N_NULL  # the on-disk cache it was given is kept up to date too


def test_a_test_that_cannot_run_records_nothing(store, tiny_model, entries):
    with pytest.raises(ghost.GhostError, match="no identifiers"):
        run_ghost_test(store, "empty", tiny_model, [])
    with pytest.raises(ghost.GhostError, match="last-k"):
        run_ghost_test(store, "k too large", tiny_model, entries, last_k=(4,))
    assert store.list() == []


def test_draws_are_counted_as_they_are_scored_and_a_stop_says_how_many_were_kept(store, tiny_model, entries):
    from provenance.investigations.ghost_test import recorded_null_draws

    seen: list[tuple[int, int]] = []
    stopped = run_ghost_test(store, "counted", tiny_model, entries, n_null=N_NULL, last_k=(1,), rng=random.Random(5),
                             on_draws=lambda d, t: seen.append((d, t)),
                             should_stop=lambda: recorded_null_draws(store, "counted") >= 100)
    assert stopped.cancelled and recorded_null_draws(store, "counted") == 100
    assert seen[0] == (0, N_NULL) and all(t == N_NULL for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and seen[-1][0] == 100
    seen.clear()
    run_ghost_test(store, "counted", tiny_model, entries, n_null=N_NULL, last_k=(1,),
                   on_draws=lambda d, t: seen.append((d, t)))
    assert seen[0] == (100, N_NULL) and seen[-1] == (N_NULL, N_NULL)  # a resumed test starts from what was kept
    assert recorded_null_draws(store, "counted") == N_NULL and recorded_null_draws(store, "no such test") == 0


def test_a_reference_calibrated_test_records_its_null_differences_for_the_report_and_reopening(store, tiny_model,
                                                                                               entries):
    import copy
    from datetime import date

    import numpy as np
    import torch

    from provenance.lm.loading import wrap_model
    from provenance.report import collect_report, recorded_nulls, report_html

    net = copy.deepcopy(tiny_model.model)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.02 * torch.randn(p.shape, generator=torch.Generator().manual_seed(3), dtype=p.dtype))
    reference = wrap_model(net, tiny_model.tokenizer, name="older-tiny")
    test = run_ghost_test(store, "calibrated", tiny_model, entries, n_null=60, last_k=(), rng=random.Random(5),
                          ref_model=reference, ref_released=date(2021, 6, 1))
    inv = test.investigation
    ranked = next(iter(test.detection.null.values()))
    kept = recorded_nulls(store, inv)
    assert len(kept) == 1
    np.testing.assert_allclose(next(iter(kept.values())), ranked)  # the differences it ranked, not the NLLs
    summary = store.get_artifact(inv.id, "null_draws")[0]
    assert summary["statistic"] == "nll_difference" and summary["median_nll_difference"] == pytest.approx(
        float(np.median(ranked)))
    html = report_html(collect_report(store, inv.id))
    assert "older-tiny" in html and "2021-06-01" in html and "NLL_reference - NLL_tested" in html
    assert "NLL under the reference" in html  # the identifiers' table has the reference's column

    store.delete_artifact(inv.id, "null_differences")  # as a run before the differences were recorded left it
    assert recorded_nulls(store, store.get(inv.id)) == {}  # never the tested model's NLLs in their place

    plain = run_ghost_test(store, "plain", tiny_model, entries, n_null=60, last_k=(), rng=random.Random(5))
    assert store.get_artifact(plain.investigation.id, "null_differences") is None
    assert store.get_artifact(plain.investigation.id, "null_draws")[0]["statistic"] == "nll"
