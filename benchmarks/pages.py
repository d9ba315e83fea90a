"""Median render time of pages against a hello-world endpoint on the same stack.

Starts real uvicorn servers (the app over the repository's data, or the page-test fixture
graph while data/ is empty; and a one-route FastAPI app), requests each page sequentially
with httpx over keep-alive, and prints medians and ratios to hello-world.

    python benchmarks/pages.py [--requests 300] [--fixture]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import uvicorn_server  # noqa: E402


def hello_app() -> FastAPI:
    """The baseline: FastAPI on the same uvicorn, one plain route."""
    app = FastAPI()

    @app.get("/")
    def hello() -> PlainTextResponse:
        return PlainTextResponse("hello, world")

    return app


def measure(client: httpx.Client, url: str, n: int, headers: dict[str, str] | None = None) -> float:
    for _ in range(10):  # warm up: template compilation, caches
        client.get(url, headers=headers)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        r = client.get(url, headers=headers)
        times.append(time.perf_counter() - started)
        assert r.status_code == 200, (url, r.status_code)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--fixture", action="store_true", help="use the fixture graph")
    args = parser.parse_args()
    factory = "tests.pages_app:fixture_app" if args.fixture else "tests.pages_app:repo_or_fixture_app"
    html = {"accept": "text/html"}
    with uvicorn_server("benchmarks.pages:hello_app") as hello_url, httpx.Client(timeout=30) as c:
        hello = measure(c, hello_url + "/", args.requests)
    with uvicorn_server(factory) as url, httpx.Client(timeout=30) as c:
        pages = {
            "home page /": ("/", html),
            "resource page (organisation)": ("/doc/org/kulturas-ministrija", html),
            "resource page (project)": ("/doc/project/latvijas-romu-platforma-ii", html),
            "resource page (place)": ("/doc/place/jelgava", html),
            "resource Turtle": ("/doc/org/kulturas-ministrija.ttl", None),
            "search JSON": ("/api/search?q=jelgava", None),
        }
        results = {}
        for name, (path, headers) in pages.items():
            if c.get(url + path, headers=headers).status_code != 200:
                continue
            results[name] = measure(c, url + path, args.requests, headers)
    print(f"{'endpoint':34} {'median ms':>10} {'× hello':>8}")
    print(f"{'hello world (FastAPI, same stack)':34} {hello:10.2f} {1.0:8.1f}")
    for name, ms in results.items():
        print(f"{name:34} {ms:10.2f} {ms / hello:8.1f}")


if __name__ == "__main__":
    main()
