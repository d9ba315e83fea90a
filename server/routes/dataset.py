"""Downloads, the dataset description (VoID/DCAT), the published model and live validation."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox
from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from ..conneg import HTML, OX_RDF, RDF_FORMATS, Format, NotAcceptable, negotiate
from ..deps import LangDep, SettingsDep, StoreDep
from ..export import DUMPS, csv_tables, description_quads, write_csv, write_dump
from ..rendering import render

if TYPE_CHECKING:  # rdflib is imported where used: 0.1 s the server's start need not pay
    import rdflib

router = APIRouter(tags=["dataset"])
_lock = threading.Lock()
_validation_cache: dict[str, object] = {}
JSON = Format("json", "application/json", (), "json")
RDF_TRIPLE_FORMATS = tuple(f for f in RDF_FORMATS if f.key not in ("trig", "nq"))


def _rdf_response(request: Request, triples: list[ox.Triple], fmt_key: str) -> Response:
    f = next(x for x in RDF_FORMATS if x.key == fmt_key)
    from ..namespaces import PREFIXES

    body = ox.serialize(
        triples, format=OX_RDF[f.key], prefixes=PREFIXES if f.key in ("ttl", "rdfxml") else None
    )
    return Response(body, media_type=f.media_type, headers={"Vary": "Accept"})


def _choose(request: Request, allow_html: bool = True) -> str:
    offered = ((HTML,) if allow_html else ()) + RDF_TRIPLE_FORMATS
    try:
        return negotiate(
            request.headers.get("accept"), offered, request.query_params.get("format")
        ).key
    except NotAcceptable as e:
        raise HTTPException(406, str(e)) from e


def _ensure_dump(store: object, settings: object, name: str) -> Path:
    """Generate the named export file on first request; later requests reuse it."""
    out = settings.export_dir  # type: ignore[attr-defined]
    path = out / name
    with _lock:
        if path.exists():
            return path
        if name.startswith("csv/"):
            write_csv(store, settings, out / "csv")  # type: ignore[arg-type]
        else:
            base = name.removesuffix(".gz")
            key = next(k for k, d in DUMPS.items() if d.filename == base)
            write_dump(store, settings, key, out, compress=name.endswith(".gz"))  # type: ignore[arg-type]
    return path


def _known_files() -> dict[str, str]:
    files = {}
    for d in DUMPS.values():
        files[d.filename] = d.media_type
        files[d.filename + ".gz"] = "application/gzip"
    for t in csv_tables():
        files[f"csv/{t}.csv"] = "text/csv; charset=utf-8"
    files["csv/csv-metadata.json"] = "application/csvm+json"
    return files


@router.get("/export/", response_class=HTMLResponse, summary="List the downloads")
def export_index(request: Request, lang: LangDep) -> HTMLResponse:
    """Every dump and CSV table, with its media type."""
    return render(request, "export.html", {"files": _known_files()}, lang)


@router.get("/export/{name:path}", summary="Download a dump or a CSV table")
async def export_file(name: str, store: StoreDep, settings: SettingsDep) -> FileResponse:
    """A whole-dataset dump (generated once, then served from disk) or a CSV table."""
    files = _known_files()
    if name not in files:
        raise HTTPException(404, f"no export named {name!r}; see /export/")
    path = await run_in_threadpool(_ensure_dump, store, settings, name)
    return FileResponse(path, media_type=files[name], filename=Path(name).name)


@router.get("/.well-known/void", summary="VoID/DCAT description of the dataset")
@router.get("/dataset", summary="VoID/DCAT description of the dataset")
def dataset(request: Request, store: StoreDep, settings: SettingsDep, lang: LangDep) -> Response:
    """The dataset description, computed from the store (Turtle, JSON-LD, N-Triples, RDF/XML, HTML)."""
    key = _choose(request)
    sizes = (
        {p.name: p.stat().st_size for p in settings.export_dir.glob("*") if p.is_file()}
        if settings.export_dir.exists()
        else {}
    )
    # The graph a server serves does not change under it; the description only changes when
    # dumps appear in the export folder (their sizes are in it). Computing it scans the whole
    # graph several times (seconds at a million triples): once per process and set of dumps.
    cache: dict[tuple[tuple[str, int], ...], tuple[list[ox.Triple], int]] = getattr(
        request.app.state, "description_cache", {})
    request.app.state.description_cache = cache
    cache_key = tuple(sorted(sizes.items()))
    if cache_key not in cache:
        cache.clear()
        cache[cache_key] = (
            [q.triple for q in description_quads(store, settings, sizes)], len(store))
    triples, count = cache[cache_key]
    if key == "html":
        from ..namespaces import PREFIXES

        turtle = (ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES) or b"").decode()
        return render(request, "dataset.html", {"turtle": turtle, "triples": count}, lang)
    return _rdf_response(request, triples, key)


@router.get("/context.jsonld", summary="The JSON-LD context of romagraph")
def context(settings: SettingsDep) -> FileResponse:
    """The published JSON-LD context that makes JSON-LD output compact."""
    return FileResponse(settings.ontology_dir / "context.jsonld", media_type="application/ld+json")


def _model_graph(folder: Path) -> rdflib.Graph:
    """The Turtle files of ``folder`` as one graph, parsed again only when a file changes."""
    files = tuple((str(p), p.stat().st_mtime_ns) for p in sorted(folder.glob("*.ttl")))
    return _parse_model(files)


@functools.lru_cache(maxsize=4)
def _parse_model(files: tuple[tuple[str, int], ...]) -> rdflib.Graph:
    import rdflib  # here, not at the top: see TYPE_CHECKING above

    g = rdflib.Graph()
    for path, _mtime in files:
        g.parse(path, format="turtle")
    return g


def _model_page(request: Request, folder: Path, lang: str, template: str, name: str,
                items: Callable[[rdflib.Graph], object]) -> Response:
    """The model in ``folder`` (ontology or shapes) as RDF by negotiation, or an HTML page
    listing ``items`` of it as ``name``."""
    key = _choose(request)
    g = _model_graph(folder)
    if key != "html":
        return _serialize_rdflib(g, key)
    return render(request, template, {name: items(g)}, lang)


@router.get("/ontology", summary="The ontology: HTML documentation or RDF")
def ontology(request: Request, settings: SettingsDep, lang: LangDep) -> Response:
    """The romagraph ontology and code lists, documented in HTML or as RDF by negotiation."""
    from ..services.model_docs import ontology_terms

    return _model_page(request, settings.ontology_dir, lang, "ontology.html", "terms",
                       ontology_terms)


@router.get("/shapes", summary="The SHACL shapes: HTML list or RDF")
def shapes(request: Request, settings: SettingsDep, lang: LangDep) -> Response:
    """The SHACL shapes the data is validated against."""
    from ..services.model_docs import shape_constraints

    return _model_page(request, settings.shapes_dir, lang, "shapes.html", "constraints",
                       shape_constraints)


def _serialize_rdflib(g: rdflib.Graph, key: str) -> Response:
    fmt = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "rdfxml": "xml"}[key]
    media = next(f.media_type for f in RDF_FORMATS if f.key == key)
    return Response(g.serialize(format=fmt), media_type=media, headers={"Vary": "Accept"})


@router.get("/validation", summary="Live SHACL validation report of the served data")
async def validation(request: Request, settings: SettingsDep, lang: LangDep) -> Response:
    """Validates the data with SHACL (once per process) and reports every violation."""
    from ..validation import validate

    if "report" not in _validation_cache:
        _validation_cache["report"] = await run_in_threadpool(validate, settings)
    report = _validation_cache["report"]
    try:
        key = negotiate(request.headers.get("accept"), (HTML, JSON), request.query_params.get("format")).key
    except NotAcceptable as e:
        raise HTTPException(406, str(e)) from e
    if key != "html":
        return JSONResponse(report.as_dict(), headers={"Vary": "Accept"})  # type: ignore[attr-defined]
    return render(request, "validation.html", {"report": report}, lang)
