"""A pool of worker processes that evaluate /sparql queries, so a query can really be stopped.

pyoxigraph holds the GIL while it evaluates and offers no way to interrupt a query, so the
endpoint never evaluates a user's query in the server process. Each worker holds its own
in-memory copy of the graph, loaded from an N-Quads snapshot of the server's store (the same
quads whatever the store was built from, fixtures included). Over an on-disk store the workers
open its files read-only, which takes milliseconds, so /sparql answers at once; when the pool is
asked to (``copy_up_to``: the store holds at most that many quads), each is then replaced, one at a time in the background, by a
worker that copies the store into memory, where Oxigraph evaluates 3-8 times faster. A query that overruns the time
limit gets its worker killed (SIGKILL) and a fresh one started in the background; the others go
on serving.

Workers are started with the ``forkserver`` method (``spawn`` where it is missing): a fork of the
loaded server process would inherit its threads' locks and the listening socket. On Linux each
worker also moves into an empty network namespace before it loads anything, so even a query that
slipped past the SERVICE check could open no connection.

Results are serialised in the worker by pyoxigraph's own writers. The row cap is exact and lazy:
rows are first written as TSV (one line per row) into a writer that stops pyoxigraph once the cap
is passed; when another format is asked for, the TSV is parsed back and re-written by pyoxigraph.
Graphs (CONSTRUCT/DESCRIBE) are capped the same way through N-Triples. A byte cap
(``Job.max_bytes``) bounds the size of the body the same way, at a row boundary.

A query still running after ``demote_after`` (a quarter of a second) has its worker moved to a
lower scheduling priority (``nice``) until it answers, so queries that burn a core cannot take
it from the server process that renders the pages, while quick queries keep the normal priority
even when the machine is busy. Workers also run with a cap on their private memory
(``RLIMIT_DATA``): a query that would take more makes its worker abort, and the client is told
that the query needs more memory (or stack) than the endpoint allows (422), not that the service
is down. A worker lost any other way (killed from outside) is a 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import dataclasses
import logging
import multiprocessing
import os
import pickle
import shutil
import signal
import socket
import struct
import sys
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .conneg import OX_RDF, OX_RESULTS

log = logging.getLogger(__name__)



# --- what goes over the pipe -------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One query to evaluate, with the formats negotiated for each kind of result."""

    query: str
    results_format: str | None  # key of conneg.OX_RESULTS for SELECT/ASK, None if not acceptable
    graph_format: str | None  # key of conneg.OX_RDF for CONSTRUCT/DESCRIBE, None if not acceptable
    max_rows: int
    default_graphs: tuple[str, ...] | None = None  # protocol dataset (default-graph-uri)
    named_graphs: tuple[str, ...] | None = None  # protocol dataset (named-graph-uri)
    union_default_graph: bool = True
    # None: the prefixes the pool gave its workers at start (not pickled with every query)
    prefixes: dict[str, str] | None = field(default_factory=dict)
    max_bytes: int | None = None  # most bytes in the body (cut at a row boundary); None: no cap


@dataclass(frozen=True)
class Outcome:
    kind: str  # "solutions", "boolean" or "graph"
    format: str  # the format key the body is written in
    body: bytes
    rows: int  # solutions or triples written (1 for ASK)
    truncated: bool
    seconds: float  # evaluation + serialisation time inside the worker


class QueryFailed(Exception):
    """The query could not be answered; ``status`` is the HTTP status that says why."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class QuerySyntaxError(QueryFailed):
    status = 400


class QueryEvaluationError(QueryFailed):
    status = 400


class ResultNotAcceptable(QueryFailed):
    """The query's result kind (known only after parsing) has no acceptable format."""

    status = 406

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class QueryTimeout(QueryFailed):
    status = 504


class PoolUnavailable(QueryFailed):
    status = 503


class WorkerLost(QueryFailed):
    status = 503


class QueryTooHeavy(QueryFailed):
    """The worker died of the query: out of its memory allowance or of stack (a crash signal
    while evaluating). The query, not the service, is the problem: a client error."""

    status = 422


# Signals a worker dies of when the query exhausts its memory cap (Rust aborts on a failed
# allocation) or its stack (overflow).
_CRASH_SIGNALS = frozenset({signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS})


# --- inside a worker process -------------------------------------------------------------------


class _Full(Exception):
    """Raised from the capped writer to stop pyoxigraph once the cap is passed."""


