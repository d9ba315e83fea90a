"""Source documents and sections with everything the graph cites from them."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from ..store import Store
from . import access
from .catalogue import Catalogue
from .present import PASSAGES_PAGE, CiteView, Ref, View, passages_url

ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50}
FIRST = ("abbreviations", "intro")
LAST = ("colophon",)


def section_key(key: str) -> tuple[int, int, str]:
    """Order sections as the documents do: abbreviations, intro, I, II-…, III, …, colophon."""
    if key in FIRST:
        return (0, FIRST.index(key), "")
    if key in LAST:
        return (2, LAST.index(key), "")
    m = re.match(r"([IVXL]+)(.*)", key)
    if not m:
        return (1, 999, key)
    total, prev = 0, 0
    for ch in reversed(m.group(1)):
        val = ROMAN[ch]
        total = total - val if val < prev else total + val
        prev = max(prev, val)
    return (1, total, m.group(2))


# More are listed on the citation's own page. The bundled graph's largest is 19; a synthetic
# 1M graph's passages derive ≈24 each, which at 60 made a section page 8× a project page.
FACTS_PER_PASSAGE = 20


@dataclass
class CitedPassage:
    cite: CiteView
    anchor: str
    facts: list[Ref]
    total: int
    url: str  # the citation's own page (everything derived from it, paged)


@dataclass
class SectionView:
    ref: Ref
    key: str
    passages: list[CitedPassage]  # one page of them (PASSAGES_PAGE)
    facts: int  # derived from every passage of the section, not only the listed ones
    total: int = 0  # passages cited from the section
    page: int = 1
    pages: int = 1
    more_url: str | None = None  # the paged list of all passages, when this page is not all

    @property
    def first(self) -> int:
        """The position of the first passage listed (from 1)."""
        return (self.page - 1) * PASSAGES_PAGE + 1

    @property
    def last(self) -> int:
        return (self.page - 1) * PASSAGES_PAGE + len(self.passages)


@dataclass
class DocumentView:
    ref: Ref
    key: str
    description: str | None
    sections: list[SectionView]


def section_view(cat: Catalogue, view: View, section: str, with_facts: bool = True,
                 page: int = 1) -> SectionView:
    """Page ``page`` of the passages cited from ``section`` (PASSAGES_PAGE each, in the
    catalogue's order), or with ``with_facts=False`` only the counts (the /sources table); the
    counts come from the catalogue without building the passages they count."""
    order = cat.by_section.get(section, [])
    total = len(order)
    offset = (page - 1) * PASSAGES_PAGE
    listed = order[offset: offset + PASSAGES_PAGE] if with_facts else []
    passages = []
    for c in listed:
        cv = view.cite(c)
        if cv is None:
            continue
        derived = cat.cited.get(c, [])
        facts = sorted(
            (view.ref(s) for s in derived[:FACTS_PER_PASSAGE]), key=lambda r: (r.category, r.label.casefold())
        )
        passages.append(CitedPassage(cv, "cite-" + c.rstrip("/").rsplit("/", 1)[-1], facts, len(derived), view.url(c)))
    n = sum(len(cat.cited.get(c, ())) for c in order)
    pages = max(1, -(-total // PASSAGES_PAGE))
    more = passages_url(section) if total > PASSAGES_PAGE else None
    return SectionView(view.ref(section), section.rstrip("/").rsplit("/", 1)[-1], passages, n,
                       total, page, pages, more)


def documents(store: Store, cat: Catalogue, view: View, only: str | None = None,
              with_facts: bool = False) -> list[DocumentView]:
    sections: dict[str, list[str]] = defaultdict(list)
    for r in access.select(store, "source_sections", cat.base):
        doc = r["doc"].value
        sections.setdefault(doc, [])
        if "section" in r:
            sections[doc].append(r["section"].value)
    # citations whose section is not declared part of a document still count
    for c in cat.citations.values():
        if c.doc and c.doc in sections and c.section not in sections[c.doc]:
            sections[c.doc].append(c.section)
    out = []
    for doc, secs in sections.items():
        if only and doc != only:
            continue
        key = doc.rstrip("/").rsplit("/", 1)[-1]
        svs = [section_view(cat, view, s, with_facts) for s in set(secs)]
        svs.sort(key=lambda s: section_key(s.key))
        description = view.description(doc)
        if description == view.label(doc):
            description = None
        out.append(DocumentView(view.ref(doc), key, description, svs))
    out.sort(key=lambda d: d.key)
    return out
