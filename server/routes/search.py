"""Search: autocomplete JSON (``/api/search``) and the results page (``/search``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ..front_cache import keep
from ..rendering import CACHE_HEADER, render_cached
from ..response_cache import cache_of, key_of
from .page_deps import CatalogueDep, SearchIndexDep, ViewDep

router = APIRouter(tags=["search"])

QueryText = Annotated[str, Query(max_length=200, description="Words to look for")]


def _hits(search_index: SearchIndexDep, cat: CatalogueDep, view: ViewDep, q: str, limit: int) -> list[dict[str, Any]]:
    out = []
    for h in search_index.search(q, view.lang, limit):
        ref = view.ref(h.iri)
        primary = cat.primary.get(h.iri, "")
        out.append({
            "iri": h.iri,
            "label": ref.label,
            "type": primary,
            "typeLabel": ref.type_label,
            "category": ref.category,
            "url": ref.url,
            "matched": h.matched if h.matched != ref.label else None,
            "score": h.score,
        })
    return out


@router.get("/api/search", summary="Autocomplete: resources whose labels match the words")
async def api_search(request: Request, search_index: SearchIndexDep, cat: CatalogueDep, view: ViewDep,
               q: QueryText = "",
               limit: Annotated[int, Query(ge=1, le=50)] = 10) -> Response:
    """A list of ``{iri, label, type, typeLabel, category, url, matched, score}``, best first.
    Matches Latvian and English preferred and alternative labels, ignoring case and
    diacritics, by word prefix and Latvian stem ("jelgavas" finds "Jelgava")."""
    headers = {"Vary": "Accept-Language, Cookie"}
    cache = cache_of(request)
    key = ("api_search", *key_of(request, view.lang, id(search_index), id(cat)))
    body = cache.get(key) if cache is not None else None
    if body is None:
        if len(q.split()) <= 1:
            # One word is answered from the head of its posting lists (under 0.5 ms at 1M
            # triples): inline, without the thread-pool hop, which costs more than the search.
            hits = _hits(search_index, cat, view, q, limit)
        else:  # several words may intersect long lists: a few ms, off the event loop
            hits = await run_in_threadpool(_hits, search_index, cat, view, q, limit)
        # The header marks the answer as a function of its key, as render_cached's pages: the
        # front cache (front_cache.py) keeps only answers that carry it.
        response = JSONResponse(hits, headers={**headers, CACHE_HEADER: "miss" if cache is not None else "off"})
        if cache is not None:
            keep(request.scope, cache, key, bytes(response.body))
        return response
    return Response(body, media_type="application/json", headers={**headers, CACHE_HEADER: "hit"})


@router.get("/search", response_class=HTMLResponse, summary="Search results page")
def search_page(request: Request, search_index: SearchIndexDep, cat: CatalogueDep, view: ViewDep,
                q: QueryText = "") -> HTMLResponse:
    def context() -> dict[str, Any]:
        hits = _hits(search_index, cat, view, q, 100) if q.strip() else []
        return {"v": view, "q": q, "hits": hits}

    return render_cached(request, "search.html", context, view.lang, id(search_index), id(cat))
