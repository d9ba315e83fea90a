"""Starting real servers for tests: the Oxigraph server (from the ``oxigraph`` PyPI package) and
``romagraph serve``, each on a free port of 127.0.0.1, stopped when the test is done."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from server.config import REPO_ROOT

OXIGRAPH = shutil.which("oxigraph")
NO_OXIGRAPH = (
    "the Oxigraph server binary is not installed: `pip install -e '.[test]'` installs it "
    "(PyPI package `oxigraph`)"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:g} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


@contextmanager
def oxigraph_server(location: Path, union_default_graph: bool = True) -> Iterator[str]:
    """An Oxigraph server over ``location``; yields its base URL (``/query``, ``/store``).
    Its own time limit (10 s) ends a query a test gave up on."""
    assert OXIGRAPH, NO_OXIGRAPH
    port = free_port()
    args = [OXIGRAPH, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}",
            "--timeout-s", "10"]
    if union_default_graph:
        args.append("--union-default-graph")
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/", process)
        yield base
    finally:
        stop(process)


@contextmanager
def romagraph_server(store: str, *args: str, **env: str) -> Iterator[str]:
    """``romagraph serve --store STORE [ARGS]`` on a free port; yields its base URL."""
    port = free_port()
    environment = {**os.environ, "ROMAGRAPH_STORE": store, "ROMAGRAPH_LOG_LEVEL": "warning", **env}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--store", store, *args],
            cwd=REPO_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            try:
                wait_until_up(base + "/", process, timeout=120)
            except RuntimeError as e:
                log.seek(0)
                raise RuntimeError(f"{e}\n{log.read().decode(errors='replace')[-3000:]}") from e
            yield base
        finally:
            stop(process)


def fragments(html: str) -> list[str]:
    """A page as the sorted list of its markup fragments: equal for two pages that show the same
    things, even when a query without ORDER BY lists them in another order."""
    return sorted(re.split(r"(?=<)", html))
