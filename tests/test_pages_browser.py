"""The pages in a real browser: headless Chromium (Playwright) against a real uvicorn server
(the ``live_server`` fixture of conftest.py). Screenshots go to test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser



@pytest.fixture(scope="module")
def page(browser, live_server: str) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    pg = context.new_page()
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    context.close()


def test_search_municipality_project_implementer_language_graph(page, live_server: str, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    pg = page
    pg.goto(live_server + "/")
    # search "jelgava" from the home page; autocomplete offers the place and the municipality
    box = pg.locator("#site-search-q")
    box.click()
    box.press_sequentially("jelgava", delay=40)
    pg.wait_for_selector("#site-search-q-listbox [role=option]")
    options = pg.locator("#site-search-q-listbox [role=option]").all_inner_texts()
    assert any(o.startswith("Jelgava") for o in options), options
    assert box.get_attribute("aria-expanded") == "true"
    pg.screenshot(path=str(artifacts / "pages-1-home-autocomplete.png"))
    box.press("Enter")  # no option chosen: the form submits to /search
    pg.wait_for_url("**/search?q=jelgava*")
    pg.screenshot(path=str(artifacts / "pages-2-search-results.png"))

    # open the municipality (the place), then everything that happens there
    pg.locator("ol.results a", has_text="Jelgava").first.click()
    pg.wait_for_load_state()
    assert pg.locator("h1").inner_text().startswith("Jelgava")
    pg.locator("a[href='/places/jelgava']").first.click()
    pg.wait_for_url("**/places/jelgava")
    pg.screenshot(path=str(artifacts / "pages-3-municipality.png"), full_page=True)

    # open a project run there that has an implementing organisation
    projects = pg.locator("section[aria-labelledby=h-projects] a.ref").evaluate_all("els => els.map(e => e.href)")
    assert projects, "no project in Jelgava"
    implementer = None
    for href in projects:
        pg.goto(href)
        row = pg.locator("table.rows tr", has=pg.locator("td", has_text="implementer"))
        if row.count():
            implementer = row.first.locator("td").first.locator("a.ref").first
            break
    assert implementer is not None, "no project in Jelgava with an implementer"
    pg.screenshot(path=str(artifacts / "pages-4-project.png"))
    name = implementer.inner_text()
    implementer.click()
    pg.wait_for_load_state()
    assert pg.locator("h1").inner_text() == name

    # switch language: the interface and the label change, the URL keeps the page
    pg.locator("nav.langs a[hreflang=lv]").click()
    pg.wait_for_load_state()
    assert pg.locator("html").get_attribute("lang") == "lv"
    assert pg.locator("nav[aria-label='Galvenā izvēlne']").count() == 1

    # the relationship graph is drawn with nodes
    pg.wait_for_function("() => window.romagraphGraph && window.romagraphGraph.nodes().length > 1", timeout=15000)
    nodes = pg.evaluate("() => window.romagraphGraph.nodes().length")
    assert nodes > 1
    assert int(pg.locator("#relationship-graph").get_attribute("data-nodes")) == nodes
    assert pg.locator("#relationship-graph canvas").count() >= 1
    pg.locator("#relationship-graph").scroll_into_view_if_needed()
    pg.screenshot(path=str(artifacts / "pages-5-organisation-graph-lv.png"))
    assert not pg.errors, pg.errors  # type: ignore[attr-defined]


def test_dataset_chart_and_plan_tree(page, live_server: str, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    import httpx

    pg = page
    hits = httpx.get(live_server + "/api/search", params={"q": "bezdarbnieki", "limit": 50}).json()
    datasets = [h for h in hits if h["type"].endswith("cube#DataSet")]
    if not datasets:  # any dataset, through the browse list
        pg.goto(live_server + "/browse?class=http%3A%2F%2Fpurl.org%2Flinked-data%2Fcube%23DataSet")
        url = pg.locator("ul.items a.ref").first.get_attribute("href")
    else:
        url = datasets[0]["url"]
    pg.goto(live_server + url + ("&" if "?" in url else "?") + "lang=en")
    pg.wait_for_selector("#dataset-chart[data-chart-ready=true]", timeout=15000)
    assert pg.evaluate("() => window.romagraphChart.data.datasets.length") >= 1
    pg.locator("#dataset-chart").scroll_into_view_if_needed()
    pg.screenshot(path=str(artifacts / "pages-6-dataset-chart.png"))
    pg.goto(live_server + "/plans")
    assert pg.locator(".plan-node").count() >= 1 or pg.locator("nav.toc a").count() >= 1
    pg.screenshot(path=str(artifacts / "pages-7-plans.png"))
    assert not pg.errors, pg.errors  # type: ignore[attr-defined]


def test_pages_work_without_javascript(browser, live_server: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=False)
    pg = context.new_page()
    pg.goto(live_server + "/")
    pg.fill("#site-search-q", "jelgava")
    pg.press("#site-search-q", "Enter")
    pg.wait_for_url("**/search?q=jelgava*")
    assert pg.locator("ol.results li").count() >= 2
    pg.locator("ol.results a").first.click()
    pg.wait_for_load_state()
    assert pg.locator("h1").count() == 1
    context.close()
