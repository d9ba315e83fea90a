"""What every request goes through before a route sees it, and every response on its way out
(issue #9): bounds on the request (URL 414, headers 431, body 413, a slow body 408), a valid URL
(percent-encoding and UTF-8: 400), read-only methods (405), and the security headers (a
Content-Security-Policy on HTML, ``nosniff``, ``Referrer-Policy``, framing refused) with CORS on
the read endpoints only, never on HTML pages. Also the last-resort handler that turns an
unexpected error into a plain 500 without a stack trace.

A pure ASGI middleware (no ``BaseHTTPMiddleware``): it neither buffers bodies nor runs the app in
another task, so it costs a few microseconds per request.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException

from .config import Settings

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# The vendored scripts (YASGUI, cytoscape, chart.js, Swagger UI) and the site's own run under
# it: tests/test_security.py drives them in Chromium and listens for violations. Scripts: 'self'
# only (no inline script, no eval). Styles need 'unsafe-inline' because cytoscape injects a
# <style> element for its container (the others style through the CSSOM, which CSP allows); markup
# in the data is escaped, so inline styles give an attacker nothing to inject into.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# Data (RDF, JSON, CSV, SVG) is never a document that may run or load anything.
CSP_DATA = "default-src 'none'; frame-ancestors 'none'; sandbox"
COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
]
HTML_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
]

# Read endpoints another site's scripts may fetch (CORS): the SPARQL endpoint, the RDF of
# resources, the JSON APIs, the dataset description, dumps and the JSON-LD context. HTML
# responses never carry CORS headers, whatever their path.
READ_PREFIXES = (
    "/sparql", "/api/", "/id/", "/doc/", "/def/", "/data/", "/resource", "/dataset",
    "/.well-known/void", "/export/", "/context.jsonld", "/ontology", "/shapes",
)
# The only paths that take a body (both only read the graph).
POST_PATHS = frozenset({"/sparql", "/sparql/labels"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than the limit of {limit} bytes.")


class BodyTimeout(HTTPException):
    def __init__(self, seconds: float) -> None:
        super().__init__(408, f"The request body did not arrive within {seconds:g} s.")


# The workbench's own helper (a POST with a JSON body) is not offered to other sites.
NO_CORS = frozenset({"/sparql/labels"})


def is_read_path(path: str) -> bool:
    return path.startswith(READ_PREFIXES) and path not in NO_CORS


def check_url(raw_path: bytes, query: bytes, max_bytes: int) -> tuple[int, str] | None:
    """Why the URL is refused (status, message), or None when it is fine."""
    size = len(raw_path) + len(query) + (1 if query else 0)
    if size > max_bytes:
        return 414, (
            f"The URL is {size} bytes long; the limit is {max_bytes}. "
            "Send a long SPARQL query with POST (application/sparql-query or a form)."
        )
    for part, is_query in ((raw_path, False), (query, True)):
        what = "query string" if is_query else "path"
        bad = _BAD_ESCAPE.search(part)
        if bad:
            sample = part[bad.start(): bad.start() + 3].decode("latin-1")
            return 400, (
                f"The URL's {what} has an invalid percent-escape {sample!r}: '%' must be "
                "followed by two hexadecimal digits (write a literal '%' as %25)."
            )
        try:
            text = unquote_to_bytes(part.replace(b"+", b" ") if is_query else part).decode("utf-8")
        except UnicodeDecodeError as e:
            return 400, (
                f"The URL's {what} does not decode to UTF-8 text (invalid or overlong byte "
                f"sequence at byte {e.start} after percent-decoding)."
            )
        if not is_query and _CONTROL.search(text):
            return 400, "The URL's path contains a control character."
        if is_query and "\x00" in text:
            return 400, "The URL's query string contains a NUL character (%00)."
    return None


class GuardMiddleware:
    """Limits, URL validity, read-only methods and security headers (see the module's doc)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        s = self.settings
        path: str = scope.get("path", "")
        method: str = scope.get("method", "GET").upper()
        raw_path: bytes = scope.get("raw_path") or path.encode("utf-8", "surrogateescape")
        problem = check_url(raw_path, scope.get("query_string", b""), s.max_url_bytes)
        if problem:
            await _plain(scope, send, *problem)
            return
        headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
        header_bytes = sum(len(k) + len(v) + 4 for k, v in headers)
        if header_bytes > s.max_header_bytes:
            await _plain(scope, send, 431, (
                f"The request headers take {header_bytes} bytes; the limit is "
                f"{s.max_header_bytes}."
            ))
            return
        if method not in READ_METHODS and not (method == "POST" and path in POST_PATHS):
            allow = "GET, HEAD, POST, OPTIONS" if path in POST_PATHS else "GET, HEAD, OPTIONS"
            await _plain(scope, send, 405, (
                f"romagraph is read-only: {method} is not accepted on {path[:200]}. The graph "
                "is read with GET (pages, RDF) and queried with GET or POST on /sparql; SPARQL "
                "Update and the Graph Store Protocol are not offered. The data is changed by "
                "editing data/ and restarting the server."
            ), {"Allow": allow})
            return
        if method == "OPTIONS" and path != "/sparql":
            cors = is_read_path(path)
            await _plain(scope, send, 204, "", {
                "Allow": "GET, HEAD, OPTIONS",
                **({"Access-Control-Allow-Origin": "*",
                    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
                    "Access-Control-Allow-Headers": "Accept, Accept-Language",
                    "Access-Control-Max-Age": "86400"} if cors else {}),
            })
            return
        declared = _header(headers, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _plain(scope, send, 400, "The Content-Length header is not a number.")
                return
            if int(declared) > s.max_body_bytes:
                await _plain(scope, send, 413, (
                    f"The request body ({declared} bytes) is larger than the limit of "
                    f"{s.max_body_bytes} bytes."
                ))
                return

        await self.app(scope, self._receive(receive), self._send(path, send))

    def _receive(self, receive: Receive) -> Receive:
        """``receive`` counting body bytes (413 past the limit) and timing them (408), until the
        body is complete; afterwards (listening for a disconnect) untouched."""
        limit, timeout = self.settings.max_body_bytes, self.settings.body_timeout
        state = {"size": 0, "done": False}

        async def wrapped() -> Message:
            if state["done"]:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), timeout)
            except TimeoutError:
                raise BodyTimeout(timeout) from None
            if message["type"] == "http.request":
                state["size"] += len(message.get("body", b""))
                if state["size"] > limit:
                    raise BodyTooLarge(limit)
                if not message.get("more_body", False):
                    state["done"] = True
            else:
                state["done"] = True
            return message

        return wrapped

    def _send(self, path: str, send: Send) -> Send:
        read = is_read_path(path)

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k.lower(), v) for k, v in message.get("headers", [])]
                ctype = _header(headers, b"content-type") or ""
                html = ctype.startswith(("text/html", "application/xhtml+xml"))
                names = {k for k, _ in headers}
                if html:
                    headers = [h for h in headers if not h[0].startswith(b"access-control-")]
                    headers += [h for h in HTML_HEADERS if h[0] not in names]
                else:
                    if b"content-security-policy" not in names:
                        headers.append((b"content-security-policy", CSP_DATA.encode()))
                    if read and b"access-control-allow-origin" not in names:
                        headers.append((b"access-control-allow-origin", b"*"))
                    elif not read:
                        headers = [h for h in headers if not h[0].startswith(b"access-control-")]
                headers += [h for h in COMMON_HEADERS if h[0] not in names]
                message = {**message, "headers": headers}
            await send(message)

        return wrapped


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for k, v in headers:
        if k.lower() == name:
            return v.decode("latin-1")
    return None


