"""How the page services run the server's named queries through the store interface.

Values are bound only through SEP-0007 substitutions. A bound variable must occur in a
triple pattern (or the projection) of the query. Queries written against the canonical base
are rewritten for a deployment's own base, as the loader rewrites the data files.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from itertools import islice

import pyoxigraph as ox

from ..config import CANONICAL_BASE
from ..queries import server_query
from ..store import Store, Term


@cache
def query_text(name: str, base: str = CANONICAL_BASE) -> str:
    text = server_query(name)
    return text if base == CANONICAL_BASE else text.replace(CANONICAL_BASE, base)


def select(
    store: Store, name: str, base: str, bindings: Mapping[str, Term] | None = None
) -> list[dict[str, Term]]:
    """All rows of the named SELECT query."""
    return store.select(query_text(name, base), bindings)


def select_slice(
    store: Store,
    name: str,
    base: str,
    bindings: Mapping[str, Term] | None,
    offset: int,
    limit: int,
) -> list[dict[str, Term]]:
    """Rows ``offset … offset+limit`` of a query that has no ORDER BY.

    The result is read lazily and abandoned after the window, so a hub's page costs the
    window, not a sort of all its links (see performance-notes.md)."""
    return list(islice(_iter(store, query_text(name, base), bindings), offset, offset + limit))


def count_rows(
    store: Store, name: str, base: str, bindings: Mapping[str, Term] | None, cap: int
) -> int:
    """How many rows the query has, counting no further than ``cap`` (lazily, no sort)."""
    subs = {ox.Variable(k): v for k, v in bindings.items()} if bindings else None
    result = store.raw_query(query_text(name, base), substitutions=subs)
    return sum(1 for _ in islice(result, cap))


def _iter(store: Store, text: str, bindings: Mapping[str, Term] | None) -> Iterator[dict[str, Term]]:
    subs = {ox.Variable(k): v for k, v in bindings.items()} if bindings else None
    result = store.raw_query(text, substitutions=subs)
    names = [v.value for v in result.variables]
    for row in result:
        yield {n: row[n] for n in names if row[n] is not None}


def construct(
    store: Store, name: str, base: str, bindings: Mapping[str, Term] | None = None
) -> list[ox.Triple]:
    return store.construct(query_text(name, base), bindings)


def ask(store: Store, name: str, base: str, bindings: Mapping[str, Term] | None = None) -> bool:
    return store.ask(query_text(name, base), bindings)
