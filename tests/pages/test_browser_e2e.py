"""End to end in a real headless browser: `streamlit run dashboard.py`, upload a .txt file, score it with the default
model, and find the results table, a Plotly chart and a verdict card; every request the page makes, from loading
to results, stays on this machine (the favicon included). Screenshots are kept in screenshots/."""

import time
from urllib.parse import urlparse

import pytest

from browser_helpers import BROWSER_MARKS, CHROMIUM, CHROMIUM_ARGS, SHOTS, dashboard
from textgen import random_sentences


pytestmark = BROWSER_MARKS


LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
LOCAL_SCHEMES = {"data", "blob", "about"}


def _leaves_the_machine(url: str) -> bool:
    """True for a URL that would be fetched from another machine (not loopback, not data:/blob:)."""
    parsed = urlparse(url)
    return parsed.scheme not in LOCAL_SCHEMES and parsed.hostname not in LOCAL_HOSTS


def _log_requests(page, urls: list[str]) -> None:
    """Record every URL the page requests (documents, scripts, fonts, images, XHR, WebSockets)."""
    page.on("request", lambda request: urls.append(request.url))
    page.on("websocket", lambda ws: urls.append(ws.url))


@pytest.fixture
def server(tmp_path):
    with dashboard(tmp_path / "store.sqlite") as url:
        yield url


def test_upload_score_and_read_results_in_chromium(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    doc = tmp_path / "my-article.txt"
    doc.write_text("The committee met on Tuesday to discuss the new library. After a long debate, members agreed "
                   "that the building would open in the spring, with longer hours on weekends and a room for "
                   "children's reading groups.")
    references = []
    for i, text in enumerate(random_sentences(6, length=40, seed=21)):
        path = tmp_path / f"reference-{i}.txt"
        path.write_text(text)
        references.append(str(path))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # Streamlit scrolls inside its own container, so a tall viewport is what captures the whole page
        page = browser.new_page(viewport={"width": 1400, "height": 3400})
        urls: list[str] = []
        _log_requests(page, urls)
        start = time.time()
        page.goto(server)
        expect(page.get_by_role("heading", name="Documents")).to_be_visible(timeout=30_000)
        first_render = time.time() - start
        page.screenshot(path=str(SHOTS / "01-first-page.png"))
        # the tab's icon is this server's own (headless Chromium does not report favicon fetches as requests)
        icon = page.eval_on_selector("link[rel='shortcut icon']", "link => link.href")
        assert not _leaves_the_machine(icon), icon
        # each uploader by its label, not by position: the page draws in stages
        page.get_by_role("region", name="Documents to test").locator("input[type=file]").set_input_files(str(doc))
        page.get_by_text("Reference set (optional").click()
        page.get_by_role("region", name="Reference texts").locator("input[type=file]").set_input_files(references)
        button = page.get_by_role("button", name="Score 1 document(s)")
        expect(button).to_be_enabled(timeout=30_000)
        button.click()
        expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible(timeout=240_000)
        expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Your documents as a set", exact=True)).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Inconclusive").first).to_be_visible()  # 6 reference texts are too few for 5% FPR
        page.wait_for_timeout(1500)  # let the charts finish drawing
        page.screenshot(path=str(SHOTS / "02-results.png"))
        page.get_by_role("tab", name="Per-token view").click()
        expect(page.get_by_text("Share of tokens the model ranked")).to_be_visible(timeout=60_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(SHOTS / "03-per-token-view.png"))
        icon = page.eval_on_selector("link[rel='shortcut icon']", "link => link.href")
        browser.close()
    assert not _leaves_the_machine(icon), icon
    assert urls and any(urlparse(u).path.endswith("/_stcore/stream") for u in urls)
    foreign = sorted({u for u in urls if _leaves_the_machine(u)})
    assert not foreign, f"requests left the machine: {foreign}"
    print(f"first page rendered in {first_render:.1f} s")


