"""Several models side by side in a real headless Chromium: the sidebar's model (a local folder) plus one typed on
the Documents page, documents and a reference set uploaded, then the documents x models heatmap and one verdict
card per model. Screenshots are kept in screenshots/."""


from browser_helpers import BROWSER_MARKS, CHROMIUM, CHROMIUM_ARGS, SHOTS, dashboard
from textgen import random_sentences

from ui.session import CUSTOM

pytestmark = BROWSER_MARKS


def _write(folder, prefix, texts):
    folder.mkdir()
    paths = []
    for i, text in enumerate(texts):
        path = folder / f"{prefix}{i}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    return paths


def test_two_models_side_by_side_in_chromium(tiny_model_dir, tiny_model_b_dir, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    documents = _write(tmp_path / "docs", "chapter", random_sentences(4, length=50, seed=61))
    reference = _write(tmp_path / "refs", "ref", random_sentences(20, length=50, seed=62))
    with dashboard(tmp_path / "store.sqlite") as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 2400})
        page.goto(url)  # the entry script: its sidebar picks the model (Documents is the default page)
        expect(page.get_by_role("heading", name="Documents")).to_be_visible(timeout=60_000)
        sidebar = page.get_by_test_id("stSidebar")
        sidebar.get_by_test_id("stSelectbox").filter(has=page.get_by_text("Target model", exact=True)).click()
        page.get_by_role("option", name=CUSTOM).click()
        custom = sidebar.get_by_role("textbox", name="Model spec")
        custom.fill(tiny_model_dir)
        custom.press("Enter")
        page.get_by_text("More models side by side (optional)").click()
        others = page.get_by_label("Other models", exact=True).and_(page.get_by_role("textbox"))
        others.fill(tiny_model_b_dir)
        others.press("Enter")
        page.locator("input[type=file]").nth(0).set_input_files(documents)
        expect(page.get_by_text("Read 4 texts")).to_be_visible(timeout=60_000)
        page.locator("input[type=file]").nth(1).set_input_files(reference)
        expect(page.get_by_text("Read 20 reference texts")).to_be_attached(timeout=60_000)  # in its closed expander
        start = page.get_by_role("button", name="Score 4 document(s) with 2 models")
        expect(start).to_be_enabled(timeout=60_000)
        expect(page.get_by_text("for all 2 models")).to_be_visible(timeout=60_000)
        page.screenshot(path=str(SHOTS / "documents-models-before.png"))
        start.click()
        expect(page.get_by_text("2 models side by side")).to_be_visible(timeout=180_000)
        expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)
        expect(page.get_by_text("How to read it.")).to_be_visible()
        expect(page.get_by_text("Verdict per model")).to_be_visible()
        cards = page.get_by_text("show evidence; spec")
        expect(cards).to_have_count(2)
        heatmap = page.locator(".js-plotly-plot").first
        expect(heatmap.locator("text", has_text="p = ").first).to_be_attached()
        heatmap.scroll_into_view_if_needed()
        page.wait_for_timeout(1500)
        page.screenshot(path=str(SHOTS / "documents-models-heatmap.png"), full_page=True)
        browser.close()
