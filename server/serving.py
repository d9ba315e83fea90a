"""Running the app under uvicorn: one process, or several sharing the port with SO_REUSEPORT.

With ``--workers N`` uvicorn binds one listening socket and shares it between its processes;
each then accepts whatever connections it can, and under keep-alive load the kernel tends to hand
every connection to the process that woke first (measured: all 8 of wrk's connections on one of
two processes, the other idle). Here each process binds a socket of its own to the same address
with ``SO_REUSEPORT``, and the kernel spreads new connections over the sockets by a hash of the
client's address and port, so the processes share the load.

Each process builds its own app (store, page catalogue, query workers). The supervisor restarts
a process that dies and stops them all on SIGINT/SIGTERM.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from typing import Any

import uvicorn

log = logging.getLogger(__name__)

APP = "server.app:create_app"
# A process that dies within this many seconds of starting is not restarted (a start-up error
# would otherwise loop forever); the supervisor stops instead.
MIN_LIFETIME = 5.0


def reuse_port_socket(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """A listening socket on ``host:port`` that other processes may also bind (SO_REUSEPORT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


def _serve_one(options: dict[str, Any]) -> None:
    """One server process: its own socket in the port's SO_REUSEPORT group, its own app."""
    config = uvicorn.Config(APP, factory=True, **options)
    sock = reuse_port_socket(config.host, config.port, config.backlog)
    uvicorn.Server(config).run(sockets=[sock])


def run(options: dict[str, Any], workers: int = 1) -> None:
    """Serve ``server.app:create_app`` with uvicorn ``options`` in ``workers`` processes."""
    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(APP, factory=True, workers=workers, **options)
        return
    # Bound once here so that a taken port fails now, with one clear message, before any
    # process starts; the processes bind their own sockets beside this one, then it is closed.
    probe = reuse_port_socket(options["host"], options["port"])
    context = multiprocessing.get_context("spawn")
    processes: list[tuple[BaseProcess, float]] = []
    stopping = False

    def start() -> tuple[BaseProcess, float]:
        process = context.Process(target=_serve_one, args=(options,), name="romagraph-http")
        process.start()
        return process, time.monotonic()

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        processes = [start() for _ in range(workers)]
        log.info("serving on %s:%d with %d processes (SO_REUSEPORT)",
                 options["host"], options["port"], workers)
        probe.close()
        while not stopping:
            time.sleep(0.5)
            for i, (process, started) in enumerate(processes):
                if process.is_alive() or stopping:
                    continue
                if time.monotonic() - started < MIN_LIFETIME:
                    log.error("a server process exited at start (code %s); stopping",
                              process.exitcode)
                    stopping = True
                    break
                log.warning("server process %s exited (code %s); starting another",
                            process.pid, process.exitcode)
                processes[i] = start()
    finally:
        probe.close()
        for process, _ in processes:
            if process.is_alive():
                with contextlib.suppress(Exception):
                    process.terminate()  # SIGTERM: uvicorn's graceful shutdown
        for process, _ in processes:
            process.join(timeout=float(options.get("timeout_graceful_shutdown") or 10) + 5)
            if process.is_alive():
                process.kill()
        for s, handler in previous.items():
            signal.signal(s, handler)
