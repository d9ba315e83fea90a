"""How terms read on a page: links, labels in the chosen language, localised dates, numbers
and euro amounts, and citations. Pure functions of the catalogue and the language."""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import pyoxigraph as ox

from ..i18n import translate
from .catalogue import Catalogue
from .vocab import class_wording, humanise, property_wording

XSD = "http://www.w3.org/2001/XMLSchema#"
MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "lv": ("janvāris", "februāris", "marts", "aprīlis", "maijs", "jūnijs", "jūlijs", "augusts",
           "septembris", "oktobris", "novembris", "decembris"),
}
# Latvian month names in the genitive, as used after a day ("28. novembrī" is locative; the
# documents write "2018. gada 28. novembris" in the nominative, which we follow).
NBSP = "\u00a0"
NNBSP = "\u202f"
# Passages (citations) a source section's page lists; the rest are on its paged list (the
# section's incoming oa:hasSource, on /related). 100: the largest section of the bundled graph
# cites 99 passages, so its pages list every passage as before; a synthetic section of 500
# would otherwise be a 2 MB page.
PASSAGES_PAGE = 100
OA_HAS_SOURCE = "http://www.w3.org/ns/oa#hasSource"


@lru_cache(maxsize=1 << 16)
def resource_path(iri: str, base: str) -> str:
    """The local URL of a resource's page: ``{base}id/x`` → ``/doc/x`` (the document about
    the thing), ``{base}def/x`` and ``{base}data/x`` at their own path, anything else at
    ``/resource?iri=…``."""
    if iri.startswith(base) and "#" not in iri and "?" not in iri:
        rest = iri[len(base):]
        if rest.startswith("id/") and len(rest) > 3:
            return "/doc/" + quote(rest[3:], safe="/:@-._~!$&'()*+,;=")
        if rest.startswith(("def/", "data/")):
            return "/" + quote(rest, safe="/:@-._~!$&'()*+,;=")
    return "/resource?" + urlencode({"iri": iri})


@lru_cache(maxsize=4096)
def passages_url(section: str) -> str:
    """The paged list of every passage cited from ``section``: its incoming ``oa:hasSource``
    relation on /related (add ``&page=N``)."""
    return "/related?" + urlencode({"iri": section, "p": OA_HAS_SOURCE, "dir": "in"})


def is_web_iri(iri: str) -> bool:
    """Whether ``iri`` is an http(s) address a page may link to directly."""
    return iri[:8].lower().startswith(("http://", "https://"))


def format_date(lit: ox.Literal | str | None, lang: str) -> str:
    """``2018-11-28`` → "28 November 2018" / "2018. gada 28. novembris"; gYearMonth and gYear
    likewise; anything else as written."""
    if lit is None:
        return ""
    value = lit.value if isinstance(lit, ox.Literal) else lit
    parts = value[:10].split("-")
    try:
        if len(parts) >= 3 and len(parts[0]) == 4:
            y, m, d = int(parts[0]), int(parts[1]), int(parts[2][:2])
            month = MONTHS[lang][m - 1]
            return f"{y}. gada {d}. {month}" if lang == "lv" else f"{d} {month} {y}"
        if len(parts) == 2 and len(parts[0]) == 4:
            y, m = int(parts[0]), int(parts[1][:2])
            month = MONTHS[lang][m - 1]
            return f"{y}. gada {month}" if lang == "lv" else f"{month} {y}"
        if len(parts) == 1 and len(value) == 4 and value.isdigit():
            return f"{value}. gads" if lang == "lv" else value
    except (ValueError, IndexError):
        pass
    return value


def format_number(value: str | int | float | Decimal, lang: str, decimals: int | None = None) -> str:
    """Digit groups and decimal mark of the language: 1234567.5 → "1,234,567.5" / "1 234 567,5"."""
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if decimals is None:
        exponent = d.as_tuple().exponent
        decimals = max(0, -exponent) if isinstance(exponent, int) else 0
    text = f"{d:,.{decimals}f}"
    if lang == "lv":
        text = text.replace(",", NNBSP).replace(".", ",")
    return text


def format_amount(value: str | Decimal | int | float, currency: str | None, lang: str) -> str:
    """An amount with two decimals and its currency: "EUR 68,491.00" / "68 491,00 EUR"."""
    cur = currency or "EUR"
    num = format_number(value, lang, 2)
    return f"{num}{NBSP}{cur}" if lang == "lv" else f"{cur}{NBSP}{num}"


