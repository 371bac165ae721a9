"""A killed `ghost detect` keeps the null draws it scored: NullCache receives them chunk by chunk, so a rerun
scores only the rest (the same draws), and what a rerun ends with is whole chunks of draws in the order they were
drawn."""

import json
import random

import numpy as np
import pytest

from provenance import ghost
from provenance.ghost import detection
from provenance.lm.statistics import ScoringSettings

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class _Killed(BaseException):
    """Stands in for SIGKILL: nothing after it runs (not even ``except Exception`` handlers)."""


def test_a_killed_null_scoring_keeps_its_finished_chunks(tiny_model, tmp_path, monkeypatch):
    generator, n_null = ghost.GhostGenerator(words=4), 2 * detection.NULL_CHUNK + 50
    real, scored = detection.identifier_nll, []

    def dying(model, identifiers, **kwargs):
        if len(scored) == 2:  # killed while scoring the third chunk
            raise _Killed
        scored.append(list(identifiers))
        return real(model, identifiers, **kwargs)

    monkeypatch.setattr(detection, "identifier_nll", dying)
    cache = ghost.NullCache(tmp_path / "nulls")
    with pytest.raises(_Killed):
        ghost.null_nll(tiny_model, generator, n_null, null_cache=cache, rng=random.Random(1))
    key = ghost.NullCache.key(tiny_model, generator, ScoringSettings(), "")
    on_disk = json.loads((tmp_path / "nulls" / f"{key}.json").read_text())
    # every draw is kept before scoring starts; the NLLs of the finished chunks, in the order drawn, after each
    assert on_disk["texts"][: 2 * detection.NULL_CHUNK] == scored[0] + scored[1] and len(on_disk["texts"]) == n_null
    assert len(on_disk["nll"]) == 2 * detection.NULL_CHUNK

    rescored = []

    def counting(model, identifiers, **kwargs):
        rescored.append(len(identifiers))
        return real(model, identifiers, **kwargs)

    monkeypatch.setattr(detection, "identifier_nll", counting)
    null = ghost.null_nll(tiny_model, generator, n_null, null_cache=ghost.NullCache(tmp_path / "nulls"),
                          rng=random.Random(2))
    assert sum(rescored) == 50 and len(null) == n_null  # only the draws the killed run had not finished
    np.testing.assert_allclose(null[: 2 * detection.NULL_CHUNK], on_disk["nll"])


def test_progress_counts_the_tokens_of_every_chunk(tiny_model):
    seen = []
    ghost.null_nll(tiny_model, ghost.GhostGenerator(words=4), detection.NULL_CHUNK + 30, rng=random.Random(3),
                   progress=lambda done, total: seen.append((done, total)))
    totals = {total for _, total in seen}
    assert len(totals) == 1 and seen[-1][0] == seen[-1][1] == totals.pop()
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
