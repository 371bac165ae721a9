"""python -m provenance ghost detect --investigation NAME: the test is saved in the store (null draws, table,
verdict) and running it again reuses the recorded draws instead of drawing new ones."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from provenance import ghost
from provenance.cli import main
from provenance.investigations.ghost_test import NULL_COLLECTION_PREFIX
from provenance.investigations.store import InvestigationStore


@pytest.fixture(scope="module")
def model_dir(tiny_model, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-model-ghost")
    tiny_model.model.save_pretrained(folder, safe_serialization=True)
    tiny_model.tokenizer.save_pretrained(folder)
    return str(folder)


def test_ghost_detect_saves_the_test_and_a_rerun_reuses_its_draws(model_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PROVENANCE_CACHE", str(tmp_path / "cache"))
    registry = ghost.Registry()
    ghost.new_entries(registry, ghost.GhostGenerator(words=4), 2, rng=random.Random(51))
    ghost.save_registry(registry, tmp_path / "reg.json")
    store_path, out = tmp_path / "inv.sqlite", tmp_path / "detect.csv"
    run = ["ghost", "detect", "--registry", str(tmp_path / "reg.json"), "--model", model_dir, "--null", "150",
           "--last-k", "1", "--out", str(out), "--no-cache", "--investigation", "my test", "--store", str(store_path)]

    assert main(run) == 0
    printed = capsys.readouterr()
    first = pd.read_csv(out)
    with InvestigationStore(store_path) as store:
        inv = store.get("my test")
        assert inv.status == "complete" and printed.out.strip() == inv.verdict.words()
        (collection,) = [c for c in store.collections(inv.id) if c.startswith(NULL_COLLECTION_PREFIX)]
        draws = [d.text for d in store.documents(inv.id, collection=collection)]
        assert len(draws) == 150 and len(store.results(inv.id, collection=collection)) == 150
        assert store.get_artifact(inv.id, "ghost_detection")["p_value"].tolist() == first["p_value"].tolist()[:2]
    assert "Saved in investigation 'my test'" in printed.err

    assert main(run) == 0  # --no-cache: only the investigation holds the draws, and they are used again
    with InvestigationStore(store_path) as store:
        inv = store.get("my test")
        assert [d.text for d in store.documents(inv.id, collection=collection)] == draws
    assert pd.read_csv(out)["p_value"].tolist() == first["p_value"].tolist()
