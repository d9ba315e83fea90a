"""``/sparql``: the SPARQL 1.1 Protocol endpoint (query operation only), its Service Description
and the query workbench.

A request is checked here (size, update, SERVICE, formats) and evaluated in a worker process
(``server.sparql_workers``), never in the server process, so a runaway query is stopped at the
time limit without holding up anything else.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..config import Settings
from ..conneg import HTML, RDF_FORMATS, RESULT_FORMATS, Format, NotAcceptable, negotiate
from ..deps import LangDep, SettingsDep, StoreDep
from ..formdata import parse_form
from ..i18n import choose_lang
from ..namespaces import PREFIXES, data_prefixes
from ..queries import SERVER_SPARQL, load_dir, server_query
from ..rendering import render
from ..response_cache import ResponseCache
from ..service_description import describe, graph_sizes
from ..service_description import serialize as serialize_sd
from ..sparql_guard import MAX_DEPTH, QueryInfo, describe_syntax_error, inspect
from ..sparql_workers import (
    Job,
    Outcome,
    PoolUnavailable,
    QueryFailed,
    QueryPool,
    QuerySyntaxError,
    ResultNotAcceptable,
    pool_options_from_env,
)
from ..store import OxigraphStore, Store

log = logging.getLogger(__name__)
router = APIRouter(tags=["SPARQL"])

TRUNCATED = "X-Romagraph-Truncated"
ROW_LIMIT = "X-Romagraph-Row-Limit"
ROWS = "X-Romagraph-Rows"
BYTE_LIMIT = "X-Romagraph-Byte-Limit"
CACHE = "X-Romagraph-Cache"
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers":
        f"{TRUNCATED}, {ROW_LIMIT}, {BYTE_LIMIT}, {ROWS}, {CACHE}, Server-Timing",
}
READ_ONLY = (
    "This endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, CREATE, DROP, "
    "COPY, MOVE, ADD) is not accepted."
)
NO_SERVICE = (
    "Federated queries are not allowed: this endpoint does not evaluate SERVICE clauses. "
    "Query the other endpoint yourself and combine the results."
)
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"
# A percent-encoded form body may be up to three times the query's size.
FORM_OVERHEAD = 3

_FORMAT_HELP = (
    "Result format, overriding the Accept header: "
    + ", ".join(f"`{f.key}` ({f.media_type})" for f in (*RESULT_FORMATS, *RDF_FORMATS))
    + ". SELECT and ASK results come in the first four, CONSTRUCT and DESCRIBE in the others."
)
_QUERY_HELP = (
    "The SPARQL 1.1 query (SELECT, ASK, CONSTRUCT or DESCRIBE). The project's prefixes "
    "(rg:, skos:, org:, … see /sparql/prefixes) are pre-declared. Without a query, GET returns "
    "the service description (RDF) or the workbench (HTML)."
)
_DG_HELP = (
    "IRI of a graph to use as the default graph (repeatable); with it, or with "
    "named-graph-uri, the dataset is exactly the graphs named. Without either, the default "
    "graph is the union of all named graphs."
)
_NG_HELP = "IRI of a named graph the query may address with GRAPH (repeatable)."

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Query results (SELECT/ASK), an RDF graph (CONSTRUCT/DESCRIBE), the "
        "service description (no query, RDF asked for) or the workbench (no query, HTML).",
        "content": {f.media_type: {} for f in (*RESULT_FORMATS, *RDF_FORMATS, HTML)},
        "headers": {
            TRUNCATED: {"description": "`true` when the result was cut at the row limit (or "
                        "at the size limit).", "schema": {"type": "string"}},
            BYTE_LIMIT: {"description": "The largest body a result may have, in bytes.",
                         "schema": {"type": "integer"}},
            ROW_LIMIT: {"description": "The most rows (or triples) a result may have.",
                        "schema": {"type": "integer"}},
            ROWS: {"description": "Rows (or triples) in this response.",
                   "schema": {"type": "integer"}},
        },
    },
    400: {"description": "Malformed query (the parser's message and position), or a bad "
          "parameter.", "content": {"text/plain": {}}},
    403: {"description": "SPARQL Update, LOAD or SERVICE: refused, never evaluated.",
          "content": {"text/plain": {}}},
    406: {"description": "No acceptable format for this kind of result.",
          "content": {"text/plain": {}}},
    413: {"description": "The query is longer than the limit.", "content": {"text/plain": {}}},
    422: {"description": "The query needed more memory than a query worker may take (or "
          "nested too deeply for the engine) and was stopped.", "content": {"text/plain": {}}},
    415: {"description": "POST with a body type other than the protocol's two.",
          "content": {"text/plain": {}}},
    503: {"description": "Every query worker is busy.", "content": {"text/plain": {}}},
    504: {"description": "The query ran past the time limit and was stopped.",
          "content": {"text/plain": {}}},
}


class ProtocolError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


# --- worker pool lifecycle --------------------------------------------------------------------


def _new_pool(app: FastAPI) -> QueryPool:
    """A pool over the app's embedded store: each worker opens an on-disk store (oxigraph:PATH)
    read-only, or loads a snapshot of an in-memory one."""
    settings: Settings = app.state.settings
    store: OxigraphStore = app.state.store
    source: ox.Store | Path = store.inner
    if settings.store.startswith("oxigraph:") and not store.files:
        from ..backends.disk import store_path

        source = store_path(settings.store).absolute()
    pool = QueryPool(
        source,
        size=settings.query_workers,
        timeout=settings.query_timeout,
        nice=settings.query_nice,
        memory_budget=settings.query_memory_mb * 2**20 if settings.query_memory_mb > 0 else None,
        copy_up_to=settings.query_in_memory,
        spin=settings.query_spin_us / 1e6,
        prefixes=project_prefixes(settings),
        **pool_options_from_env(),
    )
    app.state.sparql_pool = pool
    return pool


async def stop_pool(app: FastAPI) -> None:
    pool: QueryPool | None = getattr(app.state, "sparql_pool", None)
    app.state.sparql_pool = None
    if pool is not None:
        await pool.close()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the query workers with the app (in the background: the app serves pages at once and
    /sparql waits for them) and stop them with it."""
    if not hasattr(app.state.store, "answer_job"):  # a remote store needs no workers (#8)
        _new_pool(app).start_soon()
    try:
        yield
    finally:
        await stop_pool(app)


