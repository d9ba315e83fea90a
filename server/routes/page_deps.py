"""Dependencies of the page routes: the catalogue, the search index and a View in the
request's language, all built once at start-up (see app.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from ..deps import LangDep
from ..services.catalogue import Catalogue
from ..services.present import View
from ..services.search import SearchIndex


def _not_ready(request: Request) -> HTTPException:
    """503 while the catalogue is built in the background (an on-disk store without a usable
    persisted index, see services/snapshot.py)."""
    state = request.app.state
    if getattr(state, "catalogue_source", None) == "failed":
        return HTTPException(503, f"The page catalogue could not be built "
                                  f"({state.catalogue_reason}); see the server log.")
    return HTTPException(503, "The page catalogue is still being built from the store; the "
                              "SPARQL endpoint already answers. Retry shortly.",
                         headers={"Retry-After": "10"})


async def _catalogue(request: Request) -> Catalogue:
    catalogue: Catalogue | None = request.app.state.catalogue
    if catalogue is None:
        raise _not_ready(request)
    return catalogue


async def _search_index(request: Request) -> SearchIndex:
    index: SearchIndex | None = request.app.state.search_index
    if index is None:
        raise _not_ready(request)
    return index


CatalogueDep = Annotated[Catalogue, Depends(_catalogue)]
SearchIndexDep = Annotated[SearchIndex, Depends(_search_index)]


async def _view(cat: CatalogueDep, lang: LangDep) -> View:
    return View(cat, lang)


ViewDep = Annotated[View, Depends(_view)]
