"""Exports: every RDF dump re-imports to exactly the store plus its description; CSV tables
match SPARQL counts; the VoID/DCAT description is computed from the store and valid."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from fastapi.testclient import TestClient
from pyshacl import validate

from server.app import create_app
from server.config import Settings
from server.export import DUMPS, csv_tables, description_quads, write_csv, write_dump
from server.store import OxigraphStore

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
