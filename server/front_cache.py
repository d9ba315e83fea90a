"""A reverse-proxy-style cache of whole HTTP answers, in front of the framework.

A page kept by ``render_cached`` (or a kept search answer) still costs about 0.45 ms of CPU in
FastAPI's routing, dependency solving and middleware, five times the HTTP floor. This ASGI
middleware keeps the whole answer (status, headers, body) of such a request and sends it again
for the same request without building a ``Request`` or routing at all.

What it keeps is only what a route declared cacheable: a ``200`` that carries
``X-Romagraph-Cache`` (``hit``/``miss``: it came through ``render_cached`` or the search
cache), no ``Set-Cookie`` (``?lang=`` sets one), a ``Vary`` naming no header outside the key,
and a body within the page-cache budget. The key is everything such an answer may depend on:
the raw path and query string and the raw ``Accept``, ``Accept-Language`` and ``Cookie``
headers (what the pages ``Vary`` on). ``HEAD`` is answered from the ``GET`` entry, without
body, where the app routes ``HEAD`` at all (resource pages; not the home page or search, which
answer it 405 as before). ``/sparql`` keeps its own answers and never comes here.

It shares the ``ResponseCache`` (and so the ``ROMAGRAPH_PAGE_CACHE_MB`` budget) with
``render_cached``; 0 turns it off. A body is kept once: while a request passes through here,
``render_cached`` and the search API hand their body over (``keep``) instead of keeping it
themselves, and it goes into their own entry only when the whole answer is not kept here (a
``?lang=`` answer, which sets a cookie). So a kept page takes its bytes once, not twice, from
the budget; the price is that another variant of the same request (another ``Accept``
string naming the same format and language) renders the page again.

It sits inside ``GuardMiddleware``, which adds the security headers and enforces the request
limits on every answer, kept or not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request
from starlette.routing import Match

from .response_cache import ResponseCache, cache_of

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]
# status, headers, body, and whether the app routes HEAD for this URL
Entry = tuple[int, Headers, bytes, bool]

CACHE_HEADER = b"x-romagraph-cache"
# The request headers in the key: what a kept answer may vary on (pages: all three; the
# search API: the last two). An answer that varies on anything else is not kept.
KEYED = (b"accept", b"accept-language", b"cookie")
KEYED_NAMES = frozenset(k.decode() for k in KEYED)
# Answered elsewhere: /sparql has its own cache by query text; static files are files.
PASSED = ("/sparql", "/static/")
# The ASGI scope's key under which a request passing through here collects the bodies the
# routes would have kept (see ``keep``).
DEFERRED = "romagraph.front_cache.deferred"
# Rough cost of an entry beyond the bytes of its body, headers and key (the tuples and list
# holding them), for the budget.
OVERHEAD = 200


class FrontCache:
    """ASGI middleware: answers a ``GET``/``HEAD`` from a kept answer, else asks the app and
    keeps its answer when the route declared it cacheable (see the module's doc)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._cache: ResponseCache | None = None
        self._resolved = False

    def _cache_for(self, scope: Scope) -> ResponseCache | None:
        """The app's page cache (None when turned off), looked up on the first request: the
        settings are on the app's state, which ``create_app`` fills after installing this."""
        if not self._resolved:
            self._cache = cache_of(Request(scope))
            self._resolved = True
        return self._cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method") if scope["type"] == "http" else None
        path: str = scope.get("path", "")
        if method not in ("GET", "HEAD") or path.startswith(PASSED):
            await self.app(scope, receive, send)
            return
        cache = self._cache_for(scope)
        if cache is None:
            await self.app(scope, receive, send)
            return
        key = _key(scope, path)
        entry: Entry | None = cache.get(key)
        if entry is not None and (method == "GET" or entry[3]):
            status, headers, body, _ = entry
            await send({"type": "http.response.start", "status": status, "headers": list(headers)})
            await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})
            return
        if method == "HEAD":  # a HEAD answer has no body to keep: the next GET keeps it
            await self.app(scope, receive, send)
            return
        capture = _Capture(scope, send, cache, key)
        scope[DEFERRED] = capture.deferred
        try:
            await self.app(scope, receive, capture)
        finally:
            capture.done()


