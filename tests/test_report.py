"""Reports (CSV, JSON, self-contained HTML), chart builders, and the report / investigations / score CLI."""

from __future__ import annotations

import io
import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from textgen import random_sentences
from provenance import charts
from provenance.cli import main
from provenance.documents import Document, IngestError
from provenance.report import (
    method_sentences,
    collect_report,
    render_report,
    report_csv,
    report_filename,
    report_html,
    report_json,
    summary_sentences,
    write_report,
)
from provenance.verdicts.verdict import Verdict, decide
from provenance.investigations.comparison import compare_scores
from provenance.investigations.scoring import score_set
from provenance.files import sha256_text as text_sha256
from provenance.investigations.store import InvestigationStore

EVIL = "<script>alert('owned')</script>.txt"


@pytest.fixture
def store(tmp_path):
    s = InvestigationStore(tmp_path / "inv.sqlite")
    yield s
    s.close()


def fill(store: InvestigationStore, name: str = "Novel check") -> str:
    """An investigation with three scored documents (one with a hostile name), one unscorable, and artifacts."""
    inv = store.create(name, model_spec="default", model_identity="abc123",
                       model_info={"name": "SmolLM2-135M-Instruct", "parameters_human": "135M"},
                       settings={"scores": ["loss", "zlib", "mink"], "k": 0.2})
    docs = [Document("chapter1.txt", "It was a dark night."), Document(EVIL, "Evil name, harmless text."),
            Document("chapter2.txt", "The end came quickly."), Document("tiny.txt", "a")]
    store.add_documents(inv.id, docs)
    for doc, ppl, lowercase in zip(docs[:3], (12.5, 40.0, 25.0), (1.1, float("nan"), 1.2)):
        nll = math.log(ppl)
        store.add_result(inv.id, {"document": doc.name, "tokens": 20, "nll": nll, "perplexity": ppl, "loss": -nll,
                                  "zlib": -nll / 30, "mink": -2 * nll, "lowercase": lowercase})
    store.add_unscorable(inv.id, "tiny.txt", "tiny.txt: too short to score (1 token(s); at least 2 are needed).")
    store.put_artifact(inv.id, "ingest_errors", [{"source": "scan.pdf", "message": "the PDF has no text layer."}])
    store.put_artifact(inv.id, "ghost_detection", pd.DataFrame({"identifier": ["g1"], "p_value": [0.004]}))
    store.set_status(inv.id, "complete")
    return inv.id


# ---------------------------------------------------------------------------------------------------- formats


def test_csv_has_every_row_and_unscorable_documents(store):
    inv = fill(store)
    table = pd.read_csv(io.StringIO(report_csv(collect_report(store, inv))))
    assert list(table["document"]) == ["chapter1.txt", EVIL, "chapter2.txt", "tiny.txt"]
    assert table["perplexity"].iloc[:3].tolist() == pytest.approx([12.5, 40.0, 25.0])
    assert "too short" in table["error"].iloc[3] and table["sha256"].iloc[3] == text_sha256("a")
    assert table["sha256"].iloc[0] == text_sha256("It was a dark night.")


def test_json_is_strict_and_complete(store):
    inv = fill(store)
    text = report_json(collect_report(store, inv))

    def refuse(constant):
        raise AssertionError(f"non-standard JSON constant {constant}")

    data = json.loads(text, parse_constant=refuse)
    assert data["investigation"]["name"] == "Novel check" and data["investigation"]["n_scored"] == 3
    assert len(data["results"]) == 3 and data["results"][1]["lowercase"] is None
    assert data["unscorable"] == {"tiny.txt": "tiny.txt: too short to score (1 token(s); at least 2 are needed)."}
    assert data["artifacts"]["ghost_detection"] == [{"identifier": "g1", "p_value": 0.004}]
    assert data["summary"][0].startswith("This investigation")
    assert {"What a verdict means", "What a verdict does not mean", "False-positive rate",
            "Distribution-shift check"} <= set(data["method"])
    assert all("text" not in d for d in data["documents"])
    with_texts = json.loads(render_report(store, inv, "json", include_texts=True))
    assert with_texts["documents"][0]["text"] == "It was a dark night."


