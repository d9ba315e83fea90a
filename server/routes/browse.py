"""Entry points: browse lists per class, the plan tree, the thematic view, places and the
source documents."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from ..deps import StoreDep
from ..rendering import render_cached
from ..services import browse as browse_service
from ..services import citations, places, plans
from .page_deps import CatalogueDep, SearchIndexDep, ViewDep
from .resources import not_found

router = APIRouter(tags=["browse"])
Param = Annotated[str | None, Query(max_length=2000)]


@router.get("/browse", response_class=HTMLResponse, summary="Resources of one class, filtered")
def browse(request: Request, cat: CatalogueDep, view: ViewDep,
           cls: Annotated[str | None, Query(alias="class", max_length=2000)] = None,
           kind: Param = None, theme: Param = None, place: Param = None,
           year: Annotated[str | None, Query(pattern=r"^\d{4}$")] = None,
           page: Annotated[int, Query(ge=1, le=100000)] = 1) -> HTMLResponse:
    def context() -> dict[str, Any]:
        counts = browse_service.class_counts(cat, view)
        if not cls:
            return {"v": view, "counts": counts, "result": None}
        k, t, p = kind or None, theme or None, place or None
        result = browse_service.browse(cat, view, cls, k, t, p, year, page)
        params = {n: v for n, v in (("class", cls), ("kind", k), ("theme", t), ("place", p), ("year", year)) if v}
        return {
            "v": view, "counts": counts, "result": result,
            "base_url": "/browse?" + urlencode(params) + "&",
            "filtered": any((k, t, p, year)),
            "clear_url": "/browse?" + urlencode({"class": cls}),
        }

    # like every page here: a function of the URL, the language and the catalogue (kept)
    return render_cached(request, "browse.html", context, view.lang, id(cat))


@router.get("/plans", response_class=HTMLResponse, summary="Plans: goals, tasks, who is responsible, which projects implement them")
def plan_tree(request: Request, store: StoreDep, cat: CatalogueDep, view: ViewDep,
              search_index: SearchIndexDep, plan: Param = None) -> Response:
    """Every plan's tree when the graph has few plan items; else an index of the plans and
    the tree of ``?plan=``."""
    index = plans.plan_index(cat, view)
    total = sum(n for _, _, n in index)
    if plan and not any(r.iri == plan for r, _, _ in index):
        return not_found(request, view, search_index, plan)
    return render_cached(request, "plans.html", lambda: {
        "v": view, "index": index, "selected": plan, "anchor": plans.anchor,
        "trees": plans.plan_trees(store, cat, view, only=plan)
        if plan or total <= plans.INLINE_ITEMS else [],
        "inline": total <= plans.INLINE_ITEMS,
    }, view.lang, id(cat))


@router.get("/themes", response_class=HTMLResponse, summary="Thematic areas: tasks and projects per theme")
def themes(request: Request, store: StoreDep, cat: CatalogueDep, view: ViewDep) -> HTMLResponse:
    return render_cached(request, "themes.html", lambda: {
        "v": view, "themes": plans.themes(store, cat, view)}, view.lang, id(cat))


@router.get("/places", response_class=HTMLResponse, summary="Places and how much happens in each")
def places_index(request: Request, cat: CatalogueDep, view: ViewDep) -> HTMLResponse:
    return render_cached(request, "places.html", lambda: {
        "v": view, "places": places.places_index(cat, view)}, view.lang, id(cat))


@router.get("/places/{slug}", response_class=HTMLResponse, summary="Everything that happens in one place")
def place(slug: str, request: Request, store: StoreDep, cat: CatalogueDep, view: ViewDep,
          search_index: SearchIndexDep) -> Response:
    iri = places.place_iri(cat, slug)
    if not cat.is_a(iri, "dct:Location"):
        return not_found(request, view, search_index, iri)
    return render_cached(request, "place.html", lambda: {
        "v": view, "p": places.place_view(store, cat, view, iri)}, view.lang, id(cat))


@router.get("/sources", response_class=HTMLResponse, summary="The source documents and their sections")
def sources(request: Request, store: StoreDep, cat: CatalogueDep, view: ViewDep) -> HTMLResponse:
    return render_cached(request, "sources.html", lambda: {
        "v": view, "docs": citations.documents(store, cat, view)}, view.lang, id(cat))


@router.get("/sources/{key}", response_class=HTMLResponse, summary="One source document: every section with everything cited from it")
def source_document(key: str, request: Request, store: StoreDep, cat: CatalogueDep, view: ViewDep,
                    search_index: SearchIndexDep) -> Response:
    iri = f"{cat.base}id/source/{key}"
    if not cat.is_a(iri, "rg:SourceDocument"):
        return not_found(request, view, search_index, iri)
    return render_cached(request, "source_document.html", lambda: {
        "v": view, "anchor": plans.anchor,
        "doc": citations.documents(store, cat, view, only=iri, with_facts=True)[0],
    }, view.lang, id(cat))
