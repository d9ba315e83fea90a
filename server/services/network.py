"""The actor–task–project–place network as a networkx graph, built once from the store, and the
analyses over it: connections between two resources and who coordinates."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations, islice
from typing import TYPE_CHECKING

from ..queries import server_query
from ..store import OxigraphStore

if TYPE_CHECKING:  # networkx is imported where used: 0.15 s the server's start need not pay
    import networkx as nx

# Hubs that would connect everything to everything and explain nothing.
HUBS = {"id/place/latvija"}


@dataclass
class Citation:
    iri: str
    section: str
    doc: str
    notation: str
    footnote: str
    quote: str


@dataclass
class Relation:
    source: str  # the resource the relation goes from, as stored
    target: str
    relation: str  # property IRI or role concept IRI
    via: str  # the qualified node carrying the fact, if any
    citations: list[Citation] = field(default_factory=list)


@dataclass
class Network:
    graph: nx.Graph
    nodes: dict[str, dict[str, str]]  # iri -> {kind, lv, en}
    relation_labels: dict[str, dict[str, str]]

    def label(self, iri: str, lang: str) -> str:
        n = self.nodes.get(iri) or self.relation_labels.get(iri) or {}
        return n.get(lang) or n.get("lv") or n.get("en") or iri


def build_network(store: OxigraphStore, base: str) -> Network:
    import networkx as nx  # here, not at the top: see TYPE_CHECKING above

    nodes: dict[str, dict[str, str]] = {}
    for r in store.select(server_query("network_nodes")):
        nodes[r["node"].value] = {
            "kind": r["kind"].value if "kind" in r else "",
            "lv": r["lv"].value if "lv" in r else "",
            "en": r["en"].value if "en" in r else "",
        }
    cites: dict[str, Citation] = {}
    for r in store.select(server_query("citations")):
        cites[r["cite"].value] = Citation(
            r["cite"].value,
            r["section"].value,
            r["doc"].value if "doc" in r else "",
            r["notation"].value if "notation" in r else "",
            r["footnote"].value if "footnote" in r else "",
            r["quote"].value if "quote" in r else "",
        )
    relation_labels = _labels_of_relations(store)
    hubs = {base + h for h in HUBS}
    g = nx.Graph()
    for r in store.select(server_query("network_edges")):
        a, b = r["a"].value, r["b"].value
        if a == b or a not in nodes or b not in nodes or a in hubs or b in hubs:
            continue
        rel = r["relation"].value
        via = r["via"].value if "via" in r else ""
        key = (rel, via, a, b)
        data = g.get_edge_data(a, b)
        if data is None:
            g.add_edge(a, b, relations={})
            data = g.get_edge_data(a, b)
        relations: dict[tuple[str, str, str, str], Relation] = data["relations"]
        item = relations.setdefault(key, Relation(a, b, rel, via))
        if "cite" in r and r["cite"].value in cites:
            c = cites[r["cite"].value]
            if c not in item.citations:
                item.citations.append(c)
    for n in g.nodes:
        g.nodes[n].update(nodes.get(n, {}))
    return Network(g, nodes, relation_labels)


def _labels_of_relations(store: OxigraphStore) -> dict[str, dict[str, str]]:
    labels: dict[str, dict[str, str]] = {}
    for r in store.select(server_query("relation_labels")):
        labels.setdefault(r["r"].value, {})[r["lang"].value] = r["label"].value
    return labels


@dataclass
class Step:
    source: str
    target: str
    relations: list[Relation]


def connections(
    net: Network, a: str, b: str, k: int = 3, max_len: int = 6, via: str | None = None
) -> list[list[Step]]:
    """Up to ``k`` shortest simple paths of at most ``max_len`` steps between two resources;
    with ``via``, the shortest paths that pass through that resource (a council, say)."""
    if via:
        if via in (a, b):
            return connections(net, a, b, k, max_len)
        firsts = _node_paths(net, a, b=via, k=k, max_len=max_len, avoid=b)
        seconds = _node_paths(net, via, b=b, k=k, max_len=max_len, avoid=a)
        joined = [
            p + q[1:]
            for p in firsts
            for q in seconds
            if len(p) + len(q) - 2 <= max_len and not set(p[:-1]) & set(q[1:])
        ]
        joined.sort(key=len)
        return [_steps(net, p) for p in joined[:k]]
    return [_steps(net, p) for p in _node_paths(net, a, b, k, max_len)]


def _node_paths(
    net: Network, a: str, b: str, k: int, max_len: int, avoid: str | None = None
) -> list[list[str]]:
    import networkx as nx  # here, not at the top: see TYPE_CHECKING above

    if a not in net.graph or b not in net.graph or a == b:
        return []
    graph = (
        net.graph
        if avoid is None or avoid not in net.graph
        else nx.restricted_view(net.graph, [avoid], [])
    )
    found: list[list[str]] = []
    try:
        for path in islice(nx.shortest_simple_paths(graph, a, b), k):
            if len(path) - 1 > max_len:
                break
            found.append(path)
    except nx.NetworkXNoPath:
        return []
    return found


def _steps(net: Network, path: list[str]) -> list[Step]:
    return [
        Step(x, y, list(net.graph.get_edge_data(x, y)["relations"].values()))
        for x, y in zip(path, path[1:], strict=False)
    ]


ORG_ACTIVITY_KINDS = {"project", "event", "plan item", "organisation", "document", "programme"}


def coordination(net: Network, top: int = 25) -> dict[str, object]:
    """Centrality of organisations in the network of shared projects, councils, tasks and events.

    Two organisations are linked when they take part in the same activity (project, event, plan
    task, council, document); the weight is the number of activities they share.
    """
    import networkx as nx  # here, not at the top: see TYPE_CHECKING above

    orgs = {n for n, d in net.nodes.items() if d.get("kind") == "organisation" and n in net.graph}
    projection = nx.Graph()
    projection.add_nodes_from(orgs)
    activities: dict[str, set[str]] = {}
    for o in orgs:
        for nb in net.graph.neighbors(o):
            kind = net.nodes.get(nb, {}).get("kind")
            if kind in ORG_ACTIVITY_KINDS and nb != o:
                activities.setdefault(nb, set()).add(o)
    for members in activities.values():
        for x, y in combinations(sorted(members), 2):
            w = projection.get_edge_data(x, y, {}).get("weight", 0)
            projection.add_edge(x, y, weight=w + 1)
    degree = {
        o: sum(
            1
            for nb in net.graph.neighbors(o)
            if net.nodes.get(nb, {}).get("kind") in ORG_ACTIVITY_KINDS
        )
        for o in orgs
    }
    betweenness = (
        nx.betweenness_centrality(projection, normalized=True)
        if projection.number_of_edges()
        else {}
    )
    connected = projection.subgraph([n for n in projection if projection.degree(n) > 0])
    communities = (
        [
            sorted(c)
            for c in nx.algorithms.community.greedy_modularity_communities(
                connected, weight="weight"
            )
        ]
        if connected.number_of_edges()
        else []
    )
    ranking = sorted(orgs, key=lambda o: (-betweenness.get(o, 0.0), -degree[o], o))[:top]
    return {
        "ranking": [
            {
                "iri": o,
                "degree": degree[o],
                "betweenness": round(betweenness.get(o, 0.0), 4),
                "partners": projection.degree(o),
            }
            for o in ranking
        ],
        "communities": [c for c in communities if len(c) > 1],
        "organisations": len(orgs),
        "links": projection.number_of_edges(),
    }
