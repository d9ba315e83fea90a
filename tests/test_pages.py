"""Resource pages, content negotiation, entry points and search, over HTTP (TestClient).

Every test runs against the fixture graph of tests/fixtures/pages/ and, when data/ holds
Turtle, against the repository's data too. Resources are picked by SPARQL, so the tests
follow the data rather than hard-coding it."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from urllib.parse import quote, urlencode

import pyoxigraph as ox
import pytest
import rdflib
from fastapi.testclient import TestClient

from server.app import create_app
from server.services.catalogue import Catalogue
from server.services.present import View, format_amount, format_date, resource_path
from server.services.search import SearchIndex
from server.services.text import fold, stem
from server.store import OxigraphStore
from tests.pages_support import fixture_settings, fixture_store, repo_has_data, repo_store

BASE = "https://w3id.org/romagraph/"
GRAPHS = ["fixture", pytest.param("repo", marks=pytest.mark.skipif(not repo_has_data(), reason="data/ is empty"))]
OA_SOURCE = "http://www.w3.org/ns/oa#hasSource"
PREFIXES = """
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
"""
# The classes whose pages must show relations in both directions, and the ones a real graph
# must have at least one such resource of.
MAIN = {
    "org:Organization": "http://www.w3.org/ns/org#Organization",
    "foaf:Person": "http://xmlns.com/foaf/0.1/Person",
    "schema:Project": "https://schema.org/Project",
    "schema:Event": "https://schema.org/Event",
    "rg:PlanItem": BASE + "def/rg#PlanItem",
    "rg:Plan": BASE + "def/rg#Plan",
    "eli:LegalResource": "http://data.europa.eu/eli/ontology#LegalResource",
    "rg:FundingProgramme": BASE + "def/rg#FundingProgramme",
    "dct:Location": "http://purl.org/dc/terms/Location",
    "qb:DataSet": "http://purl.org/linked-data/cube#DataSet",
    "schema:MonetaryGrant": "https://schema.org/MonetaryGrant",
    "org:Membership": "http://www.w3.org/ns/org#Membership",
    "org:Post": "http://www.w3.org/ns/org#Post",
    "cv:Participation": "http://data.europa.eu/m8g/Participation",
    "rg:ReportedResult": BASE + "def/rg#ReportedResult",
    "rg:SourceSection": BASE + "def/rg#SourceSection",
    "rg:Citation": BASE + "def/rg#Citation",
}
# Memberships and posts are only ever pointed at from their own statements (data/README.md):
# nothing links to them, so their pages have outgoing relations only.
OUTGOING_ONLY = {"org:Membership", "org:Post"}
REQUIRED_IN_REPO = {"org:Organization", "schema:Project", "schema:Event", "rg:PlanItem", "dct:Location"}


@pytest.fixture(scope="module", params=GRAPHS)
def graph(request: pytest.FixtureRequest) -> tuple[str, OxigraphStore, TestClient]:
    store = fixture_store() if request.param == "fixture" else repo_store()
    app = create_app(fixture_settings(), store)
    return request.param, store, TestClient(app)


def html_get(client: TestClient, url: str, **headers: str) -> str:
    client.cookies.clear()  # no language remembered from an earlier test
    r = client.get(url, headers={"accept": "text/html", **headers})
    assert r.status_code == 200, (url, r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("text/html")
    return r.text


def pick(store: OxigraphStore, cls: str, incoming: bool = True) -> str | None:
    """A resource of ``cls`` (or a subclass) with an incoming link and an outgoing link to an
    IRI: a relation other than its type and citation when the graph has one, else any."""
    strict = "FILTER(isIRI(?o) && ?p != rdf:type && ?p != prov:wasDerivedFrom)"
    for out_filter in (strict, "FILTER(isIRI(?o))"):
        for typing in ("?sub rdfs:subClassOf* ?cls . ?s rdf:type ?sub .", "?s rdf:type ?cls ."):
            q = PREFIXES + f"""
            SELECT ?cls ?s WHERE {{
              {typing}
              ?s ?p ?o . {out_filter}
              {"?x ?q ?s . FILTER(?q != rdf:type)" if incoming else ""}
            }} LIMIT 1"""
            rows = store.select(q, {"cls": ox.NamedNode(cls)})
            if rows:
                return rows[0]["s"].value
    return None


def link_targets(store: OxigraphStore, iri: str) -> set[str]:
    """The URLs a page may use for a linked IRI: its page, a browse list for a class, the
    passage on the source section's page for a citation."""
    urls = {resource_path(iri, BASE), "/browse?" + urlencode({"class": iri})}
    for t in store.inner.quads_for_pattern(ox.NamedNode(iri), ox.NamedNode(OA_SOURCE), None):
        urls.add(resource_path(t.object.value, BASE) + "#cite-" + iri.rsplit("/", 1)[-1])
    return urls