class _LineCappedWriter:
    """A binary sink for pyoxigraph that stops after ``max_lines`` complete lines, or once more
    than ``max_bytes`` have been written."""

    def __init__(self, max_lines: int, max_bytes: int | None = None) -> None:
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self.parts: list[bytes] = []
        self.lines = 0
        self.size = 0

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.parts.append(chunk)
        self.lines += chunk.count(b"\n")
        self.size += len(chunk)
        if self.full:
            raise _Full
        return len(chunk)

    def flush(self) -> None:
        pass

    @property
    def too_big(self) -> bool:
        return self.max_bytes is not None and self.size > self.max_bytes

    @property
    def full(self) -> bool:
        return self.lines > self.max_lines or self.too_big

    def body(self) -> tuple[bytes, int]:
        """The first ``max_lines`` complete lines that fit in ``max_bytes``, and their count."""
        data = b"".join(self.parts)
        if not self.full:
            return data, self.lines
        if self.too_big:
            assert self.max_bytes is not None
            data = data[: self.max_bytes]
        end = data.rfind(b"\n") + 1  # drop a partial last line
        lines = data.count(b"\n", 0, end)
        while lines > self.max_lines:
            end = data.rfind(b"\n", 0, end - 1) + 1
            lines -= 1
        return data[:end], lines


def _capped(
    serialize: Any, max_lines: int, max_bytes: int | None = None
) -> tuple[bytes, int, bool]:
    writer = _LineCappedWriter(max_lines, max_bytes)
    try:
        serialize(writer)
    except Exception:
        if not writer.full:
            raise
    body, lines = writer.body()
    return body, lines, writer.full


def _keep_lines(data: bytes, n: int) -> bytes:
    """The first ``n`` lines of ``data``."""
    end = 0
    for _ in range(n):
        nl = data.find(b"\n", end)
        if nl < 0:
            return data
        end = nl + 1
    return data[:end]


def _fit(
    lines_body: bytes, lines: int, header: int, rewrite: Any, max_bytes: int | None
) -> tuple[bytes, int, bool]:
    """``rewrite`` a line-per-row body into the asked format; when that comes out larger than
    ``max_bytes``, keep proportionally fewer rows (the ``header`` lines are always kept)."""
    body = rewrite(lines_body)
    cut = False
    while max_bytes is not None and len(body) > max_bytes and lines > header:
        rows = lines - header
        keep = min(rows - 1, int(rows * max_bytes / len(body) * 0.95))
        lines = header + max(0, keep)
        lines_body = _keep_lines(lines_body, lines)
        body = rewrite(lines_body)
        cut = True
    return body, lines, cut


