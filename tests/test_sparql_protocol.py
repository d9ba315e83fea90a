"""/sparql against the real app (FastAPI TestClient over HTTP semantics): the SPARQL 1.1 Protocol
query operation by every method, every result format parsed back, content negotiation, the
dataset parameters, the service description, the workbench page and every error status.

Facts checked come from ontology/*.ttl (stable), read here with rdflib, never from data/.
"""

from __future__ import annotations

import csv
import io
import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
from fastapi.testclient import TestClient
from rdflib.compare import isomorphic
from rdflib.namespace import RDFS, SKOS

from server.app import create_app
from server.config import REPO_ROOT, Settings
from server.queries import load_dir
from server.sources import graph_iri

RG = rdflib.Namespace("https://w3id.org/romagraph/def/rg#")
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
SRX = "{http://www.w3.org/2005/sparql-results#}"
ONTOLOGY_GRAPH = graph_iri("https://w3id.org/romagraph/", "ontology")
LABELS = "SELECT ?label WHERE { rg:PlanTask rdfs:label ?label } ORDER BY ?label"
THEMES = (
    "SELECT ?concept ?label WHERE { ?concept skos:inScheme <https://w3id.org/romagraph/def/theme> ;"
    ' skos:prefLabel ?label FILTER(LANG(?label) = "en") } ORDER BY ?concept'
)
CONSTRUCT = "CONSTRUCT WHERE { rg:PlanTask ?p ?o }"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    settings = Settings(root=REPO_ROOT, validate_on_start=False, max_query_bytes=5000)
    with TestClient(create_app(settings)) as c:
        yield c


def plan_task_labels(ontology: rdflib.Graph) -> set[tuple[str, str]]:
    return {(str(o), o.language or "") for o in ontology.objects(RG.PlanTask, RDFS.label)}


def theme_labels(ontology: rdflib.Graph) -> dict[str, str]:
    scheme = rdflib.URIRef("https://w3id.org/romagraph/def/theme")
    return {
        str(c): str(label)
        for c in ontology.subjects(SKOS.inScheme, scheme)
        for label in ontology.objects(c, SKOS.prefLabel)
        if label.language == "en"
    }


def media_type(response) -> str:  # noqa: ANN001
    return response.headers["content-type"].split(";")[0].strip()


# --- methods ---------------------------------------------------------------------------------


def test_get_post_form_and_post_direct_give_the_same_answer(client, ontology):
    expected = plan_task_labels(ontology)
    assert expected, "rg:PlanTask has labels in the ontology"
    responses = [
        client.get("/sparql", params={"query": LABELS}),
        client.post("/sparql", data={"query": LABELS}),
        client.post("/sparql", content=LABELS.encode(),
                    headers={"Content-Type": "application/sparql-query"}),
    ]
    for r in responses:
        assert r.status_code == 200, r.text
        assert media_type(r) == "application/sparql-results+json"
        assert r.headers["vary"] == "Accept"
        data = r.json()
        got = {(b["label"]["value"], b["label"].get("xml:lang", ""))
               for b in data["results"]["bindings"]}
        assert got == expected
    assert responses[0].content == responses[1].content == responses[2].content


def test_project_prefixes_are_pre_declared_but_a_query_may_redeclare(client):
    r = client.get("/sparql", params={
        "query": "PREFIX rg: <http://example.org/other#> ASK { rg:PlanTask ?p ?o }"})
    assert r.status_code == 200
    assert r.json()["boolean"] is False
    r = client.get("/sparql", params={"query": "ASK { rg:PlanTask a owl:Class }"})
    assert r.json()["boolean"] is True


# --- every result format, parsed back -----------------------------------------------------------


