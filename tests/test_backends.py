"""Store backends behind the one store interface: the on-disk Oxigraph store (load, reopen,
atomic replacement), a remote SPARQL endpoint (a real Oxigraph server on 127.0.0.1) answering
exactly as the embedded store does, and capabilities a remote store lacks failing with a message."""

from __future__ import annotations

import asyncio
import gzip
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from server.backends.disk import load_disk, open_disk, read_from_memory_soon
from server.backends.loading import dump_sources, repository_sources
from server.backends.remote import RemoteStore, bind, default_update_url, load_remote
from server.config import REPO_ROOT, Settings
from server.sparql_workers import Job, QueryPool
from server.store import (
    DataError,
    OxigraphStore,
    StoreUnavailable,
    UnsupportedByStore,
    open_store,
)

from .servers import NO_OXIGRAPH, OXIGRAPH, fragments, free_port, oxigraph_server

BASE = "https://w3id.org/romagraph/"
KM = ox.NamedNode(BASE + "id/org/kulturas-ministrija")
OUTGOING = "SELECT ?r ?p ?o WHERE { ?r ?p ?o }"
GRAPHS = [BASE + f"graph/{g}" for g in ("common", "iic2014", "km2018", "ontology")]


def rows(result: list[dict[str, object]]) -> list[tuple[tuple[str, str], ...]]:
    return sorted(tuple(sorted((k, str(v)) for k, v in r.items())) for r in result)


# --- on disk -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def disk_path(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("disk") / "store"
    load_disk(path, repository_sources(settings), progress=False)
    return path


def test_disk_store_reopens_with_the_same_quads(
    disk_path: Path, store: OxigraphStore, settings: Settings
) -> None:
    disk = open_store(settings.model_copy(update={"store": f"oxigraph:{disk_path}"}))
    assert isinstance(disk, OxigraphStore)
    assert len(disk) == len(store)
    assert set(disk.quads()) == set(store.quads())
    assert disk.named_graphs() == store.named_graphs() == GRAPHS
    assert rows(disk.select(OUTGOING, {"r": KM})) == rows(store.select(OUTGOING, {"r": KM}))


def test_disk_store_opens_read_only_in_several_instances(disk_path: Path) -> None:
    a, b = open_disk(disk_path), open_disk(disk_path)
    assert len(a) == len(b) > 10_000
    with pytest.raises(RuntimeError, match="read-write"):
        a.inner.add(ox.Quad(KM, KM, KM))


def test_query_workers_swap_the_files_for_an_in_memory_copy(disk_path: Path) -> None:
    """Over an on-disk store the pool answers at once from the files, then each worker is
    replaced by one holding the store in memory; answers are the same before and after, and a
    store larger than the limit stays on the files."""
    query = Job(f"SELECT (COUNT(*) AS ?n) WHERE {{ <{KM.value}> ?p ?o }}", "tsv", None, 10)

    async def run(copy_up_to: int) -> tuple[bytes, bytes, list[bool], int]:
        pool = QueryPool(disk_path, size=2, timeout=30, copy_up_to=copy_up_to)
        try:
            await pool.start()
            first = (await pool.run(query)).body
            for _ in range(300):  # copies of a small store take well under a second
                if pool.upgraded == pool.size or not copy_up_to:
                    break
                await asyncio.sleep(0.1)
            answers = [(await pool.run(query)).body for _ in range(4)]
            assert len(set(answers)) == 1
            return first, answers[0], sorted(w.in_memory for w in pool._workers), pool.alive
        finally:
            await pool.close()

    first, later, in_memory, alive = asyncio.run(run(copy_up_to=1_000_000))
    assert first == later and first.count(b"\n") == 2
    assert in_memory == [True, True] and alive == 2  # the on-disk workers were stopped
    first, later, in_memory, alive = asyncio.run(run(copy_up_to=1_000))
    assert first == later
    assert in_memory == [False, False] and alive == 2


PAGES = ["/", "/doc/org/kulturas-ministrija", "/doc/plan/nip-2019-2020/1.3.3",
         "/doc/org/kulturas-ministrija.ttl"]


def test_pages_read_an_in_memory_copy_of_a_disk_store(disk_path: Path, settings: Settings) -> None:
    # the page cache is off: every page below is rendered from the store it reads at that moment
    disk = settings.model_copy(
        update={"store": f"oxigraph:{disk_path}", "pages_in_memory": 0, "page_cache_mb": 0}
    )
    app = create_app(disk)
    with TestClient(app) as client:
        status = client.get("/api/status").json()
        for _ in range(600):  # this store was loaded without its page index: built at start
            if status["pages"] == "ready":
                break
            time.sleep(0.1)
            status = client.get("/api/status").json()
        assert status["store_reads"] == "files"
        before = [client.get(u) for u in PAGES]
        files = app.state.store.inner
        copying = read_from_memory_soon(app.state.store, 10**9, after=0)
        assert copying is not None
        copying.join(120)
        assert client.get("/api/status").json()["store_reads"] == "memory"
        assert app.state.store.inner is not files
        after = [client.get(u) for u in PAGES]
    assert [r.status_code for r in before] == [r.status_code for r in after] == [200] * len(PAGES)
    html = slice(0, 3)  # the same pages, byte for byte
    assert [r.content for r in before[html]] == [r.content for r in after[html]]
    # the same statements (Turtle lists them in the order the store holds them)
    ttl = ox.RdfFormat.TURTLE
    assert set(ox.parse(before[3].content, ttl)) == set(ox.parse(after[3].content, ttl))
    assert set(app.state.store.quads()) == set(files.quads_for_pattern(None, None, None))