def test_pages_say_what_a_run_needs_and_costs_before_it_starts_in_chromium(server, tmp_path):
    """The Documents page counts what was uploaded against what a verdict needs, before scoring; the Ghost page
    keeps the registry, previews every marked document with how often each identifier was placed, and says how
    long a test will take and which p-value its draws allow, before it starts."""
    from playwright.sync_api import expect, sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    note = tmp_path / "note.txt"
    note.write_text(" ".join(random_sentences(17, length=10, seed=31)))  # 170 words
    short = tmp_path / "tiny.txt"
    short.write_text("Too short.")
    references = []
    for i, text in enumerate(random_sentences(3, length=40, seed=32)):
        path = tmp_path / f"reference-{i}.txt"
        path.write_text(text)
        references.append(str(path))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 2600})
        page.goto(server)
        expect(page.get_by_role("heading", name="Documents")).to_be_visible(timeout=30_000)
        page.get_by_role("region", name="Documents to test").locator("input[type=file]").set_input_files(
            [str(note), str(short)])
        # as a user does: the page has read the documents before the reference set is added (an upload sent while
        # the page is still rerunning for the previous one can be lost on a busy machine)
        expect(page.get_by_text("Read 2 texts from 2 uploads: note.txt 1, tiny.txt 1.")).to_be_visible(timeout=60_000)
        page.get_by_text("Reference set (optional").click()
        page.get_by_role("region", name="Reference texts").locator("input[type=file]").set_input_files(references)
        expect(page.get_by_text("You have 3 of the 19 reference texts needed.")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("You have 2 of the 5 documents needed.")).to_be_visible()
        expect(page.get_by_text("too short to judge")).to_be_visible(timeout=120_000)
        page.screenshot(path=str(SHOTS / "04-documents-what-a-verdict-needs.png"))

        page.get_by_role("link", name="Ghost sentences").click()
        expect(page.get_by_role("heading", name="Ghost sentences")).to_be_visible(timeout=30_000)
        page.get_by_label("How many identifiers").fill("5")
        page.get_by_label("How many identifiers").press("Enter")
        page.get_by_role("button", name="Generate").click()
        expect(page.get_by_text("Download this registry now")).to_be_visible(timeout=30_000)
        page.get_by_role("tab", name="2. Embed").click()
        page.get_by_role("region", name="Your documents").locator("input[type=file]").set_input_files(str(note))
        page.get_by_role("button", name="Embed").click()
        expect(page.get_by_text("Placed identifiers 1 time(s) in 1 document(s)")).to_be_visible(timeout=30_000)
        page.get_by_text("Preview: note.txt").click()
        expect(page.locator("mark").first).to_be_visible()
        page.screenshot(path=str(SHOTS / "05-ghost-embed-preview.png"))
        page.get_by_role("tab", name="3. Detect").click()
        expect(page.get_by_text("tokens/s").first).to_be_visible(timeout=240_000)
        expect(page.get_by_text("1/201").first).to_be_visible()
        page.screenshot(path=str(SHOTS / "06-ghost-detect-estimate.png"))
        browser.close()


def test_a_page_opened_by_its_address_on_a_fresh_server_has_the_dashboards_navigation(server):
    """A bookmark or a shared link to one page, opened as the server's first visit: the page runs inside
    dashboard.py (its navigation and the sidebar's model picker), never as a bare script of a legacy pages/ folder."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.goto(server + "/demo")
        sidebar = page.locator("[data-testid='stSidebar']")
        expect(sidebar.get_by_text("Target model")).to_be_visible(timeout=120_000)
        expect(sidebar.get_by_text("Guided demo")).to_be_visible()
        expect(sidebar.get_by_text("Ghost sentences")).to_be_visible()
        assert sidebar.get_by_text("dashboard", exact=True).count() == 0  # the legacy listing names the entry file
        browser.close()