def neighbours(store: OxigraphStore, iri: str) -> tuple[set[str], set[str]]:
    """URLs a page must be able to link to: of outgoing objects and of incoming subjects, plus,
    for qualified nodes, of what those nodes connect."""
    r = ox.NamedNode(iri)
    out = {t.object.value for t in store.inner.quads_for_pattern(r, None, None)
           if isinstance(t.object, ox.NamedNode)}
    inc = {t.subject.value for t in store.inner.quads_for_pattern(None, None, r)
           if isinstance(t.subject, ox.NamedNode)}
    expanded_out, expanded_in = set(out), set(inc)
    for group, target in ((out, expanded_out), (inc, expanded_in)):
        for n in list(group)[:300]:
            node = ox.NamedNode(n)
            target |= {t.object.value for t in store.inner.quads_for_pattern(node, None, None)
                       if isinstance(t.object, ox.NamedNode)}
            target |= {t.subject.value for t in store.inner.quads_for_pattern(None, None, node)
                       if isinstance(t.subject, ox.NamedNode)}
    expanded_out.discard(iri)
    expanded_in.discard(iri)
    urls_out = {u for o in expanded_out for u in link_targets(store, o)}
    urls_in = {u for s in expanded_in for u in link_targets(store, s)}
    return urls_out, urls_in


def hrefs(html: str) -> set[str]:
    return {h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', html)}


# ----------------------------------------------------------------------------- resource pages


@pytest.mark.parametrize("curie", sorted(MAIN))
def test_every_main_class_has_a_page_with_links_both_ways(graph, curie: str) -> None:
    name, store, client = graph
    iri = pick(store, MAIN[curie], incoming=curie not in OUTGOING_ONLY)
    if iri is None:
        if name == "fixture" or curie in REQUIRED_IN_REPO:
            pytest.fail(f"no {curie} with incoming and outgoing links in the {name} graph")
        pytest.skip(f"the {name} graph has no {curie} with links both ways")
    html = html_get(client, resource_path(iri, BASE))
    links = hrefs(html)
    out, inc = neighbours(store, iri)
    assert out & links, f"{iri}: no outgoing link shown"
    if curie not in OUTGOING_ONLY:
        assert inc & links, f"{iri}: no incoming link shown"
    assert '<h1' in html and 'id="relationship-graph"' in html
    assert "text/turtle" in html  # links to the RDF


def test_page_words_relations_in_both_directions_and_flattens_roles(graph) -> None:
    name, store, client = graph
    task = pick(store, MAIN["rg:PlanItem"])
    rows = store.select(PREFIXES + """
        PREFIX cv: <http://data.europa.eu/m8g/>
        SELECT ?ctx ?agent WHERE { ?ctx cv:hasParticipation ?p . ?p cv:hasParticipant ?agent } LIMIT 1""")
    ctx, agent = rows[0]["ctx"].value, rows[0]["agent"].value
    ctx_page = html_get(client, resource_path(ctx, BASE))
    agent_page = html_get(client, resource_path(agent, BASE))
    # flattened: the context's page links straight to the agent and back
    assert resource_path(agent, BASE) in hrefs(ctx_page)
    assert resource_path(ctx, BASE) in hrefs(agent_page)
    assert "participants" in ctx_page.lower() and "takes part in" in agent_page.lower()
    lv = html_get(client, resource_path(agent, BASE) + "?lang=lv")
    assert "piedalās" in lv.lower()
    assert task


def test_fixture_page_shows_roles_dates_amounts_citations() -> None:
    client = TestClient(create_app(fixture_settings(), fixture_store()))
    html = html_get(client, "/doc/project/toy-rotallietu-biblioteka")
    assert "Centre for Education Initiatives" in html  # implementer, flattened
    assert "implementer" in html and "partner" in html
    assert "EUR\u00a012,500.50" in html  # amount with separators
    assert "January 2018" in html  # gYearMonth, localised
    assert "42 families" in html  # result value and unit
    assert 'href="/doc/source/km2018/IV#cite-jelgava"' in html  # citation → section passage
    lv = html_get(client, "/doc/project/toy-rotallietu-biblioteka?lang=lv")
    assert "12\u202f500,50\u00a0EUR" in lv
    assert "2018. gada janvāris" in lv
    assert 'lang="lv"' in lv
    org = html_get(client, "/doc/org/kulturas-ministrija?lang=en")
    assert "Kultūras ministrija" in org and "Ministry of Culture" in org  # both languages
    assert "Timeline" in org and "24 August 2012" in org
    assert "chair" in org  # membership role


def test_dataset_page_has_chart_data_and_table(graph) -> None:
    name, store, client = graph
    rows = store.select(PREFIXES + """
        PREFIX qb: <http://purl.org/linked-data/cube#>
        SELECT ?ds WHERE { ?o qb:dataSet ?ds } LIMIT 1""")
    ds = rows[0]["ds"].value
    html = html_get(client, resource_path(ds, BASE))
    assert 'type="application/json" id="dataset-chart-data"' in html
    assert 'id="dataset-chart"' in html and "chart.umd.min.js" in html
    r = client.get("/api/dataset", params={"iri": ds})
    assert r.status_code == 200
    data = r.json()
    assert data["observations"] and data["chart"]["labels"] and data["chart"]["datasets"]


def test_section_page_lists_what_is_cited_from_it(graph) -> None:
    name, store, client = graph
    rows = store.select(PREFIXES + """
        PREFIX oa: <http://www.w3.org/ns/oa#>
        SELECT ?section ?c ?s WHERE { ?c oa:hasSource ?section . ?s prov:wasDerivedFrom ?c } LIMIT 1""")
    section, cited = rows[0]["section"].value, rows[0]["s"].value
    html = html_get(client, resource_path(section, BASE))
    anchor = "cite-" + rows[0]["c"].value.rsplit("/", 1)[-1]
    assert f'id="{anchor}"' in html
    assert resource_path(cited, BASE) in hrefs(html)


# ----------------------------------------------------------------------------- dereferencing


def test_id_answers_303_to_doc(graph) -> None:
    _, store, client = graph
    iri = pick(store, MAIN["org:Organization"])
    path = iri[len(BASE) - 1:]  # /id/org/…
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/doc/" + path[len("/id/"):]
    assert "Accept" in r.headers["vary"]
    r = client.get(path + "?format=ttl", follow_redirects=False)
    assert r.headers["location"].endswith("?format=ttl")


@pytest.mark.parametrize(
    ("how", "media_type", "rdflib_format"),
    [
        ({"accept": "text/turtle"}, "text/turtle", "turtle"),
        ({"accept": "application/ld+json"}, "application/ld+json", "json-ld"),
        ({"accept": "application/n-triples"}, "application/n-triples", "nt"),
        ({"accept": "application/rdf+xml"}, "application/rdf+xml", "xml"),
        ({"format": "ttl"}, "text/turtle", "turtle"),
        ({"suffix": "jsonld"}, "application/ld+json", "json-ld"),
        ({"suffix": "nt"}, "application/n-triples", "nt"),
        ({"suffix": "rdf"}, "application/rdf+xml", "xml"),
        ({"accept": "text/html;q=0.5, text/turtle;q=0.9"}, "text/turtle", "turtle"),
    ],
)
def test_conneg_returns_the_description(graph, how: dict[str, str], media_type: str, rdflib_format: str) -> None:
    _, store, client = graph
    iri = pick(store, MAIN["schema:Project"])
    url = resource_path(iri, BASE)
    headers = {"accept": how["accept"]} if "accept" in how else {"accept": "text/html"}
    if "format" in how:
        url += "?format=" + how["format"]
    if "suffix" in how:
        url += "." + how["suffix"]
    r = client.get(url, headers=headers)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].split(";")[0] == media_type
    assert "Accept" in r.headers["vary"]
    g = rdflib.Graph()
    g.parse(data=r.content, format=rdflib_format)
    subject = rdflib.URIRef(iri)
    for t in store.inner.quads_for_pattern(ox.NamedNode(iri), None, None):
        assert (subject, rdflib.URIRef(t.predicate.value), None) in g, t
    for t in list(store.inner.quads_for_pattern(None, None, ox.NamedNode(iri)))[:50]:
        assert (rdflib.URIRef(t.subject.value), rdflib.URIRef(t.predicate.value), subject) in g, t


