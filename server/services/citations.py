"""Source documents and sections with everything the graph cites from them."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from ..store import Store
from . import access
from .catalogue import Catalogue
from .present import CiteView, Ref, View

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


FACTS_PER_PASSAGE = 60  # more are listed on the citation's own page


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
    passages: list[CitedPassage]
    facts: int


@dataclass
class DocumentView:
    ref: Ref
    key: str
    description: str | None
    sections: list[SectionView]


def section_view(cat: Catalogue, view: View, section: str, with_facts: bool = True) -> SectionView:
    passages = []
    n = 0
    for c in cat.by_section.get(section, []):
        cv = view.cite(c)
        if cv is None:
            continue
        derived = cat.cited.get(c, [])
        n += len(derived)
        facts = sorted(
            (view.ref(s) for s in derived[:FACTS_PER_PASSAGE]), key=lambda r: (r.category, r.label.casefold())
        ) if with_facts else []
        passages.append(CitedPassage(cv, "cite-" + c.rstrip("/").rsplit("/", 1)[-1], facts, len(derived), view.url(c)))
    return SectionView(view.ref(section), section.rstrip("/").rsplit("/", 1)[-1], passages, n)


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
