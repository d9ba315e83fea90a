"""Resource pages and search at scale, against the HTTP floor (issue #8).

Loads the synthetic graph of ``--size`` triples into an on-disk store (``romagraph load``),
starts ``romagraph serve`` on it and the hello-world app of ``hello_app.py`` (same uvicorn and HTTP parser,
same HTTP parser), and measures with ``wrk`` (or the asyncio client of ``common.py`` when wrk
is missing) at 1, 8 and 32 connections, per kind of URL: a project, an organisation, a plan
task, a municipality (place), the hub (the resource with the most incoming links, rdf:type
aside), the search API with a few terms, and the home page. Prints requests/s, p50 and p99,
the ratio to hello at the same concurrency, p99/p50, and the hub page's latency over a normal
(project) page's.

Targets: pages and search ≥ 0.3× hello at 8 connections, p99 ≤ 4× p50; the hub within 3× a
normal page.

By default each kind cycles through a handful of URLs, which the response cache soon holds: the
figures are those of repeat visits. ``--distinct N`` makes each cell (kind × concurrency) cycle
through N URLs of its own kind that no other cell asks for (the N busiest resources for the hub,
N search words), as a crawler or many different readers would, and reports the cache hit rate
each cell got (from the ``X-Romagraph-Cache`` header, counted by wrk). ``--warm`` requests each
cell's URLs once before measuring it, so the figures are those of a warm cache (as far as the
page-cache budget holds them: the hit rate says). Each cell also reports the server's CPU time
per request (its process tree, from /proc), and hello's, which the other load on a shared
machine does not inflate the way it does requests/s.

    python benchmarks/pages_scale.py --size 100k [--duration 10]
    python benchmarks/pages_scale.py --size 1M --distinct 1000 --kinds project,hub
    python benchmarks/pages_scale.py --size 1M --duration 4 --distinct 1000 --warm --concurrency 8
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
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
    descendants,
    free_port,
    load,
    peak_rss_mb,
    start,
    stop,
    table,
    wait_http,
)
from server.config import Settings  # noqa: E402

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


def pick_urls(path: Path, n: int = 5, hubs: int = 1) -> dict[str, list[str]]:
    """Up to ``n`` URLs per kind (``hubs`` for the hub), read in-process from the data file; the
    hubs are the resources with the most incoming links (rdf:type aside)."""
    store = ox.Store()
    store.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)

    def subjects(cls: str, prefix: str, n: int) -> list[str]:
        q = f"SELECT DISTINCT ?s WHERE {{ ?s a <{cls}> FILTER(STRSTARTS(STR(?s), \"{BASE}{prefix}\")) }} LIMIT {n * 40}"
        rows = store.query(q, use_default_graph_as_union=True)
        assert isinstance(rows, ox.QuerySolutions)
        found = [r["s"].value for r in rows]
        step = max(1, len(found) // n)
        return found[::step][:n]

    hub_q = f"""SELECT ?o (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o
        FILTER(isIRI(?o) && ?p != <{RDF_TYPE}> && STRSTARTS(STR(?o), "{BASE}")) }}
        GROUP BY ?o ORDER BY DESC(?n) LIMIT {hubs}"""
    solutions = store.query(hub_q, use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)
    found_hubs = list(solutions)
    hub = found_hubs[0]
    print(f"hub: {hub['o'].value} ({hub['n'].value} incoming links)", flush=True)
    if hubs > 1:
        print(f"  {len(found_hubs)} hubs, down to {found_hubs[-1]['n'].value} incoming links",
              flush=True)
    projects = (subjects("https://schema.org/Project", "id/project/synth", n)
                or subjects("https://schema.org/Project", "id/project/", n))
    urls = {
        "project": [page_path(s) for s in projects],
        "organisation": [page_path(s) for s in subjects("https://schema.org/NGO", "id/org/", n)],
        "task": [page_path(s) for s in subjects(BASE + "def/rg#PlanTask", "id/plan/synth", n)],
        "municipality": [page_path(s) for s in subjects("http://purl.org/dc/terms/Location", "id/place/", 8 * n)
                         if re.search(r"-\d+$", s)][:n],
        "hub": [page_path(h["o"].value) for h in found_hubs],
        "search API": ["/api/search?q=" + quote(t) for t in search_terms(projects, n)],
        "home": ["/"],
    }
    return {k: v for k, v in urls.items() if v}


def search_terms(iris: list[str], n: int) -> list[str]:
    """SEARCH_TERMS, then words of the resources' local names (distinct) up to ``n``."""
    terms = list(SEARCH_TERMS)
    for iri in iris:
        if len(terms) >= n:
            break
        words = [w for w in re.split(r"[-/_.\d]+", iri.rsplit("/", 1)[-1]) if len(w) > 2]
        term = " ".join(words[:2])
        if term and term not in terms:
            terms.append(term)
    return terms[:n]


