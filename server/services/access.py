"""How the page services run the server's named queries through the store interface.

Values are bound only through SEP-0007 substitutions. A bound variable must occur in a
triple pattern (or the projection) of the query. Queries written against the canonical base
are rewritten for a deployment's own base, as the loader rewrites the data files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache
from itertools import islice

import pyoxigraph as ox

from ..config import CANONICAL_BASE
from ..queries import server_query
from ..store import OxigraphStore, Store, Term


@cache
def query_text(name: str, base: str = CANONICAL_BASE) -> str:
    text = server_query(name)
    return text if base == CANONICAL_BASE else text.replace(CANONICAL_BASE, base)


def select(
    store: Store, name: str, base: str, bindings: Mapping[str, Term] | None = None
) -> list[dict[str, Term]]:
    """All rows of the named SELECT query."""
    return store.select(query_text(name, base), bindings)


def rows(store: Store, name: str, base: str) -> Iterator[dict[str, Term]]:
    """The rows of the named SELECT query one at a time: what reads a whole graph (the page
    catalogue) holds a row, not a list of millions of them."""
    return _iter(store, query_text(name, base), None)


def select_slice(
    store: Store,
    name: str,
    base: str,
    bindings: Mapping[str, Term] | None,
    offset: int,
    limit: int,
) -> list[dict[str, Term]]:
    """Rows ``offset … offset+limit`` of a query that has no ORDER BY.

    The window is the query's own OFFSET/LIMIT, so the engine skips and stops without handing
    the skipped rows to Python, and nothing sorts: a hub's page costs the window, not a sort
    of all its links (see performance-notes.md)."""
    text = query_text(name, base)
    if _has_modifiers(text):
        return list(islice(_iter(store, text, bindings), offset, offset + limit))
    return list(_iter(store, f"{text.rstrip()}\nOFFSET {int(offset)} LIMIT {int(limit)}", bindings))


def count_rows(
    store: Store, name: str, base: str, bindings: Mapping[str, Term] | None, cap: int
) -> int:
    """How many rows the query has, counting no further than ``cap`` (lazily, no sort), in the
    engine: one COUNT over the query cut at ``cap``, not ``cap`` rows handed to Python."""
    text = query_text(name, base)
    # A remote store binds values as a VALUES block joined after a sub-query's LIMIT, which
    # would cut the wrong rows: count those on our side.
    if _has_modifiers(text) or not isinstance(store, OxigraphStore):
        subs = {ox.Variable(k): v for k, v in bindings.items()} if bindings else None
        return sum(1 for _ in islice(store.raw_query(text, substitutions=subs), cap))
    keys = tuple(sorted(bindings)) if bindings else ()
    rows = store.select(_count_text(name, base, keys, int(cap)), bindings)
    n = rows[0].get("n") if rows else None
    return int(n.value) if isinstance(n, ox.Literal) else 0


_MODIFIERS = re.compile(r"\b(LIMIT|OFFSET|ORDER\s+BY|GROUP\s+BY|HAVING)\b", re.I)
_SELECT = re.compile(r"^\s*SELECT\b", re.I | re.M)


@cache
def _has_modifiers(text: str) -> bool:
    """Whether a query (comments aside) has solution modifiers of its own."""
    body = "\n".join(ln.split("#", 1)[0] if not ln.lstrip().startswith("#") else ""
                     for ln in text.splitlines())
    return bool(_MODIFIERS.search(body))


@cache
def _count_text(name: str, base: str, keys: tuple[str, ...], cap: int) -> str:
    """``SELECT ?bound… (COUNT(*) AS ?n) { <the query> LIMIT cap } GROUP BY ?bound…``: the
    bound variables stay projected, as substitutions require."""
    text = query_text(name, base)
    m = _SELECT.search(text)
    assert m is not None, name
    prologue, body = text[:m.start()], text[m.start():].rstrip()
    vars_ = " ".join(f"?{k}" for k in keys)
    group = f" GROUP BY {vars_}" if keys else ""
    return f"{prologue}SELECT {vars_} (COUNT(*) AS ?n) WHERE {{\n{body}\nLIMIT {cap}\n}}{group}"


def _iter(store: Store, text: str, bindings: Mapping[str, Term] | None) -> Iterator[dict[str, Term]]:
    subs = {ox.Variable(k): v for k, v in bindings.items()} if bindings else None
    result = store.raw_query(text, substitutions=subs)
    names = [v.value for v in result.variables]
    for row in result:
        out = {}
        for n in names:
            term = row[n]
            if term is not None:
                out[n] = term
        yield out


def construct(
    store: Store, name: str, base: str, bindings: Mapping[str, Term] | None = None
) -> list[ox.Triple]:
    return store.construct(query_text(name, base), bindings)


def ask(store: Store, name: str, base: str, bindings: Mapping[str, Term] | None = None) -> bool:
    return store.ask(query_text(name, base), bindings)
