"""A scaled run's output folder opened as an investigation: rows, texts and unreadable inputs imported, verdicts
against a reference folder exactly as ``compare_with_reference`` gives them, a second import adding only what is
new, and folders that do not fit refused with a sentence. The folders are written as the Ray engine writes them
(``scale.batch.score_rows`` + ``scale.output.write_shard``), without a cluster."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from textgen import random_sentences
from provenance.documents import load_documents
from provenance.investigations.reference import compare_with_reference
from provenance.investigations.scaled_runs import import_scored_folder
from provenance.investigations.store import COMPLETE, MAIN, REFERENCE, InvestigationStore, StoreError
from provenance.scale import output
from provenance.scale.batch import score_rows
from provenance.scale.corpus import corpus_files, file_rows
from provenance.scale.output import OutputFolderError

SCORES = ["loss", "zlib", "mink"]


def settings(model, **changes):
    return {"model": model.spec, "scores": SCORES, "k": 0.2, "window": None, "stride": None, "top_k": 0,
            "max_window": 2048, "ref_model": None, "observer": None, "dtype": None, "trust_remote_code": False,
            **changes}


def write_run(model, corpus, out, batch=4, **changes):
    """Score ``corpus`` into ``out`` batch by batch, as the engine's actors do."""
    manifest = output.open_output(out, settings(model, **changes), [corpus])
    files, _ = corpus_files([corpus])
    rows = [r for path, name in files for r in file_rows({"path": path, "name": name}, output.done_keys(out))]
    for lo in range(0, len(rows), batch):
        output.write_shard(out, score_rows(model, rows[lo: lo + batch], SCORES).rows, manifest["columns"],
                           model.identity)
    output.record_identity(out, manifest, model.identity)
    return out


def write_table(path, texts, extra=()):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"id": f"d{i}", "text": t}) + "\n" for i, t in enumerate(texts))
                    + "".join(f"{line}\n" for line in extra), encoding="utf-8")
    return path


@pytest.fixture
def store(tmp_path):
    s = InvestigationStore(tmp_path / "inv.sqlite")
    yield s
    s.close()


@pytest.fixture
def folders(tmp_path, tiny_model):
    texts = random_sentences(30, length=40, seed=11)
    suspect = write_table(tmp_path / "suspect" / "mine.jsonl", texts[:10],
                          extra=["{broken", json.dumps({"id": "short", "text": "a"})])
    reference = write_table(tmp_path / "reference" / "later.jsonl", texts[10:])
    return (suspect, write_run(tiny_model, suspect, tmp_path / "out-suspect"),
            reference, write_run(tiny_model, reference, tmp_path / "out-reference"))


def test_a_folder_opens_as_an_investigation_with_its_rows_texts_and_problems(store, tiny_model, folders):
    suspect, out, _, _ = folders
    result = import_scored_folder(store, out, investigation="big run")
    inv = result.investigation
    assert inv.name == "big run" and inv.status == COMPLETE and inv.model_identity == tiny_model.identity
    assert result.suspect.added == 11 and result.suspect.missing_text == 0  # 10 scored + the too-short one
    table = store.results(inv.id)
    rows = output.read_rows(out)
    scored = rows[rows["error"].isna()].set_index("document")
    assert sorted(table["document"]) == sorted(scored.index)
    for column in ["tokens", "nll", *SCORES]:
        assert table.set_index("document")[column].to_dict() == pytest.approx(scored[column].astype(float).to_dict())
    docs, _ = load_documents([suspect])
    assert {d.name: d.text for d in store.documents(inv.id)} == {d.name: d.text for d in docs}
    assert "too short to score" in store.unscorable(inv.id)["mine.jsonl:short"]
    assert any("not valid JSON" in e["message"] for e in store.get_artifact(inv.id, "ingest_errors"))
    assert "Imported 11 new row(s)" in inv.message

    again = import_scored_folder(store, out, investigation="big run")
    assert again.suspect.added == 0 and again.suspect.already == 11 and again.investigation.id == inv.id


def test_verdicts_against_a_reference_folder_are_those_of_the_usual_comparison(store, tiny_model, folders):
    suspect, out, reference, ref_out = folders
    imported = import_scored_folder(store, out, investigation="scaled", reference=ref_out, n_splits=3)
    suspect_docs, _ = load_documents([suspect])
    reference_docs, _ = load_documents([reference])
    usual = compare_with_reference(store, "usual", tiny_model, suspect_docs, reference_docs, SCORES, n_splits=3)
    inv = imported.investigation
    assert store.collections(inv.id) == {MAIN: 11, REFERENCE: 20}
    assert inv.verdict is not None and inv.verdict.label == usual.investigation.verdict.label
    assert inv.verdict.p_value == pytest.approx(usual.investigation.verdict.p_value, abs=1e-9)
    columns = ["document", "p_value", "verdict_label"]
    mine = imported.comparison.documents[columns].sort_values("document").reset_index(drop=True)
    theirs = usual.comparison.documents[columns].sort_values("document").reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, theirs)
    assert "Verdict for the set:" in inv.message


def test_folders_that_do_not_fit_are_refused_with_a_sentence(store, tiny_model, folders, tmp_path):
    _, out, reference, _ = folders
    with pytest.raises(OutputFolderError, match="There is no folder"):
        import_scored_folder(store, tmp_path / "nowhere")
    with pytest.raises(OutputFolderError, match="is not the output of a scoring run"):
        import_scored_folder(store, reference.parent)
    other = write_run(tiny_model, reference, tmp_path / "other-k", k=0.5)
    with pytest.raises(OutputFolderError, match="another model or other settings"):
        import_scored_folder(store, out, reference=other)
    import_scored_folder(store, out, investigation="taken")
    with pytest.raises(StoreError, match="another model or other settings"):
        import_scored_folder(store, other, investigation="taken")


def test_rows_whose_text_changed_in_the_corpus_are_left_out(store, tiny_model, folders):
    suspect, out, _, _ = folders
    lines = suspect.read_text().splitlines()
    lines[0] = json.dumps({"id": "d0", "text": "A different text now stands in this line of the corpus."})
    suspect.write_text("\n".join(lines) + "\n")
    result = import_scored_folder(store, out)
    assert result.suspect.missing_text == 1 and result.suspect.added == 10
    assert "1 scored document(s) were left out" in result.sentence()


def test_the_command_line_imports_a_folder_with_its_reference(tiny_model, folders, tmp_path, capsys):
    from provenance.cli import main

    _, out, _, ref_out = folders
    store_path = tmp_path / "cli.sqlite"
    assert main(["investigations", "import", str(out), "--reference", str(ref_out), "--name", "from the cluster",
                 "--store", str(store_path)]) == 0
    assert "Verdict for the set:" in capsys.readouterr().err
    with InvestigationStore(store_path) as store:
        inv = store.find("from the cluster")
        assert inv.verdict is not None and store.collections(inv.id) == {MAIN: 11, REFERENCE: 20}
    assert main(["investigations", "import", str(tmp_path), "--store", str(store_path)]) == 2
    assert "is not the output of a scoring run" in capsys.readouterr().err
