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


def open_store(settings: Settings, paths: list[Path] | None = None) -> OxigraphStore:
    """Load the repository's ontology and data into a fresh embedded store."""
    if settings.store not in ("memory:", "memory", ""):
        raise ValueError(f"unsupported store URL {settings.store!r}; use memory:")
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