def test_description_includes_qualified_nodes_and_their_citations() -> None:
    client = TestClient(create_app(fixture_settings(), fixture_store()))
    r = client.get("/doc/org/kulturas-ministrija.ttl")
    g = rdflib.Graph().parse(data=r.content, format="turtle")
    part = rdflib.URIRef(BASE + "id/participation/nip-2019-2020-1.3.3/responsible/kulturas-ministrija")
    cv = rdflib.Namespace("http://data.europa.eu/m8g/")
    assert (part, cv.role, rdflib.URIRef(BASE + "def/role/responsible")) in g
    assert (rdflib.URIRef(BASE + "id/plan/nip-2019-2020/1.3.3"), cv.hasParticipation, part) in g
    cite = rdflib.URIRef(BASE + "id/citation/km2018/II-council/plan-tasks")
    assert (cite, rdflib.URIRef("http://www.w3.org/ns/oa#hasSource"), None) in g


def test_def_and_data_and_any_iri_are_served(graph) -> None:
    _, store, client = graph
    html_get(client, "/def/theme/education")
    html_get(client, "/resource?iri=" + quote("http://www.w3.org/ns/org#Organization", safe=""))
    r = client.get("/def/theme/education.ttl")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")


def test_unknown_resource_is_a_404_page_with_search(graph) -> None:
    _, _, client = graph
    r = client.get("/doc/org/jelgavas-nav-tada", headers={"accept": "text/html"})
    assert r.status_code == 404
    assert 'role="search"' in r.text and 'action="/search"' in r.text
    assert "/doc/org/jelgavas" in r.text or "Jelgava" in r.text  # suggestions from the slug
    r = client.get("/doc/org/jelgavas-nav-tada", headers={"accept": "text/turtle"})
    assert r.status_code == 404 and not r.text.startswith("<!doctype")
    r = client.get("/resource", params={"iri": "http://example.org/nothing"}, headers={"accept": "text/html"})
    assert r.status_code == 404
    r = client.get("/no/such/page", headers={"accept": "text/html"})
    assert r.status_code == 404 and 'role="search"' in r.text