def test_html_is_self_contained_ordered_and_escaped(store):
    inv = fill(store)
    page = report_html(collect_report(store, inv))
    assert page.startswith("<!DOCTYPE html>")
    order = [page.index(h) for h in ("<h2>Summary</h2>", "<h2>Evidence</h2>", "<h2>Method and caveats</h2>",
                                     "<h2>Appendix</h2>")]
    assert order == sorted(order)
    # figures are static SVG inside the page (issue 11: no 4.8 MB plotting library), nothing fetched from the network
    assert len(page) < 200_000 and page.count("<svg") >= 2 and "<script" not in page
    assert not re.search(r"<script[^>]+src=", page) and not re.search(r"<link[^>]+href=\"?http", page)
    assert page.count('id="figure-1"') == 1 and page.count('id="figure-2"') == 1
    # hostile names are shown as text, never as markup
    assert "<script>alert('owned')</script>" not in page
    assert "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;" in page
    assert "No verdict was computed" in page and "false-positive rate" in page.lower()
    assert "The check was not run" in page and "scan.pdf" in page and "Ghost detection" in page


def test_summary_uses_stored_verdict_and_shift_warning(store):
    inv = fill(store)
    store.set_verdict(inv, decide(0.003, 0.01, method="ranked among 999 reference texts"))
    store.put_artifact(inv, "shift_check", {"auc": 0.91, "auc_low": 0.85, "auc_high": 0.96, "threshold": 0.6,
                                            "confounded": True, "telling_words": ["covid", "2023"],
                                            "reason": "The sets differ in topic."})
    data = collect_report(store, inv)
    summary = " ".join(summary_sentences(data))
    assert "Verdict: Evidence of training (p = 0.003, at FPR 0.01). Method: ranked among 999 reference texts." in summary
    assert "Warning" in summary and "0.91" in summary
    page = report_html(data)
    assert page.index("class='verdict'") < page.index("class='warning'") < page.index("<h2>Evidence</h2>")
    assert "set at FPR 0.01" in page and "covid" in page


def test_incomplete_investigation_says_so(store):
    inv = store.create("half")
    store.add_documents(inv.id, [Document("a.txt", "one"), Document("b.txt", "two")])
    store.add_result(inv.id, {"document": "a.txt", "tokens": 5, "nll": 1.0, "perplexity": math.e, "loss": -1.0})
    store.set_status(inv.id, "interrupted")
    summary = " ".join(summary_sentences(collect_report(store, inv.id)))
    assert "not complete" in summary and "1 document(s) not yet scored" in summary


def test_empty_investigation_still_reports(store):
    inv = store.create("empty")
    page = render_report(store, inv.id, "html").decode()
    assert "No rows." in page and "plotly.js v" not in page
    assert json.loads(render_report(store, inv.id, "json"))["results"] == []


def test_write_report_by_extension(store, tmp_path):
    inv = fill(store)
    for ext in ("html", "json", "csv"):
        out = write_report(store, "Novel check", tmp_path / "out" / f"r.{ext}")
        assert out.is_file() and out.stat().st_size > 100
    with pytest.raises(ValueError, match=r"\.html, \.json or \.csv"):
        write_report(store, inv, tmp_path / "r.pdf")
    with pytest.raises(ValueError, match="Unknown report format"):
        render_report(store, inv, "xml")
    assert report_filename(store.get(inv), "html") == "Novel check.html"


# ---------------------------------------------------------------------------------------------------- charts


def score_table() -> pd.DataFrame:
    return pd.DataFrame({"document": ["a", "b", "c", "a"], "tokens": [5, 6, 7, 8], "perplexity": [10.0, 20.0, np.nan,
                                                                                                     5.0],
                         "loss": [-2.3, -3.0, -2.5, -1.6], "zlib": [-0.1, -0.2, np.nan, -0.05]})


def test_perplexity_bar_one_bar_per_finite_document():
    fig = charts.perplexity_bar(score_table())
    bar = fig.data[0]
    assert list(bar.x) == [10.0, 20.0, 5.0] and len(set(bar.y)) == 3
    assert "lower = more predictable" in fig.layout.xaxis.title.text
    sorted_fig = charts.perplexity_bar(score_table(), sort=True)
    assert list(sorted_fig.data[0].x) == [5.0, 10.0, 20.0]