async def _pool(request: Request) -> QueryPool:
    """The app's pool, started on first use when the app runs without its lifespan (a
    TestClient used without ``with``): its workers are then killed at interpreter exit."""
    pool: QueryPool | None = getattr(request.app.state, "sparql_pool", None)
    if pool is None:
        pool = _new_pool(request.app)
        atexit.register(pool.kill_all)
    return pool


# --- the protocol ------------------------------------------------------------------------------


# The two handlers take the bare Request and read their parameters themselves: FastAPI's
# per-request parameter and dependency machinery costs more than the rest of a lookup query's
# handling. The parameters are documented for OpenAPI through ``openapi_extra`` instead.
_URL_PARAMETERS = [
    {"name": "default-graph-uri", "in": "query", "required": False, "description": _DG_HELP,
     "schema": {"type": "array", "items": {"type": "string"}}},
    {"name": "named-graph-uri", "in": "query", "required": False, "description": _NG_HELP,
     "schema": {"type": "array", "items": {"type": "string"}}},
    {"name": "format", "in": "query", "required": False, "description": _FORMAT_HELP,
     "schema": {"type": "string"}},
]


@router.get(
    "/sparql",
    summary="SPARQL query (GET), service description, workbench",
    responses=_RESPONSES,
    response_class=Response,
    openapi_extra={"parameters": [
        {"name": "query", "in": "query", "required": False, "description": _QUERY_HELP,
         "schema": {"type": "string"}},
        *_URL_PARAMETERS,
    ]},
)
async def sparql_get(request: Request) -> Response:
    """The SPARQL 1.1 Protocol query operation by GET (`?query=`).

    The result format follows the Accept header (with q-values) or `format`; SELECT/ASK results
    as SPARQL JSON, XML, CSV or TSV, CONSTRUCT/DESCRIBE graphs as Turtle, N-Triples, JSON-LD,
    RDF/XML, TriG or N-Quads. Results are cut at the row limit, announced by
    `X-Romagraph-Truncated: true`. Without a query: the service description, or the workbench
    for a browser.
    """
    settings: Settings = request.app.state.settings
    store: Store = request.app.state.store
    try:
        params = _url_parameters(request)
        if "update" in params:
            raise ProtocolError(403, READ_ONLY)
        queries = params.get("query", [])
        if len(queries) > 1:
            raise ProtocolError(400, "Give exactly one `query` parameter.")
        formats = params.get("format", [])  # clients may repeat it (SPARQLWrapper does)
        if not queries:
            return await _no_query(request, settings, store, formats)
        return await _answer(
            request, settings, store, queries[0],
            params.get("default-graph-uri") or None, params.get("named-graph-uri") or None,
            formats,
        )
    except ProtocolError as e:
        return _error(e.status, e.message, e.headers)


