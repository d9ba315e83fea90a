"""`romagraph serve --workers N` (server/serving.py) and the /sparql answer cache, on real
servers: processes that share the port through SO_REUSEPORT, a supervisor that replaces a dead
one and stops them all, and answers kept by query text, dataset and format."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.servers import romagraph_server

QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?s a org:Organization }"
JSON = "application/sparql-results+json"


@pytest.fixture(scope="module")
def two_processes() -> Iterator[str]:
    with romagraph_server("memory:", "--workers", "2", "--serve-invalid",
                          ROMAGRAPH_SPARQL_CACHE_MB="32") as base:
        yield base


def _pid(base: str) -> int:
    """The process that answers a new connection."""
    with httpx.Client(timeout=10) as fresh:
        return int(fresh.get(base + "/api/status").json()["process"])


def _pids_until(base: str, enough: int, attempts: int = 80) -> set[int]:
    seen: set[int] = set()
    for _ in range(attempts):
        seen.add(_pid(base))
        if len(seen) >= enough:
            break
    return seen


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_new_connections_are_spread_over_the_processes(two_processes: str) -> None:
    pids = _pids_until(two_processes, 2)
    assert len(pids) == 2
    # each process answers queries and pages on its own
    with httpx.Client(timeout=30) as client:
        r = client.post(two_processes + "/sparql", data={"query": QUERY},
                        headers={"Accept": JSON})
        assert r.status_code == 200
        assert int(r.json()["results"]["bindings"][0]["n"]["value"]) > 50


def test_a_repeated_query_is_answered_from_the_cache(two_processes: str) -> None:
    # one keep-alive connection: one process, one cache
    with httpx.Client(timeout=30) as client:
        url = two_processes + "/sparql"
        marker = f"# cache test {time.time_ns()}\n"  # a text no earlier test has sent
        first = client.post(url, data={"query": marker + QUERY}, headers={"Accept": JSON})
        second = client.post(url, data={"query": marker + QUERY}, headers={"Accept": JSON})
        assert first.status_code == second.status_code == 200
        assert first.headers["x-romagraph-cache"] == "miss"
        assert second.headers["x-romagraph-cache"] == "hit"
        assert second.content == first.content
        assert second.headers["x-romagraph-rows"] == first.headers["x-romagraph-rows"]
        assert "X-Romagraph-Cache" in second.headers["access-control-expose-headers"]
        # another format is another answer
        csv = client.post(url, data={"query": marker + QUERY}, headers={"Accept": "text/csv"})
        assert csv.headers["x-romagraph-cache"] == "miss"
        assert csv.text.splitlines()[0] == "n"
        # the same text by GET is the same request
        got = client.get(url, params={"query": marker + QUERY}, headers={"Accept": JSON})
        assert got.headers["x-romagraph-cache"] == "miss"
        assert got.content == first.content
        # errors are not kept: a malformed query is parsed (and refused) every time
        for _ in range(2):
            bad = client.post(url, data={"query": marker + "SELECT ?x WHERE {"},
                              headers={"Accept": JSON})
            assert bad.status_code == 400
            assert "x-romagraph-cache" not in bad.headers


def test_the_cache_can_be_turned_off() -> None:
    with romagraph_server("memory:", "--serve-invalid", ROMAGRAPH_SPARQL_CACHE_MB="0") as base, \
            httpx.Client(timeout=30) as client:
        for _ in range(2):
            r = client.post(base + "/sparql", data={"query": QUERY}, headers={"Accept": JSON})
            assert r.status_code == 200
            assert r.headers["x-romagraph-cache"] == "off"


def test_a_dead_process_is_replaced_and_all_stop_with_the_server() -> None:
    with romagraph_server("memory:", "--workers", "2", "--serve-invalid") as base:
        before = _pids_until(base, 2)
        assert len(before) == 2
        victim = min(before)
        time.sleep(5)  # past the supervisor's start-up grace (serving.MIN_LIFETIME)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 90
        now: set[int] = set()
        while time.monotonic() < deadline:
            try:
                now = _pids_until(base, 2, attempts=20)
            except httpx.TransportError:
                now = set()
            if len(now) == 2 and victim not in now:
                break
            time.sleep(0.5)
        assert victim not in now and len(now) == 2, now
        survivors = now
    deadline = time.monotonic() + 20
    while any(_alive(p) for p in survivors) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(p) for p in survivors)