def _execute(store: ox.Store, job: Job, pool_prefixes: dict[str, str] | None = None) -> Outcome:
    started = time.perf_counter()
    prefixes = pool_prefixes if job.prefixes is None else job.prefixes
    options: dict[str, Any] = {"prefixes": prefixes or None}
    if job.default_graphs is not None or job.named_graphs is not None:
        options["default_graph"] = [ox.NamedNode(g) for g in job.default_graphs or ()]
        if job.named_graphs is not None:
            options["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
    elif job.union_default_graph:
        options["use_default_graph_as_union"] = True
    try:
        result = store.query(job.query, **options)
    except SyntaxError as e:
        raise QuerySyntaxError(str(e)) from None
    except ValueError as e:  # e.g. an invalid IRI in default-graph-uri
        raise QueryEvaluationError(str(e)) from None

    if isinstance(result, ox.QueryBoolean):
        if job.results_format is None:
            raise ResultNotAcceptable("boolean")
        body = result.serialize(format=OX_RESULTS[job.results_format]) or b""
        return Outcome("boolean", job.results_format, body, 1, False, _since(started))

    if isinstance(result, ox.QuerySolutions):
        if job.results_format is None:
            raise ResultNotAcceptable("solutions")
        tsv = ox.QueryResultsFormat.TSV
        body, lines, truncated = _capped(
            lambda w: result.serialize(w, format=tsv), job.max_rows + 1, job.max_bytes
        )
        lines = max(1, lines)  # the header line, kept whatever the byte cap
        if job.results_format != "tsv":
            results_fmt = OX_RESULTS[job.results_format]

            def rewrite(tsv_body: bytes) -> bytes:
                parsed = ox.parse_query_results(tsv_body, format=tsv)
                return parsed.serialize(format=results_fmt) or b""

            body, lines, cut = _fit(body, lines, 1, rewrite, job.max_bytes)
            truncated = truncated or cut
        return Outcome(
            "solutions", job.results_format, body, max(0, lines - 1), truncated, _since(started)
        )

    if job.graph_format is None:
        raise ResultNotAcceptable("graph")
    nt = ox.RdfFormat.N_TRIPLES
    body, lines, truncated = _capped(
        lambda w: result.serialize(w, format=nt), job.max_rows, job.max_bytes
    )
    if job.graph_format not in ("nt", "nq"):  # N-Triples is also valid N-Quads
        graph_fmt = OX_RDF[job.graph_format]

        def rewrite_graph(nt_body: bytes) -> bytes:
            triples = ox.parse(nt_body, format=nt)
            return ox.serialize(triples, format=graph_fmt, prefixes=prefixes or None) or b""

        body, lines, cut = _fit(body, lines, 0, rewrite_graph, job.max_bytes)
        truncated = truncated or cut
    return Outcome("graph", job.graph_format, body, lines, truncated, _since(started))


def _since(t: float) -> float:
    return time.perf_counter() - t


_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000


def isolate_network() -> str | None:
    """Move this (single-threaded) process into an empty network namespace.

    Returns how (``"network namespace"`` or ``"user+network namespace"``), or None when the
    platform refuses; afterwards any connection attempt fails with "network unreachable".
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    for flags, how in (
        (_CLONE_NEWNET, "network namespace"),
        (_CLONE_NEWUSER | _CLONE_NEWNET, "user+network namespace"),
    ):
        if libc.unshare(flags) == 0:
            return how
    return None


def _private_memory() -> int:
    """Bytes of this process's data segment (what RLIMIT_DATA counts), from /proc."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    return 0


def limit_memory(budget: int | None) -> int | None:
    """Cap this process's private memory at what it holds now plus ``budget`` bytes; returns
    the cap, or None where the platform has no RLIMIT_DATA."""
    if not budget:
        return None
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return None
    cap = _private_memory() + budget
    try:
        _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (cap, hard))
    except (ValueError, OSError):
        return None
    return cap