def test_score_distributions_one_panel_per_score():
    fig = charts.score_distributions(score_table(), ["loss", "zlib", "missing"])
    assert len(fig.data) == 2
    assert list(fig.data[0].y) == [-2.3, -3.0, -2.5, -1.6] and list(fig.data[1].y) == [-0.1, -0.2, -0.05]
    assert list(fig.data[1].text) == ["a", "b", "a"]


def test_chart_builders_are_pure_and_handle_empty_input():
    table = score_table()
    before = table.copy()
    assert charts.perplexity_bar(table).to_json() == charts.perplexity_bar(table).to_json()
    pd.testing.assert_frame_equal(table, before)
    for fig in (charts.perplexity_bar(pd.DataFrame()), charts.score_distributions(pd.DataFrame(), ["loss"]),
                charts.comparison_scatter(pd.DataFrame())):
        assert len(fig.data) == 0 and fig.layout.annotations


def test_comparison_scatter(store):
    a, b = store.create("a"), store.create("b")
    for inv, ppl in ((a, 10.0), (b, 12.0)):
        store.add_documents(inv.id, [Document("x", "same text")])
        store.add_result(inv.id, {"document": "x", "tokens": 3, "nll": math.log(ppl), "perplexity": ppl})
    fig = charts.comparison_scatter(compare_scores(store, a.id, b.id), "perplexity", names=("a", "b"))
    assert list(fig.data[1].x) == [10.0] and list(fig.data[1].y) == [12.0]


# ---------------------------------------------------------------------------------------------------- CLI


