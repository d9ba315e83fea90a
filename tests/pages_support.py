"""Graphs the page tests run against: the fixture graph of tests/fixtures/pages/ (always) and
the repository's data/ (when colleagues have written it)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from server.config import REPO_ROOT, Settings
from server.sources import SourceFile, graph_iri
from server.store import OxigraphStore, load_files, open_store

FIXTURE_DIR = Path(__file__).parent / "fixtures" / "pages"


def fixture_settings() -> Settings:
    return Settings(root=REPO_ROOT, validate_on_start=False)


@cache
def fixture_store() -> OxigraphStore:
    """The ontology plus the fixture graph, in one embedded store."""
    settings = fixture_settings()
    base = settings.base_iri
    files = [SourceFile(p, graph_iri(base, "ontology")) for p in sorted(settings.ontology_dir.glob("*.ttl"))]
    files += [SourceFile(p, graph_iri(base, "fixture")) for p in sorted(FIXTURE_DIR.glob("*.ttl"))]
    return OxigraphStore(inner=load_files(files, base), files=files)


def repo_has_data() -> bool:
    return any((REPO_ROOT / "data").rglob("*.ttl"))


@cache
def repo_store() -> OxigraphStore:
    return open_store(fixture_settings())
