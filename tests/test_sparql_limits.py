"""The limits of /sparql: a query is really stopped at the time limit (its worker process killed
and replaced) while other requests go on being served; SERVICE never opens a connection, not
even when the check is bypassed; oversized requests are refused; a busy or broken pool answers
with a readable 503."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from server.config import REPO_ROOT, Settings
from server.sparql_workers import (
    Job,
    PoolUnavailable,
    QueryEvaluationError,
    QueryPool,
    QueryTimeout,
    isolate_network,
)
from tests.sparql_app import MAX_ROWS, QUERY_TIMEOUT

# A cartesian product of the whole graph with itself, four times over: ~10^16 solutions to count.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
SIMPLE = "SELECT ?label WHERE { rg:PlanTask rdfs:label ?label }"


def _run_in_thread(coro_fn):  # type: ignore[no-untyped-def]
    """asyncio.run in a thread of its own: the session's Playwright browser (conftest.py) keeps
    an event loop running in the main thread."""
    with ThreadPoolExecutor(1) as ex:
        return ex.submit(lambda: asyncio.run(coro_fn())).result()


def timed_post(url: str, query: str, timeout: float = 30) -> tuple[int, float, str]:
    started = time.monotonic()
    r = httpx.post(f"{url}/sparql", data={"query": query}, timeout=timeout,
                   headers={"Accept": "application/sparql-results+json"})
    return r.status_code, time.monotonic() - started, r.text


def test_runaway_query_is_stopped_while_others_are_served(sparql_server):
    with ThreadPoolExecutor(max_workers=2) as ex:
        slow = ex.submit(timed_post, sparql_server, RUNAWAY)
        time.sleep(0.3)  # the runaway is being evaluated now
        quick = [timed_post(sparql_server, SIMPLE) for _ in range(3)]
        page = httpx.get(f"{sparql_server}/sparql/prefixes", timeout=5)
        status, elapsed, text = slow.result()
    for code, seconds, body in quick:
        assert code == 200, body
        assert seconds < 1.0
    assert page.status_code == 200
    assert status in (503, 504)
    assert elapsed <= QUERY_TIMEOUT + 1.0
    assert f"time limit of {QUERY_TIMEOUT:g} s" in text
    # the killed worker has been replaced: two runaways and a simple query side by side again
    time.sleep(0.5)
    with ThreadPoolExecutor(max_workers=2) as ex:
        slow = ex.submit(timed_post, sparql_server, RUNAWAY)
        time.sleep(0.3)
        code, seconds, _ = timed_post(sparql_server, SIMPLE)
        assert code == 200 and seconds < 1.0
        assert slow.result()[0] == 504


@pytest.fixture()
def one_worker_app() -> Iterator[TestClient]:
    settings = Settings(root=REPO_ROOT, validate_on_start=False, query_workers=1,
                        query_timeout=1.0)
    with TestClient(create_app(settings)) as c:
        yield c


def test_overrunning_worker_is_killed_and_replaced(one_worker_app):
    c = one_worker_app
    assert c.get("/sparql", params={"query": SIMPLE}).status_code == 200
    pool = c.app.state.sparql_pool
    [pid] = pool.pids()
    started = time.monotonic()
    r = c.get("/sparql", params={"query": RUNAWAY})
    assert r.status_code == 504
    assert r.headers["content-type"].startswith("text/plain")
    assert time.monotonic() - started < 2.0
    assert pool.replaced == 1
    with pytest.raises(ProcessLookupError):  # SIGKILLed and reaped
        for _ in range(50):
            os.kill(pid, 0)
            time.sleep(0.05)
    r = c.get("/sparql", params={"query": SIMPLE})  # served by the replacement
    assert r.status_code == 200
    assert pool.pids() != [pid]


def test_worker_lost_while_idle_is_replaced(one_worker_app):
    c = one_worker_app
    assert c.get("/sparql", params={"query": SIMPLE}).status_code == 200
    pool = c.app.state.sparql_pool
    [pid] = pool.pids()
    os.kill(pid, 9)
    time.sleep(0.2)
    r = c.get("/sparql", params={"query": SIMPLE})
    assert r.status_code == 200
    assert pool.replaced == 1


# --- SERVICE never connects ---------------------------------------------------------------------


class Listener:
    """A TCP listener on 127.0.0.1 that records every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(1)
                try:
                    self.connections.append(conn.recv(200))
                except OSError:
                    self.connections.append(b"")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture()
