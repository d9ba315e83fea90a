"""Typed dependencies, so route signatures read as what they need.

They are ``async def`` although they never wait: FastAPI runs a plain ``def`` dependency in its
thread pool, a thread hop per dependency per request that costs more than the lookup itself."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from .config import Settings
from .i18n import choose_lang
from .store import OxigraphStore


async def _store(request: Request) -> OxigraphStore:
    store: OxigraphStore = request.app.state.store
    return store


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _lang(request: Request) -> str:
    return choose_lang(request, request.app.state.settings.default_lang)


StoreDep = Annotated[OxigraphStore, Depends(_store)]
SettingsDep = Annotated[Settings, Depends(_settings)]
LangDep = Annotated[str, Depends(_lang)]