def test_not_acceptable(graph) -> None:
    _, store, client = graph
    iri = pick(store, MAIN["org:Organization"])
    r = client.get(resource_path(iri, BASE), headers={"accept": "image/png"})
    assert r.status_code == 406


# ----------------------------------------------------------------------------- search


def test_search_json_shape_and_jelgava(graph) -> None:
    _, _, client = graph
    r = client.get("/api/search", params={"q": "jelgava"})
    assert r.status_code == 200
    hits = r.json()
    assert isinstance(hits, list) and hits
    for h in hits:
        assert {"iri", "label", "type"} <= set(h)
    iris = [h["iri"] for h in hits]
    assert iris[0] == BASE + "id/place/jelgava"  # the exact label first
    assert BASE + "id/org/jelgavas-pilsetas-pasvaldiba" in iris
    for q in ("Jelgavas", "JELGAVĀ", "jelgavas pilsetas dome", "jelg"):
        found = [h["iri"] for h in client.get("/api/search", params={"q": q, "limit": 20}).json()]
        assert BASE + "id/org/jelgavas-pilsetas-pasvaldiba" in found, q
        assert BASE + "id/place/jelgava" in found or "dome" in q, q
    html = html_get(client, "/search?q=jelgava")
    assert resource_path(BASE + "id/place/jelgava", BASE) in hrefs(html)


def test_search_ranking_and_folding() -> None:
    cat = Catalogue.build(fixture_store(), BASE)
    idx = SearchIndex.build(cat)
    assert fold("Ģimeņu Ķēķis") == "gimenu kekis" and stem("jelgavas") == stem("jelgava")
    hits = idx.search("km", "lv")
    assert BASE + "id/org/kulturas-ministrija" in [h.iri for h in hits]  # by altLabel
    ranked = [h.iri for h in idx.search("kultūras ministrija", "lv")]
    assert ranked[0] == BASE + "id/org/kulturas-ministrija"
    assert idx.search("", "en") == [] and idx.search("zzzzqqq", "en") == []


# ----------------------------------------------------------------------------- entry points


def test_home_page_counts_and_ways_in(graph) -> None:
    _, _, client = graph
    html = html_get(client, "/")
    for href in ("/browse?class=", "/plans", "/themes", "/places", "/sources", "/search"):
        assert href in html
    lv = html_get(client, "/?lang=lv")
    assert "Kas ko dara" in lv and '<html lang="lv">' in lv


def test_browse_with_filters(graph) -> None:
    _, store, client = graph
    org = MAIN["org:Organization"]
    html = html_get(client, "/browse?class=" + quote(org, safe=""))
    assert "<select" in html and 'name="place"' in html
    jelgava = BASE + "id/place/jelgava"
    filtered = html_get(client, "/browse?class=" + quote(org, safe="") + "&place=" + quote(jelgava, safe=""))
    assert resource_path(BASE + "id/org/jelgavas-pilsetas-pasvaldiba", BASE) in hrefs(filtered)
    assert resource_path(BASE + "id/org/kulturas-ministrija", BASE) not in hrefs(filtered)
    html_get(client, "/browse?class=" + quote(MAIN["schema:Project"], safe="") + "&year=2018")
    html_get(client, "/browse")


