"""The persisted page index in shards (#8): a catalogue and search index read back shard by shard
equal the ones built from the store, table by table and page by page, before and after the
background decoding swaps each table for a plain dict; a corrupt shard answers 503, not a crash;
``len()`` decodes nothing."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from urllib.parse import urlencode

import pyoxigraph as ox
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from benchmarks.generate import generate
from server.app import create_app
from server.config import Settings
from server.services import snapshot
from server.services.catalogue import SECTIONS, Catalogue, QualifiedIndex
from server.services.search import SearchIndex
from server.services.sharded import PackedList, ShardedMapping
from server.store import OxigraphStore

BASE = "https://w3id.org/romagraph/"
HTML = {"Accept": "text/html"}
PAGES = [
    "/", "/doc/org/kulturas-ministrija", "/browse?class=org:Organization", "/places",
    "/plans", "/sources", "/themes", "/search?q=roma", "/api/search?q=kult",
    "/api/search?q=jelgavas", "/doc/org/no-such-organisation",
]


@pytest.fixture(scope="module")
def bundled(settings: Settings, store: OxigraphStore) -> FastAPI:
    """The repository's graph, its catalogue built from the store."""
    return create_app(settings, store)


@pytest.fixture(scope="module")
def generated(settings: Settings) -> FastAPI:
    """A generated graph of 30k triples, its catalogue built from the store."""
    text = io.StringIO()
    generate(30_000, 3, text, "nq")
    inner = ox.Store()
    inner.load(text.getvalue().encode(), format=ox.RdfFormat.N_QUADS)
    return create_app(settings, OxigraphStore(inner=inner))


def persisted(app: FastAPI, folder: Path, weight: int) -> tuple[Catalogue, SearchIndex]:
    """Write the app's catalogue and index into ``folder`` in shards of ``weight``; read back."""
    folder.mkdir(exist_ok=True)
    snapshot.write_index(folder, app.state.catalogue, app.state.search_index,
                         snapshot.fingerprint(folder), weight=weight)
    return snapshot.read_index(folder, BASE)


def served(app: FastAPI, catalogue: Catalogue, index: SearchIndex) -> TestClient:
    """A client of the same app's routes on the same store, with the catalogue read back."""
    twin = create_app(app.state.settings, app.state.store)
    twin.state.catalogue, twin.state.search_index = catalogue, index
    return TestClient(twin)


