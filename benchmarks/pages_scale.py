"""Resource pages and search at scale, against the HTTP floor (issue #8).

Loads the synthetic graph of ``--size`` triples into an on-disk store (``romagraph load``),
starts ``romagraph serve`` on it and the hello-world app of ``hello_app.py`` (same uvicorn,
same HTTP parser), and measures with ``wrk`` (or the asyncio client of ``common.py`` when wrk
is missing) at 1, 8 and 32 connections, per kind of URL: a project, an organisation, a plan
task, a municipality (place), the hub (the resource with the most incoming links, rdf:type
aside), the search API with a few terms, and the home page. Prints requests/s, p50 and p99,
the ratio to hello at the same concurrency, p99/p50, and the hub page's latency over a normal
(project) page's.

Targets: pages and search ≥ 0.3× hello at 8 connections, p99 ≤ 4× p50; the hub within 3× a
normal page.

    python benchmarks/pages_scale.py --size 100k [--duration 10]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import (  # noqa: E402
    DATA_DIR,
    dataset,
    free_port,
    load,
    peak_rss_mb,
    start,
    stop,
    table,
    wait_http,
)

BASE = "https://w3id.org/romagraph/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
CONCURRENCY = (1, 8, 32)
SEARCH_TERMS = ("jelgava", "romu", "ministrija", "biedrība", "projekts", "daugavpils")
WRK = shutil.which("wrk")


def page_path(iri: str) -> str:
    """The local URL of a resource's page (as server.services.present.resource_path)."""
    rest = iri.removeprefix(BASE)
    if rest.startswith("id/"):
        return "/doc/" + rest[3:]
    if rest.startswith(("def/", "data/")) and "#" not in rest:
        return "/" + rest
    return "/resource?iri=" + quote(iri, safe="")


def pick_urls(path: Path) -> dict[str, list[str]]:
    """URLs per kind, read in-process from the data file; the hub is the resource with the
    most incoming links (rdf:type aside)."""
    store = ox.Store()
    store.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)

    def subjects(cls: str, prefix: str, n: int) -> list[str]:
        q = f"SELECT DISTINCT ?s WHERE {{ ?s a <{cls}> FILTER(STRSTARTS(STR(?s), \"{BASE}{prefix}\")) }} LIMIT {n * 40}"
        found = [r["s"].value for r in store.query(q, use_default_graph_as_union=True)]
        step = max(1, len(found) // n)
        return found[::step][:n]

    hub_q = f"""SELECT ?o (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o
        FILTER(isIRI(?o) && ?p != <{RDF_TYPE}> && STRSTARTS(STR(?o), "{BASE}")) }}
        GROUP BY ?o ORDER BY DESC(?n) LIMIT 1"""
    hub = next(iter(store.query(hub_q, use_default_graph_as_union=True)))
    print(f"hub: {hub['o'].value} ({hub['n'].value} incoming links)", flush=True)
    urls = {
        "project": [page_path(s) for s in subjects("https://schema.org/Project", "id/project/synth", 5)
                    or subjects("https://schema.org/Project", "id/project/", 5)],
        "organisation": [page_path(s) for s in subjects("https://schema.org/NGO", "id/org/", 5)],
        "task": [page_path(s) for s in subjects(BASE + "def/rg#PlanTask", "id/plan/synth", 5)],
        "municipality": [page_path(s) for s in subjects("http://purl.org/dc/terms/Location", "id/place/", 40)
                         if re.search(r"-\d+$", s)][:5],
        "hub": [page_path(hub["o"].value)],
        "search API": ["/api/search?q=" + quote(t) for t in SEARCH_TERMS],
        "home": ["/"],
    }
    return {k: v for k, v in urls.items() if v}


def disk_store(size: str, data: Path) -> Path:
    """The on-disk store of ``data``, loaded once with `romagraph load` and cached."""
    target = DATA_DIR / f"store-{data.stem}"
    if (target / ".loaded").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "server.cli", "load", "--store", f"oxigraph:{target}",
                    "--from", str(data), "--no-progress"], cwd=ROOT, check=True)
    (target / ".loaded").write_text(size)
    return target


@dataclass
class Result:
    rps: float
    p50: float  # ms
    p99: float  # ms
    errors: int


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * UNITS[m.group(2)] if m else float("nan")


