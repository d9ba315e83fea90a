"""A bounded load test of `romagraph serve` on loopback (issue #9).

Starts the real server (uvicorn, `--workers 2` by default, its own h11 settings), then sends a
realistic mix over keep-alive connections: resource pages, the home page, browse lists, the
search API, the documented SPARQL queries of queries/ and export downloads. Reports the requests
sent, answers by status class, connection errors, p50/p99 latency per kind and the server's
resident memory (its whole process tree, from /proc) before and after. Then the same again with a
query of death (a cartesian product that runs into the time limit) resent without pause on a
connection of its own, and compares the page views' p99 with the quiet run.

    python benchmarks/load_test.py                      # 20 000 requests, 64 connections
    python benchmarks/load_test.py --requests 2000 --concurrency 32 --no-qod

tests/test_load_short.py runs a short version of the same in the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import Connection, descendants, free_port  # noqa: E402

QUERY_OF_DEATH = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
# share of each kind in the mix (they add up to 100)
WEIGHTS = {"resource": 40, "home": 6, "browse": 14, "search": 20, "sparql": 15, "export": 5}
PAGE_KINDS = ("resource", "home", "browse")


# --- the server ---------------------------------------------------------------------------------


@contextlib.contextmanager
def romagraph_serve(workers: int = 2, env: dict[str, str] | None = None,
                    timeout: float = 180, args: tuple[str, ...] = ()) -> Iterator[tuple[str, int]]:
    """`romagraph serve --workers N` on a free port of 127.0.0.1; yields (url, pid)."""
    port = free_port()
    exports = tempfile.mkdtemp(prefix="romagraph-load-export-")  # not the repository's export/
    environment = {**os.environ, "ROMAGRAPH_LOG_LEVEL": "warning",
                   "ROMAGRAPH_EXPORT_DIR": exports, **(env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port),
         "--workers", str(workers), *args],
        cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"romagraph serve exited with {proc.returncode}")
            try:
                r = httpx.post(url + "/sparql", data={"query": "ASK {}"}, timeout=10)
                if r.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"romagraph serve did not answer within {timeout:g} s")
            time.sleep(0.2)
        yield url, proc.pid
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        shutil.rmtree(exports, ignore_errors=True)


def tree_rss_mb(pid: int) -> tuple[float, int]:
    """Resident memory (VmRSS, MB) of ``pid`` and all its descendants, and how many they are."""
    pids = [pid, *descendants(pid)]
    total = 0.0
    for p in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
    return total, len(pids)


# --- the mix -------------------------------------------------------------------------------------


def _get(path: str, accept: str = "text/html") -> bytes:
    return (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: {accept}\r\n"
            "Accept-Encoding: identity\r\n\r\n").encode()


def _post_query(query: str) -> bytes:
    body = urlencode({"query": query}).encode()
    return (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Accept: application/sparql-results+json, text/turtle;q=0.9\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def build_mix(url: str, seed: int = 1) -> dict[str, list[bytes]]:
    """The requests of each kind, from what the server itself lists."""
    sparql = url + "/sparql"
    resources = httpx.get(sparql, timeout=30, params={"format": "json", "query": (
        "SELECT DISTINCT ?s WHERE { ?s a ?t "
        "FILTER(STRSTARTS(STR(?s), 'https://w3id.org/romagraph/id/')) } LIMIT 400")}).json()
    paths = ["/doc/" + b["s"]["value"].split("/id/", 1)[1] for b in
             resources["results"]["bindings"]]
    classes = httpx.get(sparql, timeout=30, params={"format": "json", "query": (
        "SELECT DISTINCT ?c WHERE { ?s a ?c FILTER(STRSTARTS(STR(?c), 'http')) } LIMIT 40")}).json()
    browse = ["/browse"] + ["/browse?" + urlencode({"class": b["c"]["value"]})
                            for b in classes["results"]["bindings"]]
    words = ["jelgava", "romu", "ministrija", "projekts", "izglītība", "daugavpils", "plāns",
             "padome", "nodarbinātība", "kultūras", "rīga", "biedrība", "eiropas", "skola"]
    queries = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "queries").glob("*.rq"))]
    exports = ["/export/romagraph.ttl", "/export/romagraph.nt", "/export/romagraph.jsonld",
               "/export/csv/organisations.csv", "/export/csv/projects.csv",
               "/export/romagraph.nq.gz"]
    for path in exports:  # generated on first request: not what the load test measures
        httpx.get(url + path, timeout=300)
    rng = random.Random(seed)
    rng.shuffle(paths)
    return {
        "resource": [_get(p) for p in paths],
        "home": [_get("/"), _get("/?lang=lv")],
        "browse": [_get(p) for p in browse],
        "search": [_get("/api/search?q=" + quote(w[:n]), "application/json")
                   for w in words for n in (3, len(w))],
        "sparql": [_post_query(q) for q in queries],
        "export": [_get(p, "*/*") for p in exports],
    }


# --- the run (the client is benchmarks/common.py's Connection) --------------------------------


@dataclass
class Report:
    label: str
    requests: int = 0
    seconds: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)  # "2xx", "4xx", "5xx"…
    connection_errors: Counter[str] = field(default_factory=Counter)  # by exception name
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    rss_before_mb: float = 0.0
    rss_after_mb: float = 0.0
    processes: int = 0
    qod_statuses: Counter[int] = field(default_factory=Counter)

    def quantile(self, kinds: tuple[str, ...] | str, q: float) -> float:
        kinds = (kinds,) if isinstance(kinds, str) else kinds
        values = sorted(v for k in kinds for v in self.latencies.get(k, []))
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(q * len(values)))] * 1000

    @property
    def server_errors(self) -> int:
        return self.statuses.get("5xx", 0)

    def as_dict(self) -> dict[str, object]:
        kinds = sorted(self.latencies)
        return {
            "label": self.label, "requests": self.requests, "seconds": round(self.seconds, 2),
            "requests_per_second": round(self.requests / self.seconds, 1) if self.seconds else 0,
            "statuses": dict(self.statuses), "connection_errors": dict(self.connection_errors),
            "latency_ms": {k: {"n": len(self.latencies[k]),
                               "p50": round(self.quantile(k, 0.5), 2),
                               "p99": round(self.quantile(k, 0.99), 2)} for k in kinds},
            "page_views_ms": {"p50": round(self.quantile(PAGE_KINDS, 0.5), 2),
                              "p99": round(self.quantile(PAGE_KINDS, 0.99), 2)},
            "rss_mb": {"before": round(self.rss_before_mb, 1),
                       "after": round(self.rss_after_mb, 1), "processes": self.processes},
            "query_of_death": dict(self.qod_statuses),
        }


async def _run(url: str, mix: dict[str, list[bytes]], total: int, concurrency: int,
               qod: bool, seed: int, request_timeout: float, report: Report) -> None:
    host, port = url.removeprefix("http://").split(":")
    rng = random.Random(seed)
    kinds = [k for k, w in WEIGHTS.items() for _ in range(w)]
    plan = [(k, mix[k][rng.randrange(len(mix[k]))]) for k in
            (rng.choice(kinds) for _ in range(total))]
    next_item = 0
    done = asyncio.Event()

    async def client() -> None:
        nonlocal next_item
        conn = Connection(host, int(port))
        try:
            while next_item < len(plan):
                kind, raw = plan[next_item]
                next_item += 1
                started = time.perf_counter()
                try:
                    status, _ = await asyncio.wait_for(conn.request(raw), request_timeout)
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                        ValueError, TimeoutError) as e:
                    report.connection_errors[type(e).__name__] += 1
                    await conn.close()
                    conn = Connection(host, int(port))
                    continue
                report.latencies[kind].append(time.perf_counter() - started)
                report.statuses[f"{status // 100}xx"] += 1
        finally:
            await conn.close()

    async def query_of_death() -> None:
        conn = Connection(host, int(port))
        raw = _post_query(QUERY_OF_DEATH)
        try:
            while not done.is_set():
                try:
                    status, _ = await asyncio.wait_for(conn.request(raw), 60)
                except (OSError, asyncio.IncompleteReadError, TimeoutError):
                    report.qod_statuses[0] += 1
                    await conn.close()
                    conn = Connection(host, int(port))
                    continue
                report.qod_statuses[status] += 1
        finally:
            await conn.close()

    started = time.perf_counter()
    killer = asyncio.ensure_future(query_of_death()) if qod else None
    if killer is not None:
        await asyncio.sleep(1.0)  # let it occupy a worker before the clock starts
        started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    report.seconds = time.perf_counter() - started
    report.requests = len(plan)
    done.set()
    if killer is not None:
        await killer


def run_load(url: str, pid: int | None, mix: dict[str, list[bytes]], total: int,
             concurrency: int, qod: bool = False, seed: int = 1,
             request_timeout: float = 60.0, label: str = "") -> Report:
    """``total`` requests of the mix over ``concurrency`` connections (and, with ``qod``, the
    query of death resent throughout on one more connection)."""
    report = Report(label or ("with query of death" if qod else "quiet"))
    if pid:
        report.rss_before_mb, report.processes = tree_rss_mb(pid)
    coro = _run(url, mix, total, concurrency, qod, seed, request_timeout, report)
    try:
        import uvloop
    except ImportError:
        asyncio.run(coro)
    else:
        uvloop.run(coro)
    if pid:
        report.rss_after_mb, report.processes = tree_rss_mb(pid)
    return report


def print_report(r: Report) -> None:
    d = r.as_dict()
    print(f"\n== {r.label}: {r.requests} requests in {d['seconds']} s "
          f"({d['requests_per_second']}/s)")
    print(f"   answers by class: {dict(sorted(r.statuses.items()))}; connection errors: "
          f"{sum(r.connection_errors.values())} {dict(r.connection_errors) or ''}")
    print(f"   {'kind':<10} {'n':>6} {'p50 ms':>9} {'p99 ms':>9}")
    for kind, v in d["latency_ms"].items():  # type: ignore[union-attr]
        print(f"   {kind:<10} {v['n']:>6} {v['p50']:>9.2f} {v['p99']:>9.2f}")
    pv = d["page_views_ms"]
    print(f"   {'pages':<10} {'':>6} {pv['p50']:>9.2f} {pv['p99']:>9.2f}")  # type: ignore[index]
    print(f"   server RSS: {r.rss_before_mb:.0f} MB before, {r.rss_after_mb:.0f} MB after "
          f"({r.processes} processes)")
    if r.qod_statuses:
        print(f"   query of death answers: {dict(r.qod_statuses)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2, help="HTTP worker processes")
    ap.add_argument("--no-qod", action="store_true", help="skip the run with the query of death")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--http", default="h11", help="HTTP parser of the server: h11 or httptools")
    args = ap.parse_args()
    reports = []
    with romagraph_serve(args.workers, args=("--http", args.http)) as (url, pid):
        mix = build_mix(url, args.seed)
        print(f"romagraph serve --workers {args.workers} --http {args.http} at {url}; mix: "
              + ", ".join(f"{k} {w}% ({len(mix[k])} distinct)" for k, w in WEIGHTS.items()))
        run_load(url, pid, mix, min(2000, args.requests), args.concurrency, label="warm-up")
        quiet = run_load(url, pid, mix, args.requests, args.concurrency, seed=args.seed)
        print_report(quiet)
        reports.append(quiet)
        if not args.no_qod:
            loud = run_load(url, pid, mix, args.requests, args.concurrency, qod=True,
                            seed=args.seed + 1)
            print_report(loud)
            reports.append(loud)
            ratio = loud.quantile(PAGE_KINDS, 0.99) / quiet.quantile(PAGE_KINDS, 0.99)
            print(f"\npage-view p99 with the query of death / quiet: {ratio:.2f}x "
                  f"({'within' if ratio <= 2 else 'OVER'} 2x)")
    if args.json:
        args.json.write_text(json.dumps([r.as_dict() for r in reports], indent=2))
    bad = sum(r.server_errors + sum(r.connection_errors.values()) for r in reports)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
