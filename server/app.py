"""The FastAPI application: ``create_app()`` loads the store once and mounts the routers."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from . import __version__
from .config import Settings, get_settings
from .routes import analyses, browse, dataset, home, resources, search, status
from .routes import sparql as sparql_routes
from .store import Store, is_memory, open_store

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """Build the app over ``store`` (default: the repository's graph, loaded now)."""
    settings = settings or get_settings()
    folder = None  # an on-disk store's folder, where `romagraph load` persisted the catalogue
    if store is None:
        if settings.validate_on_start and is_memory(settings.store):  # loaded stores: by `load`
            from .validation import validate

            report = validate(settings)
            if not report.conforms:
                first = report.violations[0]
                raise RuntimeError(
                    f"data fails SHACL validation ({first.focus}: {first.message}); "
                    "run `romagraph validate` or set ROMAGRAPH_VALIDATE_ON_START=false"
                )
        store = open_store(settings)
        if settings.store.startswith("oxigraph:"):
            from .backends.disk import store_path

            folder = store_path(settings.store)
    app = FastAPI(
        title="romagraph",
        version=__version__,
        description="Linked data on who does what in Latvia's Roma-integration policy.",
        lifespan=sparql_routes.lifespan,  # starts and stops the SPARQL query workers
        docs_url=None,  # served below from vendored Swagger UI: FastAPI's default loads a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = store
    # Issue #9: request limits, read-only methods, security headers and CORS; a clean 500.
    # Issue #8: whole kept answers of pages and search (front_cache.py).
    from .front_cache import FrontCache
    from .middleware import GuardMiddleware, internal_error

    # The last added is the outermost: the guard wraps the page cache's fast path (whole kept
    # answers of pages and search, sent without routing), which wraps the /sparql fast path.
    app.add_middleware(sparql_routes.SparqlFastPath)
    app.add_middleware(FrontCache)
    app.add_middleware(GuardMiddleware, settings=settings)
    app.add_exception_handler(Exception, internal_error)
    # /sparql first: routes are matched in order, and it is the path under the heaviest load
    app.include_router(sparql_routes.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(home.router)
    # Pages (issue #5): the catalogue and search index are read from the store once, here; an
    # on-disk store's are read from the index `romagraph load` persisted next to it.
    from .services import snapshot

    snapshot.install(app, app.state.store, settings.base_iri, folder)
    if folder is not None:  # pages read a copy in memory once it is made (ROMAGRAPH_PAGES_IN_MEMORY)
        from .backends.disk import read_from_memory_soon

        catalogue = app.state.catalogue
        read_from_memory_soon(
            app.state.store, settings.pages_in_memory, catalogue.triples if catalogue else None
        )
    app.include_router(status.router)
    app.include_router(resources.router)
    app.include_router(browse.router)
    app.include_router(search.router)
    resources.install_not_found(app)
    app.include_router(dataset.router)
    app.include_router(analyses.router)
    return app
