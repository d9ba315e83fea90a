"""The analyses answer what the documents say: connections carry citations, the coverage matrix
tells "the document says none" from "not mentioned", and changes compare the two documents."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from server.config import Settings
from server.store import OxigraphStore

ID = "https://w3id.org/romagraph/id/"


@pytest.fixture(scope="module")
def client(settings: Settings, store: OxigraphStore) -> TestClient:
    return TestClient(create_app(settings, store))


def test_ngo_reaches_coordinating_ministry_through_the_roma_council(client: TestClient) -> None:
    # km2018 II-council: the Roma council (hosted by KM, fn 3) discussed at its 2018 meeting the
    # results of the Romu Kultūras centrs project „Romu vēstures atceres projekts: Dzīvā atmiņa”.
    council = ID + "org/romu-integracijas-politikas-istenosanas-konsultativa-padome"
    km = ID + "org/kulturas-ministrija"
    ngo = ID + "org/romu-kulturas-centrs"
    r = client.get("/api/connections", params={"from": ngo, "to": km, "via": council, "k": 1})
    assert r.status_code == 200
    path = r.json()["paths"][0]
    nodes = [path[0]["from"]] + [s["to"] for s in path]
    assert nodes[0] == ngo and nodes[-1] == km and council in nodes
    assert ID + "project/romu-vestures-atceres-projekts-dziva-atmina" in nodes
    for step in path:
        assert step["relations"], step
        assert all(rel["citations"] for rel in step["relations"]), step
        assert all(
            c["quote"] and c["section"].startswith(ID + "source/")
            for rel in step["relations"]
            for c in rel["citations"]
        )
    # and the direct question finds a path too
    assert client.get("/api/connections", params={"from": ngo, "to": km}).json()["paths"]


def test_connections_page_draws_the_path(client: TestClient) -> None:
    r = client.get(
        "/connections",
        params={"from": "Romu Kultūras centrs", "to": "Kultūras ministrija", "lang": "lv"},
    )
    assert r.status_code == 200
    assert '<svg class="path-drawing"' in r.text
    assert "Kultūras ministrija" in r.text


def test_unknown_end_is_a_404_in_the_api(client: TestClient) -> None:
    r = client.get(
        "/api/connections", params={"from": ID + "org/nope", "to": ID + "org/kulturas-ministrija"}
    )
    assert r.status_code == 404


def test_coordination_ranks_the_ministry_of_culture_first(client: TestClient) -> None:
    # Both documents name KM as the institution that makes and coordinates the policy.
    data = client.get("/api/coordination").json()
    km = ID + "org/kulturas-ministrija"
    assert km in [r["iri"] for r in data["ranking"][:3]]
    assert max(data["ranking"], key=lambda r: r["degree"])["iri"] == km
    assert data["communities"]
    assert client.get("/coordination").status_code == 200


def test_coverage_marks_health_as_document_says_none(client: TestClient) -> None:
    # km2018 II-health: "Atsevišķi pasākumi, kas būtu konkrēti vērsti uz romu veselības stāvokļa
    # veicināšanu vai veselības aprūpi, netiek īstenoti".
    rows = {r["theme"].rsplit("/", 1)[-1]: r for r in client.get("/api/coverage").json()}
    assert rows["health"]["status"] == "says-none"
    assert rows["health"]["none_statements"][0]["quote"]
    assert rows["education"]["status"] == "covered"
    assert rows["education"]["projects"]
    assert {"education", "employment", "health", "housing"} <= {
        k for k, r in rows.items() if r["eu_pillar"]
    }
    html = client.get("/coverage", params={"lang": "en"}).text
    assert "the document says no targeted measure" in html


def test_changes_compare_both_documents(client: TestClient) -> None:
    data = client.get("/api/changes").json()
    # iic2014 III-2 lists councils the 2018 report does not mention (the President's council).
    assert any("prezident" in n for n in data["only_iic2014"])
    assert any("latvijas-romu-platforma" in n for n in data["only_km2018"])
    assert ID + "org/kulturas-ministrija" in data["both"]
    unemployment = {(f["period"], f["value"]) for f in data["figures"]["unemployment"]}
    assert ("2012", 799.0) in unemployment and ("2013", 658.0) in unemployment  # iic2014 I
    pupils = {(f["period"], f["value"]) for f in data["figures"]["pupils"]}
    assert ("2014/2015", 1018.0) in pupils  # iic2014 I
    assert client.get("/changes").status_code == 200