def test_select_as_json_xml_csv_tsv(client, ontology):
    expected = theme_labels(ontology)
    assert len(expected) >= 5

    r = client.get("/sparql", params={"query": THEMES}, headers={"Accept": "application/sparql-results+json"})
    assert media_type(r) == "application/sparql-results+json"
    data = r.json()
    assert data["head"]["vars"] == ["concept", "label"]
    assert {b["concept"]["value"]: b["label"]["value"] for b in data["results"]["bindings"]} == expected
    assert all(b["concept"]["type"] == "uri" for b in data["results"]["bindings"])

    r = client.get("/sparql", params={"query": THEMES}, headers={"Accept": "application/sparql-results+xml"})
    assert media_type(r) == "application/sparql-results+xml"
    root = ET.fromstring(r.content)
    assert [v.get("name") for v in root.iter(f"{SRX}variable")] == ["concept", "label"]
    parsed = {}
    for result in root.iter(f"{SRX}result"):
        cells = {b.get("name"): b for b in result.iter(f"{SRX}binding")}
        parsed[cells["concept"].find(f"{SRX}uri").text] = cells["label"].find(f"{SRX}literal").text
    assert parsed == expected

    r = client.get("/sparql", params={"query": THEMES}, headers={"Accept": "text/csv"})
    assert media_type(r) == "text/csv"
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["concept", "label"]
    assert dict(rows[1:]) == expected

    r = client.get("/sparql", params={"query": THEMES}, headers={"Accept": "text/tab-separated-values"})
    assert media_type(r) == "text/tab-separated-values"
    lines = r.text.rstrip("\n").split("\n")
    assert lines[0] == "?concept\t?label"
    tsv = dict(line.split("\t") for line in lines[1:])
    assert tsv == {f"<{c}>": f'"{label}"@en' for c, label in expected.items()}


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_rdflib_parses_every_results_format(client, ontology, fmt):
    r = client.get("/sparql", params={"query": THEMES, "format": fmt})
    assert r.status_code == 200
    result = rdflib.query.Result.parse(io.BytesIO(r.content), format=fmt)
    got = {str(row[0]): str(row[1]) for row in result}
    assert got == theme_labels(ontology)


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_ask_in_every_results_format(client, fmt):
    for query, expected in (("ASK { rg:PlanTask rdfs:subClassOf rg:PlanItem }", True),
                            ("ASK { rg:PlanTask rdfs:subClassOf rg:Nothing }", False)):
        r = client.get("/sparql", params={"query": query, "format": fmt})
        assert r.status_code == 200
        if fmt == "json":
            assert r.json() == {"head": {}, "boolean": expected}
        elif fmt == "xml":
            root = ET.fromstring(r.content)
            assert root.find(f"{SRX}boolean").text == str(expected).lower()
        else:
            assert r.text.strip() == str(expected).lower()


GRAPH_FORMATS = {
    "ttl": ("text/turtle", "turtle"),
    "nt": ("application/n-triples", "nt"),
    "jsonld": ("application/ld+json", "json-ld"),
    "rdfxml": ("application/rdf+xml", "xml"),
    "trig": ("application/trig", "trig"),
    "nq": ("application/n-quads", "nquads"),
}


@pytest.mark.parametrize("key", list(GRAPH_FORMATS))
def test_construct_in_every_rdf_format(client, ontology, key):
    mt, rdflib_format = GRAPH_FORMATS[key]
    r = client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": mt})
    assert r.status_code == 200, r.text
    assert media_type(r) == mt
    expected = rdflib.Graph()
    for triple in ontology.triples((RG.PlanTask, None, None)):
        expected.add(triple)
    if rdflib_format in ("trig", "nquads"):
        ds = rdflib.Dataset()
        ds.parse(data=r.content, format=rdflib_format)
        got = rdflib.Graph()
        for s, p, o, _ in ds.quads((None, None, None, None)):
            got.add((s, p, o))
    else:
        got = rdflib.Graph().parse(data=r.content, format=rdflib_format)
    assert isomorphic(got, expected)


def test_describe_returns_the_resource(client, ontology):
    r = client.get("/sparql", params={"query": "DESCRIBE rg:PlanTask", "format": "nt"})
    assert r.status_code == 200
    g = rdflib.Graph().parse(data=r.text, format="nt")
    assert set(g.objects(RG.PlanTask, RDFS.label)) == set(ontology.objects(RG.PlanTask, RDFS.label))


# --- content negotiation -------------------------------------------------------------------------


@pytest.mark.parametrize(("accept", "expected"), [
    (None, "application/sparql-results+json"),
    ("*/*", "application/sparql-results+json"),
    ("application/json", "application/sparql-results+json"),
    ("application/xml", "application/sparql-results+xml"),
    ("text/csv;q=0.5, application/sparql-results+xml", "application/sparql-results+xml"),
    ("application/sparql-results+json;q=0.2, text/tab-separated-values;q=0.9", "text/tab-separated-values"),
    ("text/*", "text/csv"),
    ("text/html;q=0.1, text/csv", "text/csv"),
])
def test_accept_with_q_values_for_select(client, accept, expected):
    headers = {"Accept": accept} if accept else {}
    r = client.get("/sparql", params={"query": LABELS}, headers=headers)
    assert r.status_code == 200
    assert media_type(r) == expected
    assert r.headers["vary"] == "Accept"


