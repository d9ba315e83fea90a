"""Analyses over the whole network: connections, who coordinates, coverage, changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyoxigraph as ox
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from ..deps import LangDep, SettingsDep, StoreDep
from ..rendering import render
from ..services.analyses import changes, coverage
from ..services.network import Network, build_network, connections, coordination

router = APIRouter(tags=["analyses"])


def _network(request: Request) -> Network:
    # Built once per process: the data is read-only.
    net = getattr(request.app.state, "network", None)
    if net is None:
        net = build_network(request.app.state.store, request.app.state.settings.base_iri)
        request.app.state.network = net
    return net


def _cached(request: Request, key: str, compute: Callable[[], Any]) -> Any:
    """Whole-graph analyses are computed once per process: the data is read-only."""
    cache: dict[str, Any] | None = getattr(request.app.state, "analysis_cache", None)
    if cache is None:
        cache = request.app.state.analysis_cache = {}
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def _paths_json(net: Network, paths: list, lang: str) -> list[list[dict[str, Any]]]:
    return [
        [
            {
                "from": s.source,
                "from_label": net.label(s.source, lang),
                "to": s.target,
                "to_label": net.label(s.target, lang),
                "relations": [
                    {
                        "relation": r.relation,
                        "label": net.label(r.relation, lang),
                        "direction": "forward" if r.source == s.source else "backward",
                        "via": r.via,
                        "citations": [c.__dict__ for c in r.citations],
                    }
                    for r in s.relations
                ],
            }
            for s in path
        ]
        for path in paths
    ]


@router.get("/api/connections", summary="Shortest paths between two resources")
def api_connections(
    request: Request,
    lang: LangDep,
    from_: str = Query(..., alias="from", min_length=1, max_length=2000, description="IRI of one end"),
    to: str = Query(..., min_length=1, max_length=2000, description="IRI of the other end"),
    k: int = Query(3, ge=1, le=5, description="How many paths at most"),
    max_len: int = Query(6, ge=1, le=8, description="Longest path, in steps"),
    via: str | None = Query(None, max_length=2000, description="IRI the paths must pass through"),
) -> JSONResponse:
    """Up to k shortest paths over the actor–task–project–place network; every step carries its
    relation and the citations of the fact."""
    net = _network(request)
    for iri in (from_, to, via):
        if iri is not None and iri not in net.graph:
            raise HTTPException(404, f"not in the network: {iri}")
    paths = connections(net, from_, to, k, max_len, via)
    return JSONResponse(
        {"from": from_, "to": to, "via": via, "paths": _paths_json(net, paths, lang)}
    )


@router.get("/connections", response_class=HTMLResponse, summary="Connections page")
def connections_page(
    request: Request,
    lang: LangDep,
    from_: str | None = Query(None, alias="from", max_length=2000),
    to: str | None = Query(None, max_length=2000),
    via: str | None = Query(None, max_length=2000),
) -> HTMLResponse:
    """How two resources are connected, each step with its relation and source."""
    net = _network(request)
    paths = []
    error = None
    from_, to, via = _resolve(net, from_, lang), _resolve(net, to, lang), _resolve(net, via, lang)
    if from_ and to:
        if from_ not in net.graph or to not in net.graph or (via and via not in net.graph):
            error = "not-in-network"
        else:
            paths = _paths_json(net, connections(net, from_, to, via=via), lang)
            if not paths:
                error = "no-path"
    ends = {
        "from": (from_, net.label(from_, lang) if from_ else ""),
        "to": (to, net.label(to, lang) if to else ""),
    }
    options = sorted(
        ({"label": net.label(n, lang), "kind": net.nodes[n].get("kind", "")} for n in net.graph),
        key=lambda o: o["label"].casefold(),
    )
    return render(
        request,
        "connections.html",
        {"paths": paths, "ends": ends, "error": error, "options": options},
        lang,
    )


def _resolve(net: Network, value: str | None, lang: str) -> str | None:
    """An IRI as given, or the resource whose label (in either language) the user picked."""
    if not value or value in net.graph:
        return value
    wanted = value.strip().casefold()
    for n in net.graph:
        d = net.nodes.get(n, {})
        if wanted in (d.get("lv", "").casefold(), d.get("en", "").casefold()):
            return n
    return value


@router.get("/api/coordination", summary="Centrality of organisations")
def api_coordination(request: Request, lang: LangDep) -> JSONResponse:
    """Degree and betweenness of organisations in the network of shared activities, and
    communities of organisations that work together."""
    net = _network(request)
    result = dict(_cached(request, "coordination", lambda: coordination(net)))
    result["ranking"] = [dict(r) for r in result["ranking"]]
    for r in result["ranking"]:
        r["label"] = net.label(r["iri"], lang)
    return JSONResponse(result)


@router.get("/coordination", response_class=HTMLResponse, summary="Who coordinates")
def coordination_page(request: Request, lang: LangDep) -> HTMLResponse:
    """Rankings of organisations by how many activities they join and how often they bridge others."""
    net = _network(request)
    result = _cached(request, "coordination", lambda: coordination(net))
    return render(request, "coordination.html", {"result": result, "net": net}, lang)


def _coverage_json(rows: list, net: Network, lang: str) -> list[dict[str, Any]]:
    return [
        {
            "theme": r.theme,
            "label": net.label(r.theme, lang)
            if r.theme in net.nodes
            else r.theme.rsplit("/", 1)[-1],
            "eu_pillar": r.pillar,
            "status": r.status,
            "tasks": sorted(r.tasks),
            "projects": sorted(r.projects),
            "events": sorted(r.events),
            "agents": sorted(r.agents),
            "results": r.results,
            "none_statements": r.none_statements,
        }
        for r in rows
    ]


@router.get("/api/coverage", summary="Coverage matrix of the EU areas")
def api_coverage(request: Request, store: StoreDep, lang: LangDep) -> JSONResponse:
    """Per thematic area: national tasks, responsible institutions, projects, results, and whether
    the documents say no targeted measure exists."""
    rows = _cached(request, "coverage", lambda: coverage(store))
    return JSONResponse(_coverage_json(rows, _network(request), lang))


@router.get("/coverage", response_class=HTMLResponse, summary="Coverage matrix")
def coverage_page(request: Request, store: StoreDep, lang: LangDep) -> HTMLResponse:
    """The EU areas against national tasks, institutions, projects and reported results."""
    net = _network(request)
    labels = _theme_labels(store, lang)
    return render(
        request, "coverage.html", {"rows": _cached(request, "coverage", lambda: coverage(store)), "net": net, "labels": labels}, lang
    )


def _theme_labels(store: StoreDep, lang: str) -> dict[str, str]:
    from ..queries import server_query

    return {
        r["c"].value: r["label"].value
        for r in store.select(server_query("theme_labels"))
        if isinstance(r["label"], ox.Literal) and r["label"].language == lang
    }


@router.get("/api/changes", summary="What changed between the 2014 and 2018 documents")
def api_changes(request: Request, store: StoreDep, settings: SettingsDep) -> JSONResponse:
    """Resources cited by only one document, and headline figures of both over time."""
    c = dict(_cached(request, "changes", lambda: changes(store, settings.base_iri)))
    c["figures"] = {k: [f.__dict__ for f in v] for k, v in c["figures"].items()}
    return JSONResponse(c)


@router.get("/changes", response_class=HTMLResponse, summary="Changes between the documents")
def changes_page(
    request: Request, store: StoreDep, settings: SettingsDep, lang: LangDep
) -> HTMLResponse:
    """Actors, councils, tasks and figures that appear in one document and not the other."""
    net = _network(request)
    c = _cached(request, "changes", lambda: changes(store, settings.base_iri))
    chart = {
        k: [{"period": f.period, "value": f.value, "label": f.label_en} for f in v]
        for k, v in c["figures"].items()
    }
    return render(request, "changes.html", {"c": c, "net": net, "chart": chart}, lang)
