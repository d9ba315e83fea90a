"""The relationship graph of a resource: its 1–2 hop neighbourhood as nodes and edges for
cytoscape, with qualified relation nodes collapsed into labelled edges
(task —responsible→ ministry instead of task → participation → ministry)."""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox

from ..store import Store
from . import access
from .catalogue import Catalogue
from .describe import Describer
from .present import View

MAX_NODES = 45
FANOUT = 12  # neighbours taken from one node
READ = 200  # statements read per node and direction
SKIP_PROPS = (
    "rdf:type", "prov:wasDerivedFrom", "skos:inScheme", "qb:dataSet", "oa:hasSource",
    "rdfs:isDefinedBy", "org:classification", "dct:type", "rg:unit", "cv:role", "org:role",
)
SKIP_CATEGORIES = ("observation", "source", "ontology")
LEAF_CATEGORIES = ("concept", "place")  # shown, but not expanded at the second hop


def neighbourhood(
    store: Store, cat: Catalogue, view: View, iri: str, hops: int = 2
) -> dict[str, Any]:
    describer = Describer(store, cat, view)
    skip = {cat.x(p) for p in SKIP_PROPS}
    nodes: dict[str, dict[str, Any]] = {}
    edges: dict[tuple[str, str, str], dict[str, Any]] = {}
    truncated = False

    def add_node(n: str, depth: int) -> bool:
        nonlocal truncated
        if n in nodes:
            return True
        if len(nodes) >= MAX_NODES:
            truncated = True
            return False
        ref = view.ref(n)
        nodes[n] = {
            "id": n, "label": ref.label, "category": ref.category, "type": ref.type_label,
            "url": ref.url, "root": n == iri, "depth": depth,
        }
        return True

    def add_edge(a: str, b: str, label: str) -> None:
        key = (a, b, label)
        if key not in edges and (b, a, label) not in edges and a != b:
            edges[key] = {"id": f"e{len(edges)}", "source": a, "target": b, "label": label}

    def links(n: str) -> list[tuple[str, str, str]]:
        """(neighbour, edge label, direction) of ``n``, qualified nodes collapsed."""
        r = ox.NamedNode(n)
        found: list[tuple[str, str, str]] = []
        out = access.select_slice(store, "resource_outgoing", cat.base, {"r": r}, 0, READ)
        inc = access.select_slice(store, "resource_incoming", cat.base, {"r": r}, 0, READ)
        pairs = [(row["p"].value, row["o"], "out") for row in out] + [
            (row["p"].value, row["s"], "in") for row in inc
        ]
        for p, term, direction in pairs:
            if p in skip or not isinstance(term, ox.NamedNode):
                continue
            other = term.value
            if cat.category(other) in SKIP_CATEGORIES or not cat.known(other):
                continue  # observations, citations, ontology terms, web pages outside the graph
            if cat.is_qualified(other):
                parties, role = describer.parties(other)
                kind_label = role or view.class_label(cat.primary.get(other, ""))
                targets = [t for _, t in parties if t != n]
                if not targets and cat.is_a(other, "rg:ReportedResult"):
                    found.append((other, view.prop_label(p, direction == "in"), direction))
                for t in targets:
                    if cat.category(t) not in SKIP_CATEGORIES:
                        found.append((t, kind_label, direction))
            else:
                found.append((other, view.prop_label(p, direction == "in"), direction))
        # one edge per neighbour, at most FANOUT neighbours
        seen: dict[str, tuple[str, str, str]] = {}
        for f in found:
            seen.setdefault(f[0], f)
        return list(seen.values())[:FANOUT] if len(seen) > FANOUT else list(seen.values())

    add_node(iri, 0)
    frontier = [iri]
    for depth in range(1, hops + 1):
        nxt: list[str] = []
        for n in frontier:
            if depth > 1 and cat.category(n) in LEAF_CATEGORIES:
                continue
            for other, label, direction in links(n):
                if not add_node(other, depth):
                    break
                if direction == "out":
                    add_edge(n, other, label)
                else:
                    add_edge(other, n, label)
                nxt.append(other)
        frontier = nxt
    return {
        "root": iri,
        "nodes": list(nodes.values()),
        "edges": list(edges.values()),
        "truncated": truncated,
    }