@router.post(
    "/sparql",
    summary="SPARQL query (POST)",
    responses=_RESPONSES,
    response_class=Response,
    openapi_extra={
        "parameters": _URL_PARAMETERS,
        "requestBody": {
            "required": True,
            "content": {
                FORM: {"schema": {
                    "type": "object",
                    "required": ["query"],
                    "properties": {
                        "query": {"type": "string", "description": _QUERY_HELP},
                        "default-graph-uri": {"type": "array", "items": {"type": "string"},
                                              "description": _DG_HELP},
                        "named-graph-uri": {"type": "array", "items": {"type": "string"},
                                            "description": _NG_HELP},
                        "format": {"type": "string", "description": _FORMAT_HELP},
                    },
                }},
                DIRECT: {"schema": {"type": "string", "description": _QUERY_HELP}},
            },
        },
    },
)
async def sparql_post(request: Request) -> Response:
    """The SPARQL 1.1 Protocol query operation by POST: URL-encoded form (`query=`) or the query
    itself as `application/sparql-query` (dataset and `format` then in the URL). Updates
    (`application/sparql-update`, `update=`) are refused with 403."""
    settings: Settings = request.app.state.settings
    store: Store = request.app.state.store
    try:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == UPDATE:
            raise ProtocolError(403, READ_ONLY)
        if ctype not in (FORM, DIRECT):
            raise ProtocolError(
                415, f"Send the query as {DIRECT} or as an {FORM} form with a `query` field.",
                {"Accept-Post": f"{DIRECT}, {FORM}"},
            )
        limit = settings.max_query_bytes * (FORM_OVERHEAD if ctype == FORM else 1) + 4096
        body = await _read_body(request, limit, settings.max_query_bytes)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ProtocolError(400, f"The request body is not UTF-8: {e}") from None
        url = _url_parameters(request)
        if ctype == DIRECT:
            query = text
            dg, ng = url.get("default-graph-uri", []), url.get("named-graph-uri", [])
            formats = url.get("format", [])
        else:
            form = parse_form(text)
            if "update" in form:
                raise ProtocolError(403, READ_ONLY)
            queries = form.get("query", [])
            if len(queries) != 1:
                raise ProtocolError(400, "Give exactly one `query` field in the form.")
            query = queries[0]
            dg, ng = form.get("default-graph-uri", []), form.get("named-graph-uri", [])
            formats = form.get("format") or url.get("format", [])
        return await _answer(request, settings, store, query, dg or None, ng or None, formats)
    except ProtocolError as e:
        return _error(e.status, e.message, e.headers)


