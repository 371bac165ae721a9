"""The report of several models side by side (issue 14, part 5): the documents x models heatmap as a static SVG,
each model's verdict for the set, every cell, the refused model's reason, the multiple-models caveat; JSON and CSV
hold every (document, model) cell; no sentence of the report contradicts the recorded verdicts."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from report_samples import models_investigation
from provenance.investigations.store import InvestigationStore
from provenance.report import collect_report, render_report, summary_sentences
from provenance.svg_heatmap import models_heatmap_svg, scale_colour
from provenance import charts
from provenance.verdicts.verdict import Verdict


@pytest.fixture(scope="module")
def store(tiny_model, tiny_model_b, tmp_path_factory):
    s = InvestigationStore(tmp_path_factory.mktemp("report-models") / "inv.sqlite")
    models_investigation(s, tiny_model, tiny_model_b, "models")
    models_investigation(s, tiny_model, tiny_model_b, "scores only", reference=False)
    yield s
    s.close()


def test_the_html_report_has_the_heatmap_each_models_verdict_and_the_reason(store):
    page = render_report(store, "models", "html").decode()
    data = collect_report(store, "models")
    runs = data.artifacts["model_runs"]
    heatmap = page[page.index('<figure id="figure-1">'): page.index("</figure>")]
    assert "<svg" in heatmap and "Documents x models" in heatmap and "Each cell is one document under one model" in heatmap
    for run in runs[:2]:
        assert f">{run['label']}</text>" in heatmap
        assert f"set: {run['verdict']['label']}" in heatmap
    assert heatmap.count("<rect") >= 12  # 4 documents x 3 models, plus the colour scale
    assert "no result" in heatmap  # the model that could not load
    per_model = page[page.index("<h3>Verdict per model for the set</h3>"): page.index("<h3>Every document under")]
    assert "There is no model called &#x27;gone&#x27;." in per_model
    cells = page[page.index("<h3>Every document under every model</h3>"):]
    assert cells.count("<tr>") >= 13
    summary = " ".join(summary_sentences(data))
    assert "which of 3 language models" in summary and "each judged against the same 20 reference texts" in summary
    assert "up to 0.3" in summary  # 3 models at FPR 0.1: the chance one is flagged by chance alone
    for run in runs[:2]:
        assert f"{run['label']}: {Verdict.from_dict(run['verdict']).sentence()}" in summary
    assert "<script" not in page and "@media print" in page


def test_json_and_csv_hold_every_cell(store):
    report = json.loads(render_report(store, "models", "json"))
    assert report["kind"] == "models" and len(report["artifacts"]["model_grid"]) == 12
    csv = pd.read_csv(io.BytesIO(render_report(store, "models", "csv")))
    assert len(csv) == 12 and {"document", "model", "p_value", "verdict_label", "reason"} <= set(csv.columns)
    assert csv[csv["spec"] == "gone"]["p_value"].isna().all()


def test_scores_only_say_there_is_no_verdict(store):
    page = render_report(store, "scores only", "html").decode()
    assert "scores of different models are not on one scale" in page
    assert "No verdict was computed" in page and "Raw scores are not verdicts" in page


def test_heatmaps_colour_smaller_p_values_darker_and_agree():
    grid = pd.DataFrame({"document": ["d1", "d1", "d2", "d2"], "model": ["m1", "m2", "m1", "m2"],
                         "value": [0.01, 0.5, 1.0, None], "p_value": [0.01, 0.5, 1.0, None],
                         "verdict_label": ["evidence of training", "no evidence", "no evidence", None],
                         "verdict": ["", "", "", None], "status": ["scored"] * 3 + ["refused"],
                         "reason": ["", "", "", "m2 cannot compute minkpp"], "tokens": [40, 40, 40, None]})
    cells = charts.model_grid_cells(grid)
    assert cells["z"][0, 0] == pytest.approx(2.0) and cells["z"][1, 0] == pytest.approx(0.0)
    assert cells["text"][0][0] == "evidence<br>p = 0.01" and cells["text"][1][1] == "no result"
    assert "m2 cannot compute minkpp" in cells["hover"][1][1]
    fig = charts.models_heatmap(grid, set_verdicts={"m1": "evidence of training"})
    assert fig.data[0].type == "heatmap" and "set: evidence of training" in fig.data[0].x[0]
    svg = models_heatmap_svg(grid)
    assert f'fill="{scale_colour(1.0)}"' in svg and 'fill="#f2f2f2"' in svg and "m2 cannot compute minkpp" in svg
    assert charts.models_heatmap(grid.iloc[0:0]).layout.annotations[0].text == "No model has scored any document yet."
