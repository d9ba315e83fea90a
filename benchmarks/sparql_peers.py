#!/usr/bin/env python3
"""``/sparql`` of ``romagraph serve`` against its peers, measured side by side in one run.

Peers, all on 127.0.0.1 and all given the same graph (the repository's graph plus a synthetic one
from ``generate.py`` up to the size asked for):

- romagraph: ``romagraph serve --store oxigraph:DIR`` (on-disk store built by ``romagraph load``;
  one HTTP process, ``ROMAGRAPH_QUERY_WORKERS=2`` query workers);
- oxigraph: the Oxigraph server (Rust), in memory, ``--union-default-graph``;
- oxigraph-disk: the Oxigraph server read-only over the very store folder romagraph serves (the
  like-for-like peer: the same RocksDB files);
- rdflib-endpoint: rdflib's own SPARQL engine behind FastAPI (``pip install -e '.[bench]'``);
- engine / engine-disk: pyoxigraph in this process over an in-memory store / over the same
  on-disk store, query + serialisation, no HTTP (the floor of any endpoint);
- hello: a FastAPI endpoint answering a constant empty result (the floor of the HTTP stack).

Part 1 times every query of ``queries/`` and one instance of each template of a generated query
mix, one connection at a time (median of a bounded number of requests). Part 2 runs the mix
(lookups frequent, scans rare) at 1, 8 and 32 concurrent connections and reports throughput and
median latency. Requests are bounded in number and time; rdflib-endpoint gets fewer.

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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="100k", help="synthetic triples: 10k, 100k, 1M")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--requests", type=int, default=15, help="per query in part 1 (rdflib: 2)")
    ap.add_argument("--mix", type=int, default=400, help="requests per concurrency in part 2")
    ap.add_argument("--skip-rdflib", action="store_true", help="leave rdflib-endpoint out")
    args = ap.parse_args(argv)

    data = dataset(args.size, args.seed)
    triples = count_lines(data)
    print(f"# SPARQL endpoints side by side: {triples:,} quads ({args.size} synthetic + the "
          f"repository's graph), {data}", flush=True)
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
        rg = Peer("romagraph", free_port(), "/sparql")
        t = time.perf_counter()
        r = start([sys.executable, "-m", "server.cli", "load", "--store",
                   f"oxigraph:{work / 'store'}", "--from", str(data), "--no-progress"])
        if r.wait() != 0:
            raise RuntimeError("romagraph load failed")
        load_s = time.perf_counter() - t
        rg.process = start(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(rg.port),
             "--store", f"oxigraph:{work / 'store'}"],
            env={"ROMAGRAPH_QUERY_WORKERS": "2", "ROMAGRAPH_LOG_LEVEL": "warning",
                 "ROMAGRAPH_QUERY_TIMEOUT": "60", "ROMAGRAPH_MAX_ROWS": "100000",
                 "ROMAGRAPH_EXPORT_DIR": str(work / "export")},
            log=work / "romagraph.log")
        base = f"http://127.0.0.1:{rg.port}"
        pages = wait_http(base + "/", rg.process)
        sparql = wait_http(base + "/sparql", rg.process, method="POST",
                           data={"query": "ASK {}"}, headers={"Accept": ACCEPT})
        rg.ready_s = pages + sparql
        rg.notes = (f"load {load_s:.1f} s; pages after {pages:.1f} s, /sparql after "
                    f"{pages + sparql:.1f} s")
        peers.append(rg)

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
        oxi.notes = f"POST /store {oxi.ready_s:.1f} s"
        peers.append(oxi)

        oxd = Peer("oxigraph-disk", free_port(), "/query")
        oxd.process = start(["oxigraph", "serve-read-only", "--location", str(work / "store"),
                             "--bind", f"127.0.0.1:{oxd.port}", "--union-default-graph"])
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

        disk = ox.Store.read_only(str(work / "store"))  # the engine over the same files
        table("Peers", ["peer", "ready after (s)", "notes"],
              [[p.name, p.ready_s, p.notes] for p in peers if p.name != "hello"])

        # Part 1: each query alone, one connection
        http_peers = [p for p in peers if p.name != "hello"]
        rows = []
        queries = {**documented, **{f"mix: {k}": v for k, v in one.items()}}
        for name, q in queries.items():
            row: list[object] = [name]
            medians = {}
            for p in http_peers:
                reqs = p.requests([q])
                if p.name == "rdflib-endpoint":  # slow: two requests, the first one warms up
                    cell = load("127.0.0.1", p.port, reqs, 1, 2, 20, request_timeout=30)
                else:
                    warm = load("127.0.0.1", p.port, reqs, 1, 1, 60)
                    cell = load("127.0.0.1", p.port, reqs, 1, args.requests, 30) \
                        if not warm.errors else warm
                medians[p.name] = cell.median_ms if not cell.errors else float("nan")
                row.append(medians[p.name] if not cell.errors else "error")
            # in-process last, and only if an endpoint answered: a query that overran every
            # endpoint's time limit cannot be interrupted in this process
            answered = any(m == m for m in medians.values())
            nan = float("nan")
            eng_ms = engine_run(store, [q], max(3, args.requests))[0] if answered else nan
            disk_ms = engine_run(disk, [q], max(3, args.requests))[0] if answered else nan
            row[1:1] = [eng_ms, disk_ms] if answered else ["skipped", "skipped"]
            row.append(medians["romagraph"] / medians["oxigraph-disk"])
            row.append(medians["romagraph"] / medians["oxigraph"])
            row.append(medians["romagraph"] / disk_ms)
            rows.append(row)
            print(f"  {name}: " + ", ".join(f"{v:.2f}" if isinstance(v, float) else str(v)
                                            for v in row[1:]), flush=True)
        header = ["query", "engine ms", "engine-disk ms", *[f"{p.name} ms" for p in http_peers],
                  "romagraph / oxigraph-disk", "romagraph / oxigraph", "romagraph / engine-disk"]
        table(f"Part 1: median latency per query, 1 connection ({triples:,} quads)",
              header, rows)
        print("error: an error status, or no answer within 30 s (rdflib's engine cannot "
              "evaluate some of the documented queries)")
        for col, peer in ((-3, "oxigraph-disk"), (-2, "oxigraph")):
            ratios = [r[col] for r in rows if r[col] == r[col]]
            print(f"geometric mean romagraph / {peer} latency: "
                  f"{statistics.geometric_mean(ratios):.2f}x over {len(ratios)} queries")
        if "rdflib-endpoint" in medians:
            col = 3 + [p.name for p in http_peers].index("rdflib-endpoint")
            rr = [r[col] / r[3] for r in rows
                  if all(isinstance(v, float) and v == v for v in (r[col], r[3]))]
            if rr:
                print(f"geometric mean rdflib-endpoint / romagraph latency: "
                      f"{statistics.geometric_mean(rr):.1f}x over {len(rr)} queries")

        # Part 2: the mix at 1 / 8 / 32 connections
        eng_ms, eng_rps = engine_run(store, mix, 1, time_cap=120)
        disk_ms, disk_rps = engine_run(disk, mix, 1, time_cap=120)
        rows = [["engine (in-process)", 1, eng_rps, eng_ms, 0],
                ["engine-disk (in-process)", 1, disk_rps, disk_ms, 0]]
        by: dict[tuple[str, int], float] = {}
        for p in peers:
            reqs = p.requests(mix)
            load("127.0.0.1", p.port, reqs, 4, 20, 60)  # warm-up
            for c in (1, 8, 32):
                slow = p.name == "rdflib-endpoint"
                cell = load("127.0.0.1", p.port, reqs, c, 30 if slow else args.mix,
                            30 if slow else 120, request_timeout=30 if slow else 60)
                by[(p.name, c)] = cell.rps
                rows.append([p.name, c, cell.rps, cell.median_ms, cell.errors])
        for p in peers:
            p_rss = peak_rss_mb(p.process.pid) if p.process else float("nan")
            p.notes = f"{p_rss:,.0f} MB"
        table(f"Part 2: query mix ({len(mix)} queries, lookups frequent), requests/s and median "
              f"latency ({triples:,} quads)",
              ["peer", "connections", "requests/s", "median ms", "errors"], rows)
        table("Part 2 ratios (requests/s)",
              ["connections", "romagraph / oxigraph-disk", "romagraph / oxigraph",
               "romagraph / hello (HTTP floor)", "romagraph / engine-disk", "oxigraph / hello"],
              [[c, by[("romagraph", c)] / by[("oxigraph-disk", c)],
                by[("romagraph", c)] / by[("oxigraph", c)],
                by[("romagraph", c)] / by[("hello", c)], by[("romagraph", c)] / disk_rps,
                by[("oxigraph", c)] / by[("hello", c)]] for c in (1, 8, 32)])
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
