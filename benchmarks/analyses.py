"""Median render time of the analysis pages and their JSON, against a hello-world endpoint on
the same stack, over the repository's graph (real uvicorn, sequential keep-alive requests).

    python benchmarks/analyses.py [--requests 200]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import quote

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.pages import measure  # noqa: E402
from tests.conftest import uvicorn_server  # noqa: E402

ID = "https://w3id.org/romagraph/id/"
NGO, KM = ID + "org/romu-kulturas-centrs", ID + "org/kulturas-ministrija"
COUNCIL = ID + "org/romu-integracijas-politikas-istenosanas-konsultativa-padome"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    html = {"accept": "text/html"}
    ends = f"from={quote(NGO)}&to={quote(KM)}"
    pages = {
        "connections page": (f"/connections?{ends}&via={quote(COUNCIL)}", html),
        "connections JSON": (f"/api/connections?{ends}", None),
        "coordination page": ("/coordination", html),
        "coordination JSON": ("/api/coordination", None),
        "coverage page": ("/coverage", html),
        "coverage JSON": ("/api/coverage", None),
        "changes page": ("/changes", html),
        "changes JSON": ("/api/changes", None),
    }
    with uvicorn_server("benchmarks.pages:hello_app") as hello_url, httpx.Client(timeout=30) as c:
        hello = measure(c, hello_url + "/", args.requests)
    results = {}
    with uvicorn_server("tests.pages_app:repo_or_fixture_app") as url, httpx.Client(timeout=30) as c:
        for name, (path, headers) in pages.items():
            results[name] = measure(c, url + path, args.requests, headers)
    print(f"{'endpoint':24} {'median ms':>10} {'× hello':>8} {'< 200 ms':>9}")
    print(f"{'hello world':24} {hello:10.2f} {1.0:8.1f}")
    for name, ms in results.items():
        print(f"{name:24} {ms:10.2f} {ms / hello:8.1f} {'yes' if ms < 200 else 'NO':>9}")


if __name__ == "__main__":
    main()