def worker_main(
    conn: Connection, data: str, isolate: bool, nice: int = 0, memory_budget: int | None = None,
    copy_to_memory: bool = False, prefixes: dict[str, str] | None = None, spin: float = 0.0,
) -> None:
    """Entry point of a worker process: open the data (an N-Quads snapshot, loaded into memory,
    or an on-disk store, opened read-only or copied into memory), then answer jobs until told to
    stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server stops us; Ctrl-C is for it
    started = time.perf_counter()
    with socket.socket(fileno=os.dup(conn.fileno())) as own:  # the same socket, other handle
        _widen(own)
    isolation = isolate_network() if isolate else None
    if nice:
        with contextlib.suppress(OSError, AttributeError):
            os.nice(nice)  # below the server process: runaway queries cannot starve pages
    # a query that exhausts the memory cap aborts the worker: one line in the log, not a backtrace
    os.environ["RUST_BACKTRACE"] = "0"
    if not Path(data).exists():
        # the pool closed (and removed its snapshot) while this worker was starting: nothing to
        # serve; the pool, if it still waits, reports a worker that failed to start
        return
    if Path(data).is_dir():
        store = ox.Store.read_only(data)
        if copy_to_memory:
            files, store = store, ox.Store()
            store.bulk_extend(files)
            del files
    else:
        store = ox.Store()
        store.load(path=data, format=ox.RdfFormat.N_QUADS, lenient=True)
    memory_cap = limit_memory(memory_budget)  # after loading: the budget is for queries
    conn.send(
        ("ready", {"seconds": _since(started), "quads": len(store), "isolation": isolation,
                   "memory_cap": memory_cap, "in_memory": not Path(data).is_dir()
                   or copy_to_memory})
    )
    while True:
        if spin:
            # Wait for the next job awake for ``spin`` seconds before blocking: a process woken
            # from sleep for each query runs it on cold caches (measured: 2.6 ms instead of
            # 1.4 ms for a 1.4 ms aggregate; 3.4 ms in a worker). Under load the next job
            # comes within that time; idle, this costs ``spin`` of CPU once per query.
            until = time.perf_counter() + spin
            while not conn.poll(0) and time.perf_counter() < until:
                os.sched_yield()
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            conn.send(("ok", _execute(store, job, prefixes)))
        except QueryFailed as e:
            conn.send(("failed", e))
        except Exception as e:  # anything pyoxigraph raises while evaluating or writing
            conn.send(("failed", QueryEvaluationError(f"{type(e).__name__}: {e}")))


# --- in the server process ---------------------------------------------------------------------


@dataclass(eq=False)  # hashed by identity: kept in a set
class _Worker:
    process: BaseProcess
    sock: socket.socket  # the server's end of the worker's pipe, non-blocking
    ready_seconds: float = 0.0
    isolation: str | None = None
    memory_cap: int | None = None
    in_memory: bool = False
    quads: int = 0

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
        with contextlib.suppress(Exception):
            self.sock.close()

    def stop(self) -> None:
        """Ask the worker to exit (it is idle: the message fits in the pipe's buffer)."""
        with contextlib.suppress(Exception):
            self.sock.send(_frame(None))


# The server reads and writes the workers' pipes on its event loop, in the framing of
# multiprocessing.Connection (which the workers use, blocking): no thread hop, no switching the
# descriptor between blocking and non-blocking per request.


_LONG = struct.pack("!i", -1)  # a size that does not fit 31 bits follows as 64 bits


def _frame(obj: Any) -> bytes:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    if len(data) > 0x7FFFFFFF:
        return _LONG + struct.pack("!Q", len(data)) + data
    return struct.pack("!i", len(data)) + data


async def _send(sock: socket.socket, obj: Any) -> None:
    await asyncio.get_running_loop().sock_sendall(sock, _frame(obj))


async def _recv_some(sock: socket.socket) -> bytes:
    data = await asyncio.get_running_loop().sock_recv(sock, 1 << 16)
    if not data:
        raise EOFError("the worker closed its pipe")
    return data


async def _receive(sock: socket.socket) -> Any:
    """One message; a small one (most answers) in a single read."""
    data = await _recv_some(sock)
    while len(data) < 4 or (data[:4] == _LONG and len(data) < 12):
        data += await _recv_some(sock)  # a header split across reads: rare
    (size,) = struct.unpack("!i", data[:4])
    start = 4
    if size == -1:
        (size,) = struct.unpack("!Q", data[4:12])
        start = 12
    body = bytearray(size)
    have = min(size, len(data) - start)
    body[:have] = data[start:start + have]
    view = memoryview(body)
    loop = asyncio.get_running_loop()
    while have < size:
        k = await loop.sock_recv_into(sock, view[have:])
        if k == 0:
            raise EOFError("the worker closed its pipe")
        have += k
    return pickle.loads(body)  # noqa: S301 - our own worker's answer


# Socket buffers of the pipes: a result of a few hundred kilobytes then crosses in one or two
# reads instead of a dozen wake-ups of the event loop (the kernel caps it at its rmem/wmem_max).
PIPE_BUFFER = 4 << 20


def _widen(sock: socket.socket) -> None:
    for option in (socket.SO_SNDBUF, socket.SO_RCVBUF):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, option, PIPE_BUFFER)


def _server_end(conn: Connection) -> socket.socket:
    """The socket behind the server's end of a Pipe, taken over from the Connection."""
    sock = socket.socket(fileno=os.dup(conn.fileno()))
    conn.close()
    sock.setblocking(False)
    _widen(sock)
    return sock


def _renice(worker: _Worker, niceness: int) -> bool:
    """Set a worker's niceness (relative to the normal priority); False where not allowed (an
    unprivileged process may lower a priority but not raise it back)."""
    pid = worker.process.pid
    if pid is None:  # never 0: that would be this (the server) process
        return False
    try:
        os.setpriority(os.PRIO_PROCESS, pid, os.getpriority(os.PRIO_PROCESS, 0) + niceness)
    except (OSError, AttributeError):
        return False
    return True


def _exit_code(process: BaseProcess) -> int | None:
    """The exit code of a worker whose pipe closed (it is exiting: wait briefly for it)."""
    process.join(2)
    return process.exitcode


def default_start_method() -> str:
    methods = multiprocessing.get_all_start_methods()
    return "forkserver" if "forkserver" in methods else "spawn"


