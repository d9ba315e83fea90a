"""Interface language: chosen by ?lang=, then a cookie, then Accept-Language; labels fall back
lv → en → IRI."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from fastapi import Request

LANGS = ("en", "lv")


def choose_lang(request: Request, default: str = "en") -> str:
    q = request.query_params.get("lang")
    if q in LANGS:
        return q
    c = request.cookies.get("lang")
    if c in LANGS:
        return c
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGS:
            return tag
    return default


# ---------------------------------------------------------------- interface strings
# Every piece of interface text, in both languages, lives in ui_strings.json; templates and
# routes look them up with translate() (templates: t("key")).

UI_STRINGS_FILE = Path(__file__).parent / "ui_strings.json"


@cache
def ui_strings() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads(UI_STRINGS_FILE.read_text(encoding="utf-8"))
    return data


def translate(key: str, lang: str, **values: object) -> str:
    """The interface string ``key`` in ``lang`` (falling back to English, then the key)."""
    entry = ui_strings().get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry.get("en") or key
    return text.format(**values) if values else text


def lang_url(request: Request, lang: str) -> str:
    """This page's URL in another interface language (its other query parameters kept)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    params.append(("lang", lang))
    return f"{request.url.path}?{urlencode(params)}"