def test_plan_tree_themes_places_sources(graph) -> None:
    name, store, client = graph
    rows = store.select(PREFIXES + """
        PREFIX cv: <http://data.europa.eu/m8g/>
        PREFIX rg: <https://w3id.org/romagraph/def/rg#>
        SELECT ?task ?agent WHERE { ?task a rg:PlanTask ; cv:hasParticipation/cv:hasParticipant ?agent } LIMIT 1""")
    plans = html_get(client, "/plans")
    if rows:
        assert resource_path(rows[0]["task"].value, BASE) in hrefs(plans)
        assert resource_path(rows[0]["agent"].value, BASE) in hrefs(plans)
    themes = html_get(client, "/themes")
    assert resource_path(BASE + "def/theme/education", BASE) in hrefs(themes)
    place = html_get(client, "/places/jelgava")
    assert resource_path(BASE + "id/org/jelgavas-pilsetas-pasvaldiba", BASE) in hrefs(place)
    projects = store.select(PREFIXES + """
        PREFIX dct: <http://purl.org/dc/terms/>
        PREFIX schema: <https://schema.org/>
        SELECT ?place ?p WHERE { ?p a schema:Project ; dct:spatial ?place }""", {"place": ox.NamedNode(BASE + "id/place/jelgava")})
    for row in projects:
        assert resource_path(row["p"].value, BASE) in hrefs(place)
    assert "/places/jelgava" in hrefs(html_get(client, "/doc/place/jelgava"))
    html_get(client, "/places")
    sources = html_get(client, "/sources")
    assert "/sources/km2018" in hrefs(sources)
    html_get(client, "/sources/km2018")
    assert client.get("/places/atlantis", headers={"accept": "text/html"}).status_code == 404


def test_graph_api(graph) -> None:
    _, store, client = graph
    iri = pick(store, MAIN["schema:Project"])
    data = client.get("/api/graph", params={"iri": iri}).json()
    assert data["root"] == iri
    ids = {n["id"] for n in data["nodes"]}
    assert iri in ids and len(ids) > 2
    assert all(e["source"] in ids and e["target"] in ids for e in data["edges"])
    assert all({"label", "category", "url"} <= set(n) for n in data["nodes"])
    assert client.get("/api/graph", params={"iri": "http://example.org/x"}).status_code == 404


# ----------------------------------------------------------------------------- languages


def test_language_by_param_cookie_and_header(graph) -> None:
    _, store, _ = graph
    client = TestClient(create_app(fixture_settings(), store))
    assert '<html lang="en">' in html_get(client, "/places")
    assert '<html lang="lv">' in html_get(client, "/places", **{"accept-language": "lv-LV,lv;q=0.9"})
    assert '<html lang="lv">' in html_get(client, "/places?lang=lv")
    assert '<html lang="lv">' in client.get("/places").text  # the cookie remembers
    html = html_get(client, "/search?q=jelgava&lang=en")
    assert 'href="/search?q=jelgava&amp;lang=lv"' in html  # the switch keeps the query


def test_label_fallback_and_formats() -> None:
    store = OxigraphStore()
    store.inner.load(
        b'<https://w3id.org/romagraph/id/org/x> <http://www.w3.org/2004/02/skos/core#prefLabel> "Tikai latviski"@lv .\n'
        b'<https://w3id.org/romagraph/id/org/y> <http://www.w3.org/2004/02/skos/core#prefLabel> "Only English"@en .\n'
        b'<https://w3id.org/romagraph/id/org/z> <http://www.w3.org/2004/02/skos/core#note> "x" .\n',
        format=ox.RdfFormat.N_TRIPLES,
    )
    cat = Catalogue.build(store, BASE)
    assert cat.label(BASE + "id/org/x", "en") == "Tikai latviski"
    assert cat.label(BASE + "id/org/y", "lv") == "Only English"
    assert cat.label(BASE + "id/org/z", "lv") == "id/org/z"  # the IRI
    assert View(cat, "en").label_lang(BASE + "id/org/x") == "lv"
    assert format_amount("1234567.5", "EUR", "en") == "EUR\u00a01,234,567.50"
    assert format_amount("1234567.5", "EUR", "lv") == "1\u202f234\u202f567,50\u00a0EUR"
    assert format_date("2018-11-28", "en") == "28 November 2018"
    assert format_date("2018-11-28", "lv") == "2018. gada 28. novembris"
    assert format_date("2018", "en") == "2018"


# ----------------------------------------------------------------------------- quality


class _Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.problems: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "script" and "src" not in a and a.get("type") != "application/json":
            self.problems.append("inline script")
        if any(k.startswith("on") for k in a):
            self.problems.append(f"inline event handler on <{tag}>")
        if "style" in a:
            self.problems.append(f"inline style on <{tag}>")
        if tag == "img" and "alt" not in a:
            self.problems.append("img without alt")
        if (i := a.get("id")) is not None:
            if i in self.ids:
                self.problems.append(f"duplicate id {i}")
            self.ids.add(i)


@pytest.mark.parametrize(
    "url",
    ["/", "/doc/org/kulturas-ministrija", "/doc/project/toy-rotallietu-biblioteka", "/data/registered-unemployed",
     "/doc/source/km2018/IV", "/plans", "/themes", "/places", "/places/jelgava", "/sources", "/sources/km2018",
     "/browse", "/search?q=jelgava", "/doc/plan/nip-2019-2020/1.3.3"],
)
def test_html_is_accessible_and_script_free(url: str) -> None:
    client = TestClient(create_app(fixture_settings(), fixture_store()))
    for lang in ("en", "lv"):
        html = html_get(client, f"{url}{'&' if '?' in url else '?'}lang={lang}")
        audit = _Audit()
        audit.feed(html)
        assert audit.problems == [], (url, audit.problems)
        assert audit.tags.count("main") == 1 and audit.tags.count("h1") == 1, url
        assert "header" in audit.tags and "nav" in audit.tags and "footer" in audit.tags
        assert 'role="search"' in html and f'<html lang="{lang}">' in html
        assert not re.search(r"<p[^>]*>(?:(?!</p>).)*<(?:details|div|ul|table)", html, re.S), "block inside <p>"


