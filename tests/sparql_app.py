"""The app the SPARQL client and limit tests run under uvicorn: the repository's graph (ontology
and whatever data/ holds), no SHACL gate, and a short query time limit so the timeout tests are
quick."""

from __future__ import annotations

from fastapi import FastAPI

from server.app import create_app
from server.config import REPO_ROOT, Settings

QUERY_TIMEOUT = 2.0  # seconds
MAX_ROWS = 10_000


def settings() -> Settings:
    return Settings(
        root=REPO_ROOT,
        validate_on_start=False,
        query_timeout=QUERY_TIMEOUT,
        max_rows=MAX_ROWS,
        query_workers=2,
    )


def create() -> FastAPI:
    return create_app(settings())