def format_literal(lit: ox.Literal, lang: str) -> str:
    dt = lit.datatype.value if lit.datatype else ""
    if dt in (XSD + "date", XSD + "gYear", XSD + "gYearMonth", XSD + "dateTime"):
        return format_date(lit, lang)
    if dt in (XSD + "integer", XSD + "decimal", XSD + "double", XSD + "int", XSD + "nonNegativeInteger"):
        return format_number(lit.value, lang)
    if dt == XSD + "boolean" and lit.value in ("true", "false"):
        return translate(f"format.{lit.value}", lang)
    return lit.value


T = TypeVar("T")
MEMO_SIZE = 50_000  # remembered links, labels, dates and citations per catalogue and language
_MISSING = object()
_MEMOS: dict[tuple[int, str], tuple[Catalogue, dict[Any, Any]]] = {}


_views = 0
FREEZE_AT = (1, 100, 2000)  # the Views (requests) after which what is alive is frozen


def _memo(catalogue: Catalogue, lang: str) -> dict[Any, Any]:
    """The memo of ``catalogue`` in ``lang``, shared by the Views of every request."""
    global _views
    key = (id(catalogue), lang)
    entry = _MEMOS.get(key)
    if entry is None or entry[0] is not catalogue:
        if len(_MEMOS) >= 8:  # catalogues replaced (tests build many apps): forget the old
            _MEMOS.clear()
        entry = _MEMOS[key] = (catalogue, {})
    _views += 1
    if _views in FREEZE_AT:
        # The catalogue (and the parts of it the first pages decode) lives as long as the
        # server: moved out of the cyclic collector's reach, so its full collections no longer
        # walk millions of objects and stall whichever request triggers one (the p99).
        gc.freeze()
    return entry[1]


@dataclass(frozen=True)
class CiteView:
    iri: str
    short: str  # "km2018 · IV · fn 3"
    href: str  # the source section's page, anchored at the citation
    doc: str  # document label
    section: str  # section label
    footnote: str | None
    quote: str | None

    @property
    def title(self) -> str:
        parts = [f"{self.doc} — {self.section}"]
        if self.footnote:
            parts.append(f"fn {self.footnote}")
        if self.quote:
            parts.append(f"„{self.quote}”")
        return " · ".join(parts)


@dataclass(frozen=True)
class Ref:
    """A link to a resource, as pages show it."""

    iri: str
    label: str
    url: str
    category: str
    type_label: str
    lang: str | None = None  # when the label is not in the page's language
    external: bool = False