def resource_pages(catalogue: Catalogue, n: int) -> list[str]:
    """Resource pages of ``n`` resources of every category (spread over the graph)."""
    by_category: dict[str, list[str]] = {}
    for iri in sorted(catalogue.types):
        by_category.setdefault(catalogue.category(iri), []).append(iri)
    out = []
    for iris in by_category.values():
        step = max(1, len(iris) // n)
        out += ["/resource?" + urlencode({"iri": iri}) for iri in iris[::step][:n]]
    return out


def answers(client: TestClient, urls: list[str]) -> dict[str, tuple[int, bytes]]:
    out = {}
    for url in urls:
        r = client.get(url, headers=HTML)
        out[url] = (r.status_code, r.content)
    return out


def assert_same_tables(read: Catalogue, built: Catalogue) -> None:
    for name in SECTIONS:
        mine, theirs = getattr(read, name), getattr(built, name)
        assert len(mine) == len(theirs), name
        assert dict(mine) == dict(theirs), name  # every key and value
        for key in list(theirs)[::7]:
            assert mine[key] == theirs[key] and key in mine and mine.get(key) == theirs[key]
        assert "https://example.org/none" not in mine and mine.get(1) is None


@pytest.mark.parametrize(("graph", "weight"), [("bundled", 64), ("generated", 512)])
def test_tables_read_back_equal_the_built_ones(
    graph: str, weight: int, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    app: FastAPI = request.getfixturevalue(graph)
    built: Catalogue = app.state.catalogue
    catalogue, index = persisted(app, tmp_path / "store", weight)
    tables = {name: getattr(catalogue, name) for name in SECTIONS}
    sharded = {n: t for n, t in tables.items() if isinstance(t, ShardedMapping)}
    assert set(sharded) == set(SECTIONS) - {"qualified"}
    assert isinstance(catalogue.qualified, QualifiedIndex)
    assert isinstance(catalogue.qualified.blobs, ShardedMapping)
    assert max(t.decoded for t in sharded.values()) == 0
    assert len(catalogue.pref) == len(built.pref) and len(catalogue.members) == len(built.members)
    assert max(t.decoded for t in sharded.values()) == 0  # len() decodes nothing
    assert catalogue.count("org:Organization") == built.count("org:Organization") > 0
    organisations = catalogue.members[catalogue.x("org:Organization")]
    assert isinstance(organisations, PackedList) and organisations._items is None  # counted only
    assert max(len(t._slots) for t in sharded.values()) >= 8  # really in shards

    assert_same_tables(catalogue, built)
    assert list(index.entries) == list(app.state.search_index.entries)
    for q in ("roma", "kult", "jelgav", "projekts", "ministr", "plan"):
        assert index.search(q, "lv") == app.state.search_index.search(q, "lv")

    snapshot.settle(catalogue, index)  # what the server's background thread does
    for name in SECTIONS:
        value = getattr(catalogue, name)
        assert type(value.blobs if name == "qualified" else value) is dict, name
    assert type(index.entries.columns[0]) is list
    assert all(type(m) is list for m in catalogue.members.values())
    assert_same_tables(catalogue, built)
    assert list(index.entries) == list(app.state.search_index.entries)
    for name, old in sharded.items():  # a reference taken before the swap still answers
        assert dict(old) == dict(getattr(built, name)) and len(old) == len(getattr(built, name))
        assert list(old.items()) == list(getattr(catalogue, name).items())


@pytest.mark.parametrize(("graph", "weight"), [("bundled", 64), ("generated", 512)])
def test_pages_render_the_same_from_the_shards(
    graph: str, weight: int, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    app: FastAPI = request.getfixturevalue(graph)
    urls = [*PAGES, *resource_pages(app.state.catalogue, 4 if graph == "bundled" else 2)]
    want = answers(TestClient(app), urls)
    assert sum(status == 200 for status, _ in want.values()) >= len(urls) - 2
    catalogue, index = persisted(app, tmp_path / "store", weight)
    client = served(app, catalogue, index)
    assert answers(client, urls) == want  # from a freshly read index, shards decoded as needed
    snapshot.settle(catalogue, index)
    assert answers(served(app, catalogue, index), urls) == want  # after the swap to dicts


def test_a_corrupt_shard_answers_503_and_the_server_goes_on(
    bundled: FastAPI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "store"
    catalogue, index = persisted(bundled, folder, 64)
    iri = BASE + "id/org/kulturas-ministrija"
    assert isinstance(catalogue.pref, ShardedMapping)
    offset, length = catalogue.pref.span(iri)
    path = folder / snapshot.INDEX_FILE
    data = bytearray(path.read_bytes())
    data[offset + length // 2] ^= 0xFF
    path.write_bytes(bytes(data))

    catalogue, index = snapshot.read_index(folder, BASE)  # a start checks no shard: it starts
    client = served(bundled, catalogue, index)
    with caplog.at_level(logging.ERROR, logger="server.services.sharded"):
        r = client.get("/doc/org/kulturas-ministrija", headers=HTML)
    assert r.status_code == 503
    assert "is corrupt" in r.text and "romagraph load" in r.text
    assert str(path) in caplog.text and "fails its checksum" in caplog.text
    assert client.get("/api/status").status_code == 200
    assert client.get("/doc/org/kulturas-ministrija", headers=HTML).status_code == 503  # again
    snapshot.settle(catalogue, index)  # the background decoding skips it, and does not fail
    assert isinstance(catalogue.pref, ShardedMapping)  # left in shards
    assert type(catalogue.types) is dict
    assert catalogue.types[iri] == bundled.state.catalogue.types[iri]