class QueryPool:
    """``size`` worker processes over ``source``; ``run`` answers one job.

    ``source`` is an in-memory store (each worker loads an N-Quads snapshot of it) or the folder
    of an on-disk store (each worker opens it read-only, in milliseconds; with
    ``copy_up_to`` > 0 and a store of at most that many quads, each is then replaced in the
    background by one holding a copy in memory)."""

    def __init__(
        self,
        source: ox.Store | Path,
        size: int = 2,
        timeout: float = 5.0,
        *,
        start_method: str | None = None,
        isolate_network: bool = True,
        start_timeout: float = 120.0,
        nice: int = 10,
        memory_budget: int | None = 2048 * 2**20,
        demote_after: float = 0.25,
        copy_up_to: int = 0,
        prefixes: dict[str, str] | None = None,
        spin: float = 0.0005,
    ) -> None:
        self.size = max(1, size)
        self.spin = spin  # seconds a worker stays awake for the next job (see worker_main)
        self.copy_up_to = copy_up_to if isinstance(source, Path) else 0
        self.prefixes = prefixes or {}
        self.quads = 0  # in the store, as the first worker counted them
        self._to_retire = 0  # on-disk workers to stop as in-memory ones take their place
        self.upgraded = 0  # in-memory workers that took the place of on-disk ones
        self.nice = nice
        self.demote_after = demote_after
        self.memory_budget = memory_budget
        self.timeout = timeout
        self.start_method = start_method or default_start_method()
        self.isolate = isolate_network
        self.start_timeout = start_timeout
        self._source = source
        self._ctx = multiprocessing.get_context(self.start_method)
        if self.start_method == "forkserver":
            self._ctx.set_forkserver_preload(["pyoxigraph", __name__])
        self._dir: Path | None = None  # the snapshot's temporary folder, if one was written
        self._data: Path | None = None
        self._workers: set[_Worker] = set()
        self._idle: asyncio.LifoQueue[_Worker] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self._starting: asyncio.Task[None] | None = None
        self._upgrading: asyncio.Lock | None = None
        self.startup_seconds = 0.0
        self.started = 0  # workers started, replacements included
        self.replaced = 0  # workers killed for overrunning (or lost) and replaced
        self.snapshot_seconds = 0.0
        self.isolation: str | None = None

    # lifecycle

    def start_soon(self) -> None:
        """Start the workers in the background; ``run`` waits for them."""
        if self._starting is None:
            self._starting = asyncio.get_running_loop().create_task(self._start())

    async def start(self) -> None:
        """Start the workers and wait until they are ready."""
        await self.ready()

    async def ready(self) -> None:
        """Wait until the workers are up (starting them if nobody has)."""
        self.start_soon()
        assert self._starting is not None
        try:
            # shielded: a request that gives up must not cancel the start for everyone
            await asyncio.shield(self._starting)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            raise PoolUnavailable(f"the query workers could not be started: {e}") from None

    async def _start(self) -> None:
        t = time.perf_counter()
        try:
            if isinstance(self._source, Path):
                self._data = self._source
            else:
                self._dir = Path(tempfile.mkdtemp(prefix="romagraph-sparql-"))
                self._data = self._dir / "dataset.nq"
                await asyncio.to_thread(
                    self._source.dump, str(self._data), format=ox.RdfFormat.N_QUADS
                )
            self.snapshot_seconds = time.perf_counter() - t
            self._bind_loop()
            workers = await asyncio.gather(*(self._start_worker() for _ in range(self.size)))
        except BaseException:
            self.kill_all()
            raise
        self.quads = workers[0].quads
        for w in workers:
            self._release(w)
            self._upgrade_later()
        self.isolation = workers[0].isolation
        self.startup_seconds = time.perf_counter() - t
        if self.isolate and self.isolation is None:
            log.warning(
                "SPARQL workers could not be isolated from the network; SERVICE is refused by "
                "the query check only"
            )
        log.info(
            "SPARQL pool: %d %s workers ready in %.2f s (snapshot %.2f s, load %.2f s), "
            "network isolation: %s",
            self.size, self.start_method, self.startup_seconds, self.snapshot_seconds,
            max(w.ready_seconds for w in workers), self.isolation or "none",
        )

    async def close(self) -> None:
        self._closed = True
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
            with contextlib.suppress(BaseException):
                await self._starting
        for task in list(self._tasks):
            task.cancel()
        for w in list(self._workers):
            with contextlib.suppress(Exception):
                w.stop()
        deadline = time.monotonic() + 2
        for w in list(self._workers):
            await asyncio.to_thread(w.process.join, max(0.0, deadline - time.monotonic()))
            w.kill()
            await asyncio.to_thread(w.process.join, 1)
        self._workers.clear()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    def kill_all(self) -> None:
        """Synchronous last resort (interpreter exit without a lifespan shutdown)."""
        self._closed = True
        for w in list(self._workers):
            w.kill()
        self._workers.clear()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    @property
    def alive(self) -> int:
        return sum(1 for w in self._workers if w.process.is_alive())

    def status(self) -> dict[str, Any]:
        """How many workers there are and how many hold the store in memory (the others
        query its files, while their in-memory copies load)."""
        return {
            "workers": self.alive,
            "in_memory": sum(1 for w in self._workers if w.in_memory and w.process.is_alive()),
            "quads": self.quads,
            "copy_up_to": self.copy_up_to,
            "replaced": self.replaced,
        }

    def pids(self) -> list[int]:
        return [w.process.pid for w in self._workers if w.process.pid is not None]

    # running a query

    async def run(self, job: Job) -> Outcome:
        """Evaluate ``job`` in an idle worker within the time limit."""
        if self._closed:
            raise PoolUnavailable("the query service is shutting down")
        if self._starting is None or not self._starting.done() or self._starting.exception():
            await self.ready()
        self._bind_loop()
        assert self._idle is not None
        # the workers were given these prefixes at start: not pickled with every query
        if job.prefixes is self.prefixes or job.prefixes == self.prefixes:
            job = dataclasses.replace(job, prefixes=None)
        for _attempt in range(self.size + 1):
            try:
                worker = await self._next_idle()
            except TimeoutError:
                raise PoolUnavailable(
                    f"All {self.size} query workers stayed busy for {self.timeout:g} s; "
                    "try again shortly."
                ) from None
            try:
                await _send(worker.sock, job)
            except (OSError, EOFError):  # the worker died while idle (killed, out of memory)
                self._replace(worker)
                continue
            demoted = False
            answer = asyncio.get_running_loop().create_task(_receive(worker.sock))
            try:
                done, _ = await asyncio.wait({answer}, timeout=min(self.demote_after, self.timeout))
                if not done and self.timeout > self.demote_after:
                    # a long query: below the pages in CPU priority for the rest of its time
                    demoted = _renice(worker, self.nice)
                    done, _ = await asyncio.wait({answer}, timeout=self.timeout - self.demote_after)
            except BaseException:  # cancelled (the client went away): stop the evaluation too
                answer.cancel()
                self._replace(worker)
                raise
            if not done:
                answer.cancel()
                self._replace(worker)
                raise QueryTimeout(
                    f"The query ran longer than the time limit of {self.timeout:g} s and was "
                    "stopped. Make it more specific (bind more variables, add LIMIT) or run it "
                    "on your own copy of the data (romagraph query)."
                )
            try:
                status, payload = answer.result()
            except (EOFError, OSError):
                exitcode = await asyncio.to_thread(_exit_code, worker.process)
                self._replace(worker)
                if exitcode is not None and -exitcode in _CRASH_SIGNALS:
                    cap = f" of {worker.memory_cap // 2**20} MiB" if worker.memory_cap else ""
                    raise QueryTooHeavy(
                        f"The query needed more memory than the limit{cap}, or nested too "
                        "deeply for the query engine, and was stopped. Make it smaller: fewer "
                        "joined patterns, shorter computed strings, less nesting."
                    ) from None
                raise WorkerLost(
                    "The query worker ended while evaluating the query (out of memory?); "
                    "it has been replaced."
                ) from None
            if demoted and not _renice(worker, 0):
                self._replace(worker)  # may not raise its priority again: a fresh one instead
            else:
                self._release(worker)
            if status == "ok":
                assert isinstance(payload, Outcome)
                return payload
            assert isinstance(payload, QueryFailed)
            raise payload
        raise PoolUnavailable("No query worker could take the query; try again shortly.")

    # internals

    def _bind_loop(self) -> None:
        """(Re)create the idle queue on the running loop: a TestClient used without ``with``
        runs each request on a loop of its own."""
        loop = asyncio.get_running_loop()
        if self._loop is loop and self._idle is not None:
            return
        old = self._idle
        self._idle = asyncio.LifoQueue()  # the worker used last goes first: its caches are warm
        self._loop = loop
        while old is not None and not old.empty():
            self._idle.put_nowait(old.get_nowait())

    async def _next_idle(self) -> _Worker:
        assert self._idle is not None
        while True:
            if self._idle.empty():  # all busy: wait for one (wait_for only then: it costs)
                worker = await asyncio.wait_for(self._idle.get(), self.timeout)
            else:
                worker = self._idle.get_nowait()
            if not self._retired(worker):
                return worker

    def _release(self, worker: _Worker) -> None:
        assert self._idle is not None
        if not self._retired(worker):
            self._idle.put_nowait(worker)

    def _retired(self, worker: _Worker) -> bool:
        """Stop ``worker`` (True) when it queries the files and an in-memory worker has been
        started in its place."""
        if worker.in_memory or self._to_retire <= 0:
            return False
        self._to_retire -= 1
        worker.stop()
        self._discard(worker)
        return True

    def _upgrade_later(self) -> None:
        """Start, in the background, an in-memory worker to take the place of an on-disk one."""
        if not 0 < self.quads <= self.copy_up_to or self._closed:
            return
        task = asyncio.get_running_loop().create_task(self._upgrade())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _upgrade(self) -> None:
        if self._upgrading is None:
            self._upgrading = asyncio.Lock()
        async with self._upgrading:  # one copy at a time: memory and CPU for the rest
            try:
                worker = await self._start_worker(copy_to_memory=True)
            except Exception:
                log.exception("could not copy the store into a query worker's memory; the "
                              "workers go on querying the files")
                return
            if self._closed:
                self._discard(worker)
                return
            self._to_retire += 1
            self.upgraded += 1
            assert self._idle is not None
            idle = [self._idle.get_nowait() for _ in range(self._idle.qsize())]
            for w in idle:  # an idle on-disk worker goes now; a busy one when it answers
                self._release(w)
            self._release(worker)
            log.info("SPARQL worker %s holds the store in memory (%.1f s)",
                     worker.process.pid, worker.ready_seconds)

    async def _start_worker(self, copy_to_memory: bool = False) -> _Worker:
        assert self._data is not None
        parent_end, child_end = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(  # type: ignore[attr-defined]
            target=worker_main,
            args=(child_end, str(self._data), self.isolate, 0, self.memory_budget,
                  copy_to_memory, self.prefixes, self.spin),
            name="romagraph-sparql-worker",
            daemon=True,
        )
        await asyncio.to_thread(process.start)
        child_end.close()
        worker = _Worker(process, _server_end(parent_end))
        self._workers.add(worker)
        self.started += 1
        # a copy into memory reads the whole store: minutes at tens of millions of quads
        limit = self.start_timeout * (30 if copy_to_memory else 1)
        try:
            status, info = await asyncio.wait_for(_receive(worker.sock), limit)
        except TimeoutError:
            self._discard(worker)
            raise RuntimeError(f"a SPARQL worker did not start within {limit:g} s") from None
        except (EOFError, OSError) as e:
            self._discard(worker)
            raise RuntimeError(f"a SPARQL worker failed to start (exit code "
                               f"{process.exitcode})") from e
        assert status == "ready"
        worker.ready_seconds = info["seconds"]
        worker.isolation = info["isolation"]
        worker.memory_cap = info.get("memory_cap")
        worker.in_memory = bool(info.get("in_memory"))
        worker.quads = int(info.get("quads", 0))
        return worker

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        self._workers.discard(worker)
        # reap in the background so no zombie is left
        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().run_in_executor(None, worker.process.join, 5)

    def _replace(self, worker: _Worker) -> None:
        self._discard(worker)
        self.replaced += 1
        if self._closed:
            return
        task = asyncio.get_running_loop().create_task(self._start_replacement())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _start_replacement(self) -> None:
        for attempt in range(5):
            try:
                worker = await self._start_worker()
            except Exception:
                log.exception("could not start a replacement SPARQL worker (attempt %d)", attempt)
                await asyncio.sleep(min(30, 2**attempt))
                continue
            if self._closed:
                self._discard(worker)
            else:
                self._release(worker)
                self._upgrade_later()
            return


def pool_options_from_env() -> dict[str, Any]:
    """Overrides for tests and experiments (not settings: nobody should need them)."""
    options: dict[str, Any] = {}
    if method := os.environ.get("ROMAGRAPH_SPARQL_START_METHOD"):
        options["start_method"] = method
    if os.environ.get("ROMAGRAPH_SPARQL_ISOLATE", "1") in ("0", "false", "no"):
        options["isolate_network"] = False
    return options
