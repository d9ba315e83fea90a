"""Exports: every RDF dump re-imports to exactly the store plus its description; CSV tables
match SPARQL counts; the VoID/DCAT description is computed from the store and valid."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from fastapi.testclient import TestClient
from pyshacl import validate

from server import export
from server.app import create_app
from server.config import Settings
from server.export import DUMPS, csv_tables, description_quads, write_csv, write_dump
from server.store import OxigraphStore

from .servers import NO_OXIGRAPH, OXIGRAPH, oxigraph_server

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def client(
    settings: Settings, store: OxigraphStore, tmp_path_factory: pytest.TempPathFactory
) -> TestClient:
    s = settings.model_copy(update={"export_dir": tmp_path_factory.mktemp("export")})
    return TestClient(create_app(s, store))


def _expected(store: OxigraphStore, settings: Settings, quads: bool) -> set:
    desc = description_quads(store, settings)
    if quads:
        return set(store.quads()) | set(desc)
    return {q.triple for q in store.quads()} | {q.triple for q in desc}


@pytest.mark.parametrize("key", list(DUMPS))
def test_dump_reimports_to_the_store(
    key: str, store: OxigraphStore, settings: Settings, tmp_path: Path
) -> None:
    d = DUMPS[key]
    path = write_dump(store, settings, key, tmp_path)
    assert path.name == d.filename  # stable file names
    parsed = set(ox.parse(path=str(path), format=d.fmt))
    got = parsed if d.quads else {t if isinstance(t, ox.Triple) else t.triple for t in parsed}
    assert got == _expected(store, settings, d.quads)


def test_gzip_dump_is_the_same_graph(
    store: OxigraphStore, settings: Settings, tmp_path: Path
) -> None:
    plain = write_dump(store, settings, "nq", tmp_path)
    packed = write_dump(store, settings, "nq", tmp_path, compress=True)
    assert packed.name == "romagraph.nq.gz"
    assert set(ox.parse(gzip.decompress(packed.read_bytes()), format=ox.RdfFormat.N_QUADS)) == set(
        ox.parse(path=str(plain), format=ox.RdfFormat.N_QUADS)
    )


def test_dump_carries_version_and_date(
    store: OxigraphStore, settings: Settings, tmp_path: Path
) -> None:
    g = rdflib.Graph().parse(write_dump(store, settings, "ttl", tmp_path), format="turtle")
    ds = rdflib.URIRef(settings.base_iri + "data/romagraph")
    assert g.value(ds, rdflib.URIRef("http://www.w3.org/ns/dcat#version")) is not None
    assert g.value(ds, rdflib.DCTERMS.issued) is not None


def test_failed_export_leaves_no_file(
    store: OxigraphStore, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(ox, "serialize", broken)
    with pytest.raises(OSError):
        write_dump(store, settings, "ttl", tmp_path)
    assert list(tmp_path.iterdir()) == []


CSV_COUNTS = {
    "organisations": "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a <http://www.w3.org/ns/org#Organization> }",
    "projects": "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a <https://schema.org/Project> }",
    "events": "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a <https://schema.org/Event> }",
    "people_in_roles": "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a <http://www.w3.org/ns/org#Post> ; <http://www.w3.org/ns/org#postIn> ?o }",
    "statistics": "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a <http://purl.org/linked-data/cube#Observation> ; <http://purl.org/linked-data/sdmx/2009/measure#obsValue> ?v }",
    "funding": "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a <https://schema.org/MonetaryGrant> ; <https://schema.org/fundedItem> ?i }",
}


@pytest.fixture(scope="module")
def csv_dir(
    store: OxigraphStore, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("csv")
    write_csv(store, settings, out)
    return out


def _rows(csv_dir: Path, name: str) -> list[dict[str, str]]:
    with open(csv_dir / f"{name}.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("table", sorted(CSV_COUNTS))
def test_csv_row_count_matches_sparql(table: str, csv_dir: Path, store: OxigraphStore) -> None:
    expected = int(store.select(CSV_COUNTS[table])[0]["n"].value)
    rows = _rows(csv_dir, table)
    assert expected > 0
    assert len(rows) == expected
    assert len({tuple(r.values()) for r in rows}) == len(rows)


def test_csv_known_rows(csv_dir: Path) -> None:
    orgs = {r["iri"]: r for r in _rows(csv_dir, "organisations")}
    km = orgs["https://w3id.org/romagraph/id/org/kulturas-ministrija"]
    assert km["label_lv"] == "Kultūras ministrija"
    assert km["label_en"] == "Ministry of Culture"
    items = {(r["plan"].rsplit("/", 1)[-1], r["notation"]): r for r in _rows(csv_dir, "plan_items")}
    assert ("nip-2019-2020", "1.3.3") in items
    assert items[("nip-2019-2020", "1.3.3")]["kind"] == "PlanTask"
    resp = _rows(csv_dir, "responsibilities")
    assert any(
        r["subject"].endswith("/nip-2019-2020/1.3.3")
        and r["agent"].endswith("/kulturas-ministrija")
        and r["role"].endswith("/coordinator")
        for r in resp
    )


def test_every_csv_table_is_documented(csv_dir: Path) -> None:
    meta = json.loads((csv_dir / "csv-metadata.json").read_text(encoding="utf-8"))
    assert {t["url"] for t in meta["tables"]} == {f"{t}.csv" for t in csv_tables()}
    for t in meta["tables"]:
        with open(csv_dir / t["url"], encoding="utf-8") as f:
            header = next(csv.reader(f))
        assert [c["name"] for c in t["tableSchema"]["columns"]] == header
        assert all(c["dc:description"] for c in t["tableSchema"]["columns"]), t["url"]


def test_void_triple_count_equals_store(
    client: TestClient, store: OxigraphStore, settings: Settings
) -> None:
    r = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    ds = rdflib.URIRef(settings.base_iri + "data/romagraph")
    triples = int(g.value(ds, rdflib.URIRef("http://rdfs.org/ns/void#triples")))
    union = {q.triple for q in store.quads()}
    assert triples == len(union)
    partitions = list(g.objects(ds, rdflib.URIRef("http://rdfs.org/ns/void#classPartition")))
    assert len(partitions) > 10


def test_dcat_description_validates(client: TestClient) -> None:
    r = client.get("/dataset", headers={"Accept": "application/ld+json"})
    assert r.status_code == 200
    g = rdflib.Graph().parse(data=r.text, format="json-ld")
    shapes = rdflib.Graph().parse(FIXTURES / "dcat-ap-shapes.ttl")
    conforms, _, text = validate(g, shacl_graph=shapes)
    assert conforms, text
    assert (
        len(
            list(
                g.subjects(rdflib.RDF.type, rdflib.URIRef("http://www.w3.org/ns/dcat#Distribution"))
            )
        )
        >= 6
    )


def test_export_download_over_http(client: TestClient, store: OxigraphStore) -> None:
    r = client.get("/export/romagraph.nt")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/n-triples")
    assert len(set(ox.parse(r.content, format=ox.RdfFormat.N_TRIPLES))) >= len(
        {q.triple for q in store.quads()}
    )
    assert client.get("/export/organisations.csv").status_code == 404
    r = client.get("/export/csv/organisations.csv")
    assert r.status_code == 200 and "kulturas-ministrija" in r.text
    assert client.get("/export/").status_code == 200


def test_model_pages(client: TestClient) -> None:
    html = client.get("/ontology", headers={"Accept": "text/html"})
    assert html.status_code == 200 and "PlanTask" in html.text
    ttl = client.get("/ontology", headers={"Accept": "text/turtle"})
    g = rdflib.Graph().parse(data=ttl.text, format="turtle")
    assert (
        rdflib.URIRef("https://w3id.org/romagraph/def/rg#PlanTask"),
        rdflib.RDF.type,
        rdflib.OWL.Class,
    ) in g
    shapes = client.get("/shapes", headers={"Accept": "text/turtle"})
    assert "sh:message" in shapes.text or "shacl#message" in shapes.text
    assert client.get("/shapes", headers={"Accept": "text/html"}).status_code == 200
    assert client.get("/ontology", headers={"Accept": "image/png"}).status_code == 406
    ctx = client.get("/context.jsonld").json()
    assert ctx["@context"]["label"]["@container"] == "@language"


def test_live_validation_report(client: TestClient) -> None:
    r = client.get("/validation?format=json")
    assert r.status_code == 200
    assert r.json()["conforms"] is True
    assert client.get("/validation", headers={"Accept": "text/html"}).status_code == 200


# --- the union of the graphs: each triple once, counted without materialising it ----------------

EX = "http://example.org/"
VOID = "http://rdfs.org/ns/void#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
TRIPLE_DUMPS = [k for k, d in DUMPS.items() if not d.quads]


def _n(name: str) -> ox.NamedNode:
    return ox.NamedNode(EX + name)


@pytest.fixture
def repeating(settings: Settings) -> OxigraphStore:
    """A store whose graphs repeat triples: one in two named graphs, one in three, one in the
    default graph and a named graph, one in a graph named by a blank node and an IRI graph."""
    g1, g2, g3, bg = _n("g1"), _n("g2"), _n("g3"), ox.BlankNode("b")
    a, b, c = _n("a"), _n("b"), _n("c")
    id_ = ox.NamedNode(settings.base_iri + "id/x")
    both = ox.Triple(a, _n("p"), b)
    thrice = ox.Triple(id_, RDF_TYPE, _n("C"))
    label = ox.Triple(a, _n("label"), ox.Literal("ā", language="lv"))
    default = ox.Triple(c, _n("p"), a)
    blank = ox.Triple(b, _n("q"), ox.Literal("1", datatype=ox.NamedNode(EX + "t")))
    inner = ox.Store()
    for t, graphs in (
        (both, [g1, g2]),
        (thrice, [g1, g2, g3]),
        (label, [g2]),
        (default, [ox.DefaultGraph(), g3]),
        (blank, [bg, g1]),
        (ox.Triple(a, RDF_TYPE, _n("C")), [g3]),
        (ox.Triple(c, _n("p"), ox.BlankNode("x")), [g1]),
    ):
        for g in graphs:
            inner.add(ox.Quad(t.subject, t.predicate, t.object, g))
    return OxigraphStore(inner=inner)


def _union(store: OxigraphStore) -> set[ox.Triple]:
    return {q.triple for q in store.inner.quads_for_pattern(None, None, None, None)}


def _parsed_triples(path: Path, fmt: ox.RdfFormat) -> list[ox.Triple]:
    return [t if isinstance(t, ox.Triple) else t.triple for t in ox.parse(path=str(path), format=fmt)]


@pytest.mark.parametrize("key", TRIPLE_DUMPS)
@pytest.mark.parametrize("held", [True, False], ids=["repeats-held", "repeats-queried"])
def test_triple_repeated_across_graphs_is_written_once(
    key: str, held: bool, repeating: OxigraphStore, settings: Settings, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not held:  # too many repeats to hold: the store deduplicates them in a streamed query
        monkeypatch.setattr(export, "MAX_REPEATED", 0)
    d = DUMPS[key]
    description = {q.triple for q in description_quads(repeating, settings)}
    path = write_dump(repeating, settings, key, tmp_path)
    if d.fmt == ox.RdfFormat.N_TRIPLES:  # one line per triple: nothing written twice
        lines = path.read_text(encoding="utf-8").splitlines()
        assert len(lines) == len(set(lines))
    got = _parsed_triples(path, d.fmt)
    body = [t for t in got if t not in description]
    assert len(body) == len(set(body))
    assert set(body) | description == _union(repeating) | description
    blank_free = [t for t in body if not isinstance(t.object, ox.BlankNode)]
    assert len(blank_free) == len(_union(repeating)) - 1


def _brute_force_counts(store: OxigraphStore, base: str) -> dict[str, object]:
    union = _union(store)
    types = {t for t in union if t.predicate == RDF_TYPE}
    classes: dict[str, set[object]] = {}
    for t in types:
        if isinstance(t.object, ox.NamedNode):
            classes.setdefault(t.object.value, set()).add(t.subject)
    properties: dict[str, int] = {}
    for t in union:
        properties[t.predicate.value] = properties.get(t.predicate.value, 0) + 1
    return {
        "triples": len(union),
        "distinctSubjects": len({t.subject for t in union}),
        "distinctObjects": len({t.object for t in union}),
        "entities": len(
            {t.subject for t in types if t.subject.value.startswith(base + "id/")}
        ),
        "classes": {c: len(s) for c, s in classes.items()},
        "properties": properties,
    }


def _described_counts(quads: list[ox.Quad], settings: Settings) -> dict[str, object]:
    ds = ox.NamedNode(settings.base_iri + "data/romagraph")
    by: dict[tuple[object, str], list[object]] = {}
    for q in quads:
        by.setdefault((q.subject, q.predicate.value), []).append(q.object)

    def one(s: object, p: str) -> object:
        (v,) = by[(s, VOID + p)]
        return v

    def count(s: object, p: str) -> int:
        v = one(s, p)
        assert isinstance(v, ox.Literal)
        return int(v.value)

    return {
        "triples": count(ds, "triples"),
        "distinctSubjects": count(ds, "distinctSubjects"),
        "distinctObjects": count(ds, "distinctObjects"),
        "entities": count(ds, "entities"),
        "classes": {
            one(part, "class").value: count(part, "entities")  # type: ignore[attr-defined]
            for part in by.get((ds, VOID + "classPartition"), [])
        },
        "properties": {
            one(part, "property").value: count(part, "triples")  # type: ignore[attr-defined]
            for part in by.get((ds, VOID + "propertyPartition"), [])
        },
    }


@pytest.mark.parametrize("held", [True, False], ids=["repeats-held", "repeats-queried"])
def test_description_counts_match_a_brute_force_count(
    held: bool, store: OxigraphStore, repeating: OxigraphStore, settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not held:
        monkeypatch.setattr(export, "MAX_REPEATED", 0)
    for s in (store, repeating):
        expected = _brute_force_counts(s, settings.base_iri)
        assert _described_counts(description_quads(s, settings), settings) == expected
    assert _brute_force_counts(repeating, settings.base_iri)["triples"] == 7


def test_the_repository_repeats_some_triples_across_files(store: OxigraphStore) -> None:
    """The bundled data has triples in several graphs, so the tests above are not vacuous."""
    assert len(list(store.quads())) > len(_union(store))


def test_triple_dump_is_what_construct_writes(
    store: OxigraphStore, settings: Settings, tmp_path: Path
) -> None:
    """Same triples, same order as ``CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }`` (which
    deduplicates in memory), then the description."""
    path = write_dump(store, settings, "nt", tmp_path)
    construct = list(store.raw_query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"))
    description = [q.triple for q in description_quads(store, settings)]
    assert _parsed_triples(path, ox.RdfFormat.N_TRIPLES) == construct + description


@pytest.fixture(scope="module")
def remote_store(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[object]:
    if OXIGRAPH is None:
        pytest.skip(NO_OXIGRAPH)
    from server.backends.loading import repository_sources
    from server.backends.remote import RemoteStore, load_remote

    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as base:
        load_remote(base + "/store", repository_sources(settings), progress=False)
        remote = RemoteStore(base + "/query", timeout=30)
        yield remote
        remote.close()


@pytest.mark.parametrize("key", ["nt", "nq"])
def test_remote_export_is_the_embedded_export(
    key: str, remote_store: OxigraphStore, store: OxigraphStore, settings: Settings,
    tmp_path: Path,
) -> None:
    d = DUMPS[key]
    remote = set(ox.parse(path=str(write_dump(remote_store, settings, key, tmp_path / "r")),
                          format=d.fmt))
    local = set(ox.parse(path=str(write_dump(store, settings, key, tmp_path / "l")),
                         format=d.fmt))
    assert remote == local