def test_a_disk_store_above_the_limit_stays_on_the_files(disk_path: Path) -> None:
    store = open_disk(disk_path)
    assert read_from_memory_soon(store, 0) is None  # 0: never copied
    copying = read_from_memory_soon(store, 1_000, after=0)  # the bundled graph is larger
    assert copying is not None
    copying.join(60)
    assert store.reads == "files"
    with pytest.raises(RuntimeError, match="read-write"):  # still the read-only files
        store.inner.add(ox.Quad(KM, KM, KM))


def test_disk_load_replaces_atomically(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "store"
    first = tmp_path / "a.nq.gz"
    first.write_bytes(gzip.compress(f"<{BASE}a> <{BASE}p> \"1\" <{BASE}graph/x> .\n".encode()))
    assert load_disk(path, dump_sources([first], settings), progress=False) == 1
    broken = tmp_path / "b.ttl"
    broken.write_text("<a> <b> <c> ;;; .\n<d> <e>\n")
    with pytest.raises(DataError, match="b.ttl"):
        load_disk(path, dump_sources([first, broken], settings), progress=False)
    kept = open_disk(path)
    assert len(kept) == 1  # the failed load left the previous store in place
    del kept
    second = tmp_path / "c.nt"
    second.write_text(f"<{BASE}a> <{BASE}p> \"2\" .\n<{BASE}a> <{BASE}p> \"3\" .\n")
    assert load_disk(path, dump_sources([second], settings), progress=False) == 2
    replaced = open_disk(path)
    assert replaced.named_graphs() == [BASE + "graph/external"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.nq.gz", "b.ttl", "c.nt", "store"]


def test_disk_load_refuses_to_replace_a_folder_that_is_not_a_store(
    settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not an Oxigraph store"):
        load_disk(tmp_path, repository_sources(settings), progress=False)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_missing_disk_store_says_how_to_build_it(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="romagraph load --store oxigraph:"):
        open_store(settings.model_copy(update={"store": f"oxigraph:{tmp_path / 'none'}"}))


def test_unknown_store_url_is_refused(settings: Settings) -> None:
    with pytest.raises(ValueError, match="memory:, oxigraph:PATH or http"):
        open_store(settings.model_copy(update={"store": "sqlite:x.db"}))


def test_cli_load_builds_a_disk_store(tmp_path: Path) -> None:
    path = tmp_path / "store"
    r = subprocess.run(
        [sys.executable, "-m", "server.cli", "load", "--store", f"oxigraph:{path}",
         "--no-progress"],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"into {path}" in r.stdout
    assert len(open_disk(path)) > 10_000


def test_cli_load_refuses_memory(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "server.cli", "load", "--store", "memory:"],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=60,
    )
    assert r.returncode == 2
    assert "--store oxigraph:PATH" in r.stderr


# --- remote ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def endpoint(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if OXIGRAPH is None:
        pytest.skip(NO_OXIGRAPH)
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as base:
        load_remote(base + "/store", repository_sources(settings), progress=False)
        yield base


@pytest.fixture(scope="module")
def remote(endpoint: str, settings: Settings) -> Iterator[RemoteStore]:
    store = open_store(settings.model_copy(update={"store": endpoint + "/query"}))
    assert isinstance(store, RemoteStore)
    yield store
    store.close()


def test_remote_store_holds_the_same_quads(remote: RemoteStore, store: OxigraphStore) -> None:
    assert len(remote) == len(store)
    assert remote.named_graphs() == store.named_graphs()
    assert set(remote.quads()) == set(store.quads())
    g = BASE + "graph/iic2014"
    assert set(remote.quads(g)) == set(store.quads(g))


@pytest.mark.parametrize(
    "query",
    [
        OUTGOING,
        "SELECT ?r (COUNT(*) AS ?n) WHERE { ?r ?p ?o } GROUP BY ?r",
        'SELECT ?r ?l WHERE { ?r <http://www.w3.org/2004/02/skos/core#prefLabel> ?l '
        'FILTER(LANG(?l) = "lv") }',
        "SELECT ?r ?s WHERE { ?s ?p ?r OPTIONAL { ?s a ?c } }",
    ],
)
def test_remote_select_answers_as_the_embedded_store(
    query: str, remote: RemoteStore, store: OxigraphStore
) -> None:
    got = remote.select(query, {"r": KM})
    assert got, "the query should have answers"
    assert rows(got) == rows(store.select(query, {"r": KM}))
    assert all(isinstance(v, ox.NamedNode | ox.Literal) for r in got for v in r.values())


def test_remote_ask_construct_and_raw_query(remote: RemoteStore, store: OxigraphStore) -> None:
    assert remote.ask("ASK { ?r a ?c }", {"r": KM}) is True
    assert remote.ask("ASK { ?r a ?c }", {"r": ox.NamedNode(BASE + "id/org/none")}) is False
    q = "CONSTRUCT { ?r ?p ?o } WHERE { ?r ?p ?o }"
    assert set(remote.construct(q, {"r": KM})) == set(store.construct(q, {"r": KM}))
    result = remote.raw_query("SELECT ?c WHERE { ?c a <http://www.w3.org/2002/07/owl#Class> }")
    assert isinstance(result, ox.QuerySolutions)
    assert [v.value for v in result.variables] == ["c"]
    assert len(list(result)) > 10
    triples = remote.raw_query("DESCRIBE ?r", substitutions={ox.Variable("r"): KM})
    assert set(triples) == set(store.raw_query("DESCRIBE ?r", substitutions={ox.Variable("r"): KM}))


def test_remote_syntax_error_is_a_syntax_error_at_the_callers_position(
    remote: RemoteStore,
) -> None:
    with pytest.raises(SyntaxError, match="at 2:"):
        remote.raw_query("SELECT ?s\nWHERE { ?s ?p ?o", prefixes={"rg": BASE + "def/rg#"})


def test_remote_app_serves_the_home_page_like_the_embedded_one(
    remote: RemoteStore, store: OxigraphStore, settings: Settings
) -> None:
    with TestClient(create_app(settings, remote)) as r, TestClient(create_app(settings, store)) as m:
        a, b = r.get("/"), m.get("/")
    assert a.status_code == b.status_code == 200
    assert fragments(a.text) == fragments(b.text)


JSON = {"Accept": "application/sparql-results+json"}


def test_sparql_endpoint_on_a_remote_store_has_the_endpoint_evaluate(
    endpoint: str, settings: Settings
) -> None:
    store = RemoteStore(endpoint + "/query", timeout=30)
    app = create_app(settings.model_copy(update={"max_rows": 5}), store)
    with TestClient(app) as client:
        assert getattr(app.state, "sparql_pool", None) is None  # no local workers
        r = client.post("/sparql", data={"query": "SELECT ?c WHERE { ?c a owl:Class }"},
                        headers=JSON)
        assert r.status_code == 200
        assert r.headers["X-Romagraph-Truncated"] == "true"
        assert len(r.json()["results"]["bindings"]) == 5
        bad = client.get("/sparql", params={"query": "SELECT ?s WHERE {\n  ?s ?p\n}"})
        assert bad.status_code == 400
        assert "Malformed query" in bad.text and "   3 | }" in bad.text  # the caller's line
        store.timeout = 0.5
        slow = client.post(
            "/sparql", headers=JSON,
            data={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"},
        )
        assert slow.status_code == 504
        assert "time limit of 0.5 s" in slow.text
    store.close()


def test_unreachable_endpoint_fails_with_a_clear_message() -> None:
    down = RemoteStore(f"http://127.0.0.1:{free_port()}/query", timeout=2)
    with pytest.raises(StoreUnavailable, match="is unreachable"):
        down.select("SELECT * WHERE { ?s ?p ?o } LIMIT 1")


def test_capabilities_a_remote_store_lacks_are_refused_with_a_message(
    remote: RemoteStore,
) -> None:
    with pytest.raises(UnsupportedByStore, match="cannot call Python code"):
        remote.raw_query("SELECT * WHERE { ?s ?p ?o }", custom_functions={KM: lambda x: x})
    with pytest.raises(UnsupportedByStore, match="blank node"):
        remote.select(OUTGOING, {"r": ox.BlankNode()})
    with pytest.raises(UnsupportedByStore, match="union of the named graphs"):
        remote.raw_query("SELECT * WHERE { ?s ?p ?o }", use_default_graph_as_union=False)


def test_bind_puts_values_first_in_the_where_clause() -> None:
    lit = ox.Literal('a "b" {', language="lv")
    q = 'PREFIX x: <http://x/{}>\nCONSTRUCT { ?r x:p "{" } WHERE { ?r ?p ?o } # {'
    assert bind(q, {"r": KM, "l": lit}) == (
        'PREFIX x: <http://x/{}>\nCONSTRUCT { ?r x:p "{" } WHERE { '
        f'VALUES (?r ?l) {{ (<{KM.value}> "a \\"b\\" {{"@lv) }}  ?r ?p ?o }} # {{'
    )
    assert bind("DESCRIBE ?r", {"r": KM}) == f"DESCRIBE <{KM.value}>"
    with pytest.raises(UnsupportedByStore, match="CONSTRUCT WHERE"):
        bind("CONSTRUCT WHERE { ?r ?p ?o }", {"r": KM})


def test_update_url_defaults_to_the_oxigraph_servers_graph_store() -> None:
    assert default_update_url("http://127.0.0.1:7878/query?union-default-graph") == (
        "http://127.0.0.1:7878/store"
    )
    assert default_update_url("http://127.0.0.1:8890/sparql") is None