class View:
    """Everything a template needs to turn IRIs and literals into text in one language."""

    def __init__(self, catalogue: Catalogue, lang: str) -> None:
        self.cat = catalogue
        self.lang = lang
        self.base = catalogue.base
        self._memo = _memo(catalogue, lang)

    def _cached(self, kind: str, key: object, make: Callable[[], T]) -> T:
        """``make()``, remembered per catalogue and language: the catalogue does not change
        while it serves, so a resource's link, a citation or a date reads the same on every
        page (bounded: the memo starts afresh past MEMO_SIZE entries)."""
        k = (kind, key)
        found = self._memo.get(k, _MISSING)
        if found is _MISSING:
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            found = self._memo[k] = make()
        return found

    def memo(self, kind: str, key: object, make: Callable[[], T]) -> T:
        """``make()`` remembered under (``kind``, ``key``) like the View's own lookups; the
        result is shared by every page that asks, so it must not be changed."""
        return self._cached(kind, key, make)

    # links and labels
    def url(self, iri: str) -> str:
        return resource_path(iri, self.base)

    def label(self, iri: str) -> str:
        return self.cat.label(iri, self.lang)

    def label_lang(self, iri: str) -> str | None:
        labels = self.cat.pref.get(iri) or self.cat.rdfs_label.get(iri) or {}
        if self.lang in labels:
            return None
        for code in ("lv", "en"):
            if code in labels:
                return code
        return None

    def other_label(self, iri: str) -> tuple[str, str] | None:
        return self.cat.other_label(iri, self.lang)

    def ref(self, iri: str) -> Ref:
        return self._cached("ref", iri, lambda: self._ref(iri))

    def _ref(self, iri: str) -> Ref:
        known = self.cat.known(iri) or iri.startswith(self.base)
        primary = self.cat.primary.get(iri)
        return Ref(
            iri=iri,
            label=self.label(iri),
            # issue #9: only a web address is linked as is; javascript:, data: or any other
            # scheme is shown through our own /resource page, never as a clickable href
            url=self.url(iri) if known or not is_web_iri(iri) else iri,
            category=self.cat.category(iri),
            type_label=self.class_label(primary) if primary else "",
            lang=self.label_lang(iri),
            external=not known,
        )

    def class_label(self, iri: str, plural: bool = False) -> str:
        return self._cached("class", (iri, plural), lambda: self._class_label(iri, plural))

    def _class_label(self, iri: str, plural: bool) -> str:
        w = class_wording(iri, self.base)
        if w:
            if plural:
                return w.lv_inverse if self.lang == "lv" else w.en_inverse
            return w.get(self.lang)
        if self.cat.has_label(iri):
            return self.cat.label(iri, self.lang)
        return humanise(iri)

    def prop_label(self, iri: str, inverse: bool = False) -> str:
        return self._cached("prop", (iri, inverse), lambda: self._prop_label(iri, inverse))

    def _prop_label(self, iri: str, inverse: bool) -> str:
        w = property_wording(iri, self.base)
        if w:
            return w.get(self.lang, inverse)
        name = self.cat.label(iri, self.lang) if self.cat.has_label(iri) else humanise(iri)
        if inverse:
            return translate("format.inverse", self.lang, name=name)
        return name

    def description(self, iri: str) -> str | None:
        return self.cat.describe_text(iri, self.lang)

    # values
    def literal(self, lit: ox.Literal) -> str:
        return format_literal(lit, self.lang)

    def date(self, lit: ox.Literal | str | None) -> str:
        return format_date(lit, self.lang)

    def number(self, value: str | int | float) -> str:
        return format_number(value, self.lang)

    def amount(self, value: str, currency: str | None = None) -> str:
        return format_amount(value, currency, self.lang)

    def period(self, start: ox.Literal | None, end: ox.Literal | None) -> str:
        if start and end and start.value != end.value:
            return f"{self.date(start)} – {self.date(end)}"
        if start:
            return self.date(start)
        if end:
            return translate("format.until", self.lang, date=self.date(end))
        return ""

    def dates_of(self, iri: str) -> str:
        return self._cached("dates", iri, lambda: self._dates_of(iri))

    def _dates_of(self, iri: str) -> str:
        d = self.cat.dates.get(iri) or {}
        return self.period(d.get("start") or d.get("from") or d.get("issued"), d.get("end") or d.get("until"))

    # citations
    def cite(self, citation_iri: str) -> CiteView | None:
        return self._cached("cite", citation_iri, lambda: self._cite(citation_iri))

    def _cite(self, citation_iri: str) -> CiteView | None:
        c = self.cat.citations.get(citation_iri)
        if c is None:
            return None
        doc_key = self.cat.short_iri(c.doc).rsplit("/", 1)[-1] if c.doc else ""
        sec_key = self.cat.short_iri(c.section).rsplit("/", 1)[-1]
        short = " · ".join(p for p in (doc_key, sec_key) if p)
        if c.footnote:
            short += f" · fn{NBSP}{c.footnote}"
        anchor = "cite-" + citation_iri.rstrip("/").rsplit("/", 1)[-1]
        return CiteView(
            iri=citation_iri,
            short=short,
            href=f"{self.passage_page(c.section, citation_iri)}#{anchor}" if c.section else self.url(citation_iri),
            doc=self.label(c.doc) if c.doc else "",
            section=self.label(c.section),
            footnote=c.footnote,
            quote=c.quote,
        )

    def passage_page(self, section: str, citation_iri: str) -> str:
        """The page listing ``citation_iri``'s passage: the section's own page for its first
        PASSAGES_PAGE passages, the right page of its paged list for the others."""
        order = self.cat.by_section.get(section, ())
        if len(order) <= PASSAGES_PAGE:
            return self.url(section)
        position = self._cached("passage_order", section, lambda: {c: i for i, c in enumerate(order)})
        page = position.get(citation_iri, 0) // PASSAGES_PAGE + 1
        return self.url(section) if page == 1 else f"{passages_url(section)}&page={page}"

    def cites(self, iri: str, limit: int = 3) -> list[CiteView]:
        """The first ``limit`` citations of ``iri`` (a shared list: read it, do not change it)."""
        return self._cached("cites", (iri, limit), lambda: self._cites(iri, limit))

    def _cites(self, iri: str, limit: int) -> list[CiteView]:
        return [v for c in self.cat.derived.get(iri, ())[:limit] if (v := self.cite(c))]

    def more_cites(self, iri: str, limit: int = 3) -> int:
        return max(0, len(self.cat.derived.get(iri, ())) - limit)
