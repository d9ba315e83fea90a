"""Integration: ``romagraph serve --store http://…`` over a real SPARQL server answers pages,
``/sparql`` and exports as the embedded store does.

``bash .ci/run`` starts an Oxigraph server, loads it with ``romagraph load`` and runs these with
``ROMAGRAPH_TEST_REMOTE`` set to its query URL; the plain test run skips them.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from server.app import create_app
from server.config import REPO_ROOT, Settings
from server.store import OxigraphStore

from .servers import fragments, romagraph_server

REMOTE = os.environ.get("ROMAGRAPH_TEST_REMOTE", "")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not REMOTE,
        reason="integration tests need a loaded SPARQL server: run `bash .ci/run`, or start "
        "`oxigraph serve --location DIR --bind 127.0.0.1:7878 --union-default-graph`, run "
        "`romagraph load --store http://127.0.0.1:7878/query` and then "
        "`ROMAGRAPH_TEST_REMOTE=http://127.0.0.1:7878/query python -m pytest -m integration`",
    ),
]
KM = "https://w3id.org/romagraph/id/org/kulturas-ministrija"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """``romagraph serve`` over the remote store, in its own process."""
    export_dir = tmp_path_factory.mktemp("remote-export")
    with romagraph_server(REMOTE, ROMAGRAPH_EXPORT_DIR=str(export_dir)) as base, httpx.Client(
        base_url=base, timeout=60
    ) as client:
        yield client


@pytest.fixture(scope="module")
def local(
    settings: Settings, store: OxigraphStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """The same app over the embedded store, for comparison."""
    s = settings.model_copy(update={"export_dir": tmp_path_factory.mktemp("local-export")})
    with TestClient(create_app(s, store)) as client:
        yield client


@pytest.fixture(scope="module")
def alternatives(store: OxigraphStore) -> list[str]:
    """Quotes of citations that have several: a page shows one of them, whichever its query
    (which has no ORDER BY) meets first, and two engines may meet another first."""
    rows = store.select(
        "SELECT ?q WHERE { ?c <https://w3id.org/romagraph/def/rg#quote> ?q, ?other "
        "FILTER(?q != ?other) }"
    )
    return sorted({str(escape(r["q"].value)) for r in rows}, key=len, reverse=True)


def _same_page(a: str, b: str, alternatives: list[str]) -> bool:
    for quote in alternatives:
        a, b = a.replace(quote, "(one of the quotes)"), b.replace(quote, "(one of the quotes)")
    return fragments(a) == fragments(b)


PAGES = [
    "/",
    "/doc/org/kulturas-ministrija",
    "/doc/plan/nip-2019-2020/1.3.3",
    "/plans",
    "/themes",
    "/places",
    "/places/jelgava",
    "/sources",
    "/sources/km2018",
    "/browse",
    "/search?q=romu",
    "/coordination",
    "/coverage",
    "/export/",
]


@pytest.mark.parametrize("path", PAGES)
def test_pages_show_what_the_embedded_store_shows(
    path: str, site: httpx.Client, local: TestClient, alternatives: list[str]
) -> None:
    remote, embedded = site.get(path), local.get(path)
    assert remote.status_code == embedded.status_code == 200
    assert _same_page(remote.text, embedded.text, alternatives)


@pytest.mark.parametrize("path", ["/api/search?q=rom", "/api/coordination"])
def test_json_apis_answer_as_the_embedded_store(
    path: str, site: httpx.Client, local: TestClient
) -> None:
    remote, embedded = site.get(path), local.get(path)
    assert remote.status_code == embedded.status_code == 200
    assert _canonical(remote.json()) == _canonical(embedded.json())


def test_neighbourhood_graph_is_drawn_from_the_remote_store(site: httpx.Client) -> None:
    # The neighbourhood keeps the first neighbours its unordered queries meet (FANOUT), so two
    # engines may draw different subsets: check its shape, not its exact content.
    r = site.get("/api/graph", params={"iri": KM})
    assert r.status_code == 200
    graph = r.json()
    ids = {n["id"] for n in graph["nodes"]}
    assert graph["root"] == KM and KM in ids and len(ids) > 10
    assert all(e["source"] in ids and e["target"] in ids for e in graph["edges"])


def _canonical(value: object) -> object:
    """JSON with every list sorted (order of unordered query results does not matter)."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((_canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def test_things_redirect_to_their_description(site: httpx.Client) -> None:
    r = site.get("/id/org/kulturas-ministrija", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].endswith("/doc/org/kulturas-ministrija")
    ttl = site.get("/doc/org/kulturas-ministrija", headers={"Accept": "text/turtle"})
    assert ttl.status_code == 200
    triples = list(ox.parse(ttl.content, ox.RdfFormat.TURTLE))
    assert any(t.subject == ox.NamedNode(KM) for t in triples)