@pytest.mark.parametrize(("accept", "expected"), [
    ("*/*", "text/turtle"),
    ("application/json", "application/ld+json"),
    ("application/n-triples;q=0.9, application/rdf+xml", "application/rdf+xml"),
    ("text/plain", "application/n-triples"),
    ("application/n-quads", "application/n-quads"),
])
def test_accept_for_construct(client, accept, expected):
    r = client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": accept})
    assert r.status_code == 200
    assert media_type(r) == expected


def test_format_parameter_overrides_accept(client):
    r = client.get("/sparql", params={"query": LABELS, "format": "csv"},
                   headers={"Accept": "application/sparql-results+xml"})
    assert media_type(r) == "text/csv"
    r = client.post("/sparql", data={"query": LABELS, "format": "text/tab-separated-values"})
    assert media_type(r) == "text/tab-separated-values"
    r = client.post("/sparql?format=xml", content=LABELS,
                    headers={"Content-Type": "application/sparql-query"})
    assert media_type(r) == "application/sparql-results+xml"


@pytest.mark.parametrize(("query", "accept", "fmt"), [
    (LABELS, "text/turtle", None),
    (LABELS, "image/png", None),
    ("ASK { ?s ?p ?o }", "application/rdf+xml;q=1, application/sparql-results+json;q=0", None),
    (CONSTRUCT, "application/sparql-results+json", None),
    (CONSTRUCT, "text/csv", None),
    (LABELS, None, "pdf"),
    (CONSTRUCT, None, "csv"),
])
def test_406_when_no_acceptable_format(client, query, accept, fmt):
    headers = {"Accept": accept} if accept else {}
    params = {"query": query, **({"format": fmt} if fmt else {})}
    r = client.get("/sparql", params=params, headers=headers)
    assert r.status_code == 406
    assert media_type(r) == "text/plain"
    assert "Not acceptable" in r.text
    assert r.headers["vary"] == "Accept"


# --- dataset ---------------------------------------------------------------------------------------


