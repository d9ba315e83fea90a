"""Jinja2 templates: one environment, one base template, autoescaping always on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

from . import __version__
from .i18n import lang_url, translate

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals["version"] = __version__


@pass_context
def _t(context: Context, key: str, **values: object) -> str:
    """``t("key")`` in templates: the interface string in the page's language."""
    return translate(key, context.get("lang", "en"), **values)


templates.env.globals["t"] = _t
templates.env.globals["lang_url"] = lang_url


def render(
    request: Request, name: str, context: dict[str, Any], lang: str, status_code: int = 200
) -> HTMLResponse:
    response = templates.TemplateResponse(
        request, name, {"lang": lang, **context}, status_code=status_code
    )
    if request.query_params.get("lang") == lang:
        response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="lax")
    response.headers["Vary"] = "Accept, Accept-Language, Cookie"
    response.headers["Content-Language"] = lang
    return response
