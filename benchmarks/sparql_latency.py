#!/usr/bin/env python3
"""Latency of every named query through ``/sparql`` against the bare engine, in one run.

For each ``queries/*.rq`` (or, while that folder is empty, ``server/sparql/*.rq``):

- engine: pyoxigraph in this process on the same graph: evaluation plus pyoxigraph's own
  serialisation (SPARQL JSON for SELECT/ASK, Turtle for graphs) — the floor of any endpoint;
- /sparql: a real ``uvicorn server.app:create_app`` on 127.0.0.1 (one HTTP process, its query
  worker pool), one keep-alive connection, POSTed as a form with the workbench's Accept header.

Prints the median of ``--runs`` timed runs (after warm-up) per query, the ratio and the added
milliseconds, then the median overhead and the geometric mean of the ratios.

    python benchmarks/sparql_latency.py
    python benchmarks/sparql_latency.py --runs 50 --queries server/sparql
    python benchmarks/sparql_latency.py --url http://127.0.0.1:8000   # a server already running
"""

from __future__ import annotations

import argparse
import math
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.config import Settings  # noqa: E402
from server.namespaces import PREFIXES, data_prefixes  # noqa: E402
from server.queries import SERVER_SPARQL, NamedQuery, load_dir  # noqa: E402
from server.sparql_guard import inspect  # noqa: E402
from server.store import OxigraphStore, open_store  # noqa: E402

ACCEPT = "application/sparql-results+json, text/turtle;q=0.9"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ROMAGRAPH_VALIDATE_ON_START": "false", "ROMAGRAPH_LOG_LEVEL": "warning",
           "ROMAGRAPH_QUERY_WORKERS": str(workers)}
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env,
    )


def wait_ready(url: str, process: subprocess.Popen[bytes] | None, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            r = httpx.post(f"{url}/sparql", data={"query": "ASK {}"}, timeout=30)
            if r.status_code == 200:  # pages up and the worker pool started
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url}/sparql did not answer within {timeout:g} s")


def median_ms(fn: Callable[[], object], runs: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def engine_runner(store: OxigraphStore, q: NamedQuery, prefixes: dict[str, str]
                  ) -> Callable[[], bytes]:
    union = not inspect(q.text).dataset_clause

    def run() -> bytes:
        options = {"prefixes": prefixes, "use_default_graph_as_union": union}
        result = store.inner.query(q.text, **options)
        if isinstance(result, ox.QueryTriples):
            return result.serialize(format=ox.RdfFormat.TURTLE) or b""
        return result.serialize(format=ox.QueryResultsFormat.JSON) or b""

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="timed runs per query and side")
    parser.add_argument("--queries", type=Path, help="folder of .rq files (default: queries/)")
    parser.add_argument("--workers", type=int, default=2, help="query workers of the server")
    parser.add_argument("--url", help="use this running server instead of starting one")
    args = parser.parse_args()

    settings = Settings(validate_on_start=False)
    folder = args.queries or settings.queries_dir
    queries = load_dir(folder) if folder.is_dir() else {}
    if not queries:
        folder = SERVER_SPARQL
        queries = load_dir(folder)
    prefixes = {**PREFIXES, **data_prefixes(settings.base_iri)}
    store = open_store(settings)
    assert isinstance(store, OxigraphStore), "the benchmark compares against the embedded engine"
    print(f"graph: {len(store)} quads; queries: {len(queries)} from {folder}; "
          f"{args.runs} runs each (median)\n")

    process = None
    url = args.url
    if url is None:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process = start_server(port, args.workers)
    try:
        wait_ready(url, process)
        rows = []
        with httpx.Client(base_url=url, timeout=60, headers={"Accept": ACCEPT}) as http:
            for name, q in queries.items():
                engine = engine_runner(store, q, prefixes)
                response = http.post("/sparql", data={"query": q.text})
                if response.status_code != 200:
                    rows.append((name, "-", engine_ms := median_ms(engine, args.runs),
                                 math.nan, f"HTTP {response.status_code}"))
                    continue
                engine_ms = median_ms(engine, args.runs)

                def over_http(text: str = q.text) -> None:
                    r = http.post("/sparql", data={"query": text})
                    r.raise_for_status()

                http_ms = median_ms(over_http, args.runs)
                size = response.headers.get("x-romagraph-rows", "?")
                note = "truncated" if response.headers.get("x-romagraph-truncated") == "true" else ""
                rows.append((name, size, engine_ms, http_ms, note))
    finally:
        if process is not None:
            process.terminate()
            process.wait(15)

    width = max(len(r[0]) for r in rows)
    print(f"{'query':<{width}}  {'rows':>6}  {'engine ms':>9}  {'/sparql ms':>10}  "
          f"{'ratio':>6}  {'+ms':>6}  note")
    ratios, overheads = [], []
    for name, size, engine_ms, http_ms, note in rows:
        if math.isnan(http_ms):
            print(f"{name:<{width}}  {size:>6}  {engine_ms:9.2f}  {'-':>10}  {'-':>6}  {'-':>6}  {note}")
            continue
        ratio = http_ms / engine_ms if engine_ms > 0 else math.inf
        ratios.append(ratio)
        overheads.append(http_ms - engine_ms)
        print(f"{name:<{width}}  {size:>6}  {engine_ms:9.2f}  {http_ms:10.2f}  "
              f"{ratio:6.1f}  {http_ms - engine_ms:6.2f}  {note}")
    if ratios:
        geo = math.exp(statistics.fmean(math.log(r) for r in ratios))
        print(f"\nmedian overhead of /sparql: {statistics.median(overheads):.2f} ms per query; "
              f"ratio /sparql ÷ engine: geometric mean {geo:.1f}×, "
              f"median {statistics.median(ratios):.1f}× ({len(ratios)} queries)")


if __name__ == "__main__":
    main()