def listener() -> Iterator[Listener]:
    lst = Listener()
    yield lst
    lst.close()


def service_queries(port: int) -> list[str]:
    endpoint = f"http://127.0.0.1:{port}/sparql"
    return [
        f"SELECT * WHERE {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{endpoint}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ BIND(<{endpoint}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
        f"ASK {{ ?s ?p ?o FILTER(?a<?b) SERVICE#>\n <{endpoint}> {{ ?x ?y ?z }} }}",
    ]


def test_service_is_refused_and_no_connection_is_made(sparql_server, listener):
    for query in service_queries(listener.port):
        for send in (
            lambda q: httpx.get(f"{sparql_server}/sparql", params={"query": q}, timeout=10),
            lambda q: httpx.post(f"{sparql_server}/sparql", content=q, timeout=10,
                                 headers={"Content-Type": "application/sparql-query"}),
        ):
            r = send(query)
            assert r.status_code == 403, (query, r.text)
            assert "SERVICE" in r.text
    time.sleep(0.5)
    assert listener.connections == []


def test_workers_cannot_connect_even_past_the_check(listener):
    """Defence in depth: a SERVICE query handed straight to a worker (no check) reaches nobody."""
    probe = os.fork()
    if probe == 0:  # can this platform isolate a process at all?
        os._exit(0 if isolate_network() else 1)
    _, status = os.waitpid(probe, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        pytest.skip("no network namespaces here; the lexical check is the only guard")

    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"),
                      ox.Literal("o"), ox.NamedNode("http://example.org/g")))

    async def run() -> list[Exception]:
        pool = QueryPool(store, size=1, timeout=5)
        await pool.start()
        assert pool.isolation is not None
        errors = []
        try:
            for query in service_queries(listener.port)[:3]:
                try:
                    await pool.run(Job(query, "json", "ttl", 100))
                except (QueryEvaluationError, QueryTimeout) as e:
                    errors.append(e)
        finally:
            await pool.close()
        return errors

    errors = _run_in_thread(run)
    time.sleep(0.5)
    assert listener.connections == []
    assert any("unreachable" in e.message.lower() for e in errors), [e.message for e in errors]


# --- sizes and a busy pool ---------------------------------------------------------------------------


def test_oversized_requests_are_413_over_http(sparql_server):
    big = "ASK {}" + "#" * 200_000
    r = httpx.post(f"{sparql_server}/sparql", content=big, timeout=10,
                   headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 413
    assert "100000 bytes" in r.text
    r = httpx.post(f"{sparql_server}/sparql", data={"query": big}, timeout=10)
    assert r.status_code == 413
    # the server goes on serving
    assert timed_post(sparql_server, SIMPLE)[0] == 200


def test_row_cap_over_http(sparql_server):
    """A large result crosses the worker pipe in many reads (uvloop) and is cut at the cap."""
    for fmt, rows_of in (("json", lambda r: len(r.json()["results"]["bindings"])),
                         ("tsv", lambda r: r.text.count("\n") - 1)):
        r = httpx.post(f"{sparql_server}/sparql", timeout=30,
                       data={"query": "SELECT * WHERE { ?s ?p ?o }", "format": fmt})
        assert r.status_code == 200
        assert r.headers["x-romagraph-truncated"] == "true"
        assert r.headers["x-romagraph-row-limit"] == str(MAX_ROWS)
        assert rows_of(r) == MAX_ROWS
    r = httpx.post(f"{sparql_server}/sparql", timeout=30, data={
        "query": "CONSTRUCT WHERE { ?s ?p ?o }", "format": "nt"})
    assert r.headers["x-romagraph-truncated"] == "true"
    assert r.text.count("\n") == MAX_ROWS


def test_busy_pool_answers_503():
    store = ox.Store()

    async def run() -> None:
        pool = QueryPool(store, size=1, timeout=0.5)
        await pool.start()
        try:
            assert pool._idle is not None
            held = await pool._idle.get()  # the only worker is taken
            with pytest.raises(PoolUnavailable, match="busy"):
                await pool.run(Job("ASK {}", "json", None, 10))
            pool._release(held)
            outcome = await pool.run(Job("ASK {}", "json", None, 10))
            assert outcome.body == b'{"head":{},"boolean":true}'
        finally:
            await pool.close()

    _run_in_thread(run)