SELECT_JSON = {"Accept": "application/sparql-results+json"}


def _solutions(body: bytes) -> list[tuple[tuple[str, str], ...]]:
    return sorted(
        tuple(sorted((k, json.dumps(v, sort_keys=True)) for k, v in b.items()))
        for b in json.loads(body)["results"]["bindings"]
    )


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?c ?label WHERE { ?c a owl:Class ; rdfs:label ?label }",
        "SELECT ?org (COUNT(?p) AS ?n) WHERE { ?p cv:hasParticipant ?org } GROUP BY ?org",
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    ],
)
def test_sparql_select_answers_as_the_embedded_endpoint(
    query: str, site: httpx.Client, local: TestClient
) -> None:
    remote = site.post("/sparql", data={"query": query}, headers=SELECT_JSON)
    embedded = local.post("/sparql", data={"query": query}, headers=SELECT_JSON)
    assert remote.status_code == embedded.status_code == 200, remote.text
    assert remote.headers["content-type"].startswith("application/sparql-results+json")
    assert _solutions(remote.content) == _solutions(embedded.content)
    assert remote.headers["X-Romagraph-Rows"] == embedded.headers["X-Romagraph-Rows"]


def test_sparql_construct_ask_and_protocol_errors(site: httpx.Client, local: TestClient) -> None:
    q = f"CONSTRUCT {{ <{KM}> ?p ?o }} WHERE {{ <{KM}> ?p ?o }}"
    remote = site.get("/sparql", params={"query": q}, headers={"Accept": "text/turtle"})
    embedded = local.get("/sparql", params={"query": q}, headers={"Accept": "text/turtle"})
    assert remote.status_code == 200
    assert set(ox.parse(remote.content, ox.RdfFormat.TURTLE)) == set(
        ox.parse(embedded.content, ox.RdfFormat.TURTLE)
    )
    ask = site.get("/sparql", params={"query": f"ASK {{ <{KM}> a org:Organization }}"},
                   headers=SELECT_JSON)
    assert ask.json()["boolean"] is True
    bad = site.get("/sparql", params={"query": "SELECT ?s WHERE {\n  ?s ?p\n}"})
    assert bad.status_code == 400
    assert "Malformed query" in bad.text
    assert site.post("/sparql", data={"update": "CLEAR ALL"}).status_code == 403


def test_sparql_results_are_cut_at_the_row_limit(site: httpx.Client) -> None:
    r = site.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"}, headers=SELECT_JSON)
    assert r.status_code == 200
    limit = int(r.headers["X-Romagraph-Row-Limit"])
    assert r.headers["X-Romagraph-Truncated"] == "true"
    assert len(json.loads(r.content)["results"]["bindings"]) == limit


def test_export_dump_is_the_embedded_stores_dump(site: httpx.Client, local: TestClient) -> None:
    remote = site.get("/export/romagraph.nq")
    embedded = local.get("/export/romagraph.nq")
    assert remote.status_code == embedded.status_code == 200
    assert set(ox.parse(remote.content, ox.RdfFormat.N_QUADS)) == set(
        ox.parse(embedded.content, ox.RdfFormat.N_QUADS)
    )


def test_export_csv_is_the_embedded_stores_csv(site: httpx.Client, local: TestClient) -> None:
    remote = site.get("/export/csv/organisations.csv")
    embedded = local.get("/export/csv/organisations.csv")
    assert remote.status_code == embedded.status_code == 200

    def table(text: str) -> tuple[list[str], list[list[str]]]:
        rows = list(csv.reader(io.StringIO(text)))
        return rows[0], sorted(rows[1:])

    assert table(remote.text) == table(embedded.text)
    assert len(table(remote.text)[1]) > 50


def test_cli_query_runs_against_the_remote_store(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "server.cli", "query", "-", "--format", "csv"],
        input="SELECT (COUNT(*) AS ?n) WHERE { ?s a org:Organization }",
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
        env={**os.environ, "ROMAGRAPH_STORE": REMOTE},
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert int(r.stdout.splitlines()[1]) > 50
