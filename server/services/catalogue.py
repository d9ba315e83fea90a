"""The page catalogue: labels, types, dates, facets and citations of every resource, read from
the store once at start-up so that pages, lists and search never scan the graph per request."""

from __future__ import annotations

import logging
import marshal
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from sys import intern
from typing import Any

import pyoxigraph as ox

from ..store import Store
from . import access, vocab
from .deferred import Deferred
from .sharded import PackedList

log = logging.getLogger(__name__)

# Class → category (colour, icon, grouping), most specific first; the first class a resource
# has decides its primary type.
CATEGORIES: tuple[tuple[str, str], ...] = (
    ("rg:PlanGoal", "plan"), ("rg:PlanTask", "plan"), ("rg:SpecificObjective", "plan"),
    ("rg:ProgrammeMeasure", "plan"), ("rg:PlanItem", "plan"),
    ("rg:Plan", "document"), ("eli:LegalResource", "document"), ("rg:PolicyDocument", "document"),
    ("rg:ConsultativeBody", "org"), ("schema:NGO", "org"), ("rg:InternationalBody", "org"),
    ("schema:Corporation", "org"), ("cv:PublicOrganisation", "org"), ("org:Organization", "org"),
    ("foaf:Person", "person"), ("schema:Project", "project"), ("schema:Event", "event"),
    ("dct:Location", "place"), ("rg:FundingProgramme", "programme"), ("qb:DataSet", "dataset"),
    ("org:Post", "qualified"), ("org:Membership", "qualified"), ("cv:Participation", "qualified"),
    ("schema:MonetaryGrant", "qualified"), ("rg:ReportedResult", "qualified"),
    ("rg:SourceDocument", "source"), ("rg:SourceSection", "source"), ("rg:Citation", "source"),
    ("qb:Observation", "observation"), ("qb:DataStructureDefinition", "dataset"),
    ("skos:ConceptScheme", "concept"), ("skos:Concept", "concept"),
    ("owl:Ontology", "ontology"), ("owl:Class", "ontology"), ("owl:ObjectProperty", "ontology"),
    ("owl:DatatypeProperty", "ontology"), ("foaf:Document", "document"),
)
# The classes the home page counts and the browse page offers, in display order.
MAIN_CLASSES: tuple[str, ...] = (
    "org:Organization", "foaf:Person", "schema:Project", "schema:Event", "rg:PlanItem",
    "rg:Plan", "eli:LegalResource", "rg:PolicyDocument", "rg:FundingProgramme", "dct:Location",
    "qb:DataSet", "schema:MonetaryGrant", "org:Membership", "org:Post", "cv:Participation",
    "rg:ReportedResult", "rg:SourceSection", "rg:Citation", "qb:Observation",
)
# Qualified (n-ary) relation nodes that pages show flattened.
QUALIFIED: tuple[str, ...] = (
    "cv:Participation", "org:Membership", "org:Post", "schema:MonetaryGrant", "rg:ReportedResult",
)

DATE_KEYS = {
    "schema:startDate": "start", "schema:endDate": "end", "schema:validFrom": "from",
    "schema:validUntil": "until", "dct:issued": "issued",
}


@dataclass(frozen=True)
class Citation:
    iri: str
    section: str
    doc: str | None
    footnote: str | None
    quote: str | None


# A qualified node's statements by property, and the resources pointing to it by property.
QualifiedNode = tuple[dict[str, list[ox.NamedNode | ox.Literal]], dict[str, list[str]]]
# How a term is persisted (snapshot.py): an IRI as itself, a literal as (value, datatype, lang).
PlainTerm = str | tuple[str, str, str | None]


def plain_term(term: ox.NamedNode | ox.Literal) -> PlainTerm:
    if isinstance(term, ox.NamedNode):
        return term.value
    return (term.value, term.datatype.value, term.language)


def term_of(plain: PlainTerm) -> ox.NamedNode | ox.Literal:
    if isinstance(plain, str):
        return ox.NamedNode(plain)
    value, datatype, lang = plain
    if lang is not None:
        return ox.Literal(value, language=lang)
    return ox.Literal(value, datatype=ox.NamedNode(datatype))


