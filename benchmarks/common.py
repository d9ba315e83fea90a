"""What the benchmarks share: the data sets, starting and stopping servers on 127.0.0.1, memory
readings from /proc, a lean HTTP/1.1 load generator and table printing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("ROMAGRAPH_BENCH_DATA", "/tmp/romagraph-bench"))
sys.path.insert(0, str(ROOT))

from benchmarks.generate import generate, parse_size  # noqa: E402

# Stopped by `timeout` or kill: unwind, so every script's `finally` stops the servers it started.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def dataset(size: str, seed: int = 1, with_real: bool = True, fmt: str = "nq") -> Path:
    """A synthetic graph of ``size`` triples as N-Quads (``nq``) or Turtle (``ttl``), plus the
    repository's own graph when ``with_real`` (N-Quads only), so the documented queries find
    their entities; generated once and cached in ``ROMAGRAPH_BENCH_DATA``."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    real = "-real" if with_real and fmt == "nq" else ""
    path = DATA_DIR / f"synth-{size}-seed{seed}{real}.{fmt}"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", buffering=1 << 20) as f:
        generate(parse_size(size), seed, f, fmt)
    if real:
        from server.config import Settings
        from server.store import open_store

        store = open_store(Settings(validate_on_start=False))
        with tmp.open("ab") as f:
            store.inner.dump(f, format=ox.RdfFormat.N_QUADS)
    tmp.replace(path)
    return path


def count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


# -- processes ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(args: Sequence[str], env: dict[str, str] | None = None, log: Path | None = None
          ) -> subprocess.Popen[bytes]:
    out = log.open("wb") if log else subprocess.DEVNULL
    return subprocess.Popen(list(args), cwd=ROOT, env={**os.environ, **(env or {})},
                            stdout=out, stderr=subprocess.STDOUT)


def wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 600,
              ok: tuple[int, ...] = (200,), method: str = "GET", **kw: object) -> float:
    """Poll ``url`` until it answers one of ``ok``; return the seconds it took."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            status = httpx.request(method, url, timeout=30, **kw).status_code  # type: ignore[arg-type]
            if status in ok:
                return time.perf_counter() - started
            if status in (404, 405, 415):
                raise RuntimeError(f"{method} {url} answered {status}")
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout:g} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def peak_rss_mb(pid: int, tree: bool = True) -> float:
    """Peak resident memory (VmHWM) of a process, plus its descendants when ``tree``."""
    total = 0.0
    for p in [pid, *(descendants(pid) if tree else [])]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        kids = children(todo.pop())
        found += kids
        todo += kids
    return found


def run_measured(code: str, *args: str, timeout: float = 1800) -> dict[str, object]:
    """Run ``code`` (which prints one JSON object as its last line) in a fresh interpreter and
    return that object plus the child's peak RSS in MB (``peak_mb``)."""
    wrapper = (
        "import json, resource, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        f"{code}\n"
        "result['peak_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps(result))\n"
    )
    r = subprocess.run([sys.executable, "-c", wrapper, *args], capture_output=True, text=True,
                       cwd=ROOT, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"measured run failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


# -- a lean HTTP/1.1 load generator -------------------------------------------------------------


def form_request(host: str, port: int, path: str, query: str, accept: str) -> bytes:
    body = urlencode({"query": query}).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nAccept: {accept}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head + body


class Connection:
    """One keep-alive connection; reads Content-Length and chunked bodies."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> tuple[int, int]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                self.host, self.port, limit=1 << 22)
        assert self.reader is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        headers = head.lower()
        size = 0
        if b"transfer-encoding: chunked" in headers:
            while True:
                line = await self.reader.readuntil(b"\r\n")
                n = int(line.split(b";")[0], 16)
                if n == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                await self.reader.readexactly(n + 2)
                size += n
        else:
            at = headers.find(b"content-length:")
            n = int(headers[at + 15:headers.find(b"\r\n", at)]) if at >= 0 else 0
            if n:
                await self.reader.readexactly(n)
            size = n
        if b"connection: close" in headers:
            await self.close()
        return status, size

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


@dataclass
class Cell:
    """What one run of requests measured."""

    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else float("nan")

    @property
    def rps(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds else float("nan")


async def _load(host: str, port: int, requests: Sequence[bytes], concurrency: int,
                total: int, time_cap: float, request_timeout: float) -> Cell:
    started = time.perf_counter()
    latencies: list[float] = []
    errors = 0
    issued = 0

    async def worker() -> None:
        nonlocal issued, errors
        conn = Connection(host, port)
        try:
            while issued < total and time.perf_counter() - started < time_cap:
                raw = requests[issued % len(requests)]
                issued += 1
                t = time.perf_counter()
                try:
                    status, _ = await asyncio.wait_for(conn.request(raw), request_timeout)
                except (OSError, asyncio.IncompleteReadError, ValueError, TimeoutError):
                    errors += 1
                    await conn.close()
                    conn = Connection(host, port)
                    continue
                latencies.append(time.perf_counter() - t)
                if status >= 400:
                    errors += 1
        finally:
            await conn.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Cell(issued, errors, time.perf_counter() - started, latencies)


def load(host: str, port: int, requests: Sequence[bytes], concurrency: int, total: int,
         time_cap: float = 60.0, request_timeout: float = 60.0) -> Cell:
    """``total`` requests (cycling through ``requests``) over ``concurrency`` connections,
    stopping early at ``time_cap`` seconds; a request unanswered after ``request_timeout``
    seconds counts as an error."""
    run = _load(host, port, requests, concurrency, total, time_cap, request_timeout)
    try:
        import uvloop
    except ImportError:
        return asyncio.run(run)
    return uvloop.run(run)


# -- output -------------------------------------------------------------------------------------


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def fmt(v: object) -> str:
        if isinstance(v, float):
            if v != v:  # nan
                return "–"
            return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}" if abs(v) >= 1 else f"{v:.3f}"
        return str(v)

    cells = [[fmt(v) for v in r] for r in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) if cells else len(str(h))
              for i, h in enumerate(header)]
    line = "| " + " | ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(c.rjust(w) if i else c.ljust(w)
                              for i, (c, w) in enumerate(zip(r, widths, strict=True))) + " |"
            for r in cells]
    out = "\n".join([f"\n### {title}\n", line, sep, *body])
    print(out, flush=True)
    return out