def keep(scope: Scope, cache: ResponseCache, key: Any, body: bytes) -> None:
    """Keep a route's rendered ``body`` in ``cache`` under ``key``, unless the request is
    passing through the front cache: then the body is handed over, and the front cache puts it
    under ``key`` only if it does not keep the whole answer (one copy in the budget)."""
    deferred: list[tuple[Any, bytes]] | None = scope.get(DEFERRED)
    if deferred is None:
        cache.put(key, body)
    else:
        deferred.append((key, body))


def _key(scope: Scope, path: str) -> tuple[Any, ...]:
    """The raw path and query, and the raw values of the keyed request headers (every value of
    a repeated header, in order)."""
    values: list[list[bytes]] = [[], [], []]
    for name, value in scope.get("headers", ()):
        name = name.lower()
        if name in KEYED:
            values[KEYED.index(name)].append(value)
    raw_path = scope.get("raw_path") or path.encode("utf-8", "surrogateescape")
    return ("front", raw_path, scope.get("query_string", b""), *map(tuple, values))


class _Capture:
    """``send`` that passes every message on and keeps a copy of a cacheable answer; it puts
    the answer in the cache once its last body chunk has been sent."""

    def __init__(self, scope: Scope, send: Send, cache: ResponseCache, key: tuple[Any, ...]
                 ) -> None:
        self.scope = scope
        self.send = send
        self.cache = cache
        self.key = key
        self.limit = cache.max_bytes // 8  # ResponseCache keeps nothing larger
        self.headers: Headers | None = None  # None: not keeping this answer
        self.status = 0
        self.chunks: list[bytes] = []
        self.kept = False
        self.deferred: list[tuple[Any, bytes]] = []  # what the routes handed over (``keep``)
        self.size = OVERHEAD + sum(len(part) for part in key[1:3]) + sum(
            len(value) for values in key[3:] for value in values)

    async def __call__(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
            self.headers = _cacheable(self.status, list(message.get("headers", ())))
            if self.headers is not None:
                self.size += sum(len(k) + len(v) for k, v in self.headers)
        elif kind == "http.response.body" and self.headers is not None:
            body = message.get("body", b"")
            self.size += len(body)
            if self.size > self.limit:
                self.headers = None
            else:
                self.chunks.append(bytes(body))
                if not message.get("more_body", False):
                    self._keep()
        elif self.headers is not None:  # a message this cache does not know (pathsend…)
            self.headers = None
        await self.send(message)

    def _keep(self) -> None:
        assert self.headers is not None
        body = self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)
        entry: Entry = (self.status, self.headers, body, _routes_head(self.scope))
        self.cache.put(self.key, entry, self.size)
        self.kept = True
        self.headers = None

    def done(self) -> None:
        """After the app: the bodies the routes handed over go into their own entries when the
        whole answer was not kept."""
        if not self.kept:
            for key, body in self.deferred:
                self.cache.put(key, body)


def _routes_head(scope: Scope) -> bool:
    """Whether the app has a route for ``HEAD`` of this URL (as its router would match it), so
    that a kept ``GET`` answers ``HEAD`` only where the app would have; elsewhere the app
    answers 405, as it does without this cache. Once per kept answer."""
    head = {**scope, "method": "HEAD"}
    routes = getattr(getattr(scope.get("app"), "router", None), "routes", ())
    return any(route.matches(head)[0] is Match.FULL for route in routes)


def _cacheable(status: int, headers: Headers) -> Headers | None:
    """The headers to answer a later identical request with (the cache header saying ``hit``),
    or None when the route did not declare this answer cacheable."""
    if status != 200:
        return None
    out: Headers = []
    marked = False
    for name, value in headers:
        lower = name.lower()
        if lower == b"set-cookie":
            return None
        if lower == b"vary" and not _varies_within_key(value):
            return None
        if lower == b"cache-control" and (b"no-store" in value or b"private" in value):
            return None
        if lower == CACHE_HEADER:
            if value not in (b"hit", b"miss"):
                return None
            marked = True
            value = b"hit"
        out.append((name, value))
    return out if marked else None


def _varies_within_key(vary: bytes) -> bool:
    names = {v.strip().lower() for v in vary.decode("latin-1").split(",") if v.strip()}
    return names <= KEYED_NAMES
