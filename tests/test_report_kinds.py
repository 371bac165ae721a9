"""Each kind of investigation gets its own report (issue 11, items 3, 4, 9 and 14): a ghost-sentence test with its
identifiers and null histogram, a benchmark with its AUC table and ROC curves (operating points the sample cannot
measure marked), documents against a reference set with each document's verdict first; all readable and printable
(200 documents included), small, and without sentences that contradict each other."""

from __future__ import annotations

import html as html_lib
import io
import json
import random
import re

import pandas as pd
import pytest

from report_samples import LONG_NAME, reference_investigation
from textgen import random_sentences
from provenance import ghost
from provenance.documents import Document
from provenance.investigations.ghost_test import run_ghost_test
from provenance.investigations.labelled import evaluate_labelled_set
from provenance.investigations.reference import compare_with_reference
from provenance.investigations.scoring import score_set
from provenance.investigations.store import InvestigationStore
from provenance.report import collect_report, method_sentences, render_report, summary_sentences
from provenance.verdicts.verdict import Label, decide

SCORES = ("loss", "zlib", "mink")


def docs(n: int, seed: int, prefix: str = "doc") -> list[Document]:
    return [Document(f"{prefix}-{i}.txt", t) for i, t in enumerate(random_sentences(n, length=40, seed=seed))]


@pytest.fixture(scope="module")
def store(tiny_model, tmp_path_factory):
    """One investigation of each kind, each run by its use case."""
    s = InvestigationStore(tmp_path_factory.mktemp("report-kinds") / "inv.sqlite")
    score_set(s, "scores", tiny_model, docs(3, 1), SCORES)
    compare_with_reference(s, "compared", tiny_model, docs(4, 2), docs(20, 3, "ref"), SCORES)
    evaluate_labelled_set(s, "bench", tiny_model, docs(24, 4, "t"), [i % 2 for i in range(24)], SCORES,
                          n_bootstrap=100, chunk_tokens=16)
    entries = ghost.new_entries(ghost.Registry(), ghost.GhostGenerator(words=5), 4, rng=random.Random(4))
    run_ghost_test(s, "ghost", tiny_model, entries, n_null=100, last_k=(1,), rng=random.Random(3))
    yield s
    s.close()


def html(store, name: str) -> str:
    return render_report(store, name, "html").decode()


def section(page: str, start: str, end: str = "<h3>") -> str:
    """The HTML from the heading ``start`` to the next ``end``."""
    begin = page.index(start)
    return page[begin: page.index(end, begin + len(start))]


def test_a_ghost_test_report_shows_identifiers_and_the_null_not_documents(store):
    page = html(store, "ghost")
    for wrong in ("0 document", "Scores: .", "No rows.", "Add a reference set", "reference set"):
        assert wrong not in page
    assert "Ghost-sentence test" in page and "<h3>Identifiers</h3>" in page
    detection = store.get_artifact("ghost", "ghost_detection")
    for identifier in detection["identifier"]:
        assert identifier in page
    assert page.count('<figure id="figure-') == 1
    null_figure = section(page, '<figure id="figure-1">', "</figure>")
    assert "<svg" in null_figure and "fresh draws (100)" in null_figure and null_figure.count("<polygon") == 4
    assert html_lib.escape(store.get("ghost").verdict.sentence()) in page
    table = pd.read_csv(io.StringIO(render_report(store, "ghost", "csv").decode()))
    assert list(table["identifier"]) == list(detection["identifier"]) and "p_value" in table
    summary = " ".join(json.loads(render_report(store, "ghost", "json"))["summary"])
    assert "4 planted identifiers" in summary and "100 fresh draws" in summary and "document" not in summary


def test_a_benchmark_report_shows_its_auc_table_and_both_roc_curves(store):
    page = html(store, "bench")
    assert "Benchmark (labelled set)" in page and "Add a reference set" not in page
    table = section(page, "<h3>How well each score tells members from non-members</h3>", "</table>")
    rows = re.findall(r"<tr>(<td.*?)</tr>", table)
    assert len(rows) == 5  # loss, zlib, mink, chunk_meta and the blind baseline
    headers = re.findall(r"<th[^>]*>(.*?)</th>", table)
    assert headers[5:9] == ["epsilon_mean", "epsilon_lower (95% credible)", "epsilon_cp_lower (Clopper-Pearson)",
                            "compared with the blind baseline"]
    for row in rows:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
        assert cells[2].count(" to ") == 1  # the 95% interval
        assert cells[3] == "n/a" and cells[4] == "n/a"  # 12 non-members cannot measure 1% or 0.1% FPR
        assert all(re.fullmatch(r"\d+(\.\d+)?", c) for c in cells[5:8]), cells  # the privacy budget
        assert cells[8] in ("not distinguishable from the blind baseline", "above the blind baseline",
                            "below the blind baseline", "blind baseline")
        assert cells[-2:] == ["12", "12"]  # counts as integers
    last = re.findall(r"<td[^>]*>(.*?)</td>", rows[-1])
    assert last[0] == "blind (bag-of-words, no model)" and last[8] == "blind baseline"
    assert "The row blind is a bag-of-words classifier that never sees the model" in page
    assert "differentially private model with epsilon" in page or "No attack here shows measurable leakage" in page
    assert "12.000" not in page and "12.0<" not in page
    assert "lowest false-positive rate this sample can measure is 1/12" in page
    assert "The row chunk_meta is the chunk meta-classifier" in page
    figures = re.findall(r'<figure id="figure-\d+">(.*?)</figure>', page, flags=re.S)
    titles = [re.search(r"<title>(.*?)</title>", f).group(1) for f in figures]
    assert titles[:2] == ["ROC curves", "ROC curves, log-log (low false-positive rates)"]
    assert all("not measurable: FPR below 1/12" in f for f in figures[:2])
    assert "Set-level test: members as the suspect set" in page
    assert html_lib.escape(store.get("bench").verdict.sentence()) in page