# ----------------------------------------------------------------------------- hubs


def test_hub_page_is_paged_without_sorting_everything() -> None:
    """An organisation with 3000 incoming links and 400 participations renders fast, shows a
    page of each group and links to the rest."""
    lines = [
        f'<{BASE}id/org/hub> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/ns/org#Organization> .',
        f'<{BASE}id/org/hub> <http://www.w3.org/2004/02/skos/core#prefLabel> "Hub"@en .',
    ]
    for i in range(3000):
        lines.append(f'<{BASE}id/project/p{i}> <http://purl.org/dc/terms/publisher> <{BASE}id/org/hub> .')
        lines.append(f'<{BASE}id/project/p{i}> <http://www.w3.org/2004/02/skos/core#prefLabel> "Project {i}"@en .')
    for i in range(400):
        q = f"{BASE}id/participation/p{i}/partner/hub"
        lines += [
            f'<{q}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://data.europa.eu/m8g/Participation> .',
            f'<{q}> <http://data.europa.eu/m8g/hasParticipant> <{BASE}id/org/hub> .',
            f'<{BASE}id/project/p{i}> <http://data.europa.eu/m8g/hasParticipation> <{q}> .',
        ]
    store = OxigraphStore()
    store.inner.load("\n".join(lines).encode(), format=ox.RdfFormat.N_TRIPLES)
    client = TestClient(create_app(fixture_settings(), store))
    html_get(client, "/doc/org/hub")
    started = time.perf_counter()
    html = html_get(client, "/doc/org/hub")
    assert time.perf_counter() - started < 1.0
    assert html.count("/doc/project/p") < 200  # a page per group, not 3400 links
    more = [h for h in hrefs(html) if h.startswith("/related?")]
    assert len(more) >= 2
    for url in more:
        page2 = html_get(client, url + "&page=2")
        assert "/doc/project/p" in page2


def _hub_app(links: int, prop: str = "http://purl.org/dc/terms/publisher") -> TestClient:
    lines = [
        f'<{BASE}id/org/hub> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/ns/org#Organization> .',
        f'<{BASE}id/org/hub> <http://www.w3.org/2004/02/skos/core#prefLabel> "Hub"@en .',
    ]
    for i in range(links):
        lines.append(f'<{BASE}id/project/p{i}> <{prop}> <{BASE}id/org/hub> .')
        lines.append(f'<{BASE}id/project/p{i}> <http://www.w3.org/2004/02/skos/core#prefLabel> "Project {i:05d}"@en .')
    store = OxigraphStore()
    store.inner.load("\n".join(lines).encode(), format=ox.RdfFormat.N_TRIPLES)
    return TestClient(create_app(fixture_settings(), store))


@pytest.mark.parametrize("links", [30, 150, 700, 1200])
def test_incoming_group_shows_a_page_and_counts_the_rest(links: int) -> None:
    """Whatever the number of incoming links (a few, more than the first probe, more than the
    window, more than the count cap), the page shows one page of them, their count (capped as
    "1000+") and a link to the paged list of all of them."""
    from server.services.describe import COUNT_CAP, PAGE

    client = _hub_app(links)
    html = html_get(client, "/doc/org/hub")
    projects = set(re.findall(r'href="/doc/project/(p\d+)"', html))
    assert len(projects) == PAGE
    count = f"{COUNT_CAP}+" if links >= COUNT_CAP else str(links)
    assert f'<span class="count">{count}</span>' in html
    more = [h for h in hrefs(html) if h.startswith("/related?")]
    assert len(more) == 1 and "dir=in" in more[0]


def test_related_pages_walk_every_link_once() -> None:
    """/related shows RELATED_PAGE links a page, a working "next" link while more follow, and
    together the pages list each incoming link exactly once."""
    from server.services.describe import RELATED_PAGE

    links = 2 * RELATED_PAGE + 7
    client = _hub_app(links)
    html = html_get(client, "/doc/org/hub")
    url = next(h for h in hrefs(html) if h.startswith("/related?"))
    seen: list[str] = []
    pages = 0
    while url:
        page = html_get(client, url)
        pages += 1
        found = re.findall(r'href="/doc/project/(p\d+)"', page)
        assert len(found) == (RELATED_PAGE if pages < 3 else 7), (pages, len(found))
        seen += found
        nxt = re.search(r'href="([^"]+)" rel="next"', page)
        url = nxt.group(1).replace("&amp;", "&") if nxt else ""
        assert pages <= 3
    assert pages == 3
    assert sorted(seen) == sorted(f"p{i}" for i in range(links))


