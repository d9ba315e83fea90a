"""Crawl the site from the home page: every internal link a page emits must answer without a
4xx or 5xx. Runs against a real uvicorn server (keep-alive httpx client). Bounded by a visited
set (a URL is fetched once; ?lang= variants of a page count as the page) and by time."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl, urldefrag, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from tests.conftest import uvicorn_server
from tests.pages_support import fixture_settings, fixture_store, repo_has_data

GRAPHS = ["fixture", pytest.param("repo", marks=pytest.mark.skipif(not repo_has_data(), reason="data/ is empty"))]
TIME_LIMIT = 110.0  # seconds: the crawl must finish in under two minutes
MAX_URLS = 50_000


LINK = re.compile(r"<(?:a|link|script|img)\b[^>]*?\s(?:href|src)=\"([^\"]*)\"", re.I)


def canonical(url: str) -> str:
    """The URL without its fragment and without ?lang= (a language variant is the same page)."""
    url, _ = urldefrag(url)
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"]
    return urlunsplit(("", "", parts.path, urlencode(query), ""))


def crawl(client: httpx.Client | TestClient, skip_prefixes: tuple[str, ...],
          workers: int = 4) -> tuple[dict[str, int], dict[str, str]]:
    """Breadth-first from "/", a level at a time, ``workers`` requests in flight."""
    seen: dict[str, int] = {}
    referrer: dict[str, str] = {}
    keys = {canonical("/")}
    level = ["/"]
    started = time.perf_counter()

    def fetch(url: str) -> tuple[str, int, list[str]]:
        r = client.get(url, headers={"accept": "text/html,*/*;q=0.8"}, follow_redirects=True)
        if r.status_code >= 400 or not r.headers.get("content-type", "").startswith("text/html"):
            return url, r.status_code, []
        return url, r.status_code, LINK.findall(r.text)

    with ThreadPoolExecutor(workers) as pool:
        while level:
            assert time.perf_counter() - started < TIME_LIMIT, f"crawl too slow: {len(seen)} URLs"
            assert len(seen) < MAX_URLS
            next_level: list[str] = []
            for url, status, links in pool.map(fetch, level):
                seen[url] = status
                for link in links:
                    link = urldefrag(link.replace("&amp;", "&"))[0]
                    if not link.startswith("/") or link.startswith("//"):
                        continue  # external
                    if link.startswith(skip_prefixes):
                        continue
                    key = canonical(link)
                    if key not in keys:
                        keys.add(key)
                        referrer[link] = url
                        next_level.append(link)
            level = next_level
    return seen, referrer


@pytest.mark.timeout(180)
@pytest.mark.parametrize("graph", GRAPHS)
def test_crawl_finds_no_broken_links(graph: str) -> None:
    factory = "tests.pages_app:fixture_app" if graph == "fixture" else "tests.pages_app:repo_app"
    # /sparql belongs to the SPARQL endpoint; crawl it only once its router is mounted.
    paths = {getattr(r, "path", "") for r in create_app(fixture_settings(), fixture_store()).routes}
    skip = () if "/sparql" in paths else ("/sparql",)
    limits = httpx.Limits(max_connections=8, max_keepalive_connections=8)
    with uvicorn_server(factory) as url, httpx.Client(base_url=url, timeout=30, limits=limits) as client:
        started = time.perf_counter()
        seen, referrer = crawl(client, skip)
        elapsed = time.perf_counter() - started
    broken = {u: s for u, s in seen.items() if s >= 400}
    assert not broken, {u: (s, referrer.get(u)) for u, s in list(broken.items())[:20]}
    kinds = {urlsplit(u).path.split("/")[1] for u in seen}
    assert {"doc", "browse", "plans", "themes", "places", "sources", "static"} <= kinds, kinds
    print(f"\ncrawled {len(seen)} URLs of the {graph} graph in {elapsed:.1f} s")
    assert elapsed < TIME_LIMIT


def test_language_variants_of_entry_points_answer() -> None:
    client = TestClient(create_app(fixture_settings(), fixture_store()))
    for path in ("/", "/browse", "/plans", "/themes", "/places", "/sources", "/search?q=jelgava",
                 "/doc/org/kulturas-ministrija", "/places/jelgava"):
        for lang in ("lv", "en"):
            sep = "&" if "?" in path else "?"
            r = client.get(f"{path}{sep}lang={lang}", headers={"accept": "text/html"})
            assert r.status_code == 200 and f'<html lang="{lang}">' in r.text, (path, lang)