def test_a_reference_report_puts_each_documents_verdict_first(store):
    page = html(store, "compared")
    evidence = page[page.index("<h2>Evidence</h2>"):]
    assert evidence.index("<h3>Verdict per document</h3>") < evidence.index("<figure")
    table = section(evidence, "<h3>Verdict per document</h3>", "</table>")
    headers = re.findall(r"<th [^>]*>(.*?)</th>", table)
    assert headers[:4] == ["document", "verdict", "p-value", "tokens"]
    assert len(re.findall(r"<tr><td", table)) == 4
    labels = re.findall(r"<td class='verdict-cell[^']*'>(.*?)</td>", table)
    assert set(labels) <= {label.value for label in Label} and len(labels) == 4
    assert "<h3>Reference texts</h3>" in page and "ref-19.txt" in page


def test_no_report_contradicts_itself(store):
    for name in ("scores", "compared", "bench", "ghost"):
        data = collect_report(store, name)
        summary = summary_sentences(data)
        text = " ".join(summary)
        has_verdict = data.investigation.verdict is not None
        assert ("No verdict was computed" in text) is not has_verdict or "verdict_label" in data.table
        method = method_sentences(data)
        fpr = method.get("False-positive rate", "")
        assert ("because no verdict was computed" in fpr) is not (has_verdict or "verdict_label" in data.table)
        shift = data.artifacts.get("shift_check")
        if isinstance(shift, dict) and not shift["confounded"]:
            assert "Warning" not in text
        for sentence in summary + list(method.values()):
            first = sentence.lstrip("'")[:1]
            assert (first.isupper() or first.isdigit()) and sentence.rstrip().endswith("."), sentence


def test_documents_flagged_alone_and_a_set_without_evidence_are_reconciled(tmp_path):
    with InvestigationStore(tmp_path / "inv.sqlite") as store:
        inv = reference_investigation(store, "mixed", 6, 30, seed=3, shift=1.5)
        store.set_verdict(inv, decide(0.2, 0.05, method="the smallest per-document p-value, Bonferroni-corrected"))
        table = store.results(inv)
        flagged = int((table["verdict_label"] == Label.EVIDENCE).sum())
        assert flagged >= 1
        text = " ".join(summary_sentences(collect_report(store, inv)))
    assert "yet the set's verdict is no evidence" in text and "accounts for that" in text


def test_a_report_of_200_documents_is_small_and_keeps_the_verdict_in_reach(tmp_path):
    with InvestigationStore(tmp_path / "inv.sqlite") as store:
        inv = reference_investigation(store, "two hundred", 200, 40)
        page = render_report(store, inv, "html").decode()
        table = store.results(inv)
    assert len(page) < 1_000_000 and "<script" not in page and page.count("<svg") >= 2
    css = page[page.index("<style>"): page.index("</style>")]
    assert "@media print" in css and "thead{display:table-header-group}" in css and "@page" in css
    assert "display:block;overflow-x:auto" not in css  # what made the old table collapse
    verdicts = section(page, "<h3>Verdict per document</h3>", "</table>")
    rows = re.findall(r"<tr>(<td.*?)</tr>", verdicts, flags=re.S)
    assert len(rows) == 200
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in rows]
    assert {len(c) for c in cells} <= {5, 6}  # document, verdict, p-value, tokens, perplexity (and why)
    p_values = [float(c[2]) for c in cells]
    assert p_values == sorted(p_values)  # most evidence first
    names = {LONG_NAME.format(i=i).replace("'", "&#x27;") for i in range(200)}
    assert {c[0] for c in cells} == names
    assert all(re.fullmatch(r"\d{2,3}", c[3]) for c in cells)  # tokens as integers
    assert int((table["verdict_label"] == Label.EVIDENCE).sum()) == sum("evidence of training" == c[1] for c in cells)