# ----------------------------------------------------------------------------- response cache


def test_cached_pages_read_as_rendered_ones() -> None:
    """A page, a search answer and the home page come from the response cache the second time,
    byte for byte as rendered, with the per-request headers (the language cookie) intact; with
    the cache turned off every request renders and reads the same."""
    from server.response_cache import ResponseCache

    urls = ["/doc/org/kulturas-ministrija", "/", "/search?q=jelgava", "/api/search?q=jelgava",
            "/doc/org/kulturas-ministrija?lang=lv"]
    cached = TestClient(create_app(fixture_settings(), fixture_store()))
    plain = TestClient(create_app(fixture_settings().model_copy(update={"page_cache_mb": 0}),
                                  fixture_store()))
    for url in urls:
        first = cached.get(url, headers={"accept": "text/html"})
        second = cached.get(url, headers={"accept": "text/html"})
        fresh = plain.get(url, headers={"accept": "text/html"})
        assert first.status_code == second.status_code == fresh.status_code == 200, url
        assert first.content == second.content == fresh.content, url
        for h in ("content-type", "vary", "content-language", "link"):
            assert first.headers.get(h) == second.headers.get(h) == fresh.headers.get(h), (url, h)
        if "lang=lv" in url:
            assert "lang=lv" in second.headers.get("set-cookie", ""), url
        cached.cookies.clear()
        plain.cookies.clear()
    cache = cached.app.state.response_cache  # type: ignore[attr-defined]
    assert isinstance(cache, ResponseCache) and cache.hits >= len(urls) and len(cache) >= len(urls)
    assert plain.app.state.response_cache.max_bytes == 0  # type: ignore[attr-defined]


def test_response_cache_stays_within_its_bytes() -> None:
    from server.response_cache import ResponseCache

    cache = ResponseCache(10_000)
    for i in range(100):
        cache.put(i, b"x" * 500)
        assert cache.size <= 10_000
    assert cache.get(99) is not None and cache.get(0) is None
    cache.put("huge", b"x" * 5000)  # more than an eighth of the cache: not kept
    assert cache.get("huge") is None


def test_cache_header_says_whether_a_page_was_rendered() -> None:
    """X-Romagraph-Cache tells a load test (benchmarks/pages_scale.py --distinct) whether a page
    was rendered ("miss", then kept), came from the response cache ("hit"), or was rendered with
    the cache turned off ("off")."""
    url = "/doc/org/kulturas-ministrija"
    cached = TestClient(create_app(fixture_settings(), fixture_store()))
    plain = TestClient(create_app(fixture_settings().model_copy(update={"page_cache_mb": 0}),
                                  fixture_store()))
    seen = [cached.get(url, headers={"accept": "text/html"}).headers.get("x-romagraph-cache")
            for _ in range(2)]
    assert seen == ["miss", "hit"]
    assert plain.get(url, headers={"accept": "text/html"}).headers.get("x-romagraph-cache") == "off"


# ----------------------------------------------------------------------------- big source sections


def _section_app(citations: int) -> TestClient:
    """A source document with one section from which ``citations`` passages are cited, each
    with a quote and two resources derived from it (every tenth with a footnote)."""
    rg, doc, sec = BASE + "def/rg#", f"{BASE}id/source/big", f"{BASE}id/source/big/S"
    rdf_type, label = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "http://www.w3.org/2004/02/skos/core#prefLabel"
    lines = [
        f"<{doc}> <{rdf_type}> <{rg}SourceDocument> .", f'<{doc}> <{label}> "Big document"@en .',
        f"<{sec}> <{rdf_type}> <{rg}SourceSection> .", f'<{sec}> <{label}> "Section S"@en .',
        f"<{sec}> <http://purl.org/dc/terms/isPartOf> <{doc}> .",
    ]
    for i in range(citations):
        c = f"{BASE}id/citation/big/S/c{i:05d}"
        lines += [f"<{c}> <{rdf_type}> <{rg}Citation> .", f"<{c}> <{OA_SOURCE}> <{sec}> .",
                  f'<{c}> <{rg}quote> "Quote <{i}> & more"@lv .']
        if i % 10 == 0:
            lines.append(f'<{c}> <{rg}footnote> "{i}" .')
        for k in range(2):
            p = f"{BASE}id/project/p{i:05d}-{k}"
            lines += [f"<{p}> <{rdf_type}> <https://schema.org/Project> .",
                      f'<{p}> <{label}> "Project {i}-{k}"@en .',
                      f"<{p}> <http://www.w3.org/ns/prov#wasDerivedFrom> <{c}> ."]
    store = OxigraphStore()
    store.inner.load("\n".join(lines).encode(), format=ox.RdfFormat.N_TRIPLES)
    return TestClient(create_app(fixture_settings(), store))


