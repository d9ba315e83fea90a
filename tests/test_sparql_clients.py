"""/sparql as real clients see it, over a real uvicorn server: SPARQLWrapper (JSON, XML, CSV,
TSV, CONSTRUCT into rdflib, GET and both POST forms), rdflib's SPARQLStore, and raw httpx."""

from __future__ import annotations

import csv
import io
import warnings

import httpx
import pytest
import rdflib
from rdflib.namespace import RDFS, SKOS
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import (
    CSV,
    GET,
    JSON,
    JSONLD,
    N3,
    POST,
    POSTDIRECTLY,
    RDFXML,
    TSV,
    TURTLE,
    URLENCODED,
    XML,
    SPARQLWrapper,
)

RG = rdflib.Namespace("https://w3id.org/romagraph/def/rg#")
PREFIXES = (
    "PREFIX rg: <https://w3id.org/romagraph/def/rg#>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
    "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
)
LABELS = PREFIXES + "SELECT ?label WHERE { rg:PlanTask rdfs:label ?label }"
THEME = "https://w3id.org/romagraph/def/theme"


@pytest.fixture(scope="module")
def endpoint(sparql_server: str) -> str:
    return f"{sparql_server}/sparql"


def labels(ontology: rdflib.Graph) -> set[str]:
    return {str(o) for o in ontology.objects(RG.PlanTask, RDFS.label)}


# --- SPARQLWrapper -----------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "request_method"), [
    (GET, URLENCODED), (POST, URLENCODED), (POST, POSTDIRECTLY)])
def test_sparqlwrapper_json(endpoint, ontology, method, request_method):
    sw = SPARQLWrapper(endpoint)
    sw.setMethod(method)
    sw.setRequestMethod(request_method)
    sw.setQuery(LABELS)
    sw.setReturnFormat(JSON)
    result = sw.query()
    assert result.info()["content-type"] == "application/sparql-results+json"
    data = result.convert()
    assert {b["label"]["value"] for b in data["results"]["bindings"]} == labels(ontology)


def test_sparqlwrapper_xml(endpoint, ontology):
    sw = SPARQLWrapper(endpoint, returnFormat=XML)
    sw.setQuery(LABELS)
    doc = sw.query().convert()  # a minidom document
    literals = {n.firstChild.data for n in doc.getElementsByTagName("literal")}
    assert literals == labels(ontology)


@pytest.mark.parametrize(("fmt", "delimiter"), [(CSV, ","), (TSV, "\t")])
def test_sparqlwrapper_csv_tsv(endpoint, ontology, fmt, delimiter):
    sw = SPARQLWrapper(endpoint, returnFormat=fmt)
    sw.setQuery(PREFIXES + f"SELECT ?c ?n WHERE {{ ?c skos:inScheme <{THEME}> ; skos:notation ?n }}")
    text = sw.query().convert().decode("utf-8")
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    assert rows[0] in (["c", "n"], ["?c", "?n"])
    expected = {str(n) for c in ontology.subjects(SKOS.inScheme, rdflib.URIRef(THEME))
                for n in ontology.objects(c, SKOS.notation)}
    got = {r[1].strip('"') for r in rows[1:]}
    assert got == expected


@pytest.mark.parametrize("fmt", [TURTLE, RDFXML, JSONLD, N3, XML])
def test_sparqlwrapper_construct_into_rdflib(endpoint, ontology, fmt):
    sw = SPARQLWrapper(endpoint, returnFormat=fmt)
    sw.setQuery(PREFIXES + "CONSTRUCT WHERE { rg:PlanTask ?p ?o }")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        result = sw.query().convert()
    if isinstance(result, bytes):  # SPARQLWrapper hands Turtle/N3/JSON-LD over as bytes
        g = rdflib.Graph().parse(
            data=result, format={TURTLE: "turtle", N3: "turtle", JSONLD: "json-ld"}[fmt])
    else:
        g = result
    assert isinstance(g, rdflib.Graph)
    assert {str(o) for o in g.objects(RG.PlanTask, RDFS.label)} == labels(ontology)
    assert (RG.PlanTask, RDFS.subClassOf, RG.PlanItem) in g