class SparqlFastPath:
    """ASGI middleware that hands ``GET``/``POST /sparql`` straight to the two handlers above.

    It sits inside ``GuardMiddleware`` (limits, security headers) and skips the rest of the
    framework's stack (exception middleware, exit stack, route matching, endpoint wrappers),
    which costs a lookup query about as much CPU as its own handling. The routes stay
    registered: they document the endpoint in OpenAPI and answer when this middleware is not
    installed (``create_app`` installs it)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._handlers = {"GET": sparql_get, "POST": sparql_post}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        handler = self._handlers.get(scope.get("method", "")) if scope["type"] == "http" else None
        if handler is None or scope.get("path") != "/sparql":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await handler(request)
        except StarletteHTTPException as exc:  # the guard's body limits (413, 408)
            response = await request.app.exception_handlers[StarletteHTTPException](request, exc)
        await response(scope, receive, send)


@router.options("/sparql", include_in_schema=False)
async def sparql_preflight() -> Response:
    """CORS preflight: any origin may query (GET and POST)."""
    return Response(status_code=204, headers={
        **CORS,
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Accept, Content-Type",
        "Access-Control-Max-Age": "86400",
    })


def _url_parameters(request: Request) -> dict[str, list[str]]:
    """The query string's parameters, decoded as Starlette's ``request.query_params`` decodes
    them (``query_string`` as Latin-1, then the form decoding), by the faster decoder."""
    return parse_form(request.scope.get("query_string", b"").decode("latin-1"))


async def _read_body(request: Request, limit: int, query_limit: int) -> bytes:
    too_big = ProtocolError(413, f"The query is larger than the limit of {query_limit} bytes.")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_big
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return PlainTextResponse(
        message.rstrip() + "\n", status_code=status,
        headers={"Vary": "Accept", **CORS, **(headers or {})},
    )


def _not_acceptable(offered: tuple[Format, ...], what: str) -> ProtocolError:
    return ProtocolError(
        406,
        f"Not acceptable: {what} can be had as "
        + ", ".join(f"{f.media_type} (format={f.key})" for f in offered)
        + ".",
    )


def _format_names(formats: list[str]) -> list[str]:
    """The values of ``format``, each possibly a comma-separated list of types."""
    return [
        name.split(";")[0].strip() for value in formats for name in value.split(",")
        if name.strip()
    ]


def _try_negotiate(
    accept: str | None, offered: tuple[Format, ...], formats: list[str]
) -> Format | None:
    """The format to send: the first ``format`` value on offer, else the Accept header's
    choice; None when nothing fits."""
    names = _format_names(formats)
    if names:
        for name in names:
            with contextlib.suppress(NotAcceptable):
                return negotiate(None, offered, name)
        return None
    try:
        return negotiate(accept, offered)
    except NotAcceptable:
        return None


def _prefers_html(request: Request, offered: tuple[Format, ...], formats: list[str]) -> bool:
    names = _format_names(formats)
    if names:
        return names[0].lower() in ("html", HTML.media_type)
    chosen = _try_negotiate(request.headers.get("accept"), (*offered, HTML), [])
    return chosen is HTML


async def _no_query(
    request: Request, settings: Settings, store: Store, formats: list[str]
) -> Response:
    if _prefers_html(request, RDF_FORMATS, formats):
        return _workbench(request, settings, None)
    accept = request.headers.get("accept")
    chosen = _try_negotiate(accept, RDF_FORMATS, formats)
    if chosen is None:
        if _try_negotiate(accept, RESULT_FORMATS, formats) is not None:
            raise ProtocolError(400, "Missing `query`. GET /sparql without a query returns the "
                                "service description (RDF) or the workbench (HTML).")
        raise _not_acceptable(RDF_FORMATS, "the service description")
    graphs: list[tuple[str, int]] | None = getattr(request.app.state, "sparql_graph_sizes", None)
    if graphs is None:
        graphs = await asyncio.to_thread(graph_sizes, store)  # counts every graph: once
        request.app.state.sparql_graph_sizes = graphs
    endpoint = str(request.url.replace(query=""))
    body = serialize_sd(describe(endpoint, graphs, settings), chosen)
    return Response(body, media_type=chosen.media_type, headers={"Vary": "Accept", **CORS})


def _check_graphs(iris: list[str] | None, param: str) -> tuple[str, ...] | None:
    if not iris:
        return None
    for iri in iris:
        try:
            ox.NamedNode(iri)
        except ValueError as e:
            raise ProtocolError(400, f"{param}: {iri!r} is not an absolute IRI ({e}).") from None
    return tuple(iris)


async def _answer(
    request: Request,
    settings: Settings,
    store: Store,
    query: str,
    default_graphs: list[str] | None,
    named_graphs: list[str] | None,
    formats: list[str],
) -> Response:
    if len(query.encode("utf-8")) > settings.max_query_bytes:
        raise ProtocolError(
            413, f"The query is larger than the limit of {settings.max_query_bytes} bytes."
        )
    if not query.strip():
        raise ProtocolError(400, "The query is empty.")
    answer_job = getattr(store, "answer_job", None)
    # The same request (text, dataset, Accept, format) always gets the same answer from an
    # embedded store, which does not change while served.
    cache = _answer_cache(request) if answer_job is None else None
    if cache is not None:
        key = (query, request.method, request.headers.get("accept"), tuple(formats),
               tuple(default_graphs or ()), tuple(named_graphs or ()))
        cached: Outcome | None = cache.get(key)
        if cached is not None:
            return _result_response(cached, settings, "hit")
    pool: QueryPool | None = getattr(request.app.state, "sparql_pool", None)
    # Workers in an empty network namespace cannot reach out whatever the query says: the lexer's
    # verdict suffices. Otherwise (not isolated, not started yet, a remote store) a "service" the
    # lexer cannot place is settled by a full parse.
    isolated = answer_job is None and pool is not None and pool.isolation is not None
    if "service" in query.lower() and not isolated:
        # rdflib's parse (pure Python, seconds for a long query): off the event loop, and one at
        # a time, so a burst of such queries takes at most one thread's share from the pages
        info: QueryInfo = await _inspect_one_at_a_time(query, settings.query_timeout)
    elif len(query) > 8192:
        info = await asyncio.to_thread(inspect, query, False)  # linear, but a long text
    else:
        info = inspect(query, False)
    if info.depth > MAX_DEPTH:
        raise ProtocolError(
            400, f"The query nests brackets or operators {info.depth} levels deep; the limit is "
            f"{MAX_DEPTH}. Flatten it (a FILTER with && instead of nested groups, VALUES instead "
            "of nested UNIONs)."
        )
    if info.update:
        raise ProtocolError(403, f"{info.update}: {READ_ONLY}")
    if info.service:
        raise ProtocolError(403, NO_SERVICE)

    accept = request.headers.get("accept")
    offered = RDF_FORMATS if info.returns_graph else RESULT_FORMATS
    if request.method == "GET" and _prefers_html(request, offered, formats):
        return _workbench(request, settings, query)
    results_fmt = _try_negotiate(accept, RESULT_FORMATS, formats)
    graph_fmt = _try_negotiate(accept, RDF_FORMATS, formats)
    if info.form in ("SELECT", "ASK") and results_fmt is None:
        raise _not_acceptable(RESULT_FORMATS, f"{info.form} results")
    if info.returns_graph and graph_fmt is None:
        raise _not_acceptable(RDF_FORMATS, f"{info.form} results")

    protocol_dataset = bool(default_graphs or named_graphs)
    job = Job(
        query=query,
        results_format=results_fmt.key if results_fmt else None,
        graph_format=graph_fmt.key if graph_fmt else None,
        max_rows=settings.max_rows,
        default_graphs=_check_graphs(default_graphs, "default-graph-uri"),
        named_graphs=_check_graphs(named_graphs, "named-graph-uri"),
        union_default_graph=not protocol_dataset and not info.dataset_clause,
        prefixes=project_prefixes(settings),
        max_bytes=settings.max_response_bytes,
    )
    # A remote store (server/backends/remote.py) has its endpoint evaluate the job (#8).
    try:
        if answer_job is not None:
            outcome: Outcome = await answer_job(job)
        else:
            outcome = await (await _pool(request)).run(job)
    except QuerySyntaxError as e:
        raise ProtocolError(
            400, "Malformed query: " + describe_syntax_error(query, e.message)
        ) from None
    except ResultNotAcceptable as e:
        if e.kind == "graph":
            raise _not_acceptable(RDF_FORMATS, "CONSTRUCT/DESCRIBE results") from None
        raise _not_acceptable(RESULT_FORMATS, "SELECT/ASK results") from None
    except PoolUnavailable as e:
        raise ProtocolError(e.status, e.message, {"Retry-After": "2"}) from None
    except QueryFailed as e:
        if isolated and "unreachable" in e.message.lower() and "service" in query.lower():
            raise ProtocolError(403, NO_SERVICE) from None  # slipped past the lexer, stopped
        raise ProtocolError(e.status, e.message) from None
    if cache is not None:
        cache.put(key, outcome, len(outcome.body) + len(query))
    return _result_response(outcome, settings, "off" if cache is None else "miss")


def _answer_cache(request: Request) -> ResponseCache | None:
    """The app's /sparql answer cache (``ROMAGRAPH_SPARQL_CACHE_MB``), None when turned off."""
    state = request.app.state
    cache: ResponseCache | None = getattr(state, "sparql_cache", None)
    if cache is None:
        cache = ResponseCache(max(0, int(state.settings.sparql_cache_mb)) << 20)
        state.sparql_cache = cache
    return cache if cache.max_bytes > 0 else None


