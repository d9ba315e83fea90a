"""The front cache (server/front_cache.py): whole answers of pages and search, kept and sent
again without routing, over real HTTP against ``romagraph serve`` on the repository's graph.

A kept answer must read exactly as the framework's (status, headers, body), negotiate content
and language as the framework does, never keep what may differ between two identical requests
(a language cookie being set, an error), and still carry the guard's security headers."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest

from tests.servers import romagraph_server

PAGE = "/doc/org/kulturas-ministrija"
HTML = {"accept": "text/html"}
CACHE = "x-romagraph-cache"
# Added per answer by uvicorn (Date, Server) or saying where the answer came from.
PER_ANSWER = {"date", "server", CACHE}


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    # conftest leaves the page cache at the server's default: say the budget explicitly
    with romagraph_server("memory:", "--serve-invalid", ROMAGRAPH_PAGE_CACHE_MB="32") as url:
        yield url


def get(url: str, method: str = "GET", **headers: str) -> httpx.Response:
    """One request on a fresh connection with no cookie jar: only the headers given."""
    return httpx.request(method, url, headers=headers, timeout=60)


def same_headers(response: httpx.Response) -> list[tuple[str, str]]:
    return sorted((k.lower(), v) for k, v in response.headers.multi_items()
                  if k.lower() not in PER_ANSWER)


def related_url(base: str) -> str:
    """A paged relation of PAGE: the first ``/related`` link its page offers, else one made."""
    found = re.search(r'href="(/related\?[^"]+)"', get(base + PAGE, **HTML).text)
    if found:
        return html.unescape(found.group(1))
    iri = "https://w3id.org/romagraph" + PAGE.replace("/doc/", "/id/")
    return "/related?" + urlencode({"iri": iri, "p": "http://www.w3.org/ns/org#subOrganizationOf",
                                    "dir": "in"})


@pytest.mark.parametrize("path", [PAGE, "/", "/search?q=jelgava", "/api/search?q=jelgava",
                                  "related", "/browse", "/browse?class=http%3A%2F%2Fwww.w3.org"
                                  "%2Fns%2Forg%23Organization", "/plans", "/themes", "/places",
                                  "/places/jelgava", "/sources", "/sources/km2018"])
def test_a_repeated_request_is_a_hit_identical_to_the_rendered_answer(base: str, path: str) -> None:
    if path == "related":
        path = related_url(base)
    # a query string no earlier request sent: this URL's first answer is rendered here
    url = base + path + ("&" if "?" in path else "?") + "fresh=" + re.sub(r"\W", "", path)
    first, second, third = (get(url, **HTML) for _ in range(3))
    assert first.status_code == second.status_code == third.status_code == 200, url
    assert first.headers[CACHE] == "miss"
    assert second.headers[CACHE] == third.headers[CACHE] == "hit"
    assert first.content == second.content == third.content
    assert same_headers(first) == same_headers(second) == same_headers(third)


def test_html_then_turtle_of_one_url(base: str) -> None:
    for _ in range(2):
        page = get(base + PAGE, **HTML)
        assert page.headers["content-type"].startswith("text/html")
    assert page.headers[CACHE] == "hit"
    turtle = get(base + PAGE, accept="text/turtle")
    assert turtle.status_code == 200
    assert turtle.headers["content-type"].startswith("text/turtle")
    assert "<html" not in turtle.text and "@prefix" in turtle.text
    again = get(base + PAGE, **HTML)
    assert again.headers[CACHE] == "hit" and again.content == page.content


def test_accept_language_chooses_the_page(base: str) -> None:
    answers = {lang: [get(base + PAGE, **HTML, **{"accept-language": lang}) for _ in range(2)]
               for lang in ("lv", "en", "lv")}  # lv kept first: en must not get it
    for lang, (first, second) in answers.items():
        assert first.headers["content-language"] == second.headers["content-language"] == lang
        assert second.headers[CACHE] == "hit"
        assert f'<html lang="{lang}"' in second.text
    assert answers["lv"][1].content != answers["en"][1].content


def test_the_lang_cookie_is_honoured(base: str) -> None:
    for lang in ("lv", "en"):
        for _ in range(2):
            r = get(base + PAGE, **HTML, cookie=f"lang={lang}", **{"accept-language": "en"})
            assert r.headers["content-language"] == lang
            assert f'<html lang="{lang}"' in r.text
        assert r.headers[CACHE] == "hit"


def test_lang_parameter_sets_its_cookie_every_time(base: str) -> None:
    """``?lang=`` answers with Set-Cookie: never kept whole, so every answer sets it."""
    for _ in range(3):
        r = get(base + PAGE + "?lang=lv", **HTML)
        assert r.status_code == 200 and r.headers["content-language"] == "lv"
        assert "lang=lv" in r.headers.get("set-cookie", "")


def test_head_is_answered_from_the_kept_get(base: str) -> None:
    url = base + PAGE + "?head=1"
    page = [get(url, **HTML) for _ in range(2)][1]
    assert page.headers[CACHE] == "hit"
    head = get(url, "HEAD", **HTML)
    assert head.status_code == 200 and head.content == b""
    assert head.headers[CACHE] == "hit"
    assert head.headers["content-length"] == str(len(page.content))
    assert same_headers(head) == same_headers(page)


def test_head_where_the_app_routes_no_head_stays_refused(base: str) -> None:
    """The home page has no HEAD route: a kept GET does not make it answer one."""
    for _ in range(2):
        assert get(base + "/", **HTML).status_code == 200
    assert get(base + "/", "HEAD", **HTML).status_code == 405


def test_a_not_found_page_is_never_kept(base: str) -> None:
    for _ in range(3):
        r = get(base + "/doc/org/no-such-organisation", **HTML)
        assert r.status_code == 404
        assert r.headers.get(CACHE) != "hit"


def test_hits_carry_the_security_headers(base: str) -> None:
    for _ in range(2):
        page = get(base + PAGE, **HTML)
        search = get(base + "/api/search?q=romu")
    assert page.headers[CACHE] == search.headers[CACHE] == "hit"
    for r in (page, search):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert "access-control-allow-origin" not in page.headers  # never CORS on HTML
    assert search.headers["access-control-allow-origin"] == "*"
    assert "sandbox" in search.headers["content-security-policy"]


def test_no_hit_ever_with_the_page_cache_off() -> None:
    with romagraph_server("memory:", "--serve-invalid", ROMAGRAPH_PAGE_CACHE_MB="0") as url:
        for path in (PAGE, "/", "/api/search?q=jelgava"):
            answers = [get(url + path, **HTML) for _ in range(3)]
            assert [r.status_code for r in answers] == [200] * 3
            assert [r.headers[CACHE] for r in answers] == ["off"] * 3
            assert answers[0].content == answers[2].content
        assert get(url + PAGE, "HEAD", **HTML).headers[CACHE] == "off"


def test_the_kept_answer_is_the_whole_response_by_its_request_headers() -> None:
    """In process, the real app: what the front cache keeps is one entry per request variant
    (path, query, Accept, Accept-Language, Cookie), and nothing for ``?lang=`` or Turtle."""
    from fastapi.testclient import TestClient

    from server.app import create_app
    from tests.pages_support import fixture_settings, fixture_store

    client = TestClient(create_app(fixture_settings(), fixture_store()))

    def kept(kind: str = "front") -> list[tuple[object, ...]]:
        cache = client.app.state.response_cache  # type: ignore[attr-defined]
        return [k for k in cache._items if k[0] == kind]

    client.get(PAGE, headers=HTML)
    client.get(PAGE, headers={"accept": "text/turtle"})
    client.get(PAGE + "?lang=lv", headers=HTML)
    client.cookies.clear()
    assert [k[1:3] for k in kept()] == [(PAGE.encode(), b"")]
    # the body is kept once: in the whole answer, or (?lang=, not kept whole) on its own
    assert [k[1:3] for k in kept("resource.html")] == [(PAGE, "lang=lv")]
    client.get(PAGE, headers={**HTML, "accept-language": "lv"})
    assert len(kept()) == 2
    status, headers, body, head = client.app.state.response_cache.get(kept()[0])  # type: ignore[attr-defined]
    assert status == 200 and head and (b"x-romagraph-cache", b"hit") in headers
    assert body == client.get(PAGE, headers=HTML).content
