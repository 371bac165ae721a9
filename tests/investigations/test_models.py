"""compare_models: the same documents put to several models, one investigation of kind MODELS with a grid of
(document, model) rows read from each model's own run; a model that cannot compute a score gets a reason."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from textgen import random_sentences
from provenance.documents import Document
from provenance.investigations.models import (NOT_RUN, REFUSED, SCORED, compare_models, parse_model_specs,
                                              read_models)
from provenance.investigations.records import Kind
from provenance.investigations.store import InvestigationStore, StoreError
from provenance.lm.interface import CAPABILITIES, MOMENTS, TOP_K
from provenance.lm.loading import LoadedModel, ModelLoadError
from provenance.verdicts.verdict import Label, Verdict


class NoMoments(LoadedModel):
    """The tiny model as a server returning only the observed tokens' log-probabilities would see it: no
    full-vocabulary moments and no top-k alternatives (so not even the approximate Min-K%++)."""

    capabilities = frozenset(CAPABILITIES) - {MOMENTS, TOP_K}


@pytest.fixture
def models(tiny_model, tiny_model_b):
    fields = {f.name: getattr(tiny_model, f.name) for f in dataclasses.fields(LoadedModel)}
    no_moments = NoMoments(**(fields | {"name": "tiny-no-moments", "spec": "served", "identity": "served-id"}))
    return {"a": tiny_model, "b": tiny_model_b, "served": no_moments}


def loader(models, loaded=None):
    def load(spec):
        if spec not in models:
            raise ModelLoadError(f"There is no model called '{spec}'.")
        if loaded is not None:
            loaded.append(spec)
        return models[spec]
    return load


def docs(n, seed, prefix):
    return [Document(f"{prefix}{i}", t) for i, t in enumerate(random_sentences(n, length=40, seed=seed))]


def test_parse_model_specs_repeated_and_comma_separated():
    assert parse_model_specs(["a,b", " c ", "a", ""]) == ["a", "b", "c"]


def test_two_models_against_one_reference_set_give_a_grid_with_verdicts(models, tmp_path):
    suspect, reference = docs(5, 1, "doc"), docs(20, 2, "ref")
    loaded, released = [], []
    with InvestigationStore(tmp_path / "s.sqlite") as store:
        result = compare_models(store, "two models", ["a", "b"], loader(models, loaded), suspect, reference,
                                release=lambda m: released.append(m.name), fpr=0.1)
        inv = result.investigation
        assert inv.kind is Kind.MODELS and inv.status == "complete" and inv.n_scored == 5
        assert loaded == ["a", "b"] and released == ["tiny-test", "tiny-test-b"]  # one at a time, each released
        grid = result.grid
        assert len(grid) == 10 and set(grid["model"]) == {"tiny-test", "tiny-test-b"}
        assert (grid["status"] == SCORED).all() and grid["value"].equals(grid["p_value"])
        assert grid["verdict_label"].isin([label.value for label in Label]).all()
        # every cell is exactly what that model's own run recorded, judged against the same reference set
        for run in result.runs:
            own = store.results(run.investigation_id).set_index("document")
            cells = grid[grid["spec"] == run.spec].set_index("document")
            assert cells["p_value"].to_dict() == pytest.approx(own["p_value"].to_dict())
            assert cells["loss"].to_dict() == pytest.approx(own["loss"].to_dict())
            assert isinstance(run.verdict, Verdict) and run.verdict == store.get(run.investigation_id).verdict
            assert len(store.documents(run.investigation_id, collection="reference")) == 20
        # different weights, different numbers
        a, b = (grid[grid["spec"] == s]["loss"].to_numpy() for s in ("a", "b"))
        assert not pytest.approx(a) == b
        view = read_models(store, inv.id)
        assert [r.spec for r in view.runs] == ["a", "b"] and view.value == "p_value"
        pd.testing.assert_frame_equal(view.grid, grid)


def test_a_model_missing_a_capability_gets_a_reason_and_the_others_run(models, tmp_path):
    suspect = docs(3, 3, "doc")
    with InvestigationStore(tmp_path / "s.sqlite") as store:
        result = compare_models(store, None, ["a", "served", "nowhere"], loader(models), suspect,
                                scores=["loss", "minkpp"], value="minkpp")
        by_spec = {r.spec: r for r in result.runs}
        assert by_spec["a"].status == "complete"
        assert by_spec["served"].status == REFUSED and "moments" in by_spec["served"].reason
        assert "tiny-no-moments" in by_spec["served"].reason
        assert by_spec["nowhere"].status == REFUSED and "no model called 'nowhere'" in by_spec["nowhere"].reason
        grid = result.grid
        assert grid[grid["spec"] == "a"]["value"].notna().all()
        refused = grid[grid["spec"] != "a"]
        assert refused["value"].isna().all() and (refused["status"] == REFUSED).all()
        assert refused["reason"].str.len().gt(0).all()
        assert result.investigation.status == "complete" and "served" in result.investigation.message


def test_resuming_scores_nothing_twice_and_refuses_other_models(models, tmp_path):
    suspect = docs(3, 4, "doc")
    with InvestigationStore(tmp_path / "s.sqlite") as store:
        first = compare_models(store, "again", ["a", "b"], loader(models), suspect)
        again = compare_models(store, "again", ["a", "b"], loader(models), suspect + docs(1, 5, "new"))
        assert [r.investigation_id for r in again.runs] == [r.investigation_id for r in first.runs]
        for run in again.runs:
            assert store.get(run.investigation_id).message.startswith("1 document(s) scored in this run, 3 were")
        assert len(again.grid) == 8
        with pytest.raises(StoreError, match="other models"):
            compare_models(store, "again", ["a"], loader(models), suspect)


def test_a_stop_keeps_the_models_that_ran_and_marks_the_rest_not_run(models, tmp_path):
    suspect = docs(2, 6, "doc")
    with InvestigationStore(tmp_path / "s.sqlite") as store:
        started = []
        result = compare_models(store, "stopped", ["a", "b"], loader(models), suspect,
                                on_model=lambda run: started.append(run.spec),
                                should_stop=lambda: "b" in started)
        assert result.cancelled and result.investigation.status == "interrupted"
        grid = result.grid
        assert (grid[grid["spec"] == "a"]["status"] == SCORED).all()
        assert (grid[grid["spec"] == "b"]["status"] != SCORED).all()
        resumed = compare_models(store, "stopped", ["a", "b"], loader(models), suspect)
        assert resumed.investigation.status == "complete" and (resumed.grid["status"] == SCORED).all()
        assert NOT_RUN not in set(resumed.grid["status"])
