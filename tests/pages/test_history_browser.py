"""History in a real headless Chromium (issue 11, items 4 and 6): a reopened benchmark shows its ROC curves and AUC
table, a reopened ghost test its null histogram; a rename shows the new name in the selector; Delete shows its
confirmation in sight. Screenshots are kept in screenshots/."""

import random

import pytest

from browser_helpers import BROWSER_MARKS, CHROMIUM, CHROMIUM_ARGS, SHOTS, dashboard
from textgen import random_sentences
from provenance import ghost
from provenance.documents import Document
from provenance.investigations.ghost_test import run_ghost_test
from provenance.investigations.labelled import evaluate_labelled_set
from provenance.investigations.scoring import score_set
from provenance.investigations.store import InvestigationStore


pytestmark = BROWSER_MARKS


@pytest.fixture
def history_server(tmp_path, tiny_model):
    """A dashboard whose store holds a scored set, a benchmark and a ghost test (run with the tiny model)."""
    store_path = tmp_path / "store.sqlite"
    with InvestigationStore(store_path) as store:
        docs = [Document(f"doc{i}.txt", t) for i, t in enumerate(random_sentences(2, length=30, seed=1))]
        score_set(store, "Old name", tiny_model, docs, ("loss", "zlib"))
        labelled = [Document(f"t{i}.txt", t) for i, t in enumerate(random_sentences(12, length=30, seed=2))]
        evaluate_labelled_set(store, "Bench", tiny_model, labelled, [i % 2 for i in range(12)], ("loss", "zlib"),
                              n_bootstrap=20, chunk_tokens=16)
        entries = ghost.new_entries(ghost.Registry(), ghost.GhostGenerator(words=4), 2, rng=random.Random(3))
        run_ghost_test(store, "Ghosts", tiny_model, entries, n_null=30, last_k=(), rng=random.Random(4))
    with dashboard(store_path) as url:
        yield url


def _selector(page):
    """The 'Investigation' selector of the Reopen tab."""
    return page.get_by_test_id("stSelectbox").filter(has=page.get_by_text("Investigation", exact=True))


def _choose(page, name: str) -> None:
    """Pick an investigation in the 'Investigation' selector."""
    _selector(page).click()
    page.get_by_role("option", name=name, exact=True).click()


def test_history_reopens_each_kind_renames_and_deletes_in_chromium(history_server):
    from playwright.sync_api import expect, sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 2600})
        page.goto(f"{history_server}/history")
        expect(page.get_by_role("heading", name="History")).to_be_visible(timeout=60_000)
        expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible(timeout=30_000)

        _choose(page, "Bench")
        expect(page.get_by_text("Results: Bench")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Best:").first).to_be_visible(timeout=30_000)
        expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Add a reference set to turn these scores into verdicts")).to_have_count(0)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(SHOTS / "history-benchmark-reopened.png"))

        _choose(page, "Ghosts")
        expect(page.get_by_text("Were your identifiers trained on?")).to_be_visible(timeout=30_000)
        expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=30_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(SHOTS / "history-ghost-reopened.png"))

        _choose(page, "Old name")
        expect(page.get_by_text("Results: Old name")).to_be_visible(timeout=30_000)
        page.get_by_test_id("stExpander").get_by_text("Rename or delete").click()
        field = page.get_by_label("New name")
        expect(field).to_have_count(1, timeout=30_000)  # the previous investigation's field has gone
        expect(field).to_have_value("Old name")
        field.fill("New name")
        field.press("Enter")
        page.get_by_role("button", name="Rename").click()
        expect(page.get_by_text("Renamed to 'New name'.")).to_be_visible(timeout=30_000)
        # the selector's own text box, not only the results below it, shows the new name
        expect(page.get_by_role("combobox", name="Investigation")).to_have_value("New name", timeout=30_000)
        page.screenshot(path=str(SHOTS / "history-renamed.png"))

        if not page.get_by_role("button", name="Delete", exact=True).is_visible():
            page.get_by_test_id("stExpander").get_by_text("Rename or delete").click()
        page.get_by_role("button", name="Delete", exact=True).click()
        warning = page.get_by_text("This cannot be undone")
        expect(warning).to_be_visible(timeout=30_000)
        expect(warning).to_be_in_viewport()
        page.screenshot(path=str(SHOTS / "history-delete-confirmation.png"))
        page.get_by_role("button", name="Yes, delete it").click()
        expect(page.get_by_text("Deleted 'New name'")).to_be_visible(timeout=30_000)
        expect(page.get_by_role("combobox", name="Investigation")).not_to_have_value("New name", timeout=30_000)
        browser.close()