_parse_slot: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None


async def _inspect_one_at_a_time(query: str, wait: float) -> QueryInfo:
    """``inspect`` in a thread, one query at a time per process (waiting at most ``wait`` s)."""
    global _parse_slot
    loop = asyncio.get_running_loop()
    if _parse_slot is None or _parse_slot[0] is not loop:
        _parse_slot = (loop, asyncio.Semaphore(1))
    slot = _parse_slot[1]
    try:
        await asyncio.wait_for(slot.acquire(), wait)
    except TimeoutError:
        raise ProtocolError(
            503, "The server is busy checking other long queries; try again shortly.",
            {"Retry-After": "2"},
        ) from None
    try:
        return await asyncio.to_thread(inspect, query)
    finally:
        slot.release()


def _result_response(outcome: Outcome, settings: Settings, cache: str = "off") -> Response:
    """The answer's response; ``cache`` says whether it came from the answer cache (``hit``),
    was evaluated and kept (``miss``) or the cache is off (``off``)."""
    fmt = next(f for f in (*RESULT_FORMATS, *RDF_FORMATS) if f.key == outcome.format)
    headers = {
        "Vary": "Accept",
        **CORS,
        ROW_LIMIT: str(settings.max_rows),
        BYTE_LIMIT: str(settings.max_response_bytes),
        TRUNCATED: "true" if outcome.truncated else "false",
        ROWS: str(outcome.rows),
        "Server-Timing": f"query;dur={outcome.seconds * 1000:.1f}",
        CACHE: cache,
    }
    return Response(outcome.body, media_type=fmt.media_type, headers=headers)


