"""Jinja2 templates: one environment, one base template, autoescaping always on."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from . import __version__
from .front_cache import keep
from .i18n import lang_url, translate
from .response_cache import cache_of, key_of

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals["version"] = __version__
# Templates ship with the code: no stat() of every template (and the one it extends) on each
# render to see whether it changed on disk.
templates.env.auto_reload = False


@pass_context
def _t(context: Context, key: str, **values: object) -> str:
    """``t("key")`` in templates: the interface string in the page's language."""
    return translate(key, context.get("lang", "en"), **values)


templates.env.globals["t"] = _t
templates.env.globals["lang_url"] = lang_url

# The two snippets every relation on a page repeats, written here rather than as Jinja macros
# (a macro call costs more than the link it writes) and kept once made: a page lists dozens.
# The macros `ref` and `cites` of _page_macros.html write the same HTML.
_SNIPPETS: dict[tuple[Any, ...], Markup] = {}
SNIPPETS_KEPT = 50_000


def _keep(key: tuple[Any, ...], html: Markup) -> Markup:
    if len(_SNIPPETS) >= SNIPPETS_KEPT:
        _SNIPPETS.clear()
    _SNIPPETS[key] = html
    return html


def ref_html(r: Any, show_type: bool = False) -> Markup:
    """A link to a resource (a present.Ref), with its type when ``show_type``."""
    key = ("ref", r, show_type)
    found = _SNIPPETS.get(key)
    if found is not None:
        return found
    if r.external:
        html = Markup('<a class="ref ext" href="{}" rel="external">{}</a>').format(r.url, r.label)
    elif r.lang:
        html = Markup('<a class="ref cat-{}" href="{}" lang="{}">{}</a>').format(
            r.category, r.url, r.lang, r.label)
    else:
        html = Markup('<a class="ref cat-{}" href="{}">{}</a>').format(r.category, r.url, r.label)
    if show_type and r.type_label:
        html += Markup(' <span class="type">{}</span>').format(r.type_label)
    return _keep(key, html)


@pass_context
def cites_html(context: Context, cites: Any, block: bool = False) -> Markup:
    """The citations next to a fact (present.CiteView); with ``block``, their quotes too."""
    return _cites_html(cites, block, context.get("lang", "en"))


def _cites_html(cites: Any, block: bool, lang: str) -> Markup:
    if not cites:
        return Markup("")
    key = ("cites", tuple(cites), block, lang)
    found = _SNIPPETS.get(key)
    if found is not None:
        return found
    link = Markup(' <a class="cite" href="{}" title="{}">{}</a>')
    parts = [Markup('<span class="cites">'), *(link.format(c.href, c.title, c.short) for c in cites),
             Markup("</span>")]
    if block:
        quote = Markup('<details class="quote"><summary>{}</summary><blockquote lang="lv">{}'
                       "</blockquote></details>")
        summary = translate("cite.quote", lang)
        parts += [quote.format(summary, c.quote) for c in cites if c.quote]
    return _keep(key, Markup("").join(parts))


templates.env.globals["ref_html"] = ref_html
templates.env.globals["cites_html"] = cites_html


@cache
def _in_language(lang: str) -> dict[str, Callable[..., Any]]:
    """``t`` and ``cites_html`` bound to one language. Jinja hands a ``pass_context`` function
    a copy of the template's context whenever it is called inside a loop or block, which costs
    more than the string it looks up; these need no context (the globals of the same names
    stay for templates rendered without ``render``)."""

    def t(key: str, **values: object) -> str:
        return translate(key, lang, **values)

    def cites(cites: Any, block: bool = False) -> Markup:
        return _cites_html(cites, block, lang)

    return {"t": t, "cites_html": cites}


def render(
    request: Request, name: str, context: dict[str, Any], lang: str, status_code: int = 200
) -> HTMLResponse:
    response = templates.TemplateResponse(
        request, name, {"lang": lang, **_in_language(lang), **context}, status_code=status_code
    )
    _page_headers(request, response, lang)
    return response


# Whether a page came from the response cache ("hit"), was rendered and kept ("miss") or
# rendered with the cache turned off ("off"): what a load test reads its hit rate from.
CACHE_HEADER = "X-Romagraph-Cache"


def render_cached(
    request: Request, name: str, context: Callable[[], dict[str, Any]], lang: str,
    *key: Hashable,
) -> HTMLResponse:
    """``render`` for a page that is a function of its URL, language and ``key`` (the catalogue
    it reads): the body is kept (see response_cache.py; or the whole answer, by front_cache.py)
    and ``context()`` runs only to make it."""
    cache = cache_of(request)
    cache_key = (name, *key_of(request, lang, *key)) if cache is not None else ()
    body = cache.get(cache_key) if cache is not None else None
    if body is None:
        response = render(request, name, context(), lang)
        if cache is not None and response.status_code == 200:
            keep(request.scope, cache, cache_key, bytes(response.body))
        response.headers[CACHE_HEADER] = "miss" if cache is not None else "off"
        return response
    response = HTMLResponse(body)
    _page_headers(request, response, lang)
    response.headers[CACHE_HEADER] = "hit"
    return response


def _page_headers(request: Request, response: Response, lang: str) -> None:
    if request.query_params.get("lang") == lang:
        response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="lax")
    response.headers["Vary"] = "Accept, Accept-Language, Cookie"
    response.headers["Content-Language"] = lang
