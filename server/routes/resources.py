"""Dereferenceable resources: ``/id/…`` answers 303 See Other to ``/doc/…``, which (like
``/def/…``, ``/data/…`` and ``/resource?iri=…``) negotiates HTML, Turtle, JSON-LD, N-Triples
and RDF/XML by Accept, by ``?format=`` and by a suffix (``/doc/….ttl``). Also the paged list of
one relation (``/related``) and the JSON behind the relationship graph and dataset charts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import pyoxigraph as ox
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..conneg import HTML, OX_RDF, RDF_FORMATS, Format, NotAcceptable, negotiate, parse_accept
from ..deps import StoreDep
from ..i18n import choose_lang, translate
from ..namespaces import PREFIXES, data_prefixes
from ..rendering import render, render_cached
from ..services import citations, datasets, describe, neighbourhood, places, plans
from ..services.catalogue import Catalogue
from ..services.present import OA_HAS_SOURCE, PASSAGES_PAGE, View, resource_path
from .page_deps import CatalogueDep, SearchIndexDep, ViewDep

router = APIRouter(tags=["resources"])

RDF_OFFERED: tuple[Format, ...] = tuple(
    f for f in RDF_FORMATS if f.key in ("ttl", "jsonld", "nt", "rdfxml")
)
OFFERED: tuple[Format, ...] = (HTML, *RDF_OFFERED)
BY_SUFFIX = {f.extension: f for f in OFFERED}
FORMAT_NAMES = {"ttl": "Turtle", "jsonld": "JSON-LD", "nt": "N-Triples", "rdfxml": "RDF/XML"}


@dataclass(frozen=True)
class FormatLink:
    name: str
    media_type: str
    url: str


def _exists(store: StoreDep, cat: Catalogue, iri: str) -> bool:
    if cat.known(iri):
        return True
    try:  # issue #9: an address that is no valid IRI (a space, %00…) names nothing: 404, not 500
        ox.NamedNode(iri)
    except ValueError:
        return False
    return describe.exists(store, cat.base, iri)


def _locate(store: StoreDep, cat: Catalogue, rel: str) -> tuple[str, Format | None] | None:
    """The IRI a local path names, and the format its suffix asks for (``x.ttl``)."""
    iri = cat.base + rel
    if _exists(store, cat, iri):
        return iri, None
    stem, dot, ext = rel.rpartition(".")
    if dot and stem and ext in BY_SUFFIX and _exists(store, cat, cat.base + stem):
        return cat.base + stem, BY_SUFFIX[ext]
    return None


def format_links(iri: str, base: str) -> list[FormatLink]:
    path = resource_path(iri, base)
    out = []
    for f in RDF_OFFERED:
        url = f"{path}&format={f.key}" if "?" in path else f"{path}.{f.extension}"
        out.append(FormatLink(FORMAT_NAMES[f.key], f.media_type, url))
    return out


@router.get("/id/{path:path}", summary="A thing: 303 See Other to its document")
@router.head("/id/{path:path}", include_in_schema=False)
def see_other(path: str, request: Request) -> RedirectResponse:
    """``/id/…`` names a thing (an organisation, a person…), not a web page: answer 303 See
    Other pointing at ``/doc/…``, the document that describes it."""
    target = "/doc/" + path
    if request.url.query:
        target += "?" + request.url.query
    return RedirectResponse(target, status_code=303, headers={"Vary": "Accept"})


@router.get("/doc/{path:path}", summary="The document about a thing")
@router.head("/doc/{path:path}", include_in_schema=False)
def doc(path: str, request: Request, store: StoreDep, cat: CatalogueDep, view: ViewDep,
        search_index: SearchIndexDep) -> Response:
    return _serve_path("id/" + path, request, store, cat, view, search_index)


@router.get("/def/{path:path}", summary="An ontology term or code list")
@router.head("/def/{path:path}", include_in_schema=False)
def definition(path: str, request: Request, store: StoreDep, cat: CatalogueDep, view: ViewDep,
               search_index: SearchIndexDep) -> Response:
    return _serve_path("def/" + path, request, store, cat, view, search_index)


@router.get("/data/{path:path}", summary="A statistics dataset or observation")
@router.head("/data/{path:path}", include_in_schema=False)
def data(path: str, request: Request, store: StoreDep, cat: CatalogueDep, view: ViewDep,
         search_index: SearchIndexDep) -> Response:
    return _serve_path("data/" + path, request, store, cat, view, search_index)


@router.get("/resource", summary="Any IRI of the graph")
@router.head("/resource", include_in_schema=False)
def resource(request: Request, store: StoreDep, cat: CatalogueDep, view: ViewDep,
             search_index: SearchIndexDep,
             iri: Annotated[str, Query(max_length=2000, description="The IRI to describe")]) -> Response:
    if not _exists(store, cat, iri):
        return not_found(request, view, search_index, iri)
    return serve(request, store, cat, view, iri, None, None)


def _serve_path(rel: str, request: Request, store: StoreDep, cat: Catalogue, view: View,
                search_index: SearchIndexDep) -> Response:
    found = _locate(store, cat, rel)
    if found is None:
        return not_found(request, view, search_index, cat.base + rel)
    iri, suffix = found
    return serve(request, store, cat, view, iri, suffix, request.url.path)


def serve(request: Request, store: StoreDep, cat: Catalogue, view: View, iri: str,
          suffix: Format | None, path: str | None) -> Response:
    override = request.query_params.get("format") or (suffix.key if suffix else None)
    try:
        fmt = negotiate(request.headers.get("accept"), OFFERED, override)
    except NotAcceptable as e:
        return PlainTextResponse(str(e), status_code=406, headers={"Vary": "Accept"})
    links = format_links(iri, cat.base)
    link_header = ", ".join(f'<{f.url}>; rel="alternate"; type="{f.media_type}"' for f in links)
    headers = {"Vary": "Accept", "Link": link_header}
    if suffix is None and not request.query_params.get("format") and path:
        headers["Content-Location"] = path if fmt is HTML else f"{path}.{fmt.extension}"
    if fmt is HTML:
        response = page(request, store, cat, view, iri, links)
        response.headers.update(headers)
        response.headers["Vary"] = "Accept, Accept-Language, Cookie"
        return response
    triples = describe.rdf_description(store, cat.base, iri)
    prefixes = {**PREFIXES, **data_prefixes(cat.base)}
    body = ox.serialize(triples, format=OX_RDF[fmt.key], prefixes=prefixes)
    return Response(body, media_type=fmt.media_type, headers=headers)


def page(request: Request, store: StoreDep, cat: Catalogue, view: View, iri: str,
         links: list[FormatLink]) -> Response:
    def context() -> dict[str, Any]:
        d = describe.Describer(store, cat, view).describe(iri)
        return {
            "d": d, "v": view, "rdf_links": links, "views": see_also(cat, view, iri),
            "graph_url": "/api/graph?" + urlencode({"iri": iri}),
            "dataset": datasets.dataset_view(store, cat, view, iri) if cat.is_a(iri, "qb:DataSet") else None,
            "section": citations.section_view(cat, view, iri) if iri in cat.by_section else None,
        }

    return render_cached(request, "resource.html", context, view.lang, id(cat), iri)


def see_also(cat: Catalogue, view: View, iri: str) -> list[tuple[str, str]]:
    """Links from a resource page to the entry-point views that show it in context."""
    t, out = view.lang, []
    slug = places.place_slug(cat, iri)
    if slug and cat.is_a(iri, "dct:Location"):
        out.append((translate("views.place", t), f"/places/{slug}"))
    if cat.is_a(iri, "rg:Plan") and any(cat.scheme.get(i) == iri for i in cat.members.get(cat.x("rg:PlanItem"), [])):
        out.append((translate("views.plan", t), plans.plan_url(cat, iri)))
    if cat.is_a(iri, "rg:PlanItem") and iri in cat.scheme:
        out.append((translate("views.plan_item", t), plans.plan_url(cat, iri)))
    if iri.startswith(cat.base + "def/theme/"):
        out.append((translate("views.theme", t), f"/themes#{plans.anchor(iri)}"))
    if cat.is_a(iri, "rg:SourceDocument"):
        out.append((translate("views.source_doc", t), f"/sources/{iri.rstrip('/').rsplit('/', 1)[-1]}"))
    if cat.is_a(iri, "rg:SourceSection"):
        # the section's own citations (by_section), not a scan of every citation of the graph
        found = (cat.citations.get(cid) for cid in cat.by_section.get(iri, ()))
        c = next((c for c in found if c and c.doc), None)
        if c and c.doc:
            key = c.doc.rstrip("/").rsplit("/", 1)[-1]
            out.append((translate("views.source_doc", t), f"/sources/{key}#{plans.anchor(iri)}"))
    if iri in cat.members or cat.is_a(iri, "owl:Class"):
        out.append((translate("views.browse_class", t), "/browse?" + urlencode({"class": iri})))
    return out


@router.get("/related", summary="One relation of a resource, in full, paged")
def related(request: Request, store: StoreDep, cat: CatalogueDep, view: ViewDep,
            search_index: SearchIndexDep,
            iri: Annotated[str, Query(max_length=2000)],
            p: Annotated[str, Query(max_length=2000)],
            dir: Annotated[str, Query(pattern="^(in|out)$")] = "in",
            page: Annotated[int, Query(ge=1, le=100000)] = 1) -> Response:
    if not _exists(store, cat, iri):
        return not_found(request, view, search_index, iri)
    try:  # issue #9: an invalid property IRI is the client's mistake, not a 500
        ox.NamedNode(p)
    except ValueError:
        return PlainTextResponse(f"Not a valid IRI: p={p!r}", status_code=400)

    base_url = "/related?" + urlencode({"iri": iri, "p": p, "dir": dir}) + "&"
    passages = dir == "in" and p == OA_HAS_SOURCE and iri in cat.by_section
    if passages and page > max(1, -(-len(cat.by_section[iri]) // PASSAGES_PAGE)):
        return PlainTextResponse(f"No page {page} of these passages.", status_code=404)

    def context() -> dict[str, Any]:
        if passages:
            return passages_context()
        group = describe.Describer(store, cat, view).related(iri, p, dir == "in", page)
        pages = page + 1 if group.capped else page
        return {
            "v": view, "subject": view.ref(iri), "g": group, "title": group.title, "page": page,
            "pages": pages, "base_url": base_url, "qualified": isinstance(group, describe.QualifiedGroup),
        }

    def passages_context() -> dict[str, Any]:
        """A source section's passages: shown as its page shows them (quote, footnote, what
        was derived from each), a page at a time."""
        section = citations.section_view(cat, view, iri, page=page)
        return {
            "v": view, "subject": view.ref(iri), "section": section,
            "title": translate("sources.passages", view.lang), "page": page, "pages": section.pages,
            "base_url": base_url,
        }

    return render_cached(request, "related.html", context, view.lang, id(cat))


@router.get("/api/graph", summary="The 1–2 hop neighbourhood of a resource, for cytoscape")
def graph(store: StoreDep, cat: CatalogueDep, view: ViewDep,
          iri: Annotated[str, Query(max_length=2000)],
          hops: Annotated[int, Query(ge=1, le=2)] = 2) -> JSONResponse:
    if not _exists(store, cat, iri):
        raise HTTPException(404, "unknown resource")
    return JSONResponse(neighbourhood.neighbourhood(store, cat, view, iri, hops))


@router.get("/api/dataset", summary="The observations of a statistics dataset, as chart data")
def dataset(store: StoreDep, cat: CatalogueDep, view: ViewDep,
            iri: Annotated[str, Query(max_length=2000)]) -> JSONResponse:
    if not cat.is_a(iri, "qb:DataSet"):
        raise HTTPException(404, "not a qb:DataSet")
    dv = datasets.dataset_view(store, cat, view, iri)
    rows = [
        {
            "observation": r.iri,
            "dimensions": {prop: c.ref.iri if c.ref else c.text for (prop, _), c in zip(dv.dimensions, r.dims, strict=True)},
            "value": float(r.value) if r.value is not None else None,
            "unit": r.unit,
        }
        for r in dv.rows
    ]
    return JSONResponse({"dataset": iri, "label": view.label(iri), "chart": dv.chart, "observations": rows})


def not_found(request: Request, view: View, search_index: Any, iri: str) -> Response:
    """404: the page offers a search, seeded with the words of the unknown address."""
    best = parse_accept(request.headers.get("accept"))
    wants_html = any(r[0] in ("text/html", "application/xhtml+xml", "*/*") for r in best[:3])
    if not wants_html:
        return PlainTextResponse(f"Not found: {iri}", status_code=404, headers={"Vary": "Accept"})
    words = iri.rstrip("/").rsplit("/", 1)[-1].replace("-", " ")
    hits = search_index.search(words, view.lang, 8) if search_index is not None and words else []
    return render(request, "not_found.html", {
        "v": view, "iri": iri, "q": words, "suggestions": [view.ref(h.iri) for h in hits],
    }, view.lang, status_code=404)


def install_not_found(app: FastAPI) -> None:
    """Answer unknown URLs with the 404 page (HTML clients) instead of bare JSON."""

    async def handler(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        path = request.url.path
        accepts_html = "text/html" in request.headers.get("accept", "")
        if (exc.status_code != 404 or path.startswith(("/api/", "/sparql")) or not accepts_html
                or request.app.state.catalogue is None):  # still being built: no 404 page yet
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                                headers=getattr(exc, "headers", None))
        lang = choose_lang(request, request.app.state.settings.default_lang)
        view = View(request.app.state.catalogue, lang)
        return not_found(request, view, getattr(request.app.state, "search_index", None),
                         str(request.url.path))

    app.add_exception_handler(StarletteHTTPException, handler)