def project_prefixes(settings: Settings) -> dict[str, str]:
    """The prefixes pre-declared for every query: the vocabularies and the minted IRIs (one
    shared dict per base IRI, read-only by convention: asked for on every query)."""
    return _prefixes_for(settings.base_iri)


@functools.lru_cache(maxsize=4)
def _prefixes_for(base_iri: str) -> dict[str, str]:
    return {**PREFIXES, **data_prefixes(base_iri)}


# --- the workbench ------------------------------------------------------------------------------


_LISTED: dict[Path, tuple[tuple[tuple[str, int], ...], list[dict[str, str]]]] = {}


def _listed(folder: Path) -> list[dict[str, str]]:
    """The queries of ``folder`` for the workbench, parsed again only when a file changed."""
    signature = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.rq")))
    cached = _LISTED.get(folder)
    if cached and cached[0] == signature:
        return cached[1]
    listed = [
        {"name": q.name, "title": q.title, "description": q.description, "text": q.text,
         "kind": q.kind}
        for q in sorted(load_dir(folder).values(), key=lambda q: q.title.lower())
    ]
    _LISTED[folder] = (signature, listed)
    return listed


def _workbench(request: Request, settings: Settings, query: str | None) -> Response:
    lang = choose_lang(request, settings.default_lang)
    problems: list[str] = []
    try:
        research = _listed(settings.queries_dir)
    except SyntaxError as e:
        research, problems = [], [str(e)]
    try:
        internal = _listed(SERVER_SPARQL)
    except SyntaxError as e:
        internal, problems = [], [*problems, str(e)]
    prefixes = project_prefixes(settings)
    width = max(len(p) for p in prefixes) + 1
    prologue = "\n".join(f"PREFIX {(p + ':').ljust(width)} <{iri}>" for p, iri in prefixes.items())
    default_query = (
        prologue + "\n\n# Classes of the romagraph ontology with their English labels\n"
        "SELECT ?class ?label WHERE {\n  ?class a owl:Class ;\n         rdfs:label ?label .\n"
        '  FILTER(LANG(?label) = "en")\n}\nORDER BY ?label\nLIMIT 100\n'
    )
    response = render(request, "sparql.html", {
        "query": query,
        "default_query": default_query,
        "research_queries": research,
        "server_queries": internal,
        "problems": problems,
        "settings": settings,
        "prefixes": prefixes,
        "result_formats": RESULT_FORMATS,
        "rdf_formats": RDF_FORMATS,
    }, lang)
    response.headers["Vary"] = "Accept, Accept-Language, Cookie"
    return response


