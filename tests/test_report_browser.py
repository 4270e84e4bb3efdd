"""The reports in a real browser (Debian's chromium driven by Playwright): the criteria table,
thresholds and charts render, no console error, no request leaves the page, a drill-down opens,
a dataset link answers; and a 10,000-dataset city stays under 5 MB and pages.

Screenshots are saved under the test's temporary directory. Under CI a missing chromium fails.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

from wwc_pipeline.reports import render_html
from wwc_pipeline.reports.bundle import write_all_reports

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NIGHTS = 3  # the scanned_testville fixture (conftest.py)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory, scanned_testville):
    """Every report and the index, written by `write_all_reports`, served from a loopback server."""
    folder = tmp_path_factory.mktemp("served")
    city = scanned_testville
    written = write_all_reports(city.warehouse, folder)
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {
            "origin": f"http://127.0.0.1:{server.server_port}",
            "folder": folder,
            "written": written,
            "city": city,
        }
    finally:
        server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # the test's output stays readable
        pass


def _guarded_page(browser, origin: str):
    """A page whose every request must be the page's own (its origin); others are aborted and listed."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    problems = {"requests": [], "console": []}

    def route(request_route):
        url = request_route.request.url
        if url.startswith(origin + "/") or url.startswith("file://"):
            request_route.continue_()
        else:
            problems["requests"].append(url)
            request_route.abort()

    page.route("**/*", route)
    page.on("console", lambda message: message.type == "error" and problems["console"].append(message.text))
    page.on("pageerror", lambda error: problems["console"].append(str(error)))
    return page, problems


def test_a_report_and_the_index_in_the_browser(browser, served, tmp_path):
    origin, written = served["origin"], served["written"]
    (city,) = written["cities"]
    report_path = os.path.relpath(city["path"], served["folder"])
    page, problems = _guarded_page(browser, origin)
    page.goto(f"{origin}/{report_path}")
    # the criteria table with the thresholds each status was judged by
    assert page.locator("table.criteria").count() >= 3
    licence = page.locator("#row-crit-MEASURE-OD-LICENSE")
    assert "met ≥ 90 · partial ≥ 50 · min 5 datasets" in licence.locator("td.thresholds").inner_text()
    assert licence.locator("svg.bar rect").count() >= 3
    # the datasets chart has one point per run
    chart = page.locator('figure[data-chart="datasets"]')
    assert chart.get_attribute("data-points") == str(NIGHTS)
    assert chart.locator("g.serie-0 circle.dot").count() == NIGHTS
    assert chart.locator("svg").bounding_box()["height"] > 100
    page.screenshot(path=str(tmp_path / "report-top.png"))
    # a drill-down: the criterion opens on its datasets; a dataset's link answers on its portal
    drill = page.locator("details#crit-MEASURE-OD-LICENSE")
    drill.locator("summary").click()
    assert drill.evaluate("d => d.open")
    rows = drill.locator("table.drill tbody tr")
    assert rows.count() > 0 and rows.first.is_visible()
    link = rows.first.locator("a.portal-link")
    href, title = link.get_attribute("href"), link.inner_text()
    portal = served["city"].portal_url
    assert href.startswith(portal + "/")
    answer = page.request.get(href)  # from the test, not the page: the portal is another origin
    assert answer.status == 200 and title[:20] in answer.text()
    drill.screenshot(path=str(tmp_path / "drill-down.png"))
    # the dataset table: filter, and a jump to a dataset's row
    page.fill("#ds-filter", title[:12])
    assert page.locator("#dataset-rows tr").count() >= 1
    assert title[:12].lower() in page.locator("#dataset-rows tr").first.inner_text().lower()
    page.fill("#ds-filter", "")
    page.locator('#dataset-table th[data-sort="title"]').click()
    first_titles = page.locator("#dataset-rows tr td.title a").all_inner_texts()[:5]
    assert first_titles == sorted(first_titles, key=str.lower)
    page.emulate_media(media="print")
    page.screenshot(path=str(tmp_path / "report-print.png"), full_page=False)
    page.emulate_media(media="screen")
    # the index across cities
    page.goto(f"{origin}/index.html")
    table = page.locator("table#cities")
    assert table.locator("tbody tr").count() == 1
    assert (
        table.locator("tbody tr td.cell").count() == 1 + len(city["files"]) * 0 + 17
    )  # Met + one per criterion
    page.get_by_role("columnheader", name="Met", exact=True).click()
    page.screenshot(path=str(tmp_path / "index.png"))
    page.locator("table#cities a").first.click()
    page.wait_for_load_state()
    assert page.url.endswith(report_path)
    assert problems == {"requests": [], "console": []}
    assert all(
        (tmp_path / name).stat().st_size > 0 for name in ("report-top.png", "drill-down.png", "index.png")
    )
    page.close()


def test_a_10000_dataset_city_stays_under_5_mb_and_pages(browser, served, tmp_path):
    city = served["city"]
    report = city.warehouse.city_report(city.city_id)
    template = report["datasets"]
    big = []
    for number in range(10_000):
        dataset = dict(template[number % len(template)])
        dataset.update(
            dataset_id=f"big-{number:05d}",
            position=number,
            title=f"Dataset {number:05d} "
            + ("with a very long catalog title " * 20 if number % 97 == 0 else ""),
        )
        big.append(dataset)
    html = render_html({**report, "datasets": big})
    size = len(html.encode())
    assert size < 5 * 1024 * 1024, f"{size} bytes"
    path = tmp_path / "big.html"
    path.write_text(html)
    page, problems = _guarded_page(browser, "file://")
    page.goto(path.as_uri())
    assert page.locator("#dataset-rows tr").count() == 200
    assert "of 50 (10000 datasets)" in page.locator("#ds-page").inner_text()
    # a dataset far down the table: its anchor takes the reader to its page
    target = next(d for d in big if d["position"] == 9_999)
    page.goto(path.as_uri() + "#ds-0-9999")
    row = page.locator("#ds-0-9999")
    assert row.is_visible() and target["dataset_id"] in row.inner_text()
    page.screenshot(path=str(tmp_path / "big.png"))
    assert problems == {"requests": [], "console": []}
    page.close()
