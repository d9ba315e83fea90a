#!/usr/bin/env python3
"""``/sparql`` of ``romagraph serve`` against its peers, measured side by side in one run.

Peers, all on 127.0.0.1 and all given the same graph (the repository's graph plus a synthetic one
from ``generate.py`` up to the size asked for):

- romagraph: ``romagraph serve --store oxigraph:DIR`` (on-disk store built by ``romagraph load``;
  ``--http-workers`` HTTP processes (default 1), each with ``--query-workers`` query workers (2),
  which copy the store into memory: the default up to ``ROMAGRAPH_QUERY_IN_MEMORY`` quads);
  measured once every worker holds its copy; its answer cache is off
  (``ROMAGRAPH_SPARQL_CACHE_MB=0``): every request is evaluated, as the peers do;
- with ``--cache``: romagraph-cache, the same with the answer cache on (64 MB), reported beside
  the others and never in place of them (the mix repeats its requests, so it mostly hits);
- oxigraph: the Oxigraph server (Rust), in memory, ``--union-default-graph``;
- with ``--disk``: romagraph-disk (workers query the store's files) and oxigraph-disk (the
  Oxigraph server read-only over the very same folder): the like-for-like pair on RocksDB;
- rdflib-endpoint: rdflib's own SPARQL engine behind FastAPI (``pip install -e '.[bench]'``);
- engine: pyoxigraph in this process over an in-memory store, query + serialisation, no HTTP
  (the floor of any endpoint);
- hello: a FastAPI endpoint answering a constant empty result (the floor of the HTTP stack).

Part 1 times every query of ``queries/`` and one instance of each template of a generated query
mix, one connection at a time (median of a bounded number of requests), and checks romagraph's
latency against the engine's plus twice the hello round trip. Part 2 runs the mix (lookups
frequent, scans rare) at 1, 8 and 32 concurrent connections; part 3 each template alone at 8
connections ("the same query"). Load comes from ``wrk`` when installed (``apt-get install wrk``;
a Python client would take a large share of the 2 cores from the servers), else from the
Python client in ``common.py``.

    python benchmarks/sparql_peers.py --size 100k
    python benchmarks/sparql_peers.py --size 1M --skip-rdflib
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import wrk  # noqa: E402
from benchmarks.common import (  # noqa: E402
    ROOT,
    count_lines,
    dataset,
    form_request,
    free_port,
    load,
    peak_rss_mb,
    start,
    stop,
    table,
    wait_http,
)
from server.namespaces import sparql_prologue  # noqa: E402

ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9, text/turtle;q=0.8"
PROLOGUE = sparql_prologue()
nan = float("nan")

MIX = {  # name -> (template, weight)
    "describe-project": ("DESCRIBE <{project}>", 30),
    "org-outgoing": ("SELECT ?p ?o WHERE {{ <{org}> ?p ?o }}", 25),
    "task-projects": (
        "SELECT ?project ?label ?org WHERE {{ ?project rg:implements <{task}> ; "
        "skos:prefLabel ?label ; cv:hasParticipation/cv:hasParticipant ?org "
        'FILTER(LANG(?label) = "en") }}', 20),
    "hub-incoming": ("SELECT ?s ?p WHERE {{ ?s ?p <{hub}> }} LIMIT 200", 10),
    "label-prefix": ('SELECT ?s ?l WHERE {{ ?s skos:prefLabel ?l '
                     'FILTER(STRSTARTS(LCASE(STR(?l)), "{prefix}")) }} LIMIT 20', 5),
    "funding-by-programme": (
        "SELECT ?prog (SUM(?a) AS ?total) (COUNT(?g) AS ?grants) WHERE {{ "
        "?g rg:fundingProgramme ?prog ; schema:amount ?a }} GROUP BY ?prog", 5),
    "statistics-by-year": (
        "SELECT ?year (SUM(?v) AS ?n) WHERE {{ ?o a qb:Observation ; "
        "sdmx-dimension:refPeriod ?year ; sdmx-measure:obsValue ?v }} GROUP BY ?year", 5),
}


def mix_queries(store: ox.Store, seed: int, n: int) -> tuple[dict[str, str], list[str]]:
    """One instance per template, and ``n`` queries drawn by weight, with IRIs of the data."""
    rng = random.Random(seed)

    def iris(q: str) -> list[str]:
        return sorted(r[0].value for r in store.query(PROLOGUE + q, use_default_graph_as_union=True))

    pools = {
        "project": iris("SELECT ?x WHERE { ?x a schema:Project }"),
        "org": iris("SELECT ?x WHERE { ?x a org:Organization }"),
        "task": iris("SELECT DISTINCT ?x WHERE { ?p rg:implements ?x }"),
        "hub": iris("SELECT ?x WHERE { { SELECT ?x (COUNT(*) AS ?n) WHERE { ?s ?p ?x "
                    "FILTER(isIRI(?x)) } GROUP BY ?x } FILTER(?n > 50) }"),
        "prefix": ["romu ", "biedrība „jaun", "kultūra", "sintētisk", "jelgava"],
    }

    def instance(name: str) -> str:
        template = MIX[name][0]
        values = {k: rng.choice(v) for k, v in pools.items() if "{" + k + "}" in template}
        return PROLOGUE + template.format(**values)

    one = {name: instance(name) for name in MIX}
    names = [name for name, (_, w) in MIX.items() for _ in range(w)]
    return one, [instance(rng.choice(names)) for _ in range(n)]


def engine_run(
    store: ox.Store, queries: list[str], repeat: int, time_cap: float = 30.0
) -> tuple[float, float]:
    """Median latency (ms) and throughput (queries/s) of query + serialisation in-process,
    stopping after ``time_cap`` seconds (one run at least)."""
    times: list[float] = []
    started = time.perf_counter()
    for _ in range(repeat):
        if times and time.perf_counter() - started > time_cap:
            break
        for q in queries:
            t = time.perf_counter()
            r = store.query(q, use_default_graph_as_union=True)
            if isinstance(r, ox.QuerySolutions | ox.QueryBoolean):
                r.serialize(format=ox.QueryResultsFormat.JSON)
            else:
                r.serialize(format=ox.RdfFormat.N_TRIPLES)
            times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000, len(times) / (time.perf_counter() - started)


class Peer:
    def __init__(self, name: str, port: int, path: str) -> None:
        self.name, self.port, self.path = name, port, path
        self.process = None
        self.ready_s = float("nan")
        self.notes = ""

    def requests(self, queries: list[str]) -> list[bytes]:
        return [form_request("127.0.0.1", self.port, self.path, q, ACCEPT) for q in queries]


def start_romagraph(name: str, store_dir: Path, work: Path, env: dict[str, str],
                    workers: int = 2, http_workers: int = 1) -> Peer:
    """``romagraph serve`` over the on-disk store; ready once pages, /sparql and (unless the
    copy is switched off) in-memory copies in every query worker answer."""
    rg = Peer(name, free_port(), "/sparql")
    rg.process = start(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(rg.port),
         "--store", f"oxigraph:{store_dir}", "--workers", str(http_workers)],
        env={"ROMAGRAPH_QUERY_WORKERS": str(workers), "ROMAGRAPH_LOG_LEVEL": "warning",
             "ROMAGRAPH_SPARQL_CACHE_MB": "0",
             "ROMAGRAPH_QUERY_TIMEOUT": "60", "ROMAGRAPH_MAX_ROWS": "100000",
             "ROMAGRAPH_EXPORT_DIR": str(work / "export"), **env},
        log=work / f"{name}.log")
    base = f"http://127.0.0.1:{rg.port}"
    t = time.perf_counter()
    sparql = wait_http(base + "/sparql", rg.process, method="POST",
                       data={"query": "ASK {}"}, headers={"Accept": ACCEPT})
    copying = env.get("ROMAGRAPH_QUERY_IN_MEMORY") != "0"
    ready: set[int] = set()  # the HTTP processes whose query workers all hold copies
    while copying:
        status = httpx.get(base + "/api/status", timeout=10).json()  # a new connection each
        pool = status.get("sparql", {})
        if pool.get("in_memory", 0) >= pool.get("workers", 2) > 0:
            ready.add(status.get("process", 0))
        if len(ready) >= http_workers:
            break
        if time.perf_counter() - t > 1800 or rg.process.poll() is not None:
            raise RuntimeError(f"{name}: the query workers never held the store in memory")
        time.sleep(0.5)
    rg.ready_s = time.perf_counter() - t
    rg.notes = (f"/sparql after {sparql:.1f} s" + (
        f", workers in memory after {rg.ready_s:.1f} s" if copying else ", workers on the files"))
    return rg


def measure(p: Peer, reqs: list[bytes], connections: int, seconds: float) -> tuple[float, float,
                                                                                    float, int]:
    """requests/s, p50 ms, p99 ms, errors: wrk when installed, else the Python client."""
    if wrk.available() and p.name != "rdflib-endpoint":
        w = wrk.run("127.0.0.1", p.port, reqs, connections, seconds)
        return w.rps, w.p50_ms, w.p99_ms, w.errors
    slow = p.name == "rdflib-endpoint"
    cell = load("127.0.0.1", p.port, reqs, connections, 30 if slow else 100_000,
                min(seconds, 30) if slow else seconds, request_timeout=30 if slow else 60)
    lat = sorted(cell.latencies) or [float("nan")]
    return cell.rps, cell.median_ms, lat[int(0.99 * (len(lat) - 1))] * 1000, cell.errors


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="100k", help="synthetic triples: 10k, 100k, 1M")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--requests", type=int, default=15, help="per query in part 1 (rdflib: 2)")
    ap.add_argument("--mix", type=int, default=400, help="distinct requests in the mix")
    ap.add_argument("--seconds", type=float, default=8, help="per load run in parts 2 and 3")
    ap.add_argument("--skip-rdflib", action="store_true", help="leave rdflib-endpoint out")
    ap.add_argument("--parts", default="1,2,3", help="which parts to run, e.g. 2,3")
    ap.add_argument("--query-workers", type=int, default=2,
                    help="romagraph's query workers (per HTTP process)")
    ap.add_argument("--http-workers", type=int, default=1,
                    help="romagraph's HTTP processes (serve --workers)")
    ap.add_argument("--cache", action="store_true",
                    help="also romagraph with its answer cache on (reported separately)")
    ap.add_argument("--disk", action="store_true",
                    help="also romagraph with its workers on the store's files "
                         "(ROMAGRAPH_QUERY_IN_MEMORY=0) and the Oxigraph server on those files")
    args = ap.parse_args(argv)

    data = dataset(args.size, args.seed)
    triples = count_lines(data)
    print(f"# SPARQL endpoints side by side: {triples:,} quads ({args.size} synthetic + the "
          f"repository's graph), {data}; load from "
          f"{'wrk' if wrk.available() else 'the Python client (install wrk)'}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="romagraph-peers-"))
    peers: list[Peer] = []
    try:
        # the in-process engine (also picks the IRIs of the query mix)
        t = time.perf_counter()
        store = ox.Store()
        store.bulk_load(path=str(data), format=ox.RdfFormat.N_QUADS)
        print(f"engine: loaded in {time.perf_counter() - t:.1f} s", flush=True)
        one, mix = mix_queries(store, args.seed, args.mix)
        documented = {p.stem: p.read_text(encoding="utf-8")
                      for p in sorted((ROOT / "queries").glob("*.rq"))}

        # romagraph: on-disk store built by `romagraph load`, then `romagraph serve`
        t = time.perf_counter()
        r = start([sys.executable, "-m", "server.cli", "load", "--store",
                   f"oxigraph:{work / 'store'}", "--from", str(data), "--no-progress"])
        if r.wait() != 0:
            raise RuntimeError("romagraph load failed")
        print(f"romagraph load: {time.perf_counter() - t:.1f} s", flush=True)
        peers.append(start_romagraph("romagraph", work / "store", work, {}, args.query_workers,
                                     args.http_workers))
        if args.cache:
            peers.append(start_romagraph("romagraph-cache", work / "store", work,
                                         {"ROMAGRAPH_SPARQL_CACHE_MB": "64"},
                                         args.query_workers, args.http_workers))

        # the Oxigraph server, in memory, loaded over its Graph Store endpoint
        oxi = Peer("oxigraph", free_port(), "/query")
        oxi.process = start(["oxigraph", "serve", "--bind", f"127.0.0.1:{oxi.port}",
                             "--union-default-graph"])
        wait_http(f"http://127.0.0.1:{oxi.port}/", oxi.process)
        t = time.perf_counter()
        with data.open("rb") as f:
            httpx.post(f"http://127.0.0.1:{oxi.port}/store", content=f, timeout=600,
                       headers={"Content-Type": "application/n-quads"}).raise_for_status()
        oxi.ready_s = time.perf_counter() - t
        oxi.notes = f"in memory, POST /store {oxi.ready_s:.1f} s"
        peers.append(oxi)

        if args.disk:
            peers.append(start_romagraph("romagraph-disk", work / "store", work,
                                         {"ROMAGRAPH_QUERY_IN_MEMORY": "0"}))
            oxd = Peer("oxigraph-disk", free_port(), "/query")
            oxd.process = start(["oxigraph", "serve-read-only", "--location",
                                 str(work / "store"), "--bind", f"127.0.0.1:{oxd.port}",
                                 "--union-default-graph"])
            oxd.ready_s = wait_http(f"http://127.0.0.1:{oxd.port}/", oxd.process)
            oxd.notes = "the store romagraph load built, opened read-only"
            peers.append(oxd)

        if not args.skip_rdflib and shutil.which("rdflib-endpoint"):
            rdf = Peer("rdflib-endpoint", free_port(), "/")
            t = time.perf_counter()
            rdf.process = start(["rdflib-endpoint", "serve", str(data), "--host", "127.0.0.1",
                                 "--port", str(rdf.port)])
            wait_http(f"http://127.0.0.1:{rdf.port}/", rdf.process, method="POST",
                      data={"query": "ASK {}"}, headers={"Accept": ACCEPT}, timeout=900)
            rdf.ready_s = time.perf_counter() - t
            rdf.notes = f"parse + start {rdf.ready_s:.1f} s"
            peers.append(rdf)
        elif not args.skip_rdflib:
            print("rdflib-endpoint is not installed (pip install -e '.[bench]'): left out")

        hello = Peer("hello", free_port(), "/sparql")
        hello.process = start([sys.executable, "-m", "uvicorn", "benchmarks.hello_app:app",
                               "--port", str(hello.port), "--log-level", "warning"])
        wait_http(f"http://127.0.0.1:{hello.port}/sparql", hello.process, method="POST",
                  data={"query": "ASK {}"})
        peers.append(hello)
        table("Peers", ["peer", "ready after (s)", "notes"],
              [[p.name, p.ready_s, p.notes] for p in peers if p.name != "hello"])
        names = [p.name for p in peers]

        parts = {int(x) for x in args.parts.split(",")}
        # Part 1: each query alone, one connection
        if 1 in parts:
            hello_ms = load("127.0.0.1", hello.port, hello.requests(["ASK {}"]), 1, 300, 30).median_ms
            http_peers = [p for p in peers if p.name != "hello"]
            rows = []
            queries = {**documented, **{f"mix: {k}": v for k, v in one.items()}}
            within = 0
            for name, q in queries.items():
                medians: dict[str, float] = {}
                for p in http_peers:
                    reqs = p.requests([q])
                    if p.name == "rdflib-endpoint":  # slow: two requests, the first one warms up
                        cell = load("127.0.0.1", p.port, reqs, 1, 2, 20, request_timeout=30)
                    else:
                        warm = load("127.0.0.1", p.port, reqs, 1, 1, 60)
                        cell = load("127.0.0.1", p.port, reqs, 1, args.requests, 30) \
                            if not warm.errors else warm
                    medians[p.name] = cell.median_ms if not cell.errors else float("nan")
                # in-process last, and only if an endpoint answered: a query that overran every
                # endpoint's time limit cannot be interrupted in this process
                answered = any(m == m for m in medians.values())
                eng_ms = engine_run(store, [q], max(3, args.requests))[0] if answered else nan
                overhead = medians["romagraph"] - eng_ms
                ok = overhead <= 2 * hello_ms
                within += ok
                rows.append([name, eng_ms, *medians.values(), overhead, "yes" if ok else "no",
                             medians["romagraph"] / medians["oxigraph"]])
                print(f"  {name}: " + ", ".join(f"{v:.2f}" if isinstance(v, float) else str(v)
                                                for v in rows[-1][1:]), flush=True)
            table(f"Part 1: median latency per query, 1 connection ({triples:,} quads; hello "
                  f"round trip {hello_ms:.2f} ms)",
                  ["query", "engine ms", *[f"{p.name} ms" for p in http_peers],
                   "romagraph - engine ms", "<= engine + 2x hello", "romagraph / oxigraph"], rows)
            print("nan: an error status, or no answer within 30 s (rdflib's engine cannot evaluate "
                  "some of the documented queries)")
            ratios = [r[-1] for r in rows if r[-1] == r[-1]]
            print(f"latency within engine + 2x hello round trip: {within} of {len(rows)} queries; "
                  f"geometric mean romagraph / oxigraph latency: "
                  f"{statistics.geometric_mean(ratios):.2f}x over {len(ratios)} queries")
            if "rdflib-endpoint" in names:
                col = 2 + [p.name for p in http_peers].index("rdflib-endpoint")
                rr = [r[col] / r[2] for r in rows if r[col] == r[col] and r[2] == r[2]]
                if rr:
                    print(f"geometric mean rdflib-endpoint / romagraph latency: "
                          f"{statistics.geometric_mean(rr):.1f}x over {len(rr)} queries")

        # Part 2: the mix at 1 / 8 / 32 connections
        if 2 in parts:
            eng_ms, eng_rps = engine_run(store, mix, 1, time_cap=120)
            rows = [["engine (in-process, 1 core)", 1, eng_rps, eng_ms, nan, 0]]
            by: dict[tuple[str, int], float] = {}
            for p in peers:
                reqs = p.requests(mix)
                measure(p, reqs, 4, 2)  # warm-up
                for c in (1, 8, 32):
                    rps, p50, p99, errors = measure(p, reqs, c, args.seconds)
                    by[(p.name, c)] = rps
                    rows.append([p.name, c, rps, p50, p99, errors])
            table(f"Part 2: query mix ({len(mix)} queries, lookups frequent), requests/s and "
                  f"latency ({triples:,} quads)",
                  ["peer", "connections", "requests/s", "p50 ms", "p99 ms", "errors"], rows)
            pairs = [("romagraph", "oxigraph"), ("romagraph", "hello"), ("oxigraph", "hello")]
            if args.disk:
                pairs.insert(1, ("romagraph-disk", "oxigraph-disk"))
            if args.cache:
                pairs.append(("romagraph-cache", "oxigraph"))
            if "rdflib-endpoint" in names:
                pairs.append(("romagraph", "rdflib-endpoint"))
            table("Part 2 ratios (requests/s)", ["connections", *[f"{a} / {b}" for a, b in pairs]],
                  [[c, *[by[(a, c)] / by[(b, c)] for a, b in pairs]] for c in (1, 8, 32)])

        # Part 3: each mix template alone at 8 connections ("the same query")
        if 3 in parts:
            rows = []
            for name, q in one.items():
                row: list[object] = [name]
                rps_of = {}
                for p in peers:
                    if p.name == "hello":
                        continue
                    rps, _, _, errors = measure(p, p.requests([q]), 8, args.seconds)
                    rps_of[p.name] = rps if not errors and rps > 0 else nan
                    row.append(rps_of[p.name] if rps_of[p.name] == rps_of[p.name] else "errors")
                row.append(rps_of["romagraph"] / rps_of["oxigraph"])
                if "romagraph-cache" in rps_of:
                    row.append(rps_of["romagraph-cache"] / rps_of["oxigraph"])
                if "rdflib-endpoint" in rps_of:
                    row.append(rps_of["romagraph"] / rps_of["rdflib-endpoint"])
                rows.append(row)
                print(f"  {name}: " + ", ".join(f"{v:.1f}" if isinstance(v, float) else str(v)
                                                for v in row[1:]), flush=True)
            header = ["query", *[f"{n} req/s" for n in names if n != "hello"],
                      "romagraph / oxigraph"]
            if "romagraph-cache" in names:
                header.append("romagraph-cache / oxigraph (cache: not the engine)")
            if "rdflib-endpoint" in names:
                header.append("romagraph / rdflib-endpoint")
            table(f"Part 3: one query at 8 connections, requests/s ({triples:,} quads)", header, rows)

        for p in peers:
            p_rss = peak_rss_mb(p.process.pid) if p.process else float("nan")
            p.notes = f"{p_rss:,.0f} MB"
        table("Peak memory of each server (process tree)", ["peer", "peak RSS"],
              [[p.name, p.notes] for p in peers])
    finally:
        for p in peers:
            if p.process is not None:
                stop(p.process)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