def cell_paths(paths: list[str], distinct: int, cell: int) -> list[str]:
    """The URLs cell number ``cell`` cycles through: all of them by default; with ``distinct``,
    a slice of its own (wrapping around, with a warning, when the kind has too few)."""
    if not distinct:
        return paths
    start = cell * distinct
    if start + distinct > len(paths):
        print(f"  (only {len(paths)} URLs: cells share some)", flush=True)
    return [paths[(start + i) % len(paths)] for i in range(min(distinct, len(paths)))]


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
    hits: int | None = None  # answers the response cache gave (X-Romagraph-Cache: hit)
    rendered: int | None = None  # answers rendered for the request (miss or off)
    requests: int = 0  # answers counted by the load generator
    cpu_ms: float | None = None  # server CPU (process tree) per request, ms

    @property
    def hit_rate(self) -> float | None:
        seen = (self.hits or 0) + (self.rendered or 0)
        return self.hits / seen if self.hits is not None and seen else None


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * UNITS[m.group(2)] if m else float("nan")


# Counts the X-Romagraph-Cache answers (globals of the thread's Lua state, summed in done()).
COUNT_CACHE = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
hits, rendered = 0, 0
response = function(status, headers, body)
  local c = headers["x-romagraph-cache"] or headers["X-Romagraph-Cache"]
  if c == "hit" then hits = hits + 1 elseif c then rendered = rendered + 1 end
end
done = function(summary, latency, requests)
  local h, r = 0, 0
  for _, t in ipairs(threads) do h = h + t:get("hits"); r = r + t:get("rendered") end
  io.write(string.format("cache: %d hits, %d rendered\\n", h, r))