class LabelRequest(BaseModel):
    iris: list[str] = Field(default_factory=list, max_length=1000,
                            description="IRIs to label (at most 1000).")


class LabelResponse(BaseModel):
    labels: dict[str, str] = Field(description="IRI → label in the reader's language, for the "
                                   "IRIs that have one.")


@router.post("/sparql/labels", summary="Labels for the workbench's result tables",
             response_model=LabelResponse)
def sparql_labels(body: LabelRequest, store: StoreDep, lang: LangDep) -> LabelResponse:
    """Display labels (skos:prefLabel, rdfs:label, foaf:name, schema:name, dct:title) of the
    given IRIs, in the reader's language when there is one."""
    text = server_query("workbench_labels")
    order = {code: i for i, code in enumerate(dict.fromkeys((lang, "en", "lv", "")))}
    labels: dict[str, str] = {}
    for iri in dict.fromkeys(body.iris):
        try:
            node = ox.NamedNode(iri)
        except ValueError:
            continue
        best: tuple[int, int, str] | None = None
        for row in store.select(text, {"iri": node}):
            label = row["label"]
            if not isinstance(label, ox.Literal):
                continue
            # the reader's language first, then the property's rank
            cand = (order.get(label.language or "", 4), int(row["rank"].value), label.value)
            if best is None or cand < best:
                best = cand
        if best is not None:
            labels[iri] = best[2]
    return LabelResponse(labels=labels)


@router.get("/sparql/prefixes", summary="The prefixes pre-declared for every query")
def sparql_prefixes(settings: SettingsDep) -> JSONResponse:
    """Prefix → namespace IRI, as prefix.cc serves them (the workbench's editor reads it)."""
    return JSONResponse(project_prefixes(settings), headers=CORS)
