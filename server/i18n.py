"""Interface language: chosen by ?lang=, then a cookie, then Accept-Language; labels fall back
lv → en → IRI."""

from __future__ import annotations

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
