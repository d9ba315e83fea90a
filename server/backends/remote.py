"""A store over a remote SPARQL 1.1 endpoint (``http(s)://…``): the Oxigraph server, Fuseki,
Virtuoso or any other, spoken to only through the SPARQL 1.1 Protocol and, for loading, the
Graph Store HTTP Protocol.

Answers come back as pyoxigraph terms, so callers cannot tell this store from the embedded one:
``select()`` returns ``dict[str, term]`` rows parsed from SPARQL JSON, ``construct()`` triples parsed
from N-Triples, and ``raw_query()`` a real ``pyoxigraph.QuerySolutions`` / ``QueryBoolean`` (or a
streamed iterator of triples for graph results).

The endpoint's default graph must be the union of the named graphs, as the embedded store is
queried: start the Oxigraph server with ``--union-default-graph`` (or add ``?union-default-graph``
to the store URL), set ``tdb2:unionDefaultGraph true`` in Fuseki, or, for any endpoint, name the
graphs in the URL with ``default-graph-uri=…`` parameters (README, "Stores: on disk and remote").
Query parameters of the store URL are sent with every request.

Values are bound as SEP-0007 substitutions are in the embedded store: joined with the outermost
group pattern, as a one-row ``VALUES`` block placed first in it (see ``bind``).
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import logging
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pyoxigraph as ox

from .. import __version__
from ..sparql_guard import QUERY_FORMS, tokens
from ..sparql_workers import QueryFailed, QueryTimeout, _execute
from ..store import DataError, StoreTimeout, StoreUnavailable, Term, UnsupportedByStore
from .loading import LoadSource, counted, progress_bar

log = logging.getLogger(__name__)

RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
# Asked of every query: the endpoint answers a solution sequence or a boolean in SPARQL JSON and
# a graph in N-Triples; other formats it may prefer are parsed too.
ACCEPT_ANY = f"{RESULTS_JSON}, {N_TRIPLES};q=0.9, text/turtle;q=0.5, application/rdf+xml;q=0.3"


# When set, reading an answer past this moment (time.monotonic()) raises StoreTimeout: a /sparql
# query's whole answer must arrive within the time limit. Pages and exports are bounded only by
# the HTTP read timeout between chunks, so a long export can stream.
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline", default=None)


class RemoteQueryFailed(QueryFailed):
    """``/sparql``: the endpoint failed or could not be reached."""

    status = 502


class RemoteUnsupported(QueryFailed):
    """``/sparql``: the request needs something a remote endpoint cannot do."""

    status = 501


class RemoteStore:
    """The store interface over a SPARQL 1.1 endpoint."""

    def __init__(self, url: str, timeout: float = 5.0, length_ttl: float = 30.0) -> None:
        self.url = url
        self.timeout = timeout
        self.length_ttl = length_ttl  # __len__ is a COUNT over everything: cached this long
        self._length: tuple[float, int] | None = None
        self._clients: dict[int, httpx.Client] = {}
        self._lock = threading.Lock()
        httpx_log = logging.getLogger("httpx")
        if httpx_log.level == logging.NOTSET:  # one INFO line per query would drown the log
            httpx_log.setLevel(logging.WARNING)

    def __repr__(self) -> str:
        return f"RemoteStore({self.url!r})"

    # -- HTTP -----------------------------------------------------------------------------------

    def client(self) -> httpx.Client:
        """This process's connection pool (a client must not cross a fork)."""
        pid = os.getpid()
        with self._lock:
            c = self._clients.get(pid)
            if c is None:
                c = httpx.Client(
                    timeout=httpx.Timeout(self.timeout + 1.0, connect=min(self.timeout, 5.0)),
                    headers={"User-Agent": f"romagraph/{__version__}"},
                    limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
                )
                self._clients[pid] = c
            return c

    def close(self) -> None:
        with self._lock:
            c = self._clients.pop(os.getpid(), None)
        if c is not None:
            c.close()

    def send(
        self, query: str, accept: str = ACCEPT_ANY, params: list[tuple[str, str]] | None = None
    ) -> httpx.Response:
        """POST ``query`` (``application/sparql-query``) and return the open, streamed response;
        the caller closes it. Errors are raised as the embedded store raises them: a query the
        endpoint rejects as ``SyntaxError``, an unreachable or failing endpoint as
        ``StoreUnavailable``, a slow one as ``StoreTimeout``."""
        client = self.client()
        request = client.build_request(
            "POST",
            self.url,
            params=_merge_params(self.url, params),
            content=query.encode("utf-8"),
            headers={"Content-Type": "application/sparql-query; charset=utf-8", "Accept": accept},
        )
        try:
            response = client.send(request, stream=True)
        except httpx.TimeoutException as e:
            raise StoreTimeout(
                f"the SPARQL endpoint {self.url} did not answer within {self.timeout:g} s"
            ) from e
        except httpx.TransportError as e:
            raise StoreUnavailable(f"the SPARQL endpoint {self.url} is unreachable: {e}") from e
        if response.status_code >= 400:
            try:
                body = response.read().decode("utf-8", "replace").strip()
            finally:
                response.close()
            if response.status_code == 400:
                raise SyntaxError(body or "the SPARQL endpoint rejected the query")
            raise StoreUnavailable(
                f"the SPARQL endpoint {self.url} answered {response.status_code}: {body[:500]}"
            )
        return response

    # -- the store interface --------------------------------------------------------------------

    def raw_query(self, query: str, **options: Any) -> Any:
        """Like ``pyoxigraph.Store.query``: ``QuerySolutions`` (streamed), ``QueryBoolean`` or an
        iterator of ``Triple`` with a ``serialize()`` method, as ``QueryTriples`` has."""
        text, params = _prepare(query, options)
        try:
            response = self.send(text, params=params)
        except SyntaxError as e:  # positions as in the caller's text, not in the prologue's
            raise SyntaxError(_shift_lines(str(e), text.count("\n") - query.count("\n"))) from None
        return _parse(response, _DEADLINE.get())

    query = raw_query  # the name pyoxigraph.Store gives it, for code written against that

    def select(
        self, query: str, bindings: Mapping[str, Term] | None = None
    ) -> list[dict[str, Term]]:
        result = self.raw_query(query, substitutions=_subs(bindings))
        if not isinstance(result, ox.QuerySolutions):
            raise TypeError("select() needs a SELECT query")
        names = [v.value for v in result.variables]
        return [{n: row[n] for n in names if row[n] is not None} for row in result]

    def ask(self, query: str, bindings: Mapping[str, Term] | None = None) -> bool:
        return bool(self.raw_query(query, substitutions=_subs(bindings)))

    def construct(
        self, query: str, bindings: Mapping[str, Term] | None = None
    ) -> list[ox.Triple]:
        return list(self.raw_query(query, substitutions=_subs(bindings)))

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """Every quad (of one named graph), streamed from a ``SELECT`` over ``GRAPH``."""
        if graph:
            g = ox.NamedNode(graph)
            rows = self.raw_query("SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }",
                                  substitutions={ox.Variable("g"): g})
            return (ox.Quad(r["s"], r["p"], r["o"], g) for r in rows)
        rows = self.raw_query("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return (ox.Quad(r["s"], r["p"], r["o"], r["g"]) for r in rows)

    def named_graphs(self) -> list[str]:
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return sorted(r["g"].value for r in rows if isinstance(r["g"], ox.NamedNode))

    def __len__(self) -> int:
        """Quads in the named graphs (cached for ``length_ttl`` seconds: a COUNT scans all)."""
        now = time.monotonic()
        if self._length is None or now - self._length[0] > self.length_ttl:
            rows = self.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
            self._length = (now, int(rows[0]["n"].value))
        return self._length[1]

    async def answer_job(self, job: Any) -> Any:
        """Answer a ``/sparql`` job (``sparql_workers.Job``) through the endpoint instead of the
        worker pool: the endpoint evaluates it under its time limit; the answer is parsed as it
        streams in, cut at the row limit and written in the negotiated format by the code the
        workers use, so the response is the same as from the embedded store."""
        too_long = f"The query ran longer than the time limit of {self.timeout:g} s and was stopped."

        def run() -> Any:
            _DEADLINE.set(time.monotonic() + self.timeout)  # this thread's context only
            try:
                return _execute(self, job)  # type: ignore[arg-type]  # duck-typed Store.query
            except StoreTimeout:
                raise QueryTimeout(too_long) from None
            except StoreUnavailable as e:
                raise RemoteQueryFailed(str(e)) from None
            except UnsupportedByStore as e:
                raise RemoteUnsupported(str(e)) from None

        try:
            return await asyncio.wait_for(asyncio.to_thread(run), self.timeout + 2.0)
        except TimeoutError:
            raise QueryTimeout(too_long) from None


_POSITION = re.compile(r"at (\d+):(\d+)")


def _shift_lines(message: str, lines: int) -> str:
    if not lines:
        return message
    return _POSITION.sub(lambda m: f"at {max(1, int(m[1]) - lines)}:{m[2]}", message)


def _subs(bindings: Mapping[str, Term] | None) -> dict[ox.Variable, Term] | None:
    return {ox.Variable(k): v for k, v in bindings.items()} if bindings else None


def _merge_params(
    url: str, extra: list[tuple[str, str]] | None
) -> httpx.QueryParams | None:
    """The store URL's own query parameters, except those ``extra`` sets anew, then ``extra``
    (httpx drops the URL's parameters when it is given any)."""
    if not extra:
        return None  # httpx keeps the URL's own query parameters
    names = {k for k, _ in extra}
    merged: list[tuple[str, str | int | float | bool | None]] = [
        (k, v) for k, v in httpx.URL(url).params.multi_items() if k not in names
    ]
    return httpx.QueryParams(merged + list(extra))


_UNSUPPORTED_OPTIONS = ("custom_functions", "custom_aggregate_functions")


def _prepare(query: str, options: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    """The query text to send (prologue, bound values) and the protocol parameters."""
    for name in _UNSUPPORTED_OPTIONS:
        if options.get(name):
            raise UnsupportedByStore(
                f"{name.replace('_', ' ')} run inside the embedded store only; a remote SPARQL "
                "endpoint cannot call Python code (use a memory: or oxigraph: store)"
            )
    if options.get("use_default_graph_as_union") is False:
        raise UnsupportedByStore(
            "a remote store queries the endpoint's default graph, which must be the union of "
            "the named graphs; name a graph with default_graph=… instead"
        )
    params: list[tuple[str, str]] = []
    for key, param in (("default_graph", "default-graph-uri"), ("named_graphs", "named-graph-uri")):
        value = options.get(key)
        if value is None:
            continue
        for g in value if isinstance(value, list | tuple) else [value]:
            if not isinstance(g, ox.NamedNode):
                raise UnsupportedByStore(
                    f"{key}: a remote endpoint names graphs by IRI only, not {g!r}"
                )
            params.append((param, g.value))
    subs = options.get("substitutions")
    if subs:
        query = bind(query, {v.value if isinstance(v, ox.Variable) else str(v): t
                             for v, t in subs.items()})
    prologue = ""
    if options.get("base_iri"):
        prologue += f"BASE <{options['base_iri']}>\n"
    for prefix, iri in (options.get("prefixes") or {}).items():
        prologue += f"PREFIX {prefix}: <{iri}>\n"
    return prologue + query, params


def bind(query: str, values: Mapping[str, Term]) -> str:
    """``query`` with ``values`` bound: a one-row ``VALUES`` block placed first in the outermost
    group pattern (the ``WHERE`` clause), which is how the embedded store applies SEP-0007
    substitutions (a join with the top-level pattern; sub-queries that do not project the
    variable are unaffected). A query without a ``WHERE`` clause (``DESCRIBE ?x``) has the
    variables replaced by the values."""
    for name, term in values.items():
        if isinstance(term, ox.BlankNode):
            raise UnsupportedByStore(
                f"?{name}: a blank node cannot be sent to a remote endpoint as a value"
            )
    names = list(values)
    row = " ".join(str(values[n]) for n in names)
    block = f" VALUES ({' '.join('?' + n for n in names)}) {{ ({row}) }} "
    toks = list(tokens(query))
    form = None
    depth = 0
    where_seen = False
    template_done = False
    for t in toks:
        if t.kind == "word":
            word = t.text.upper()
            if form is None and word in QUERY_FORMS:
                form = word
            elif word == "WHERE" and depth == 0:
                where_seen = True
        elif t.kind == "other" and t.text == "{":
            if depth == 0 and form is not None:
                if form == "CONSTRUCT" and not where_seen and not template_done:
                    template_done = True  # CONSTRUCT { template } WHERE { pattern }
                elif form == "CONSTRUCT" and where_seen and not template_done:
                    raise UnsupportedByStore(
                        "CONSTRUCT WHERE { … } with bound values: write the template out "
                        "(CONSTRUCT { … } WHERE { … }) for a remote store"
                    )
                else:
                    pos = t.start + 1
                    return query[:pos] + block + query[pos:]
            depth += 1
        elif t.kind == "other" and t.text == "}":
            depth -= 1
    # No group pattern (DESCRIBE ?x): substitute the variables themselves.
    out, last = [], 0
    for t in toks:
        if t.kind == "var" and t.text[1:] in values:
            out.append(query[last:t.start])
            out.append(str(values[t.text[1:]]))
            last = t.start + len(t.text)
    out.append(query[last:])
    return "".join(out)


class _Body(io.RawIOBase):
    """A streamed HTTP body as a file for pyoxigraph's parsers; closing it (or reading it to
    the end) releases the connection."""

    def __init__(self, response: httpx.Response, deadline: float | None = None) -> None:
        self._response = response
        self._chunks = response.iter_bytes()
        self._pending = b""
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            if self._deadline is not None and time.monotonic() > self._deadline:
                self.close()
                raise StoreTimeout("the SPARQL endpoint's answer took longer than the time limit")
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                self._response.close()  # the connection goes back to the pool
                return 0
            except httpx.TimeoutException as e:
                self.close()
                raise StoreTimeout(f"the SPARQL endpoint stopped sending: {e}") from e
        n = min(len(b), len(self._pending))
        b[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        self._response.close()
        super().close()


class RemoteTriples:
    """The triples of a ``CONSTRUCT`` or ``DESCRIBE`` answer, parsed as they arrive."""

    def __init__(
        self, response: httpx.Response, fmt: ox.RdfFormat, deadline: float | None = None
    ) -> None:
        self._body = _Body(response, deadline)
        self._quads = iter(ox.parse(io.BufferedReader(self._body), fmt))

    def __iter__(self) -> Iterator[ox.Triple]:
        return self

    def __next__(self) -> ox.Triple:
        return next(self._quads).triple

    def serialize(self, output: Any = None, format: ox.RdfFormat = ox.RdfFormat.N_TRIPLES) -> Any:  # noqa: A002
        return ox.serialize(self, output, format)

    def close(self) -> None:
        self._body.close()


def _parse(response: httpx.Response, deadline: float | None = None) -> Any:
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    results_format = ox.QueryResultsFormat.from_media_type(media) if media else None
    if results_format is not None and media != "text/plain":
        body = io.BufferedReader(_Body(response, deadline))
        return ox.parse_query_results(body, results_format)
    rdf_format = ox.RdfFormat.from_media_type(media) if media else None
    if rdf_format is not None:
        return RemoteTriples(response, rdf_format, deadline)
    response.close()
    raise StoreUnavailable(f"the SPARQL endpoint answered an unknown media type {media!r}")


def default_update_url(query_url: str) -> str | None:
    """The Oxigraph server's Graph Store endpoint next to its query endpoint (``/query`` →
    ``/store``); None for other servers, whose update URL must be given."""
    url = httpx.URL(query_url)
    if not url.path.endswith("/query"):
        return None
    return str(url.copy_with(path=url.path.removesuffix("/query") + "/store", query=None))


def load_remote(
    update_url: str,
    sources: list[LoadSource],
    progress: bool = True,
    timeout: float = 300.0,
) -> dict[str, int]:
    """Replace each named graph of ``sources`` on a Graph Store Protocol endpoint
    (``PUT update_url?graph=IRI``, N-Triples sent as ``text/turtle``, which every store reads).
    Returns the triples sent per graph. Graphs not among the sources are left as they are."""
    graphs: dict[str, ox.Store] = {}
    with progress_bar(sources, progress, "parse") as bar:
        for src in sources:
            with counted(src, bar) as reader:
                try:
                    for q in ox.parse(reader, src.fmt, base_iri=src.base):
                        g = src.graph or (
                            q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""
                        )
                        graphs.setdefault(g, ox.Store()).add(
                            ox.Quad(q.subject, q.predicate, q.object)
                        )
                except SyntaxError as e:
                    raise DataError(src.path, str(e)) from e
    sent: dict[str, int] = {}
    with httpx.Client(timeout=timeout, headers={"User-Agent": f"romagraph/{__version__}"}) as c:
        for g, store in sorted(graphs.items()):
            body = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
            params = {"graph": g} if g else {"default": ""}
            try:
                r = c.put(update_url, params=params, content=body,
                          headers={"Content-Type": "text/turtle; charset=utf-8"})
            except httpx.TransportError as e:
                raise StoreUnavailable(f"the Graph Store endpoint {update_url} failed: {e}") from e
            if r.status_code >= 300:
                raise StoreUnavailable(
                    f"PUT {g or 'default graph'} to {update_url} answered {r.status_code}: "
                    f"{r.text[:500]}"
                )
            sent[g] = len(store)
            if progress:
                log.info("PUT %s: %d triples", g or "default graph", len(store))
    return sent
