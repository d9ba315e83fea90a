"""Shared fixtures: the repository's settings and its loaded store."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import rdflib

from server.config import REPO_ROOT, Settings
from server.store import OxigraphStore, open_store

ARTIFACTS = REPO_ROOT / "test-artifacts"

# The tests of /sparql are about evaluation (limits, workers, time-outs) and repeat queries:
# they run with the answer cache off, and tests/test_serving.py turns it on to test it.
os.environ.setdefault("ROMAGRAPH_SPARQL_CACHE_MB", "0")


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(root=REPO_ROOT, validate_on_start=False)


@pytest.fixture(scope="session")
def store(settings: Settings) -> OxigraphStore:
    return open_store(settings)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (never a downloaded browser). Outside CI a machine
    without Chromium skips the browser tests; in CI (.ci/run installs it) its absence fails them."""
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("CI must have Debian's chromium at /usr/bin/chromium (see .ci/run)")
        pytest.skip("no Chromium at /usr/bin/chromium: apt-get install chromium")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def ontology() -> rdflib.Graph:
    """The ontology and code lists, parsed with rdflib."""
    g = rdflib.Graph()
    for p in sorted((REPO_ROOT / "ontology").glob("*.ttl")):
        g.parse(p, format="turtle")
    return g


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@contextmanager
def uvicorn_server(
    app_factory: str, timeout: float = 90.0, ready_path: str = "/",
    extra_args: tuple[str, ...] = (),
) -> Iterator[str]:
    """Run ``uvicorn --factory app_factory`` on 127.0.0.1 in a child process; yield its URL.

    The server counts as up once ``ready_path`` answers below 500."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app_factory, "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", *extra_args],
        cwd=REPO_ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"uvicorn {app_factory} exited with {proc.returncode}")
            try:
                if httpx.get(url + ready_path, timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn {app_factory} did not start in {timeout} s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """A real uvicorn server on 127.0.0.1 serving the repository's data (the page-test fixture
    graph while data/ is empty); yields its base URL."""
    with uvicorn_server("tests.pages_app:repo_or_fixture_app") as url:
        yield url


@pytest.fixture(scope="session")
def sparql_server() -> Iterator[str]:
    """A real uvicorn server for the SPARQL tests (tests/sparql_app.py: the repository's graph,
    a short query time limit); yields its base URL."""
    with uvicorn_server("tests.sparql_app:create", ready_path="/sparql/prefixes") as url:
        yield url
