"""Typed dependencies, so route signatures read as what they need."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from .config import Settings
from .i18n import choose_lang
from .store import OxigraphStore


def _store(request: Request) -> OxigraphStore:
    return request.app.state.store  # type: ignore[no-any-return]


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _lang(request: Request) -> str:
    return choose_lang(request, request.app.state.settings.default_lang)


StoreDep = Annotated[OxigraphStore, Depends(_store)]
SettingsDep = Annotated[Settings, Depends(_settings)]
LangDep = Annotated[str, Depends(_lang)]
