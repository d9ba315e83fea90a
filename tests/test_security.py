"""Security (issue #9): markup in the data is shown as text on every kind of page and hostile IRI
schemes are never links; HTML responses carry a Content-Security-Policy the vendored scripts
satisfy (checked in a real browser), nosniff, a Referrer-Policy and refuse framing; CORS only on
the read endpoints; the server is read-only; nothing the endpoint evaluates reaches out to the
network (a local TCP listener counts connections)."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import quote, urlencode, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from server.middleware import CSP
from tests.conftest import uvicorn_server
from tests.hostile_app import BAD_SCHEMES, HOSTILE_IRIS, MARKERS, PAYLOAD, create
from tests.test_sparql_limits import Listener

BASE = "https://w3id.org/romagraph/"
ORG = BASE + "id/org/kulturas-ministrija"


@pytest.fixture(scope="module")
def hostile() -> Iterator[TestClient]:
    with TestClient(create(), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def hostile_server() -> Iterator[str]:
    with uvicorn_server("tests.hostile_app:create", ready_path="/sparql/prefixes") as url:
        yield url


# --- markup in the data ------------------------------------------------------------------------


class PageAudit(HTMLParser):
    """Collects what would make a page run or link to something it must not."""

    URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcset"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.links: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler attribute")
            if name in self.URL_ATTRS:
                squeezed = re.sub(r"[\x00-\x20]", "", value).lower()
                if squeezed.startswith(BAD_SCHEMES):
                    self.problems.append(f"<{tag} {name}={value[:60]!r}> hostile scheme")
                if tag == "a" and name == "href":
                    self.links.append(value)
        if tag == "script":
            attr = dict(attrs)
            if not attr.get("src") and attr.get("type") != "application/json":
                self.problems.append("inline <script> that is not a JSON data block")
            if attr.get("src") and not str(attr["src"]).startswith("/static/"):
                self.problems.append(f"script from elsewhere: {attr['src']}")


def audit(html: str) -> PageAudit:
    a = PageAudit()
    a.feed(html)
    for marker in MARKERS:
        if marker in html:
            i = html.index(marker)
            a.problems.append(f"unescaped {marker!r}: …{html[max(0, i - 80): i + 40]!r}")
    return a


# Every kind of page the site has, each reached at least once by the crawl below.
PAGE_KINDS = {
    "home": r"^/$", "browse": r"^/browse$", "browse-class": r"^/browse\?class=",
    "search": r"^/search\?", "doc": r"^/doc/", "def": r"^/def/", "data": r"^/data/",
    "resource": r"^/resource\?", "related": r"^/related\?", "plans": r"^/plans",
    "themes": r"^/themes", "places": r"^/places$", "place": r"^/places/.",
    "sources": r"^/sources$", "source": r"^/sources/.", "sparql": r"^/sparql",
    "connections": r"^/connections", "coordination": r"^/coordination", "coverage": r"^/coverage",
    "changes": r"^/changes", "dataset": r"^/dataset", "ontology": r"^/ontology",
    "shapes": r"^/shapes", "export": r"^/export/$", "not-found": r"^/doc/%3Cscript",
}
SEEDS = [
    "/", "/search?q=" + quote("alert script img"), "/search?q=" + quote(PAYLOAD),
    "/sparql?query=" + quote("SELECT * WHERE { ?s ?p ?o } # " + PAYLOAD),
    "/doc/" + quote("<script>alert(1)</script>"), "/resource?" + urlencode({"iri": HOSTILE_IRIS[0]}),
    "/resource?" + urlencode({"iri": HOSTILE_IRIS[2]}), "/connections?" + urlencode({"from": ORG, "to": HOSTILE_IRIS[0]}),
    "/coordination", "/coverage", "/changes", "/dataset", "/ontology", "/shapes", "/export/",
    "/browse?" + urlencode({"class": "http://www.w3.org/ns/org#Organization"}),
    "/related?" + urlencode({"iri": ORG, "p": "http://www.w3.org/2000/01/rdf-schema#seeAlso",
                             "dir": "out"}),
]


def crawl(client: TestClient, limit: int = 450) -> dict[str, str]:
    """Breadth-first over the site's own links from SEEDS; path → HTML body."""
    seen: dict[str, str] = {}
    queue = list(SEEDS)
    per_kind: Counter[str] = Counter()
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        kind = next((k for k, rx in PAGE_KINDS.items() if re.search(rx, url)), "other")
        if per_kind[kind] >= 40 and url not in SEEDS:  # enough of one kind: breadth first
            continue
        per_kind[kind] += 1
        r = client.get(url, headers={"Accept": "text/html"}, follow_redirects=True)
        assert r.status_code < 500, (url, r.status_code, r.text[:300])
        if not r.headers.get("content-type", "").startswith("text/html"):
            continue
        seen[url] = r.text
        for href in audit(r.text).links:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            if parts.path.startswith(("/static/", "/export/r", "/api/")):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target not in seen:
                queue.append(target)
    return seen


