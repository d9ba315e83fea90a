"""The SPARQL workbench in headless Chromium (Playwright, /usr/bin/chromium): the editor loads
offline, a listed query runs in one click and fills the result table (IRIs linked to their pages
under their labels), the row-limit note is shown, downloads and the permalink work, and no
request leaves the site."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

pytestmark = pytest.mark.browser



@pytest.fixture()
def page(browser, sparql_server):  # noqa: ANN001, ANN201
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.requests_seen = []  # type: ignore[attr-defined]
    pg.console_errors = []  # type: ignore[attr-defined]
    pg.on("request", lambda r: pg.requests_seen.append(r.url))
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    yield pg
    context.close()


def test_workbench_runs_a_listed_query(page, sparql_server, artifacts):
    page.goto(f"{sparql_server}/sparql")
    page.wait_for_selector(".sparql-yasqe .CodeMirror")  # YASQE took over the textarea
    assert page.locator("#sparql-query").is_hidden()
    assert page.locator(".cm-keyword").count() > 0  # the default query is highlighted
    assert "10000" in page.inner_text("#sparql-limits")

    # one click on a listed query: it is loaded into the editor and run
    page.click("#server-queries >> xpath=..")  # open the <details> of the site's own queries
    button = page.locator("button[data-query-id='s-sd_graphs']")
    button.click()
    page.wait_for_selector(".sparql-table tbody tr")
    rows = page.locator(".sparql-table tbody tr")
    assert rows.count() >= 1
    assert "sd_graphs" not in page.inner_text("#sparql-status")
    assert "row" in page.inner_text("#sparql-status")
    assert "GRAPH ?graph" in page.evaluate(
        "() => document.querySelector('.CodeMirror').CodeMirror.getValue()")
    # IRIs link to their pages
    href = page.locator(".sparql-table a.iri").first.get_attribute("href")
    assert href.startswith("/resource?iri=https%3A%2F%2Fw3id.org%2Fromagraph%2Fgraph%2F")

    # the permalink and the downloads carry the query
    assert page.url.startswith(f"{sparql_server}/sparql?query=")
    csv_href = page.locator("#dl-csv").get_attribute("href")
    assert parse_qs(urlsplit(csv_href).query)["format"] == ["csv"]
    r = httpx.get(f"{sparql_server}{csv_href}", timeout=10)
    assert r.status_code == 200 and r.text.startswith("graph,triples")
    assert page.locator("#dl-json").is_visible()
    assert page.locator("#dl-ttl").is_hidden()  # graph downloads are for CONSTRUCT/DESCRIBE
    page.screenshot(path=str(artifacts / "sparql-workbench.png"), full_page=True)

    # a research query from queries/, if any: runs without an error
    research = page.locator("#research-queries button.run-saved")
    if research.count():
        research.first.click()
        page.wait_for_function(
            "() => ['done', 'error'].includes(document.getElementById('sparql-status').dataset.state)"
            " && !document.getElementById('sparql-run').disabled")
        assert page.locator("#sparql-status").get_attribute("data-state") == "done", \
            page.inner_text("#sparql-results")

    origin = sparql_server
    outside = [u for u in page.requests_seen if not u.startswith(origin) and not u.startswith("data:")]
    assert outside == [], outside
    assert page.console_errors == []


def test_labels_errors_and_truncation_notice(page, sparql_server, artifacts):
    query = ("SELECT ?class ?label WHERE { ?class a owl:Class ; rdfs:label ?label "
             'FILTER(LANG(?label) = "en") } ORDER BY ?label')
    page.goto(f"{sparql_server}/sparql?query={quote(query)}")
    page.wait_for_selector(".sparql-table tbody tr")  # a permalink runs at once
    page.wait_for_selector(".sparql-table a.iri.labelled")  # labels replace the IRIs
    first = page.locator(".sparql-table a.iri.labelled").first
    assert first.inner_text() != first.get_attribute("title")
    assert page.locator(".sparql-table .iri-short").first.inner_text().startswith("rg:")
    assert page.locator("#sparql-truncated").is_hidden()

    # a syntax error is shown with the parser's position
    editor = "document.querySelector('.CodeMirror').CodeMirror"
    page.evaluate(f"() => {editor}.setValue('SELECT * WHERE {{ ?s ?p }}')")
    page.click("#sparql-run")
    page.wait_for_selector("pre.sparql-error")
    assert "error at 1:" in page.inner_text("pre.sparql-error")
    assert page.locator("#sparql-status").get_attribute("data-state") == "error"

    # a result over the row limit says so
    page.evaluate(f"() => {editor}.setValue('SELECT * WHERE {{ ?s ?p ?o }}')")
    page.click(".CodeMirror")
    page.keyboard.press("Control+Enter")  # runs from the keyboard too
    page.wait_for_selector("#sparql-truncated:not([hidden])")
    assert "10000" in page.inner_text("#sparql-truncated")
    assert page.locator(".sparql-table tbody tr").count() == 10000
    page.screenshot(path=str(artifacts / "sparql-workbench-truncated.png"))
    # the browser logs the deliberate 400 as a failed load; nothing else went wrong
    errors = [e for e in page.console_errors if "status of 400" not in e]
    assert errors == []


STRICT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def test_workbench_works_under_a_strict_content_security_policy(page, sparql_server):
    """No inline script or style and no eval: the page keeps working under the CSP planned for
    the site (added here to the page's response)."""

    def with_csp(route):  # noqa: ANN001
        response = route.fetch()
        route.fulfill(response=response,
                      headers={**response.headers, "content-security-policy": STRICT_CSP})

    page.route(f"{sparql_server}/sparql", with_csp)
    page.goto(f"{sparql_server}/sparql")
    page.wait_for_selector(".sparql-yasqe .CodeMirror")
    page.click("#sparql-run")  # the default query: ontology classes
    page.wait_for_selector(".sparql-table tbody tr")
    assert page.locator(".sparql-table tbody tr").count() > 10
    page.wait_for_selector(".sparql-table a.iri.labelled")
    violations = [e for e in page.console_errors if "Content Security Policy" in e]
    assert violations == []
    assert page.console_errors == []
