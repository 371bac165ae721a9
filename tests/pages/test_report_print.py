"""The HTML report in a real headless Chromium, on screen and printed to PDF, with 200 documents: the verdict
column stays within the printed page's width, rows stay one or two lines tall (the old table collapsed to one letter
per line and was 7,876 px tall for 4 documents), and the PDF has a sensible number of pages. Screenshots and the
PDF are kept in screenshots/."""

import re


from browser_helpers import BROWSER_MARKS, CHROMIUM, CHROMIUM_ARGS, SHOTS
from report_samples import models_investigation, reference_investigation
from provenance.investigations.store import InvestigationStore
from provenance.report import write_report

A4_CONTENT_WIDTH = 703  # CSS px: 210 mm minus the report's 12 mm side margins (@page), at 96 px per inch

pytestmark = BROWSER_MARKS

MEASURE = """() => {
  const heading = [...document.querySelectorAll('h3')].find(h => h.textContent === 'Verdict per document');
  let table = heading.nextElementSibling;
  while (table && !table.querySelector('table')) table = table.nextElementSibling;
  table = table.querySelector('table');
  const headers = [...table.querySelectorAll('thead th')].map(th => [th.textContent, th.getBoundingClientRect().right]);
  const rows = [...table.querySelectorAll('tbody tr')].map(tr => tr.getBoundingClientRect().height);
  return {headers, rows, width: document.documentElement.clientWidth,
          overflow: table.scrollWidth - table.parentElement.clientWidth,
          height: table.getBoundingClientRect().height};
}"""


def test_a_200_document_report_reads_on_screen_and_prints_with_its_verdict_column(tmp_path):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with InvestigationStore(tmp_path / "inv.sqlite") as store:
        inv = reference_investigation(store, "Two hundred documents", 200, 40)
        report = write_report(store, inv, tmp_path / "report.html")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        page.goto(report.as_uri())
        screen = page.evaluate(MEASURE)
        page.screenshot(path=str(SHOTS / "report-200-screen.png"))
        pdf = page.pdf(path=str(SHOTS / "report-200.pdf"), format="A4", print_background=True)

        printed = browser.new_page(viewport={"width": A4_CONTENT_WIDTH, "height": 1000})
        printed.emulate_media(media="print")
        printed.goto(report.as_uri())
        paper = printed.evaluate(MEASURE)
        printed.screenshot(path=str(SHOTS / "report-200-print-layout.png"))
        browser.close()

    for measured in (screen, paper):
        names = [h for h, _ in measured["headers"]]
        assert names[:4] == ["document", "verdict", "p-value", "tokens"]
        assert len(measured["rows"]) == 200 and max(measured["rows"]) < 60  # one or two lines, never a column
        assert all(right <= measured["width"] for _, right in measured["headers"]), measured["headers"]
        assert measured["overflow"] <= 1  # nothing to scroll to: the verdict and p-value are in sight
    assert paper["headers"][2][1] <= A4_CONTENT_WIDTH
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 5 <= pages <= 60, pages  # the old report printed 164 pages for 200 documents


MEASURE_HEATMAP = """() => {
  const svg = document.querySelector('#figure-1 svg');
  const box = svg.getBoundingClientRect();
  return {width: box.width, height: box.height, page: document.documentElement.clientWidth,
          cells: svg.querySelectorAll('rect[stroke="#ccc"]').length,
          text: svg.textContent};
}"""


def test_a_several_models_report_shows_its_heatmap_on_screen_and_on_paper(tiny_model, tiny_model_b, tmp_path):
    """The documents x models heatmap is drawn (a cell per document and model, the verdict words in the cells) and
    fits the printed page; the PDF prints it."""
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with InvestigationStore(tmp_path / "inv.sqlite") as store:
        inv = models_investigation(store, tiny_model, tiny_model_b, "Three models")
        report = write_report(store, inv, tmp_path / "models.html")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        page.goto(report.as_uri())
        screen = page.evaluate(MEASURE_HEATMAP)
        page.screenshot(path=str(SHOTS / "report-models-screen.png"), full_page=True)
        pdf = page.pdf(path=str(SHOTS / "report-models.pdf"), format="A4", print_background=True)
        printed = browser.new_page(viewport={"width": A4_CONTENT_WIDTH, "height": 1000})
        printed.emulate_media(media="print")
        printed.goto(report.as_uri())
        paper = printed.evaluate(MEASURE_HEATMAP)
        browser.close()
    for measured in (screen, paper):
        assert measured["cells"] == 12  # 4 documents x 3 models
        assert 0 < measured["width"] <= measured["page"] and measured["height"] > 150
        assert "p = " in measured["text"] and "set: " in measured["text"]
        assert "no result" in measured["text"]  # the model that could not load
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 2 <= pages <= 12, pages
