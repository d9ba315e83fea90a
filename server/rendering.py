"""Jinja2 templates: one environment, one base template, autoescaping always on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from . import __version__

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals["version"] = __version__


def render(
    request: Request, name: str, context: dict[str, Any], lang: str, status_code: int = 200
) -> HTMLResponse:
    response = templates.TemplateResponse(
        request, name, {"lang": lang, **context}, status_code=status_code
    )
    if request.query_params.get("lang") == lang:
        response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="lax")
    response.headers["Vary"] = "Accept, Accept-Language, Cookie"
    return response
