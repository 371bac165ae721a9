"""Two investigations side by side: their facts, and shared texts joined by SHA-256 with score differences."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from provenance.documents import Document
from provenance.investigations.comparison import compare_investigations, compare_scores, compare_tables
from provenance.investigations.store import InvestigationStore, StoreError


@pytest.fixture
def store(tmp_path):
    s = InvestigationStore(tmp_path / "inv.sqlite")
    yield s
    s.close()


def row(name: str, loss: float) -> dict:
    return {"document": name, "tokens": 10, "nll": -loss, "perplexity": math.exp(-loss), "loss": loss}


def test_compare_joins_shared_texts(store):
    a, b = store.create("a"), store.create("b")
    store.add_documents(a.id, [Document("one", "text one"), Document("two", "text two"), Document("only-a", "x")])
    store.add_documents(b.id, [Document("2", "text two"), Document("1", "text one"), Document("only-b", "y")])
    store.add_results(a.id, [row("one", -3.0), row("two", -2.0), row("only-a", -1.0)])
    store.add_results(b.id, [row("2", -1.5), row("1", -3.5), row("only-b", -1.0)])
    cmp = compare_scores(store, a.id, b.id)
    assert list(cmp["document"]) == ["one", "two"] and list(cmp["document_b"]) == ["1", "2"]
    assert cmp["loss_diff"].tolist() == pytest.approx([-0.5, 0.5])
    assert {"loss_a", "loss_b", "perplexity_diff"} <= set(cmp.columns)
    assert compare_tables(pd.DataFrame(), store.results(b.id)).empty


def test_compare_investigations_gives_facts_and_shared_scores(store):
    a = store.create("a", settings={"k": 0.2})
    b = store.create("b", settings={"k": 0.5})
    for inv, name, loss in ((a, "one", -3.0), (b, "uno", -2.0)):
        store.add_documents(inv.id, [Document(name, "the same text")])
        store.add_results(inv.id, [row(name, loss)])
    comparison = compare_investigations(store, "a", b.id)
    assert (comparison.first.name, comparison.second.name) == ("a", "b")
    facts = comparison.facts.set_index("fact")
    assert not facts.loc["setting: k", "same"] and facts.loc["documents", "same"]
    assert comparison.scores["loss_diff"].tolist() == [1.0] and "loss" in comparison.values
    with pytest.raises(StoreError, match="no investigation 'missing'"):
        compare_investigations(store, "a", "missing")
