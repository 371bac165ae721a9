"""AppTest: the one progress display every page uses (phases in their own units, tallies, time left, Stop)."""

from streamlit.testing.v1 import AppTest


def _progress_script():
    import streamlit as st
    from ui.widgets import Phase, Progress

    run = Progress([Phase("Scoring your documents", "tokens"), Phase("Comparing with the reference set", None)],
                   tallies={"documents": 4, "reference texts": 20}, stop="Stops between batches.", key="t")
    run(0, 1000)
    st.text("A " + run.text)
    run.tally("documents")
    run(500, 1000)
    st.text("B " + run.text)
    run.relabel("Scoring the reference texts")
    run.tally("reference texts", 3)
    st.text("C " + run.text)
    run(1000, 1000)
    st.text("D " + run.text)
    draws = Progress([("Scoring fresh draws", "draws")], estimate=600)
    st.text("E " + draws.text)
    draws.phase_started -= 10  # ten seconds into the phase
    draws(250, 1000)
    st.text("F " + draws.text)
    phases = Progress([("Reading the corpus", "sources"), ("Hashing documents", "documents")])
    phases(2, 2)
    phases(10, 40)
    st.text("G " + phases.text)
    phases.finish("Done: 40 documents.")
    st.text("H " + phases.text)


def test_progress_counts_each_phase_in_its_own_unit_as_it_happens():
    at = AppTest.from_function(_progress_script, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    lines = {t.value[0]: t.value[2:] for t in at.text}
    assert lines["A"] == ("Step 1 of 2: Scoring your documents: 0 of 1,000 tokens · 0 of 4 documents, 0 of 20 "
                          "reference texts done")
    assert lines["B"].startswith("Step 1 of 2: Scoring your documents: 500 of 1,000 tokens · 1 of 4 documents, "
                                 "0 of 20")
    assert lines["C"].startswith("Step 1 of 2: Scoring the reference texts: 500 of 1,000 tokens · 1 of 4 "
                                 "documents, 3 of 20 reference texts done")
    # the counted work is done: the announced step after it shows at once, without a count
    assert lines["D"] == "Step 2 of 2: Comparing with the reference set... · 1 of 4 documents, 3 of 20 reference " \
                         "texts done"
    assert lines["E"] == "Scoring fresh draws: starting... · about 10 min left"  # the estimate, before any pace
    assert lines["F"] == "Scoring fresh draws: 250 of 1,000 draws · about 30 s left"  # its own pace
    assert lines["G"] == "Step 2 of 2: Hashing documents: 10 of 40 documents"
    assert lines["H"] == "Done: 40 documents."
    assert [b.label for b in at.button] == ["Stop"] and at.button[0].help == "Stops between batches."
