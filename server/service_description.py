"""The SPARQL 1.1 Service Description of /sparql (https://www.w3.org/TR/sparql11-service-description/).

Returned by ``GET /sparql`` without a query to clients asking for RDF. It names the endpoint, the
language and result formats it supports, its default dataset (the union of the named graphs,
``sd:UnionDefaultGraph``) with each named graph and its size, and states the limits in words.
"""

from __future__ import annotations

import pyoxigraph as ox

from .config import Settings
from .conneg import OX_RDF, RDF_FORMATS, RESULT_FORMATS, Format
from .queries import server_query
from .store import Store

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
VOID = "http://rdfs.org/ns/void#"
DCT = "http://purl.org/dc/terms/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_COMMENT = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment")

# W3C's IRIs for the formats (https://www.w3.org/ns/formats/), by conneg key.
FORMAT_IRIS = {
    "json": "SPARQL_Results_JSON",
    "xml": "SPARQL_Results_XML",
    "csv": "SPARQL_Results_CSV",
    "tsv": "SPARQL_Results_TSV",
    "ttl": "Turtle",
    "nt": "N-Triples",
    "jsonld": "JSON-LD",
    "rdfxml": "RDF_XML",
    "trig": "TriG",
    "nq": "N-Quads",
}
PREFIXES = {"sd": SD, "format": FORMATS, "void": VOID, "dct": DCT,
            "rdfs": "http://www.w3.org/2000/01/rdf-schema#"}


def graph_sizes(store: Store) -> list[tuple[str, int]]:
    """Each named graph of the store and its number of triples."""
    rows = store.select(server_query("sd_graphs"))
    return [(r["graph"].value, int(r["triples"].value)) for r in rows if "graph" in r]


def _sd(name: str) -> ox.NamedNode:
    return ox.NamedNode(SD + name)


def describe(
    endpoint: str, graphs: list[tuple[str, int]], settings: Settings
) -> list[ox.Triple]:
    """The service description of ``endpoint`` as triples."""
    service = ox.NamedNode(endpoint)
    dataset = ox.BlankNode("dataset")
    default_graph = ox.BlankNode("defaultGraph")
    out = [
        ox.Triple(service, RDF_TYPE, _sd("Service")),
        ox.Triple(service, _sd("endpoint"), service),
        ox.Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        ox.Triple(service, _sd("feature"), _sd("UnionDefaultGraph")),
        ox.Triple(service, _sd("defaultEntailmentRegime"),
                  ox.NamedNode("http://www.w3.org/ns/entailment/Simple")),
        ox.Triple(service, ox.NamedNode(DCT + "title"),
                  ox.Literal("romagraph SPARQL endpoint", language="en")),
        ox.Triple(service, RDFS_COMMENT, ox.Literal(
            "Read-only. The default graph is the union of all named graphs unless the request "
            "names a dataset (default-graph-uri, named-graph-uri, FROM). "
            f"Queries may run for {settings.query_timeout:g} s, return at most "
            f"{settings.max_rows} rows or triples (a cut result carries the response header "
            f"X-Romagraph-Truncated: true) and be at most {settings.max_query_bytes} bytes long. "
            "SPARQL Update, LOAD and SERVICE (federation) are refused.",
            language="en",
        )),
        ox.Triple(service, _sd("defaultDataset"), dataset),
        ox.Triple(dataset, RDF_TYPE, _sd("Dataset")),
        ox.Triple(dataset, _sd("defaultGraph"), default_graph),
        ox.Triple(default_graph, RDF_TYPE, _sd("Graph")),
        ox.Triple(default_graph, ox.NamedNode(VOID + "triples"),
                  ox.Literal(str(sum(n for _, n in graphs)),
                             datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))),
    ]
    for f in (*RESULT_FORMATS, *RDF_FORMATS):
        out.append(ox.Triple(service, _sd("resultFormat"),
                             ox.NamedNode(FORMATS + FORMAT_IRIS[f.key])))
    for i, (iri, size) in enumerate(graphs):
        named = ox.BlankNode(f"namedGraph{i}")
        graph = ox.BlankNode(f"graph{i}")
        out += [
            ox.Triple(dataset, _sd("namedGraph"), named),
            ox.Triple(named, RDF_TYPE, _sd("NamedGraph")),
            ox.Triple(named, _sd("name"), ox.NamedNode(iri)),
            ox.Triple(named, _sd("graph"), graph),
            ox.Triple(graph, RDF_TYPE, _sd("Graph")),
            ox.Triple(graph, ox.NamedNode(VOID + "triples"),
                      ox.Literal(str(size),
                                 datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))),
        ]
    return out


def serialize(triples: list[ox.Triple], fmt: Format) -> bytes:
    return ox.serialize(triples, format=OX_RDF[fmt.key], prefixes=PREFIXES) or b""