async def _plain(
    scope: Scope, send: Send, status: int, message: str, headers: dict[str, str] | None = None
) -> None:
    """Answer with ``message`` as text, before the app has seen the request."""
    extra = {"Connection": "close"} if status in (408, 413, 414, 431) else {}
    response: Response
    if status == 204:
        response = Response(status_code=204, headers={**(headers or {})})
    else:
        response = PlainTextResponse(
            message.rstrip() + "\n", status_code=status, headers={**extra, **(headers or {})}
        )
    raw = [(k.lower(), v) for k, v in response.raw_headers]
    names = {k for k, _ in raw}
    raw += [h for h in COMMON_HEADERS if h[0] not in names]
    raw.append((b"content-security-policy", CSP_DATA.encode()))
    await send({"type": "http.response.start", "status": response.status_code, "headers": raw})
    await send({"type": "http.response.body", "body": response.body})


async def internal_error(request: Request, exc: Exception) -> Response:
    """The safety net: an unexpected error becomes a short 500 (HTML for a browser, text
    otherwise) that names an incident id, never a stack trace; the trace goes to the log."""
    incident = uuid.uuid4().hex[:12]
    log.error(
        "unhandled error %s on %s %s", incident, request.method, request.url.path,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    text = (
        f"Internal error (incident {incident}). It has been logged; please report the "
        "incident id with the address you asked for."
    )
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(
            "<!doctype html><html lang=en><meta charset=utf-8><title>Internal error</title>"
            f"<h1>Internal error</h1><p>{text}</p><p><a href=\"/\">romagraph</a></p></html>",
            status_code=500,
        )
    return PlainTextResponse(text + "\n", status_code=500)
