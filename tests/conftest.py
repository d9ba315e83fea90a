"""Shared fixtures: the repository's settings and its loaded store."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import REPO_ROOT, Settings
from server.store import OxigraphStore, open_store

ARTIFACTS = REPO_ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(root=REPO_ROOT, validate_on_start=False)


@pytest.fixture(scope="session")
def store(settings: Settings) -> OxigraphStore:
    return open_store(settings)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