def test_sparqlwrapper_ask_and_describe(endpoint):
    sw = SPARQLWrapper(endpoint, returnFormat=JSON)
    sw.setQuery(PREFIXES + "ASK { rg:PlanTask rdfs:subClassOf rg:PlanItem }")
    assert sw.query().convert()["boolean"] is True
    sw = SPARQLWrapper(endpoint, returnFormat=RDFXML)
    sw.setQuery(PREFIXES + "DESCRIBE rg:PlanTask")
    g = sw.query().convert()
    assert (RG.PlanTask, RDFS.subClassOf, RG.PlanItem) in g


def test_sparqlwrapper_sees_refusals(endpoint):
    from SPARQLWrapper.SPARQLExceptions import QueryBadFormed, SPARQLWrapperException

    sw = SPARQLWrapper(endpoint, returnFormat=JSON)
    sw.setQuery("SELECT * WHERE { ?s ?p }")
    with pytest.raises(QueryBadFormed):
        sw.query()
    sw = SPARQLWrapper(endpoint)
    sw.setMethod(POST)
    sw.setQuery("INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    with pytest.raises((SPARQLWrapperException, Exception)) as info:
        sw.query()
    assert "403" in str(info.value) or "read-only" in str(info.value).lower()


# --- rdflib's SPARQLStore -----------------------------------------------------------------------------


def test_rdflib_sparqlstore_select_and_construct(endpoint, ontology):
    g = rdflib.Graph(store=SPARQLStore(endpoint, returnFormat="json"))
    rows = list(g.query(LABELS))
    assert {str(r[0]) for r in rows} == labels(ontology)
    assert bool(g.query(PREFIXES + "ASK { rg:PlanTask a ?t }").askAnswer) is True
    # rdflib asks for SPARQL XML results or RDF/XML by default: CONSTRUCT comes as RDF/XML
    g = rdflib.Graph(store=SPARQLStore(endpoint))
    constructed = g.query(PREFIXES + "CONSTRUCT WHERE { rg:PlanTask rdfs:label ?l }").graph
    assert {str(o) for o in constructed.objects(RG.PlanTask, RDFS.label)} == labels(ontology)


def test_rdflib_sparqlstore_xml_results_and_triples(endpoint, ontology):
    store = SPARQLStore(endpoint)  # rdflib's default: SPARQL XML results, GET
    g = rdflib.Graph(store=store)
    assert {str(o) for o in g.objects(RG.PlanTask, RDFS.label)} == labels(ontology)
    assert (RG.PlanTask, RDFS.subClassOf, RG.PlanItem) in g
    post = rdflib.Graph(store=SPARQLStore(endpoint, method="POST"))
    assert set(post.objects(RG.PlanTask, RDFS.label)) == set(g.objects(RG.PlanTask, RDFS.label))


# --- raw HTTP ----------------------------------------------------------------------------------------------


def test_raw_httpx_methods_and_headers(endpoint, ontology):
    with httpx.Client(timeout=10) as http:
        get = http.get(endpoint, params={"query": LABELS}, headers={"Accept": "text/csv"})
        form = http.post(endpoint, data={"query": LABELS}, headers={"Accept": "text/csv"})
        direct = http.post(endpoint, content=LABELS.encode(), headers={
            "Content-Type": "application/sparql-query; charset=utf-8", "Accept": "text/csv"})
        for r in (get, form, direct):
            assert r.status_code == 200
            assert r.headers["content-type"] == "text/csv; charset=utf-8"
            assert r.headers["vary"] == "Accept"
            assert r.headers["access-control-allow-origin"] == "*"
            assert r.headers["x-romagraph-truncated"] == "false"
            assert set(r.text.split("\r\n")[1:-1]) == labels(ontology)
        preflight = http.options(endpoint, headers={
            "Origin": "https://example.org", "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "*"
        sd = http.get(endpoint, headers={"Accept": "text/turtle"})
        assert sd.status_code == 200
        g = rdflib.Graph().parse(data=sd.text, format="turtle")
        assert (rdflib.URIRef(endpoint),
                rdflib.URIRef("http://www.w3.org/ns/sparql-service-description#endpoint"),
                rdflib.URIRef(endpoint)) in g
        bad = http.get(endpoint, params={"query": "SELECT * { ?s ?p }"})
        assert bad.status_code == 400 and bad.headers["content-type"].startswith("text/plain")
        refused = http.post(endpoint, content="DROP ALL",
                            headers={"Content-Type": "application/sparql-update"})
        assert refused.status_code == 403
