"""Dependencies of the page routes: the catalogue, the search index and a View in the
request's language, all built once at start-up (see app.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..deps import LangDep
from ..services.catalogue import Catalogue
from ..services.present import View
from ..services.search import SearchIndex


def _catalogue(request: Request) -> Catalogue:
    catalogue: Catalogue = request.app.state.catalogue
    return catalogue


def _search_index(request: Request) -> SearchIndex:
    index: SearchIndex = request.app.state.search_index
    return index


CatalogueDep = Annotated[Catalogue, Depends(_catalogue)]
SearchIndexDep = Annotated[SearchIndex, Depends(_search_index)]


def _view(cat: CatalogueDep, lang: LangDep) -> View:
    return View(cat, lang)


ViewDep = Annotated[View, Depends(_view)]