end
"""


def wrk(base: str, paths: list[str], connections: int, duration: float, accept: str,
        count_cache: bool = False) -> Result:
    """One wrk run cycling through ``paths`` (in turn, across all connections)."""
    script = "\n".join([
        "local paths = {" + ", ".join(f'"{p}"' for p in paths) + "}",
        "local i = 0",
        f'wrk.headers["Accept"] = "{accept}"',
        "request = function()",
        "  i = i + 1",
        "  return wrk.format(nil, paths[(i % #paths) + 1])",
        "end",
        COUNT_CACHE if count_cache else "",
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
    cache = re.search(r"cache: (\d+) hits, (\d+) rendered", out)
    hits, rendered = (int(cache.group(1)), int(cache.group(2))) if cache else (None, None)
    done = re.search(r"(\d+) requests in", out)
    return Result(rps, p50, p99, errors, hits, rendered, int(done.group(1)) if done else 0)


def fallback(base: str, paths: list[str], connections: int, duration: float, accept: str,
             count_cache: bool = False) -> Result:
    """The asyncio client of common.py, when wrk is not installed (no cache hit rate)."""
    host, port = base.removeprefix("http://").split(":")
    raw = [f"GET {p} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: {accept}\r\n\r\n".encode()
           for p in paths]
    cell = load(host, int(port), raw, connections, 10**9, time_cap=duration)
    lat = sorted(cell.latencies)

    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")

    return Result(cell.rps, pct(0.5), pct(0.99), cell.errors, requests=len(lat))


def wait_store_copy(base: str, timeout: float = 600) -> str:
    """Wait until the server's pages read their in-memory copy of the store (made in the
    background after start, ROMAGRAPH_PAGES_IN_MEMORY), or the store is above that limit:
    the figures are of the steady state. Returns what the pages read ("memory" or "files")."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=30) as c:
        while True:
            status = c.get(base + "/api/status").json()
            reads = status.get("store_reads", "memory")
            # above the limit no copy is made: the pages keep reading the files
            too_big = status.get("quads", 0) > Settings().pages_in_memory
            if reads == "memory" or too_big or time.monotonic() > deadline:
                return str(reads)
            time.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="100k", help="triples: 100k or 1M (any size generate.py takes)")
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    parser.add_argument("--kinds", default="", help="comma-separated subset of URL kinds")
    parser.add_argument("--page-cache-mb", type=int, default=None,
                        help="ROMAGRAPH_PAGE_CACHE_MB for the server (0: every request renders "
                             "its page: the cold cost); default: the server's own")
    parser.add_argument("--distinct", type=int, default=0, metavar="N",
                        help="each cell cycles through N URLs of its kind that no other cell "
                             "requests (a crawler's or many readers' cache hit rate); default: "
                             "a handful of URLs per kind, shared by the cells")
    parser.add_argument("--warm", action="store_true",
                        help="request each cell's URLs once before measuring it (the figures "
                             "of a warm cache; the hit rate shows how much of it the budget held)")
    parser.add_argument("--concurrency", default=",".join(map(str, CONCURRENCY)),
                        help="comma-separated connection counts [1,8,32]")
    args = parser.parse_args()
    measure = wrk if WRK else fallback
    print(f"load generator: {WRK or 'benchmarks.common.load (wrk not found)'}", flush=True)
    concurrency = tuple(int(c) for c in args.concurrency.split(","))

    data = dataset(args.size)
    store_dir = disk_store(args.size, data)
    cells = len(concurrency)
    urls = pick_urls(data, args.distinct * cells, args.distinct * cells) if args.distinct else pick_urls(data)
    if args.kinds:
        urls = {k: v for k, v in urls.items() if k in args.kinds.split(",")}
    for kind, paths in urls.items():
        shown = paths if len(paths) <= 6 else [*paths[:3], f"… ({len(paths)} URLs)"]
        print(f"{kind}: {', '.join(shown)}", flush=True)

    port, hello_port = free_port(), free_port()
    log = Path(tempfile.gettempdir()) / f"pages-scale-{port}.log"
    env = {} if args.page_cache_mb is None else {"ROMAGRAPH_PAGE_CACHE_MB": str(args.page_cache_mb)}
    server = start([sys.executable, "-m", "server.cli", "serve", "--store", f"oxigraph:{store_dir}",
                    "--port", str(port)], env=env, log=log)
    # the HTTP parser `romagraph serve` uses by default (httptools when installed), so the
    # floor is the same stack
    http = "h11" if importlib.util.find_spec("httptools") is None else "httptools"
    hello = start([sys.executable, "-m", "uvicorn", "benchmarks.hello_app:app", "--port",
                   str(hello_port), "--log-level", "warning", "--http", http])
    try:
        started = wait_http(f"http://127.0.0.1:{port}/", server, timeout=900)
        wait_http(f"http://127.0.0.1:{hello_port}/hello", hello)
        print(f"romagraph serve answered after {started:.1f} s; idle after "
              f"{wait_idle(server.pid):.0f} s more", flush=True)
        base = f"http://127.0.0.1:{port}"
        print(f"pages read the store's {wait_store_copy(base)}", flush=True)
        with httpx.Client(timeout=120) as c:  # check and warm every URL (--distinct: one a kind)
            for kind, paths in urls.items():
                for p in paths[-1:] if args.distinct else paths:
                    answer = c.get(base + p, headers={"accept": "text/html"})
                    if answer.status_code != 200:
                        raise RuntimeError(f"{kind} {p}: {answer.status_code}")
        # The machine is shared: hello is measured right before each cell and the ratio taken
        # to that neighbour, so load that comes and goes hits both sides of a ratio alike.
        hello_url = f"http://127.0.0.1:{hello_port}"
        floors: dict[int, list[Result]] = {n: [] for n in concurrency}
        results: dict[tuple[str, int], tuple[Result, Result]] = {}
        for kind, paths in urls.items():
            accept = "application/json" if kind == "search API" else "text/html"
            for cell, n in enumerate(concurrency):
                cpu = cpu_seconds(hello.pid)
                h = measure(hello_url, ["/hello"], n, args.duration, "text/html")
                if h.requests:
                    h.cpu_ms = (cpu_seconds(hello.pid) - cpu) * 1000 / h.requests
                own = cell_paths(paths, args.distinct, cell)
                if args.warm:
                    warm(base, own, accept)
                cpu = cpu_seconds(server.pid)
                r = measure(base, own, n, args.duration, accept, count_cache=True)
                if r.requests:
                    r.cpu_ms = (cpu_seconds(server.pid) - cpu) * 1000 / r.requests
                floors[n].append(h)
                results[(kind, n)] = (r, h)
                print(f"  {kind:13} c={n:<2} {r.rps:8.1f} req/s  p50 {r.p50:7.2f} ms  "
                      f"p99 {r.p99:7.2f} ms  errors {r.errors}  cache hits {_pct(r.hit_rate)}  "
                      f"server CPU {_cpu(r.cpu_ms)} ms/req"
                      f"   (hello {h.rps:8.1f} req/s, p50 {h.p50:.2f} ms, p99 {h.p99:.2f} ms, "
                      f"CPU {_cpu(h.cpu_ms)} ms/req)",
                      flush=True)
        rss = peak_rss_mb(server.pid)
    finally:
        stop(server)
        stop(hello)

    rows: list[list[object]] = []
    for n in concurrency:
        fl = floors[n]
        rps, p50, p99 = (statistics.median(getattr(f, a) for f in fl) for a in ("rps", "p50", "p99"))
        cpus = [f.cpu_ms for f in fl if f.cpu_ms is not None]
        rows.append([f"hello (HTTP floor, median of {len(fl)})", n, rps, p50, p99, 1.0, p99 / p50,
                     "", "", _cpu(statistics.median(cpus) if cpus else None),
                     sum(f.errors for f in fl)])
    for kind in urls:
        for n in concurrency:
            r, h = results[(kind, n)]
            hub_ratio = (r.p50 / results[("project", n)][0].p50
                         if kind == "hub" and ("project", n) in results else "")
            rows.append([kind, n, r.rps, r.p50, r.p99, r.rps / h.rps, r.p99 / r.p50,
                         hub_ratio, _pct(r.hit_rate), _cpu(r.cpu_ms), r.errors])
    cache = "default" if args.page_cache_mb is None else f"{args.page_cache_mb} MB"
    urls_note = (f"{args.distinct} distinct URLs per cell" if args.distinct
                 else "a few URLs per kind") + (", warmed" if args.warm else "")
    table(f"Pages and search at {args.size} triples (`romagraph serve`, on-disk store, page cache "
          f"{cache}, {urls_note}; "
          f"{'wrk' if WRK else 'asyncio client'}, {args.duration:g} s per cell; "
          f"server peak RSS {rss:,.0f} MB)",
          ["URL kind", "conns", "req/s", "p50 ms", "p99 ms", "× hello", "p99/p50",
           "hub p50 / project p50", "cache hits", "server CPU ms/req", "errors"], rows)
    misses = [f"{k} c={n}" for (k, n), (r, h) in results.items() if n == 8 and r.rps / h.rps < 0.3]
    misses += [f"{k} c={n} p99/p50" for (k, n), (r, _) in results.items() if r.p99 / r.p50 > 4]
    misses += [f"hub/project c={n}" for n in concurrency if ("hub", n) in results
               and ("project", n) in results
               and results[("hub", n)][0].p50 > 3 * results[("project", n)][0].p50]
    print("\nmisses: " + (", ".join(misses) if misses else "none"))


def warm(base: str, paths: list[str], accept: str) -> None:
    """One request for each of ``paths`` (``--warm``), as the cell will send it."""
    with httpx.Client(timeout=120) as c:
        for p in paths:
            c.get(base + p, headers={"accept": accept})


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by ``pid`` and its descendants (the query workers)."""
    total = 0.0
    for p in (pid, *descendants(pid)):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def wait_idle(pid: int, limit: float = 180.0) -> float:
    """Seconds until the server's process tree stays idle for 2 s (at 1M the query workers copy
    the store into memory after start, which would take CPU from the first cells)."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        before = cpu_seconds(pid)
        time.sleep(2)
        if cpu_seconds(pid) - before < 0.2:
            break
    return time.perf_counter() - started


def _cpu(ms: float | None) -> str:
    return "—" if ms is None else f"{ms:.3f}"


def _pct(rate: float | None) -> str:
    """A hit rate as a percentage; "—" where the answers carry no cache header (search API)."""
    return "—" if rate is None else f"{100 * rate:.0f} %"


if __name__ == "__main__":
    main()
