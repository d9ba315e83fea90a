"""The one store interface the rest of the code goes through, over an embedded Oxigraph store.

Values are bound into queries only through SEP-0007 substitutions, never by string formatting.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyoxigraph as ox

from .config import Settings
from .sources import SourceFile, repository_files

log = logging.getLogger(__name__)

Term = ox.NamedNode | ox.BlankNode | ox.Literal


class DataError(Exception):
    """A data file could not be read: names the file, line and column."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message

    def __reduce__(self) -> tuple[type[DataError], tuple[Path, str]]:
        # pickled with its two arguments (the default passes the formatted text only), so it
        # crosses from the process that validated the data (`romagraph serve`)
        return DataError, (self.path, self.message)


class UnsupportedByStore(NotImplementedError):
    """A capability the configured store lacks; the message says what to use instead."""


class StoreUnavailable(ConnectionError):
    """The store (a remote endpoint) cannot be reached or failed to answer."""


class StoreTimeout(TimeoutError):
    """The store (a remote endpoint) did not answer in time."""


class Store(Protocol):
    """What pages, the endpoint, analyses and export need from a store."""

    def select(
        self, query: str, bindings: Mapping[str, Term] | None = None
    ) -> list[dict[str, Term]]: ...

    def ask(self, query: str, bindings: Mapping[str, Term] | None = None) -> bool: ...

    def construct(
        self, query: str, bindings: Mapping[str, Term] | None = None
    ) -> list[ox.Triple]: ...

    def raw_query(self, query: str, **options: Any) -> Any: ...

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]: ...

    def named_graphs(self) -> list[str]: ...

    def __len__(self) -> int: ...


def _subs(bindings: Mapping[str, Term] | None) -> dict[ox.Variable, Term] | None:
    return {ox.Variable(k): v for k, v in bindings.items()} if bindings else None


@dataclass
class OxigraphStore:
    """An embedded pyoxigraph store; queries see the union of all named graphs by default."""

    inner: ox.Store = field(default_factory=ox.Store)
    files: list[SourceFile] = field(default_factory=list)
    reads: str = "memory"  # "files": an on-disk store (until a copy in memory replaces it)

    def raw_query(self, query: str, **options: Any) -> Any:
        options.setdefault("use_default_graph_as_union", True)
        return self.inner.query(query, **options)

    def select(
        self, query: str, bindings: Mapping[str, Term] | None = None
    ) -> list[dict[str, Term]]:
        result = self.raw_query(query, substitutions=_subs(bindings))
        names = [v.value for v in result.variables]
        return [{n: row[n] for n in names if row[n] is not None} for row in result]

    def ask(self, query: str, bindings: Mapping[str, Term] | None = None) -> bool:
        return bool(self.raw_query(query, substitutions=_subs(bindings)))

    def construct(self, query: str, bindings: Mapping[str, Term] | None = None) -> list[ox.Triple]:
        return list(self.raw_query(query, substitutions=_subs(bindings)))

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        g = ox.NamedNode(graph) if graph else None
        return iter(self.inner.quads_for_pattern(None, None, None, g))

    def named_graphs(self) -> list[str]:
        return sorted(g.value for g in self.inner.named_graphs() if isinstance(g, ox.NamedNode))

    def __len__(self) -> int:
        return len(self.inner)


def load_files(files: Iterable[SourceFile], base: str, into: ox.Store | None = None) -> ox.Store:
    """Parse each file into its named graph; a syntax error raises DataError naming the file."""
    store = into if into is not None else ox.Store()
    for f in files:
        try:
            store.load(
                f.read_text(base),
                format=ox.RdfFormat.TURTLE,
                base_iri=base,
                to_graph=ox.NamedNode(f.graph),
            )
        except SyntaxError as e:
            raise DataError(f.path, str(e)) from e
    return store


def is_memory(url: str) -> bool:
    """Whether the store URL names the embedded store loaded from the repository at start."""
    return url in ("memory:", "memory", "")


def open_store(settings: Settings, paths: list[Path] | None = None) -> Store:
    """The store ``settings.store`` names: ``memory:`` loads the repository's ontology and data
    into a fresh embedded store; ``oxigraph:PATH`` opens an on-disk store built by
    ``romagraph load``; ``http(s)://…`` queries a remote SPARQL 1.1 endpoint."""
    url = settings.store
    if url.startswith("oxigraph:"):
        from .backends.disk import open_disk, store_path

        return open_disk(store_path(url))
    if url.startswith(("http://", "https://")):
        from .backends.remote import RemoteStore

        return RemoteStore(url, timeout=settings.query_timeout)
    if not is_memory(url):
        raise ValueError(
            f"unsupported store URL {url!r}; use memory:, oxigraph:PATH or http(s)://…/sparql"
        )
    started = time.perf_counter()
    files = repository_files(settings, paths)
    inner = load_files(files, settings.base_iri)
    log.info(
        "loaded %d quads from %d files in %.2f s",
        len(inner),
        len(files),
        time.perf_counter() - started,
    )
    return OxigraphStore(inner=inner, files=files)