class QualifiedIndex(Mapping[str, QualifiedNode]):
    """The qualified nodes, each decoded when a page asks for it."""

    def __init__(self, blobs: Mapping[str, bytes]) -> None:
        self.blobs = blobs

    def __getitem__(self, q: str) -> QualifiedNode:
        out, inc = marshal.loads(self.blobs[q])  # noqa: S302 (our own checksummed file)
        return {p: [term_of(o) for o in os] for p, os in out.items()}, inc

    def __contains__(self, q: object) -> bool:
        return q in self.blobs

    def __iter__(self) -> Iterator[str]:
        return iter(self.blobs)

    def __len__(self) -> int:
        return len(self.blobs)


@dataclass
class Catalogue(Deferred):
    """What the pages need to know about every resource, read once (from the store by
    ``build``, or from the index ``romagraph load`` persisted next to it by ``from_sections``)."""

    base: str
    pref: dict[str, dict[str, str]] = field(default_factory=dict)  # iri → lang → label
    alt: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # iri → [(lang, label)]
    rdfs_label: dict[str, dict[str, str]] = field(default_factory=dict)
    description: dict[str, dict[str, str]] = field(default_factory=dict)
    types: dict[str, tuple[str, ...]] = field(default_factory=dict)  # direct types
    supers: dict[str, frozenset[str]] = field(default_factory=dict)  # class → superclasses
    members: dict[str, list[str]] = field(default_factory=dict)  # class (with supers) → iris
    dates: dict[str, dict[str, ox.Literal]] = field(default_factory=dict)
    themes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # dct:subject
    places: dict[str, tuple[str, ...]] = field(default_factory=dict)  # dct:spatial
    kinds: dict[str, tuple[str, ...]] = field(default_factory=dict)  # org:classification, dct:type
    notation: dict[str, str] = field(default_factory=dict)
    scheme: dict[str, str] = field(default_factory=dict)  # skos:inScheme (a plan item's plan)
    citations: dict[str, Citation] = field(default_factory=dict)
    derived: dict[str, tuple[str, ...]] = field(default_factory=dict)  # iri → citations
    cited: dict[str, list[str]] = field(default_factory=dict)  # citation → iris derived from it
    by_section: dict[str, list[str]] = field(default_factory=dict)  # section → citations
    # qualified node → (its statements by property, the contexts pointing to it by property)
    qualified: Mapping[str, QualifiedNode] = field(default_factory=dict)
    predicates: tuple[str, ...] = ()
    primary: dict[str, str] = field(default_factory=dict)  # iri → primary type
    category_of: dict[str, str] = field(default_factory=dict)
    triples: int = 0
    _reverse_cache: dict[str, dict[str, list[str]]] = field(default_factory=dict, repr=False)
    memo: dict[tuple[str, ...], list[str]] = field(default_factory=dict, repr=False)  # derived lists
    _closures: dict[tuple[str, ...], frozenset[str]] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ building

    @classmethod
    def build(cls, store: Store, base: str) -> Catalogue:
        started = time.perf_counter()
        cat = cls(base=base, triples=len(store))
        cat._read_labels(store)
        cat._read_types(store)
        cat._read_facets(store)
        cat._read_citations(store)
        cat._read_qualified(store)
        cat.predicates = tuple(
            sorted(r["p"].value for r in access.select(store, "catalogue_predicates", base))
        )
        log.info(
            "page catalogue: %d resources in %.2f s", len(cat.types), time.perf_counter() - started
        )
        return cat

    def _read_labels(self, store: Store) -> None:
        skos_pref, skos_alt = self.x("skos:prefLabel"), self.x("skos:altLabel")
        rdfs_label = self.x("rdfs:label")
        alt: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for row in access.rows(store, "catalogue_labels", self.base):
            s, p, o = intern(row["s"].value), row["p"].value, row["o"]
            assert isinstance(o, ox.Literal)
            lang = o.language or ""
            if p == skos_pref:
                self.pref.setdefault(s, {}).setdefault(lang, o.value)
            elif p == skos_alt:
                alt[s].append((lang, o.value))
            elif p == rdfs_label:
                self.rdfs_label.setdefault(s, {}).setdefault(lang, o.value)
            else:  # descriptions, titles, definitions
                self.description.setdefault(s, {}).setdefault(lang, o.value)
        for s in alt:
            alt[s].sort()
        self.alt = dict(alt)

    def _read_types(self, store: Store) -> None:
        supers: dict[str, set[str]] = defaultdict(set)
        for row in access.rows(store, "catalogue_superclasses", self.base):
            supers[intern(row["class"].value)].add(intern(row["super"].value))
        self.supers = {c: frozenset(s) for c, s in supers.items()}
        types: dict[str, list[str]] = defaultdict(list)
        for row in access.rows(store, "catalogue_types", self.base):
            types[intern(row["s"].value)].append(intern(row["type"].value))
        members: dict[str, list[str]] = defaultdict(list)
        ranked = [(self.x(c), cat) for c, cat in CATEGORIES]
        for s, ts in types.items():
            self.types[s] = tuple(sorted(ts))
            closure = self.closure(ts)
            for c in closure:
                members[c].append(s)
            for c, category in ranked:
                if c in closure:
                    self.primary[s] = c
                    self.category_of[s] = category
                    break
            else:
                self.primary[s] = self.types[s][0]
                self.category_of[s] = "other"
        self.members = dict(members)

    def _read_facets(self, store: Store) -> None:
        subject, spatial = self.x("dct:subject"), self.x("dct:spatial")
        kinds = {self.x("org:classification"), self.x("dct:type")}
        notation, in_scheme = self.x("skos:notation"), self.x("skos:inScheme")
        date_keys = {self.x(k): v for k, v in DATE_KEYS.items()}
        themes: dict[str, list[str]] = defaultdict(list)
        places: dict[str, list[str]] = defaultdict(list)
        kind: dict[str, list[str]] = defaultdict(list)
        for row in access.rows(store, "catalogue_facets", self.base):
            s, p, o = intern(row["s"].value), row["p"].value, row["o"]
            if p in date_keys and isinstance(o, ox.Literal):
                self.dates.setdefault(s, {}).setdefault(date_keys[p], o)
            elif p == notation and isinstance(o, ox.Literal):
                self.notation.setdefault(s, o.value)
            elif isinstance(o, ox.NamedNode):
                v = intern(o.value)
                if p == in_scheme:
                    self.scheme.setdefault(s, v)
                elif p == subject:
                    themes[s].append(v)
                elif p == spatial:
                    places[s].append(v)
                elif p in kinds:
                    kind[s].append(v)
        self.themes = {k: tuple(sorted(v)) for k, v in themes.items()}
        self.places = {k: tuple(sorted(v)) for k, v in places.items()}
        self.kinds = {k: tuple(sorted(v)) for k, v in kind.items()}

    def _read_citations(self, store: Store) -> None:
        for row in access.rows(store, "catalogue_citations", self.base):
            c = intern(row["citation"].value)
            if c in self.citations:
                continue
            doc = row.get("doc")
            fn, quote = row.get("footnote"), row.get("quote")
            self.citations[c] = Citation(
                c, intern(row["section"].value), intern(doc.value) if doc else None,
                fn.value if fn else None, quote.value if quote else None,
            )
        by_section: dict[str, list[str]] = defaultdict(list)
        for cit in sorted(self.citations.values(), key=lambda c: (c.footnote is not None, c.iri)):
            by_section[cit.section].append(cit.iri)
        self.by_section = dict(by_section)
        derived: dict[str, list[str]] = defaultdict(list)
        cited: dict[str, list[str]] = defaultdict(list)
        for row in access.rows(store, "catalogue_derivations", self.base):
            s, c = intern(row["s"].value), intern(row["citation"].value)
            derived[s].append(c)
            cited[c].append(s)
        self.derived = {k: tuple(sorted(v)) for k, v in derived.items()}
        self.cited = dict(cited)

    def _read_qualified(self, store: Store) -> None:
        """Kept as a persisted catalogue keeps them: one marshalled blob per node, decoded when
        a page shows the node. Millions of nodes (#8: 10M triples) then cost their bytes, not
        a Python object per statement."""
        nodes: dict[str, tuple[dict[str, list[PlainTerm]], dict[str, list[str]]]] = {}
        for row in access.rows(store, "catalogue_qualified", self.base):
            q, p, o, d = intern(row["q"].value), intern(row["p"].value), row["o"], row["dir"].value
            out, inc = nodes.setdefault(q, ({}, {}))
            if d == "out" and isinstance(o, ox.NamedNode | ox.Literal):
                out.setdefault(p, []).append(plain_term(o))
            elif d == "in" and isinstance(o, ox.NamedNode):
                inc.setdefault(p, []).append(intern(o.value))
        blobs: dict[str, bytes] = {}
        while nodes:  # popped as marshalled: the plain and the packed copies do not coexist
            q, node = nodes.popitem()
            blobs[q] = marshal.dumps(node)
        self.qualified = QualifiedIndex(blobs)

    # ------------------------------------------------------------------ persisting

    def to_sections(self) -> dict[str, Any]:
        """Every built table as plain values (str, int, tuple, list, dict, frozenset, bytes),
        which ``marshal`` writes and reads back fast; the inverse of ``from_sections``."""
        sections: dict[str, Any] = {name: getattr(self, name) for name in PLAIN_SECTIONS}
        # each class's members as one blob: counting them then decodes nothing (PackedList)
        sections["members"] = {c: PackedList.pack(m) for c, m in self.members.items()}
        sections["dates"] = {
            s: {k: plain_term(v) for k, v in d.items()} for s, d in self.dates.items()
        }
        sections["citations"] = {
            c.iri: (c.section, c.doc, c.footnote, c.quote) for c in self.citations.values()
        }
        sections["qualified"] = (  # a node as it was persisted: one marshalled blob
            self.qualified.blobs if isinstance(self.qualified, QualifiedIndex) else {
                q: marshal.dumps(({p: [plain_term(o) for o in os] for p, os in out.items()}, inc))
                for q, (out, inc) in self.qualified.items()
            }
        )
        return sections

    @classmethod
    def from_sections(
        cls, base: str, triples: int, predicates: tuple[str, ...],
        section: Callable[..., Any],
    ) -> Catalogue:
        """A catalogue whose tables are read by ``section(name)`` when first used (a mapping
        over shards decoded as their keys are asked for: ``snapshot.py``)."""
        cat = cls.__new__(cls)
        cat.base, cat.triples, cat.predicates = base, triples, predicates
        cat._reverse_cache, cat.memo, cat._closures = {}, {}, {}

        # ``section(name, convert)`` applies ``convert`` to each shard as it is decoded
        loaders: dict[str, Callable[[], Any]] = {
            name: partial(section, name) for name in PLAIN_SECTIONS
        }
        loaders |= {
            "members": partial(section, "members", _members_of),
            "dates": partial(section, "dates", _dates_of),
            "citations": partial(section, "citations", _citations_of),
            "qualified": lambda: QualifiedIndex(section("qualified")),
        }
        cat.defer(loaders)
        return cat

    # ------------------------------------------------------------------ reading

    def x(self, curie: str) -> str:
        """Expand a CURIE (``rg:`` under this deployment's base)."""
        return vocab.expand(curie, self.base)

    def closure(self, types: tuple[str, ...] | list[str]) -> frozenset[str]:
        """The types and all their superclasses (memoised per combination of types)."""
        key = tuple(types)
        found = self._closures.get(key)
        if found is None:
            out = set(types)
            for t in types:
                out |= self.supers.get(t, frozenset())
            found = self._closures[key] = frozenset(out)
        return found

    def is_a(self, iri: str, curie_or_iri: str) -> bool:
        cls = self.x(curie_or_iri) if "://" not in curie_or_iri else curie_or_iri
        return cls in self.closure(self.types.get(iri, ()))

    def is_qualified(self, iri: str) -> bool:
        return iri in self.qualified

    def known(self, iri: str) -> bool:
        """True when the graph describes ``iri`` (it has a type or a label)."""
        return iri in self.types or iri in self.pref or iri in self.rdfs_label

    def label(self, iri: str, lang: str) -> str:
        """The label in ``lang``, falling back lv → en → any language → the IRI."""
        for table in (self.pref, self.rdfs_label):
            labels = table.get(iri)
            if labels:
                return (
                    labels.get(lang) or labels.get("lv") or labels.get("en")
                    or next(iter(labels.values()))
                )
        wording = vocab.class_wording(iri, self.base)
        if wording:
            return wording.get(lang)
        return self.short_iri(iri)

    def has_label(self, iri: str) -> bool:
        return iri in self.pref or iri in self.rdfs_label

    def other_label(self, iri: str, lang: str) -> tuple[str, str] | None:
        """The label in the other interface language, when it differs."""
        labels = self.pref.get(iri) or self.rdfs_label.get(iri) or {}
        other = "en" if lang == "lv" else "lv"
        mine, theirs = self.label(iri, lang), labels.get(other)
        return (other, theirs) if theirs and theirs != mine else None

    def describe_text(self, iri: str, lang: str) -> str | None:
        d = self.description.get(iri)
        if not d:
            return None
        return d.get(lang) or d.get("en") or d.get("lv") or next(iter(d.values()))

    def short_iri(self, iri: str) -> str:
        if iri.startswith(self.base):
            return iri[len(self.base):]
        return vocab.curie(iri, self.base) or iri

    def category(self, iri: str) -> str:
        return self.category_of.get(iri, "other")

    def year_span(self, iri: str) -> range | None:
        d = self.dates.get(iri)
        if not d:
            return None
        first = d.get("start") or d.get("from") or d.get("issued")
        last = d.get("end") or d.get("until") or first
        try:
            y0, y1 = int(first.value[:4]), int(last.value[:4])  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            return None
        if y1 < y0 or y1 - y0 > 50:
            y1 = y0
        return range(y0, y1 + 1)

    def sort_date(self, iri: str) -> str | None:
        d = self.dates.get(iri)
        if not d:
            return None
        lit = d.get("start") or d.get("from") or d.get("issued") or d.get("end")
        return lit.value if lit else None

    def located(self, place: str) -> list[str]:
        """Resources whose dct:spatial is ``place`` (reverse index, built on first use)."""
        return self._reverse("places").get(place, [])

    def tagged(self, theme: str) -> list[str]:
        """Resources whose dct:subject is ``theme``."""
        return self._reverse("themes").get(theme, [])

    def _reverse(self, name: str) -> dict[str, list[str]]:
        cached = self._reverse_cache.get(name)
        if cached is None:
            cached = {}
            forward: dict[str, tuple[str, ...]] = getattr(self, name)
            for s in sorted(forward):
                for o in forward[s]:
                    cached.setdefault(o, []).append(s)
            self._reverse_cache[name] = cached
        return cached

    def count(self, curie: str) -> int:
        return len(self.members.get(self.x(curie), ()))


def _members_of(plain: dict[str, bytes]) -> dict[str, PackedList]:
    return {c: PackedList(m) for c, m in plain.items()}


def _dates_of(plain: dict[str, dict[str, PlainTerm]]) -> dict[str, dict[str, ox.Literal]]:
    return {s: {k: term_of(v) for k, v in d.items()} for s, d in plain.items()}  # type: ignore[misc]


def _citations_of(plain: dict[str, tuple[Any, ...]]) -> dict[str, Citation]:
    return {c: Citation(c, *rest) for c, rest in plain.items()}


# The tables persisted as they are (``members``, ``dates``, ``citations`` and ``qualified`` are
# converted).
PLAIN_SECTIONS: tuple[str, ...] = (
    "pref", "alt", "rdfs_label", "description", "types", "supers", "themes",
    "places", "kinds", "notation", "scheme", "derived", "cited", "by_section", "primary",
    "category_of",
)
SECTIONS: tuple[str, ...] = (*PLAIN_SECTIONS, "members", "dates", "citations", "qualified")