def test_every_page_kind_shows_markup_as_text_and_links_no_hostile_scheme(hostile):
    pages = crawl(hostile)
    kinds = {k for url in pages for k, rx in PAGE_KINDS.items() if re.search(rx, url)}
    assert kinds == set(PAGE_KINDS), f"page kinds never reached: {set(PAGE_KINDS) - kinds}"
    problems = {url: a.problems for url, html in pages.items() if (a := audit(html)).problems}
    assert not problems, problems
    # the payload is there, escaped: the pages really did show the hostile labels
    escaped = sum("&lt;script&gt;alert(1)&lt;/script&gt;" in html for html in pages.values())
    assert escaped > len(pages) // 2
    # and the hostile resources are reachable through our own page, not as their own scheme
    org_page = hostile.get("/doc/org/kulturas-ministrija", headers={"Accept": "text/html"}).text
    assert "/resource?iri=javascript%3Aalert%285%29" in org_page or \
        "/resource?iri=javascript%3Aalert(5)" in org_page


def test_json_apis_and_chart_data_keep_markup_inert(hostile):
    """JSON is served as JSON with nosniff (never sniffed into HTML); links in it are local."""
    r = hostile.get("/api/search", params={"q": "hostile"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["x-content-type-options"] == "nosniff"
    hits = r.json()
    assert hits and all(h["url"].startswith("/") for h in hits)
    r = hostile.get("/api/graph", params={"iri": ORG})
    urls = [n["data"]["url"] if "data" in n else n.get("url") for n in _nodes(r.json())]
    assert urls and not [u for u in urls if u and u.lower().startswith(BAD_SCHEMES)]


def _nodes(graph: object) -> list[dict]:
    if isinstance(graph, dict):
        return list(graph.get("nodes", []))
    return []


# --- headers -------------------------------------------------------------------------------------


def test_security_headers_on_html_and_data(hostile):
    for path in ("/", "/doc/org/kulturas-ministrija", "/sparql", "/browse", "/docs"):
        r = hostile.get(path, headers={"Accept": "text/html"})
        assert r.headers["content-type"].startswith("text/html"), path
        assert r.headers["content-security-policy"] == CSP
        assert "script-src 'self';" in CSP and "unsafe-inline" not in CSP.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in CSP
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "access-control-allow-origin" not in r.headers, path  # no CORS on pages
    r = hostile.get("/doc/org/kulturas-ministrija.ttl")
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    assert r.headers["x-content-type-options"] == "nosniff"


CORS_READ = [
    ("/sparql?query=ASK%7B%7D", {"Accept": "application/sparql-results+json"}),
    ("/sparql", {"Accept": "text/turtle"}),
    ("/doc/org/kulturas-ministrija", {"Accept": "text/turtle"}),
    ("/doc/org/kulturas-ministrija.jsonld", {}),
    ("/resource?iri=" + quote(ORG, safe=""), {"Accept": "application/n-triples"}),
    ("/api/search?q=jelgava", {}),
    ("/api/coordination", {}),
    ("/sparql/prefixes", {}),
    ("/dataset", {"Accept": "text/turtle"}),
    ("/context.jsonld", {}),
]
NO_CORS = [
    ("/", {"Accept": "text/html"}), ("/doc/org/kulturas-ministrija", {"Accept": "text/html"}),
    ("/sparql", {"Accept": "text/html"}), ("/browse", {}), ("/search?q=a", {}),
    ("/static/style.css", {}), ("/openapi.json", {}),
]


def test_cors_on_read_endpoints_only(hostile):
    for path, headers in CORS_READ:
        r = hostile.get(path, headers={"Origin": "https://elsewhere.example", **headers})
        assert r.status_code == 200, (path, r.text[:200])
        assert r.headers.get("access-control-allow-origin") == "*", path
    for path, headers in NO_CORS:
        r = hostile.get(path, headers={"Origin": "https://elsewhere.example", **headers})
        assert r.status_code == 200, path
        assert "access-control-allow-origin" not in r.headers, path
    # a preflight is answered on read endpoints, not on pages
    r = hostile.options("/api/search", headers={"Origin": "https://x.example",
                                                 "Access-Control-Request-Method": "GET"})
    assert r.status_code == 204 and r.headers["access-control-allow-origin"] == "*"
    r = hostile.options("/browse", headers={"Origin": "https://x.example"})
    assert "access-control-allow-origin" not in r.headers


# --- read-only ------------------------------------------------------------------------------------

WRITE_TARGETS = ["/sparql", "/store", "/data/anything", "/doc/org/kulturas-ministrija", "/",
                 "/sparql/labels", "/graph-store", "/export/romagraph.ttl", "/api/search"]


def test_every_write_method_is_refused_with_a_message(hostile):
    for method in ("PUT", "DELETE", "PATCH", "POST"):
        for path in WRITE_TARGETS:
            if method == "POST" and path in ("/sparql", "/sparql/labels"):
                continue  # queries: below
            r = hostile.request(method, path, content=b"<s> <p> <o> .",
                                headers={"Content-Type": "text/turtle"})
            assert r.status_code == 405, (method, path, r.status_code)
            assert "read-only" in r.text and method in r.text
            assert "GET" in r.headers["allow"]
    for method in ("PROPFIND", "MKCOL", "TRACE", "CONNECT-X"):
        assert hostile.request(method, "/store").status_code == 405


UPDATES = [
    "INSERT DATA { <http://e/s> <http://e/p> <http://e/o> }",
    "DELETE WHERE { ?s ?p ?o }",
    "CLEAR ALL", "DROP DEFAULT", "CREATE GRAPH <http://e/g>",
    "LOAD <http://127.0.0.1:9/data.ttl>",
    "WITH <http://e/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "COPY DEFAULT TO <http://e/g>", "MOVE <http://e/a> TO <http://e/b>", "ADD <http://e/a> TO <http://e/b>",
]


def test_sparql_update_is_403_in_every_form(hostile):
    size = len(hostile.app.state.store)
    for update in UPDATES:
        responses = [
            hostile.post("/sparql", content=update, headers={"Content-Type": "application/sparql-update"}),
            hostile.post("/sparql", data={"update": update}),
            hostile.get("/sparql", params={"update": update}),
            hostile.post("/sparql", data={"query": update}),
            hostile.get("/sparql", params={"query": update}),
            hostile.post("/sparql", content=update, headers={"Content-Type": "application/sparql-query"}),
        ]
        for r in responses:
            assert r.status_code == 403, (update, r.status_code, r.text)
            assert "read-only" in r.text
    assert len(hostile.app.state.store) == size


# --- nothing reaches out -------------------------------------------------------------------------


def reaching_out(port: int) -> list[tuple[str, dict, dict]]:
    """Requests that would make a naive server connect to the listener: (path, params, extra)."""
    here = f"http://127.0.0.1:{port}"
    graph = f"{here}/graph.ttl"
    q = [
        f"SELECT * WHERE {{ SERVICE <{here}/sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{here}/sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ BIND(<{here}/sparql> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
        f"LOAD <{graph}>",
        f"LOAD SILENT <{graph}> INTO GRAPH <http://e/g>",
        f"SELECT * FROM <{graph}> WHERE {{ ?s ?p ?o }}",
        f"SELECT * FROM NAMED <{graph}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        f"CONSTRUCT {{ ?s ?p ?o }} FROM <{graph}> WHERE {{ ?s ?p ?o }}",
        f"ASK FROM <{graph}> FROM NAMED <{here}/other> {{ ?s ?p ?o }}",
        f"SELECT * WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}",
        f"DESCRIBE <{graph}>",
        f"SELECT ?x WHERE {{ BIND(IRI(\"{graph}\") AS ?x) }}",
        f"SELECT * WHERE {{ <{graph}> ?p ?o }}",
    ]
    out: list[tuple[str, dict, dict]] = []
    for query in q:
        out.append(("/sparql", {"query": query}, {}))
        out.append(("/sparql", {"query": query, "format": "jsonld"}, {}))
    for param in ("default-graph-uri", "named-graph-uri"):
        out.append(("/sparql", {"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1", param: graph}, {}))
    out += [
        ("/resource", {"iri": graph}, {}),
        ("/resource", {"iri": graph, "format": "jsonld"}, {}),
        ("/api/graph", {"iri": graph}, {}),
        ("/related", {"iri": graph, "p": graph}, {}),
        ("/connections", {"from": graph, "to": ORG}, {}),
        ("/browse", {"class": graph}, {}),
        ("/plans", {"plan": graph}, {}),
        ("/doc/org/kulturas-ministrija", {}, {"Accept": "application/ld+json"}),
        ("/sparql", {}, {"Accept": "application/ld+json"}),
    ]
    return out


def test_nothing_the_server_is_asked_reaches_out(hostile_server):
    listener = Listener()
    try:
        port = listener.port
        statuses = Counter()
        for path, params, headers in reaching_out(port):
            r = httpx.get(hostile_server + path, params=params, headers=headers, timeout=15)
            assert r.status_code < 500, (path, params, r.status_code, r.text[:300])
            statuses[r.status_code] += 1
        here = f"http://127.0.0.1:{port}/x"
        r = httpx.post(hostile_server + "/sparql/labels", json={"iris": [here]}, timeout=15)
        assert r.status_code == 200
        r = httpx.post(hostile_server + "/sparql", content=f"LOAD <{here}>", timeout=15,
                       headers={"Content-Type": "application/sparql-update"})
        assert r.status_code == 403
        time.sleep(1.0)
        assert listener.connections == [], listener.connections
        assert statuses[403] >= 10 and statuses[200] >= 10, statuses  # refused, or inert
    finally:
        listener.close()


# --- CSP in a real browser -----------------------------------------------------------------------

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
});
"""


def _dataset_path(client_url: str) -> str:
    """A statistics dataset page (it draws a chart.js chart)."""
    r = httpx.get(client_url + "/sparql", timeout=20, params={
        "query": "SELECT ?d WHERE { ?d a qb:DataSet } LIMIT 1", "format": "json"})
    iri = r.json()["results"]["bindings"][0]["d"]["value"]
    return "/resource?" + urlencode({"iri": iri})


@pytest.mark.browser
def test_vendored_scripts_work_under_the_csp(browser, hostile_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    checked = []
    try:
        # YASGUI: the editor takes over the textarea and a query fills the result table
        page.goto(hostile_server + "/sparql")
        page.wait_for_selector(".sparql-yasqe .CodeMirror", timeout=20000)
        page.click("#server-queries >> xpath=..")
        page.locator("button[data-query-id='s-sd_graphs']").click()
        page.wait_for_selector(".sparql-table tbody tr", timeout=20000)
        checked.append("yasgui")
        # cytoscape: the relationship graph draws into its container
        page.goto(hostile_server + "/doc/org/kulturas-ministrija")
        page.wait_for_selector("#relationship-graph canvas", timeout=20000)
        checked.append("cytoscape")
        # chart.js: a dataset page draws its chart
        page.goto(hostile_server + _dataset_path(hostile_server))
        page.wait_for_function(
            "() => { const c = document.getElementById('dataset-chart');"
            " return c && window.Chart && window.Chart.getChart(c); }", timeout=20000)
        checked.append("chart.js")
        # Swagger UI (vendored) renders the API description
        page.goto(hostile_server + "/docs")
        page.wait_for_selector(".swagger-ui .opblock", timeout=20000)
        checked.append("swagger-ui")
        # the search box's autocomplete (the site's own script)
        page.goto(hostile_server + "/")
        page.locator("#site-search-q").press_sequentially("hostile", delay=30)
        page.wait_for_selector("#site-search-q-listbox [role=option]", timeout=10000)
        checked.append("search")
        violations = page.evaluate("window.__csp")
    finally:
        context.close()
    assert checked == ["yasgui", "cytoscape", "chart.js", "swagger-ui", "search"]
    csp_console = [m for m in console if "Content Security Policy" in m]
    assert not csp_console, csp_console
    assert not violations, violations
    assert not dialogs, dialogs  # no injected alert() ever ran


@pytest.mark.browser
def test_the_csp_does_block_an_injected_script(browser, hostile_server):
    """Control for the test above: the listener sees a violation when there is one."""
    context = browser.new_context()
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    try:
        page.goto(hostile_server + "/")
        page.evaluate("""() => { const s = document.createElement('script');
            s.textContent = 'window.__ran = 1'; document.body.appendChild(s); }""")
        page.wait_for_timeout(300)
        assert page.evaluate("window.__ran") is None
        assert any("script-src" in v for v in page.evaluate("window.__csp"))
    finally:
        context.close()
