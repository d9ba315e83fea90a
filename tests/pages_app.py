"""App factories for a real uvicorn server (browser tests, benchmarks):
``uvicorn tests.pages_app:repo_or_fixture_app --factory``."""

from __future__ import annotations

from fastapi import FastAPI

from server.app import create_app
from tests.pages_support import fixture_settings, fixture_store, repo_has_data, repo_store


def fixture_app() -> FastAPI:
    """The app over the page-test fixture graph (tests/fixtures/pages/)."""
    return create_app(fixture_settings(), fixture_store())


def repo_app() -> FastAPI:
    """The app over the repository's ontology and data/."""
    return create_app(fixture_settings(), repo_store())


def repo_or_fixture_app() -> FastAPI:
    """The repository's data when data/ holds any, else the fixture graph."""
    return repo_app() if repo_has_data() else fixture_app()