def _passages(html: str) -> list[str]:
    return re.findall(r'<div class="passage" id="cite-(c\d+)"', html)


def test_big_section_page_lists_a_page_of_passages_and_links_to_the_rest() -> None:
    """A section cited 3,000 times: its page lists the first PASSAGES_PAGE passages (quote,
    footnote, derived resources), says how many there are, and links to page 2 of the paged
    list, which shows the next ones the same way; the pages together list each passage once,
    and a fact's citation links to the page that lists its passage."""
    from server.services.present import PASSAGES_PAGE

    total = 3000
    client = _section_app(total)
    # the catalogue's order: passages without a footnote first, then the footnoted ones
    order = [f"c{i:05d}" for i in range(total) if i % 10] + [f"c{i:05d}" for i in range(0, total, 10)]
    html = html_get(client, "/doc/source/big/S")
    assert _passages(html) == order[:PASSAGES_PAGE]
    assert html.count("/doc/project/p") == 2 * PASSAGES_PAGE
    assert f"Passages 1–{PASSAGES_PAGE} of {total}" in html
    assert "Quote &lt;5&gt; &amp; more" in html  # escaped as on every page
    assert f"Cited from this section ({2 * total} facts)" in html  # counted over every passage
    nxt = re.search(r'href="([^"]+)" rel="next"', html)
    assert nxt is not None
    url = nxt.group(1).replace("&amp;", "&")
    assert url.startswith("/related?") and url.endswith("&page=2")

    r = client.get(url, headers={"accept": "text/html"})
    assert r.status_code == 200 and "Accept-Language" in r.headers["vary"]
    page2 = r.text
    assert _passages(page2) == order[PASSAGES_PAGE: 2 * PASSAGES_PAGE]
    assert f"Passages {PASSAGES_PAGE + 1}–{2 * PASSAGES_PAGE} of {total}" in page2
    on2 = order[PASSAGES_PAGE + 5]  # its derived resources, quote and anchor, as on the section page
    assert f'href="/doc/project/p{on2[1:]}-1"' in page2 and f"Quote &lt;{int(on2[1:])}&gt; &amp; more" in page2
    assert f"{url}#cite-{on2}" in hrefs(page2)
    assert f"Page 2 of {total // PASSAGES_PAGE}" in page2
    assert 'rel="prev"' in page2 and 'rel="next"' in page2

    last = html_get(client, url.replace("page=2", f"page={total // PASSAGES_PAGE}"))
    assert _passages(last) == order[-PASSAGES_PAGE:] and 'rel="next"' not in last
    assert "fn 2990" in last.replace("\u00a0", " ")  # the footnote, as the section page shows it
    past = client.get(url.replace("page=2", f"page={total // PASSAGES_PAGE + 1}"))
    assert past.status_code == 404  # past the last page: not an empty list

    # a derived resource cites its passage where it is listed: on page 2 of the list
    project = html_get(client, f"/doc/project/p{on2[1:]}-0")
    cite = next(h for h in hrefs(project) if f"cite-{on2}" in h)
    assert cite == f"{url}#cite-{on2}"
    project = html_get(client, f"/doc/project/p{order[3][1:]}-0")
    assert f"/doc/source/big/S#cite-{order[3]}" in hrefs(project)

    lv = html_get(client, url + "&lang=lv")
    assert f"Citētās vietas {PASSAGES_PAGE + 1}.–{2 * PASSAGES_PAGE}. no {total}" in lv


def test_big_source_document_pages_its_sections() -> None:
    """The source document's page lists a page of each section's passages and the list of
    documents counts every passage, from the catalogue."""
    from server.services.present import PASSAGES_PAGE

    client = _section_app(3 * PASSAGES_PAGE // 2)
    html = html_get(client, "/sources/big")
    assert len(re.findall(r'<div class="passage"', html)) == PASSAGES_PAGE
    assert re.search(r'href="/related\?[^"]+page=2" rel="next"', html)
    sources = html_get(client, "/sources")
    assert f'<td class="num">{3 * PASSAGES_PAGE // 2}</td>' in sources


def test_bundled_sections_fit_on_their_pages(graph) -> None:
    """No section of the fixture or the repository's graph has more passages than a page
    shows: their pages list every passage and offer no paged list."""
    from server.services.present import PASSAGES_PAGE

    _, store, client = graph
    cat = Catalogue.build(store, BASE)
    biggest = max(cat.by_section, key=lambda s: len(cat.by_section[s]))
    assert len(cat.by_section[biggest]) <= PASSAGES_PAGE
    html = html_get(client, resource_path(biggest, BASE))
    assert len(re.findall(r'<div class="passage"', html)) == len(cat.by_section[biggest])
    assert 'rel="next"' not in html