def test_default_graph_is_the_union_of_the_named_graphs(client):
    graphs = client.get("/sparql", params={
        "query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"}).json()["results"]["bindings"]
    names = {b["g"]["value"] for b in graphs}
    assert ONTOLOGY_GRAPH in names
    union = count(client, {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"})
    per_graph = count(client, {"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"})
    assert 0 < union <= per_graph  # the same triple may sit in two graphs


def count(client, params, method="get"):  # noqa: ANN001, ANN201
    r = client.get("/sparql", params=params) if method == "get" else client.post("/sparql", data=params)
    assert r.status_code == 200, r.text
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def test_default_graph_uri_and_named_graph_uri(client, ontology):
    q = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert count(client, {"query": q, "default-graph-uri": ONTOLOGY_GRAPH}) == len(ontology)
    assert count(client, {"query": q, "default-graph-uri": ONTOLOGY_GRAPH}, "post") == len(ontology)
    assert count(client, {"query": q, "default-graph-uri": "http://example.org/no-such-graph"}) == 0
    # named-graph-uri alone: an empty default graph, only the named graph for GRAPH
    assert count(client, {"query": q, "named-graph-uri": ONTOLOGY_GRAPH}) == 0
    r = client.get("/sparql", params={
        "query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
        "named-graph-uri": ONTOLOGY_GRAPH})
    assert [b["g"]["value"] for b in r.json()["results"]["bindings"]] == [ONTOLOGY_GRAPH]
    # a direct POST takes the dataset from the URL
    r = client.post(f"/sparql?default-graph-uri={ONTOLOGY_GRAPH}", content=q,
                    headers={"Content-Type": "application/sparql-query"})
    assert int(r.json()["results"]["bindings"][0]["n"]["value"]) == len(ontology)


def test_from_clause_is_honoured(client, ontology):
    q = f"SELECT (COUNT(*) AS ?n) FROM <{ONTOLOGY_GRAPH}> WHERE {{ ?s ?p ?o }}"
    assert count(client, {"query": q}) == len(ontology)
    q = "SELECT (COUNT(*) AS ?n) FROM <http://example.org/none> WHERE { ?s ?p ?o }"
    assert count(client, {"query": q}) == 0


def test_bad_graph_iri_is_400(client):
    r = client.get("/sparql", params={"query": LABELS, "default-graph-uri": "not an iri"})
    assert r.status_code == 400
    assert "default-graph-uri" in r.text


# --- errors ---------------------------------------------------------------------------------------


def test_malformed_query_is_400_with_message_and_position(client):
    r = client.get("/sparql", params={"query": "SELECT ?s WHERE {\n  ?s ?p \n}"})
    assert r.status_code == 400
    assert media_type(r) == "text/plain"
    assert "error at 3:" in r.text  # the parser's line:column
    assert "   3 | }" in r.text and "^" in r.text  # the line, with a caret
    r = client.post("/sparql", content="SELEC * {}", headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 400
    assert "1:" in r.text


def test_missing_empty_and_repeated_query(client):
    assert client.post("/sparql", data={"format": "json"}).status_code == 400
    assert client.post("/sparql", data={"query": "  "}).status_code == 400
    r = client.get("/sparql?query=ASK%7B%7D&query=ASK%7B%7D")
    assert r.status_code == 400
    r = client.get("/sparql", headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 400
    assert "Missing `query`" in r.text


def test_unsupported_post_body_is_415(client):
    r = client.post("/sparql", content=LABELS, headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    assert "application/sparql-query" in r.text


INSERT = "INSERT DATA { <urn:x:s> <urn:x:p> <urn:x:o> }"
WAS_INSERTED = "ASK { <urn:x:s> <urn:x:p> <urn:x:o> }"


@pytest.mark.parametrize("how", ["update-body", "update-form", "update-get", "as-query", "load",
                                 "clear", "with-semicolon"])
def test_update_is_refused_and_not_executed(client, how):
    if how == "update-body":
        r = client.post("/sparql", content=INSERT, headers={"Content-Type": "application/sparql-update"})
    elif how == "update-form":
        r = client.post("/sparql", data={"update": INSERT})
    elif how == "update-get":
        r = client.get("/sparql", params={"update": INSERT})
    elif how == "as-query":
        r = client.post("/sparql", data={"query": INSERT})
    elif how == "load":
        r = client.get("/sparql", params={"query": "LOAD <http://127.0.0.1:9/data.ttl>"})
    elif how == "clear":
        r = client.get("/sparql", params={"query": "CLEAR ALL"})
    else:
        r = client.get("/sparql", params={"query": f"ASK {{}} ; {INSERT}"})
    assert r.status_code == 403
    assert "read-only" in r.text
    assert media_type(r) == "text/plain"
    assert client.get("/sparql", params={"query": WAS_INSERTED}).json()["boolean"] is False


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "select * where { service silent <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { BIND(<http://127.0.0.1:9/> AS ?e) SERVICE ?e { ?s ?p ?o } }",
    # '<' read as the start of an IRI by a naive lexer would hide the keyword
    "SELECT * WHERE { ?s ?p ?o FILTER(?a<?b) SERVICE#>\n <http://127.0.0.1:9/> { ?x ?y ?z } }",
])
def test_service_is_refused(client, query):
    r = client.get("/sparql", params={"query": query})
    assert r.status_code == 403
    assert "SERVICE" in r.text


@pytest.mark.parametrize("query", [
    'SELECT ?l WHERE { ?s rdfs:label ?l FILTER(CONTAINS(?l, "service")) }',
    "SELECT * WHERE { ?s <http://example.org/service> ?o }",
    "# a comment about SERVICE\nASK { ?s ?p ?o }",
    "PREFIX service: <http://example.org/> ASK { ?s service:x ?o }",
])
def test_the_word_service_elsewhere_is_fine(client, query):
    r = client.get("/sparql", params={"query": query})
    assert r.status_code == 200, r.text


def test_query_size_limit_is_413(client):
    big = "ASK {}" + " " * 6000
    assert client.get("/sparql", params={"query": big}).status_code == 413
    assert client.post("/sparql", data={"query": big}).status_code == 413
    r = client.post("/sparql", content=big, headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 413
    assert "5000 bytes" in r.text
    # a form body may be percent-encoded to three times the query and still be accepted
    r = client.post("/sparql", data={"query": "ASK { FILTER(\"" + "é" * 1200 + "\" != \"\") }"})
    assert r.status_code == 200


# --- limits: row cap ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def capped() -> Iterator[TestClient]:
    settings = Settings(root=REPO_ROOT, validate_on_start=False, max_rows=5, query_workers=1)
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_row_cap_is_announced(capped, fmt):
    r = capped.get("/sparql", params={"query": THEMES, "format": fmt})
    assert r.status_code == 200
    assert r.headers["x-romagraph-truncated"] == "true"
    assert r.headers["x-romagraph-row-limit"] == "5"
    assert r.headers["x-romagraph-rows"] == "5"
    rows = list(rdflib.query.Result.parse(io.BytesIO(r.content), format=fmt))
    assert len(rows) == 5


def test_row_cap_not_reached(capped):
    r = capped.get("/sparql", params={"query": THEMES + " LIMIT 5"})
    assert r.headers["x-romagraph-truncated"] == "false"
    assert len(r.json()["results"]["bindings"]) == 5
    r = capped.get("/sparql", params={"query": THEMES + " LIMIT 2", "format": "csv"})
    assert r.headers["x-romagraph-truncated"] == "false"
    assert r.headers["x-romagraph-rows"] == "2"


def test_row_cap_applies_to_graphs(capped):
    q = "CONSTRUCT { ?c skos:prefLabel ?l } WHERE { ?c skos:prefLabel ?l }"
    for fmt in ("nt", "ttl", "jsonld"):
        r = capped.get("/sparql", params={"query": q, "format": fmt})
        assert r.headers["x-romagraph-truncated"] == "true"
        g = rdflib.Graph().parse(data=r.content, format={"nt": "nt", "ttl": "turtle", "jsonld": "json-ld"}[fmt])
        assert len(g) == 5


# --- service description, workbench, CORS, OpenAPI -------------------------------------------------------


@pytest.mark.parametrize(("accept", "rdflib_format"), [
    ("text/turtle", "turtle"), ("application/ld+json", "json-ld"),
    ("application/rdf+xml", "xml"), ("application/n-triples", "nt"), ("*/*", "turtle"),
])
def test_service_description(client, accept, rdflib_format):
    r = client.get("/sparql", headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["vary"] == "Accept"
    g = rdflib.Graph().parse(data=r.content, format=rdflib_format)
    service = next(g.subjects(rdflib.RDF.type, SD.Service))
    assert g.value(service, SD.endpoint) == rdflib.URIRef("http://testserver/sparql")
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in g
    assert (service, SD.feature, SD.UnionDefaultGraph) in g
    assert rdflib.URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON") in set(
        g.objects(service, SD.resultFormat))
    names = {str(n) for n in g.objects(None, SD.name)}
    store = client.app.state.store
    assert names == set(store.named_graphs())
    assert ONTOLOGY_GRAPH in names


def test_service_description_406(client):
    assert client.get("/sparql", headers={"Accept": "image/png"}).status_code == 406


def test_workbench_for_browsers(client, settings):
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    r = client.get("/sparql", headers={"Accept": browser})
    assert r.status_code == 200
    assert media_type(r) == "text/html"
    html = r.text
    assert 'src="/static/sparql.js"' in html
    assert 'src="/static/vendor/yasgui/yasgui.min.js"' in html
    assert "<script>" not in html.replace(" ", "")  # no inline script
    for q in load_dir(settings.queries_dir).values():
        assert f'data-query-id="q-{q.name}"' in html
    assert "10000" in html  # the row cap is stated
    assert "PREFIX rg:" in html  # the editor starts with the project's prefixes
    # a permalink opens the workbench with its query
    r = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": browser})
    assert media_type(r) == "text/html"
    assert "ASK { ?s ?p ?o }" in r.text
    assert 'data-autorun="true"' in r.text


def test_static_assets_are_served_with_license(client):
    assert client.get("/static/sparql.js").status_code == 200
    assert client.get("/static/vendor/yasgui/yasgui.min.css").status_code == 200
    assert "MIT" in client.get("/static/vendor/yasgui/LICENSE").text


def test_labels_and_prefixes_endpoints(client):
    iri = str(RG.PlanTask)
    r = client.post("/sparql/labels", json={"iris": [iri, "not an iri", "http://example.org/x"]})
    assert r.status_code == 200
    assert r.json() == {"labels": {iri: "plan task"}}
    r = client.post("/sparql/labels?lang=lv", json={"iris": [iri]})
    assert r.json() == {"labels": {iri: "uzdevums"}}
    assert "access-control-allow-origin" not in r.headers  # CORS is for /sparql only
    prefixes = client.get("/sparql/prefixes").json()
    assert prefixes["rg"] == str(RG)
    assert prefixes["skos"] == str(SKOS)


def test_cors_on_sparql_only(client):
    r = client.get("/sparql", params={"query": LABELS}, headers={"Origin": "https://example.org"})
    assert r.headers["access-control-allow-origin"] == "*"
    assert "X-Romagraph-Truncated" in r.headers["access-control-expose-headers"]
    r = client.post("/sparql", data={"query": "SELEC"}, headers={"Origin": "https://example.org"})
    assert r.status_code == 400
    assert r.headers["access-control-allow-origin"] == "*"
    r = client.options("/sparql", headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 204
    assert "POST" in r.headers["access-control-allow-methods"]
    assert "Content-Type" in r.headers["access-control-allow-headers"]
    assert "access-control-allow-origin" not in client.get("/static/sparql.js").headers


def test_openapi_documents_the_endpoint(client):
    spec = client.get("/openapi.json").json()
    get = spec["paths"]["/sparql"]["get"]
    names = {p["name"] for p in get["parameters"]}
    assert {"query", "default-graph-uri", "named-graph-uri", "format"} <= names
    assert all(p.get("description") for p in get["parameters"])
    assert {"400", "403", "406", "413", "504"} <= set(get["responses"])
    post = spec["paths"]["/sparql"]["post"]
    assert set(post["requestBody"]["content"]) == {
        "application/x-www-form-urlencoded", "application/sparql-query"}
    assert "text/turtle" in get["responses"]["200"]["content"]


# --- lifecycle -------------------------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); read its state
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def test_workers_start_and_stop_with_the_lifespan():
    settings = Settings(root=REPO_ROOT, validate_on_start=False, query_workers=2)
    app = create_app(settings)
    with TestClient(app) as c:
        assert c.get("/sparql", params={"query": "ASK {}"}).status_code == 200
        pool = app.state.sparql_pool
        pids = pool.pids()
        assert len(pids) == 2 and all(_alive(p) for p in pids)
        assert pool.isolation in (None, "network namespace", "user+network namespace")
    assert not any(_alive(p) for p in pids)
    assert app.state.sparql_pool is None


def test_works_without_the_lifespan_too():
    settings = Settings(root=REPO_ROOT, validate_on_start=False, query_workers=1)
    app = create_app(settings)
    c = TestClient(app)  # no ``with``: each request runs on an event loop of its own
    try:
        for _ in range(2):
            r = c.get("/sparql", params={"query": "ASK { rg:PlanTask a owl:Class }"})
            assert r.status_code == 200 and r.json()["boolean"] is True
    finally:
        app.state.sparql_pool.kill_all()


def test_results_match_the_bare_engine(client, store):
    """The endpoint's JSON is pyoxigraph's own serialisation of the same query."""
    import pyoxigraph as ox

    from server.namespaces import PREFIXES

    r = client.get("/sparql", params={"query": THEMES})
    direct = store.inner.query(THEMES, use_default_graph_as_union=True, prefixes=PREFIXES)
    assert json.loads(r.content) == json.loads(direct.serialize(format=ox.QueryResultsFormat.JSON))


def test_on_disk_store_is_opened_read_only_by_the_workers(tmp_path):
    """With ``oxigraph:PATH`` the workers open the same folder read-only (no snapshot)."""
    import pyoxigraph as ox

    from server.backends.disk import open_disk

    folder = tmp_path / "store"
    disk = ox.Store(str(folder))
    disk.add(ox.Quad(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"),
                     ox.Literal("on disk"), ox.NamedNode("http://example.org/g")))
    disk.flush()
    del disk
    settings = Settings(root=REPO_ROOT, validate_on_start=False, store=f"oxigraph:{folder}",
                        query_workers=1)
    app = create_app(settings, open_disk(folder))
    with TestClient(app) as c:
        r = c.get("/sparql", params={"query": "SELECT ?o WHERE { ?s ?p ?o }", "format": "csv"})
        assert r.status_code == 200, r.text
        assert r.text.splitlines() == ["o", "on disk"]
        pool = app.state.sparql_pool
        assert pool._dir is None  # nothing was dumped