def wrk(base: str, paths: list[str], connections: int, duration: float, accept: str) -> Result:
    """One wrk run cycling through ``paths``."""
    script = "\n".join([
        "local paths = {" + ", ".join(f'"{p}"' for p in paths) + "}",
        "local i = 0",
        f'wrk.headers["Accept"] = "{accept}"',
        "request = function()",
        "  i = i + 1",
        "  return wrk.format(nil, paths[(i % #paths) + 1])",
        "end",
    ])
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        out = subprocess.run(
            [WRK or "wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--timeout", "30s",
             "--latency", "-s", f.name, base],
            capture_output=True, text=True, timeout=duration + 60, check=True,
        ).stdout
    finally:
        os.unlink(f.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors += sum(int(n) for n in sock.groups())
    return Result(rps, p50, p99, errors)


def fallback(base: str, paths: list[str], connections: int, duration: float, accept: str) -> Result:
    """The asyncio client of common.py, when wrk is not installed."""
    host, port = base.removeprefix("http://").split(":")
    raw = [f"GET {p} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: {accept}\r\n\r\n".encode()
           for p in paths]
    cell = load(host, int(port), raw, connections, 10**9, time_cap=duration)
    lat = sorted(cell.latencies)

    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")

    return Result(cell.rps, pct(0.5), pct(0.99), cell.errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="100k", help="triples: 100k or 1M (any size generate.py takes)")
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    parser.add_argument("--kinds", default="", help="comma-separated subset of URL kinds")
    parser.add_argument("--page-cache-mb", type=int, default=None,
                        help="ROMAGRAPH_PAGE_CACHE_MB for the server (0: every request renders "
                             "its page: the cold cost); default: the server's own")
    args = parser.parse_args()
    measure = wrk if WRK else fallback
    print(f"load generator: {WRK or 'benchmarks.common.load (wrk not found)'}", flush=True)

    data = dataset(args.size)
    store_dir = disk_store(args.size, data)
    urls = pick_urls(data)
    if args.kinds:
        urls = {k: v for k, v in urls.items() if k in args.kinds.split(",")}
    for kind, paths in urls.items():
        print(f"{kind}: {', '.join(paths)}", flush=True)

    port, hello_port = free_port(), free_port()
    log = Path(tempfile.gettempdir()) / f"pages-scale-{port}.log"
    env = {} if args.page_cache_mb is None else {"ROMAGRAPH_PAGE_CACHE_MB": str(args.page_cache_mb)}
    server = start([sys.executable, "-m", "server.cli", "serve", "--store", f"oxigraph:{store_dir}",
                    "--port", str(port)], env=env, log=log)
    hello = start([sys.executable, "-m", "uvicorn", "benchmarks.hello_app:app", "--port",
                   str(hello_port), "--log-level", "warning", "--http", "h11"])
    try:
        started = wait_http(f"http://127.0.0.1:{port}/", server, timeout=900)
        wait_http(f"http://127.0.0.1:{hello_port}/hello", hello)
        print(f"romagraph serve answered after {started:.1f} s", flush=True)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(timeout=120) as c:  # check and warm every URL
            for kind, paths in urls.items():
                for p in paths:
                    r = c.get(base + p, headers={"accept": "text/html"})
                    if r.status_code != 200:
                        raise RuntimeError(f"{kind} {p}: {r.status_code}")
        # The machine is shared: hello is measured right before each cell and the ratio taken
        # to that neighbour, so load that comes and goes hits both sides of a ratio alike.
        hello_url = f"http://127.0.0.1:{hello_port}"
        floors: dict[int, list[Result]] = {n: [] for n in CONCURRENCY}
        results: dict[tuple[str, int], tuple[Result, Result]] = {}
        for kind, paths in urls.items():
            accept = "application/json" if kind == "search API" else "text/html"
            for n in CONCURRENCY:
                h = measure(hello_url, ["/hello"], n, args.duration, "text/html")
                r = measure(base, paths, n, args.duration, accept)
                floors[n].append(h)
                results[(kind, n)] = (r, h)
                print(f"  {kind:13} c={n:<2} {r.rps:8.1f} req/s  p50 {r.p50:7.2f} ms  "
                      f"p99 {r.p99:7.2f} ms  errors {r.errors}   (hello {h.rps:8.1f} req/s, "
                      f"p50 {h.p50:.2f} ms, p99 {h.p99:.2f} ms)", flush=True)
        rss = peak_rss_mb(server.pid)
    finally:
        stop(server)
        stop(hello)

    rows: list[list[object]] = []
    for n in CONCURRENCY:
        fl = floors[n]
        rps, p50, p99 = (statistics.median(getattr(f, a) for f in fl) for a in ("rps", "p50", "p99"))
        rows.append([f"hello (HTTP floor, median of {len(fl)})", n, rps, p50, p99, 1.0, p99 / p50,
                     "", sum(f.errors for f in fl)])
    for kind in urls:
        for n in CONCURRENCY:
            r, h = results[(kind, n)]
            hub_ratio = (r.p50 / results[("project", n)][0].p50
                         if kind == "hub" and ("project", n) in results else "")
            rows.append([kind, n, r.rps, r.p50, r.p99, r.rps / h.rps, r.p99 / r.p50,
                         hub_ratio, r.errors])
    cache = "default" if args.page_cache_mb is None else f"{args.page_cache_mb} MB"
    table(f"Pages and search at {args.size} triples (`romagraph serve`, on-disk store, page cache "
          f"{cache}; "
          f"{'wrk' if WRK else 'asyncio client'}, {args.duration:g} s per cell; "
          f"server peak RSS {rss:,.0f} MB)",
          ["URL kind", "conns", "req/s", "p50 ms", "p99 ms", "× hello", "p99/p50",
           "hub p50 / project p50", "errors"], rows)
    misses = [f"{k} c={n}" for (k, n), (r, h) in results.items() if n == 8 and r.rps / h.rps < 0.3]
    misses += [f"{k} c={n} p99/p50" for (k, n), (r, _) in results.items() if r.p99 / r.p50 > 4]
    misses += [f"hub/project c={n}" for n in CONCURRENCY if ("hub", n) in results
               and ("project", n) in results
               and results[("hub", n)][0].p50 > 3 * results[("project", n)][0].p50]
    print("\nmisses: " + (", ".join(misses) if misses else "none"))


if __name__ == "__main__":
    main()