def test_cli_report_and_investigations(store, tmp_path, capsys):
    inv = fill(store)
    store.close()
    db = str(store.path)
    out = tmp_path / "report.html"
    assert main(["report", "Novel check", "--out", str(out), "--store", db]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert main(["report", inv, "--out", str(tmp_path / "r.json"), "--store", db]) == 0
    assert json.loads((tmp_path / "r.json").read_text())["investigation"]["id"] == inv
    assert main(["report", "nope", "--out", str(tmp_path / "x.csv"), "--store", db]) == 2
    assert "no investigation 'nope'" in capsys.readouterr().err
    assert main(["report", inv, "--out", str(tmp_path / "x.pdf"), "--store", db]) == 2
    assert main(["investigations", "list", "--store", db]) == 0
    listed = capsys.readouterr().out
    assert "Novel check" in listed
    header = listed.splitlines()[0].split()
    assert header[:3] == ["id", "name", "kind"] and "verdict" in header  # what each one is and what it concluded
    assert main(["investigations", "rename", inv, "Renamed", "--store", db]) == 0
    assert main(["investigations", "delete", "Renamed", "--store", db]) == 0
    assert main(["investigations", "list", "--store", db]) == 0
    assert "No investigations" in capsys.readouterr().err


def test_cli_score_records_and_resumes_an_investigation(tiny_model, tmp_path, monkeypatch, capsys):
    model_dir = tmp_path / "tiny"
    tiny_model.model.save_pretrained(model_dir, safe_serialization=True)
    tiny_model.tokenizer.save_pretrained(model_dir)
    texts = tmp_path / "texts"
    texts.mkdir()
    for i, t in enumerate(random_sentences(3, length=20, seed=9)):
        (texts / f"d{i}.txt").write_text(t)
    (texts / "broken.pdf").write_bytes(b"not a pdf")
    monkeypatch.setenv("PROVENANCE_STORE", str(tmp_path / "cli.sqlite"))
    args = ["score", str(texts), str(texts / "broken.pdf"), "--model", str(model_dir), "--out",
            str(tmp_path / "s.csv"), "--investigation", "cli run", "--no-cache", "--scores", ""]
    assert main(args) == 0
    assert "already done" in capsys.readouterr().err
    (texts / "d3.txt").write_text(random_sentences(1, length=20, seed=10)[0])
    assert main(args) == 0
    assert "3 document(s) were already done" in capsys.readouterr().err
    with InvestigationStore() as s:
        inv = s.get("cli run")
        assert inv.n_scored == 4 and inv.status == "complete"
        assert s.get_artifact(inv.id, "ingest_errors")[0]["source"].endswith("broken.pdf")
    assert len(pd.read_csv(tmp_path / "s.csv")) == 4
    assert main(["report", "cli run", "--out", str(tmp_path / "cli.html")]) == 0


def test_score_set_report_round_trip(store, tiny_model):
    documents = [Document(f"d{i}", t) for i, t in enumerate(random_sentences(3, length=15, seed=2))]
    run = score_set(store, "round trip", tiny_model, documents, ("loss", "mink"),
                    ingest_errors=[IngestError("x.docx", "the file is damaged.")])
    data = json.loads(render_report(store, run.investigation.id, "json"))
    assert [r["document"] for r in data["results"]] == ["d0", "d1", "d2"]
    assert data["results"][0]["loss"] == pytest.approx(run.table["loss"].iloc[0])
    assert data["investigation"]["settings"]["scores"] == ["loss", "mink"]


@pytest.mark.parametrize("verdict", [decide(0.003, 0.01, method="ranked among 999 reference texts"),
                                     decide(float("nan"), 0.05, problems=["reference set too small: 4 texts"]),
                                     decide(0.4, 0.05)])
def test_a_verdict_round_trips_through_the_store_and_the_json_report_unchanged(store, verdict):
    inv = fill(store)
    store.set_verdict(inv, verdict)
    assert store.get(inv).verdict == verdict or (math.isnan(verdict.p_value) and store.get(inv).verdict.reasons ==
                                                 verdict.reasons and store.get(inv).verdict.label is verdict.label)
    report = json.loads(render_report(store, inv, "json"))
    again = Verdict.from_dict(report["investigation"]["verdict"])
    assert (again.label, again.fpr, again.method, again.reasons) == (verdict.label, verdict.fpr, verdict.method,
                                                                     verdict.reasons)
    assert again.p_value == verdict.p_value or (math.isnan(again.p_value) and math.isnan(verdict.p_value))
    assert verdict.sentence() in report_html(collect_report(store, inv))


def test_the_report_words_the_shift_check_as_the_check_itself_does(store):
    """An AUC above the threshold that is within chance is not 'could not tell the sets apart'."""
    from provenance.verdicts.shift import ShiftCheck

    shift = ShiftCheck(auc=0.838, auc_low=0.55, auc_high=1.0, p_value=0.12, threshold=0.6, significance=0.05,
                       confounded=False, n_first=4, n_second=20, n_permutations=100, telling_words=["licence"],
                       reason="a word-count classifier seems to tell the suspect texts from the reference texts apart "
                              "(AUC 0.84), but with 4 text(s) in the smaller set this is within chance")
    inv = fill(store)
    store.put_artifact(inv, "shift_check", shift.summary())
    method = method_sentences(collect_report(store, inv))["Distribution-shift check"]
    assert "could not tell" not in method
    assert "Result: A word-count classifier seems to tell the suspect texts from the reference texts apart" in method
    assert method.rstrip().endswith(".") and shift.sentence.endswith("within chance.")


def test_roc_figure_shades_the_false_positive_rates_a_sample_cannot_measure():
    roc = pd.DataFrame({"score": ["loss", "loss", "loss", "chunk_meta", "chunk_meta"],
                        "fpr": [0.0, 0.5, 1.0, 0.0, 1.0], "tpr": [0.0, 0.8, 1.0, 0.0, 1.0]})
    for log_scale in (False, True):
        fig = charts.roc_figure(roc, log_scale=log_scale, lowest_fpr=1 / 12)
        assert len(fig.layout.shapes) == 1 and fig.layout.shapes[0].x1 == pytest.approx(1 / 12)
        assert any("not measurable: FPR below 1/12" in a.text for a in fig.layout.annotations)
    assert not charts.roc_figure(roc).layout.shapes
    assert "chunk meta-classifier" in [trace.name for trace in charts.roc_figure(roc).data]
