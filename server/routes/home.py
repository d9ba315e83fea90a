"""The home page: what the graph is, how much of each kind it holds, and the ways in."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..rendering import render_cached, templates
from ..services import browse as browse_service
from .page_deps import CatalogueDep, ViewDep

router = APIRouter()


@router.get("/", response_class=HTMLResponse, summary="Home page")
def home(request: Request, cat: CatalogueDep, view: ViewDep) -> HTMLResponse:
    """What the graph holds: counts per class, from the catalogue read at start-up."""

    def context() -> dict[str, Any]:
        counts = browse_service.class_counts(cat, view)
        documents = [view.ref(d) for d in cat.members.get(cat.x("rg:SourceDocument"), [])]
        return {
            "v": view, "counts": counts, "triples": cat.triples, "documents": documents,
            "n_resources": len(cat.types),
        }

    return render_cached(request, "home.html", context, view.lang, id(cat))


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
def api_docs(request: Request) -> HTMLResponse:
    """Interactive OpenAPI documentation, from the vendored Swagger UI (works offline)."""
    return templates.TemplateResponse(request, "docs.html", {})
