"""Lists of resources per class, with filters by kind, thematic area, place and year, and the
counts per class for the home page. All from the catalogue: no query per request."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .catalogue import CATEGORIES, MAIN_CLASSES, Catalogue
from .present import Ref, View

PER_PAGE = 50


@dataclass
class ClassCount:
    iri: str
    label: str
    plural: str
    count: int
    category: str


@dataclass
class Facet:
    name: str
    options: list[tuple[str, str, int]]  # (value, label, count)
    selected: str | None


@dataclass
class Item:
    ref: Ref
    when: str
    description: str | None
    themes: list[Ref]
    places: list[Ref]


@dataclass
class BrowseResult:
    cls: str
    label: str
    items: list[Item]
    total: int
    page: int
    pages: int
    facets: list[Facet] = field(default_factory=list)


def class_counts(cat: Catalogue, view: View) -> list[ClassCount]:
    out = []
    for c in MAIN_CLASSES:
        iri = cat.x(c)
        n = len(cat.members.get(iri, ()))
        if n:
            category = next((k for cc, k in CATEGORIES if cc == c), "other")
            out.append(ClassCount(iri, view.class_label(iri), view.class_label(iri, plural=True), n, category))
    return out


def _sorted_members(cat: Catalogue, cls: str, lang: str) -> list[str]:
    key = ("sorted", cls, lang)
    found = cat.memo.get(key)
    if found is None:
        found = sorted(cat.members.get(cls, []), key=lambda i: cat.label(i, lang).casefold())
        cat.memo[key] = found
    return found


def browse(
    cat: Catalogue, view: View, cls: str, kind: str | None = None, theme: str | None = None,
    place: str | None = None, year: str | None = None, page: int = 1,
) -> BrowseResult:
    members = _sorted_members(cat, cls, view.lang)
    supers = cat.closure([cls])

    def kinds_of(i: str) -> set[str]:
        return (set(cat.types.get(i, ())) - supers) | set(cat.kinds.get(i, ()))

    def years_of(i: str) -> set[str]:
        span = cat.year_span(i)
        return {str(y) for y in span} if span else set()

    def keep(i: str, skip: str | None = None) -> bool:
        if kind and skip != "kind" and kind not in kinds_of(i):
            return False
        if theme and skip != "theme" and theme not in cat.themes.get(i, ()):
            return False
        if place and skip != "place" and place not in cat.places.get(i, ()):
            return False
        return not (year and skip != "year" and year not in years_of(i))

    selected = [i for i in members if keep(i)]
    facets = []
    for name, values_of, current in (
        ("kind", kinds_of, kind),
        ("theme", lambda i: set(cat.themes.get(i, ())), theme),
        ("place", lambda i: set(cat.places.get(i, ())), place),
        ("year", years_of, year),
    ):
        counts: Counter[str] = Counter()
        for i in members:
            if keep(i, skip=name):
                counts.update(values_of(i))
        if not counts:
            continue
        if name == "year":
            options = [(y, y, n) for y, n in sorted(counts.items(), reverse=True)]
        else:
            options = sorted(
                ((v, view.class_label(v) if name == "kind" else view.label(v), n) for v, n in counts.items()),
                key=lambda o: o[1].casefold(),
            )
        facets.append(Facet(name, options, current))
    pages = max(1, -(-len(selected) // PER_PAGE))
    page = min(max(1, page), pages)
    window = selected[(page - 1) * PER_PAGE: page * PER_PAGE]
    items = [
        Item(
            ref=view.ref(i), when=view.dates_of(i), description=view.description(i),
            themes=[view.ref(t) for t in cat.themes.get(i, ())][:4],
            places=[view.ref(p) for p in cat.places.get(i, ())][:4],
        )
        for i in window
    ]
    return BrowseResult(cls, view.class_label(cls, plural=True), items, len(selected), page, pages, facets)
