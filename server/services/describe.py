"""A resource's page: its labels, facts, relations in both directions (qualified relations
flattened), citations and timeline; and its RDF description."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache, lru_cache
from itertools import islice
from urllib.parse import urlencode

import pyoxigraph as ox

from ..store import OxigraphStore, Store, Term
from . import access, vocab
from .catalogue import QUALIFIED, Catalogue
from .present import CiteView, Ref, View

PAGE = 25  # links shown per property group on a resource page
RELATED_PAGE = 50  # links per page of /related
PROBE = 100  # incoming links read first; a resource with this many is counted before it is read
WINDOW = 600  # incoming links read at once; more makes the resource a hub, probed per property
OUT_WINDOW = 2000  # outgoing statements read at most
COUNT_CAP = 1000  # a hub's group count stops here ("1000+")

# The parties of each kind of qualified node, in the order the flattened row names them:
# (direction from the node, property). "in" means the party points at the node.
PARTIES: dict[str, tuple[tuple[str, str], ...]] = {
    "cv:Participation": (("in", "cv:hasParticipation"), ("out", "cv:hasParticipant")),
    "org:Membership": (("out", "org:organization"), ("out", "org:member"), ("out", "opengov:onBehalfOf")),
    "org:Post": (("out", "org:postIn"), ("out", "org:heldBy"), ("out", "dct:spatial")),
    "schema:MonetaryGrant": (
        ("out", "schema:fundedItem"), ("in", "schema:funding"), ("out", "schema:funder"),
        ("out", "rg:fundingProgramme"),
    ),
    "rg:ReportedResult": (("in", "rg:hasResult"),),
}
ROLE_PROPS = ("cv:role", "org:role")
HEADER_PROPS = ("rdf:type", "skos:prefLabel", "skos:altLabel", "dct:description", "prov:wasDerivedFrom")
# Display order of relation groups; others follow alphabetically.
ORDER = (
    "cv:hasParticipation", "cv:hasParticipant", "org:organization", "org:member", "org:postIn",
    "org:heldBy", "schema:funding", "schema:fundedItem", "schema:funder", "rg:fundingProgramme",
    "rg:hasResult", "rg:implements", "skos:broader", "skos:inScheme", "org:subOrganizationOf",
    "rg:hostInstitution", "dct:creator", "dct:publisher", "rg:approvedBy", "dct:spatial",
    "dct:subject", "org:classification", "dct:type",
)
TIMELINE_CATEGORIES = ("org", "person", "project", "event", "programme")


@dataclass
class Value:
    ref: Ref | None  # a linked resource …
    text: str | None = None  # … or a literal as it reads
    lang: str | None = None
    cites: list[CiteView] = field(default_factory=list)
    when: str = ""
    sort_date: str | None = None


@dataclass
class Group:
    prop: str
    title: str
    inverse: bool
    values: list[Value]
    total: int
    capped: bool = False
    more_url: str | None = None


@dataclass
class Row:
    """One qualified relation, flattened: who, in what role, when, how much, from which source."""

    node: Ref
    main: Ref | None
    role: str | None
    others: list[tuple[str, Ref]]
    when: str
    amount: str | None
    value: str | None
    cites: list[CiteView]
    sort_date: str | None


@dataclass
class QualifiedGroup:
    prop: str
    title: str
    inverse: bool
    rows: list[Row]
    total: int
    capped: bool = False
    more_url: str | None = None


@dataclass
class TimelineItem:
    sort_date: str
    when: str
    ref: Ref
    relation: str
    role: str | None


@dataclass
class Description:
    iri: str
    label: str
    label_lang: str | None
    other_label: tuple[str, str] | None
    types: list[Ref]
    category: str
    descriptions: list[tuple[str, str]]
    alt_labels: list[tuple[str, str]]
    facts: list[Group]
    qualified: list[QualifiedGroup]
    outgoing: list[Group]
    incoming: list[Group]
    cites: list[CiteView]
    timeline: list[TimelineItem]


def exists(store: Store, base: str, iri: str) -> bool:
    return access.ask(store, "resource_exists", base, {"r": ox.NamedNode(iri)})


@dataclass(frozen=True)
class _Terms:
    """The properties and classes a Describer tests against, expanded under one base."""

    header: frozenset[str]
    roles: frozenset[str]
    role_props: tuple[str, ...]  # ROLE_PROPS in order
    order: dict[str, int]
    party_props: dict[str, tuple[tuple[str, str], ...]]
    qualified_types: tuple[str, ...]
    start: tuple[str, str]
    end: tuple[str, str]
    amount: str
    currency: str
    value: tuple[str, str]
    unit: str


@lru_cache(maxsize=8)
def _terms(base: str) -> _Terms:
    """Expanded once per base, not once per page (a page builds a Describer)."""

    def x(curie: str) -> str:
        return vocab.expand(curie, base)

    return _Terms(
        header=frozenset(x(p) for p in HEADER_PROPS),
        roles=frozenset(x(p) for p in ROLE_PROPS),
        role_props=tuple(x(p) for p in ROLE_PROPS),
        order={x(p): i for i, p in enumerate(ORDER)},
        party_props={x(k): tuple((d, x(p)) for d, p in v) for k, v in PARTIES.items()},
        qualified_types=tuple(x(q) for q in QUALIFIED),
        start=(x("schema:startDate"), x("schema:validFrom")),
        end=(x("schema:endDate"), x("schema:validUntil")),
        amount=x("schema:amount"),
        currency=x("schema:currency"),
        value=(x("rg:value"), x("sdmx-measure:obsValue")),
        unit=x("rg:unit"),
    )


@lru_cache(maxsize=4096)
def related_url(iri: str, prop: str, inverse: bool) -> str:
    """The /related page listing one relation of ``iri`` in full."""
    return "/related?" + urlencode({"iri": iri, "p": prop, "dir": "in" if inverse else "out"})


@lru_cache(maxsize=4096)
def browse_url(cls: str) -> str:
    return "/browse?" + urlencode({"class": cls})


class Describer:
    """Builds a resource page from the store and the catalogue, in one language."""

    def __init__(self, store: Store, catalogue: Catalogue, view: View) -> None:
        self.store = store
        self.cat = catalogue
        self.v = view
        self.base = catalogue.base
        terms = self.terms = _terms(catalogue.base)
        self.header = terms.header
        self.roles = terms.roles
        self.order = terms.order
        self.party_props = terms.party_props
        self.qualified_types = terms.qualified_types
        # The embedded store is read through its indexes directly (the statements about one
        # resource are an index range): a SPARQL query per read costs its parsing and planning
        # and a dict per row, more than the few dozen rows a page reads. Other stores: SPARQL.
        self.inner = store.inner if isinstance(store, OxigraphStore) else None

    # ------------------------------------------------------------------ reading the store

    def _outgoing_statements(self, r: ox.NamedNode) -> list[tuple[str, Term | ox.Triple]]:
        """(property, object) of ``r``'s statements, at most OUT_WINDOW, in index order."""
        if self.inner is not None:
            # every graph, as the queries' union default graph (one row per graph holding it)
            quads = self.inner.quads_for_pattern(r, None, None)
            return [(q.predicate.value, q.object) for q in islice(quads, OUT_WINDOW)]
        rows = access.select_slice(self.store, "resource_outgoing", self.base, {"r": r}, 0, OUT_WINDOW)
        return [(row["p"].value, row["o"]) for row in rows]

    def _incoming_links(
        self, r: ox.NamedNode, limit: int, p: ox.NamedNode | None = None
    ) -> list[tuple[Term | ox.Triple, str]]:
        """(subject, property) of the first ``limit`` statements pointing at ``r`` (through
        ``p`` only, when given), in index order."""
        if self.inner is not None:
            quads = self.inner.quads_for_pattern(None, p, r)
            return [(q.subject, q.predicate.value) for q in islice(quads, limit)]
        if p is None:
            rows = access.select_slice(self.store, "resource_incoming", self.base, {"r": r}, 0, limit)
        else:
            rows = access.select_slice(
                self.store, "resource_incoming_by_property", self.base, {"r": r, "p": p}, 0, limit
            )
        return [(row["s"], row["p"].value if "p" in row else p.value if p else "") for row in rows]

    # ------------------------------------------------------------------ the page

    def describe(self, iri: str) -> Description:
        cat, v = self.cat, self.v
        r = ox.NamedNode(iri)
        by_prop: dict[str, list[ox.NamedNode | ox.Literal | ox.BlankNode]] = defaultdict(list)
        for p, o in self._outgoing_statements(r):
            if isinstance(o, ox.NamedNode | ox.Literal | ox.BlankNode):
                by_prop[p].append(o)

        facts: list[Group] = []
        outgoing: list[Group] = []
        qualified: dict[tuple[str, bool], QualifiedGroup] = {}
        seen_nodes: set[str] = set()
        own_cites = v.cites(iri, limit=2)
        for p, objs in by_prop.items():
            if p in self.header:
                continue
            literals = [o for o in objs if isinstance(o, ox.Literal)]
            iris = [o.value for o in objs if isinstance(o, ox.NamedNode)]
            if literals:
                facts.append(self._literal_group(p, literals, own_cites[:1]))
            plain: list[str] = []
            for target in iris:
                if cat.is_qualified(target) and p not in self.roles:
                    if target not in seen_nodes:
                        seen_nodes.add(target)
                        g = qualified.setdefault((p, False), self._qgroup(p, False))
                        g.rows.append(self.row(target, iri))
                        g.total += 1
                else:
                    plain.append(target)
            if plain:
                outgoing.append(self._plain_group(p, False, plain, len(plain), own_cites, iri))

        incoming = self._incoming(iri, r, qualified, seen_nodes)
        for g in qualified.values():
            g.rows.sort(key=lambda x: (x.sort_date or "9999", x.main.label if x.main else x.node.label))

        labels = cat.pref.get(iri) or {}
        names = set(labels.values()) | {v.label(iri)}
        descriptions = sorted(
            ((code, text) for code, text in cat.description.get(iri, {}).items() if text not in names),
            key=lambda kv: (kv[0] != v.lang, kv[0]),
        )
        primary = cat.primary.get(iri)
        types = [
            Ref(t, v.class_label(t), browse_url(t), cat.category(iri), "")
            for t in sorted(cat.types.get(iri, ()), key=lambda t: (t != primary, v.class_label(t)))
        ]
        desc = Description(
            iri=iri,
            label=v.label(iri),
            label_lang=v.label_lang(iri),
            other_label=v.other_label(iri) if labels else None,
            types=types,
            category=cat.category(iri),
            descriptions=descriptions,
            alt_labels=cat.alt.get(iri, []),
            facts=sorted(facts, key=self._group_key),
            qualified=sorted(qualified.values(), key=self._group_key),
            outgoing=sorted(outgoing, key=self._group_key),
            incoming=sorted(incoming, key=self._group_key),
            cites=[c for cid in cat.derived.get(iri, ()) if (c := v.cite(cid))],
            timeline=[],
        )
        if desc.category in TIMELINE_CATEGORIES:
            desc.timeline = self._timeline(iri, desc)
        return desc

    def _group_key(self, g: Group | QualifiedGroup) -> tuple[int, bool, str]:
        return (self.order.get(g.prop, len(self.order)), g.inverse, g.title)

    def _literal_group(self, p: str, literals: list[ox.Literal], cites: list[CiteView]) -> Group:
        lang = self.v.lang
        literals = sorted(literals, key=lambda lit: (lit.language not in (lang, None), lit.value))
        values = [
            Value(None, self.v.literal(lit), lit.language if lit.language != lang else None, cites)
            for lit in literals
        ]
        return Group(p, self.v.prop_label(p), False, values, len(values))

    def _qgroup(self, p: str, inverse: bool) -> QualifiedGroup:
        return QualifiedGroup(p, self.v.prop_label(p, inverse), inverse, [], 0)

    def _plain_group(
        self, p: str, inverse: bool, iris: list[str], total: int, cites: list[CiteView] | None,
        subject: str, capped: bool = False,
    ) -> Group:
        values = []
        for o in iris[:PAGE]:
            ref = self.v.ref(o)
            values.append(
                Value(
                    ref,
                    cites=cites if cites is not None else self.v.cites(o, limit=2),
                    when=self.v.dates_of(o),
                    sort_date=self.cat.sort_date(o),
                )
            )
        values.sort(key=lambda x: (x.ref.label.casefold() if x.ref else ""))
        more = related_url(subject, p, inverse) if total > PAGE else None
        return Group(p, self.v.prop_label(p, inverse), inverse, values, total, capped, more)

    # ------------------------------------------------------------------ incoming links

    def _incoming(
        self, iri: str, r: ox.NamedNode, qualified: dict[tuple[str, bool], QualifiedGroup],
        seen_nodes: set[str],
    ) -> list[Group]:
        by_prop: dict[str, list[str]] = defaultdict(list)
        counts: dict[str, int] = {}
        capped: dict[str, bool] = {}
        subs = {"r": r}
        known = _HUBS.get(self.cat, iri)  # a hub met before: its properties and their counts
        links: list[tuple[Term | ox.Triple, str]] = []
        hub = known is not None
        if not hub:
            links = self._incoming_links(r, PROBE)
        if len(links) == PROBE:  # more than a few: count (in the engine) before reading them
            if access.count_rows(self.store, "resource_incoming", self.base, subs, WINDOW) < WINDOW:
                links = self._incoming_links(r, WINDOW)
            else:
                hub = True
        if not hub:
            for s, p in links:
                if isinstance(s, ox.NamedNode):
                    by_prop[p].append(s.value)
            counts = {p: len(v) for p, v in by_prop.items()}
        else:  # a hub: the properties that point here, then a page of each
            found: list[tuple[str, int]] = []
            for p in known or self._incoming_properties(r):
                psubs = {"r": r, "p": ox.NamedNode(p)}
                first = self._incoming_links(r, PAGE + 1, psubs["p"])
                if not first:
                    continue
                by_prop[p] = [s.value for s, _ in first if isinstance(s, ox.NamedNode)]
                n = len(first)
                if n > PAGE:
                    n = known[p] if known else access.count_rows(
                        self.store, "resource_incoming_by_property", self.base, psubs, COUNT_CAP
                    )
                counts[p] = n
                capped[p] = n >= COUNT_CAP
                found.append((p, n))
            if known is None:
                _HUBS.put(self.cat, iri, dict(found))
        groups: list[Group] = []
        skip = self._skipped_incoming(iri)
        for p, subjects in by_prop.items():
            if p in skip:
                continue
            if p in self.roles:
                quals, plain = [], subjects
            else:
                quals = [s for s in subjects if self.cat.is_qualified(s)]
                plain = [s for s in subjects if not self.cat.is_qualified(s)]
            exact = not capped.get(p, False) and len(subjects) == counts[p]
            for kind, members in (("q", quals), ("p", plain)):
                if not members:
                    continue
                total = len(members) if exact or len(members) == len(subjects) else counts[p]
                if len(members) == len(subjects):
                    total = counts[p]
                more = related_url(iri, p, True) if total > PAGE else None
                if kind == "p":
                    g = self._plain_group(p, True, members, total, None, iri, capped.get(p, False))
                    g.more_url = more
                    groups.append(g)
                    continue
                qg = qualified.setdefault((p, True), self._qgroup(p, True))
                for node in members[:PAGE]:
                    if node not in seen_nodes:
                        seen_nodes.add(node)
                        qg.rows.append(self.row(node, iri))
                qg.total, qg.capped, qg.more_url = total, capped.get(p, False), more
        return groups

    def _incoming_properties(self, r: ox.NamedNode) -> list[str]:
        """The properties through which anything points at ``r``: one query probing each
        property the graph uses (an index lookup each), not a scan of all incoming links."""
        if not self.cat.predicates:
            return []
        found = self.store.select(_probe_text(self.cat.predicates), {"r": r})
        return [row["p"].value for row in found if isinstance(row.get("p"), ox.NamedNode)]

    def _skipped_incoming(self, iri: str) -> set[str]:
        """Incoming links that the page shows in a block of its own."""
        x = self.cat.x
        skip = set()
        if self.cat.is_a(iri, "qb:DataSet"):
            skip.add(x("qb:dataSet"))
        if iri in self.cat.by_section:  # the passages cited from it are listed in full
            skip.add(x("oa:hasSource"))
        return skip

    # ------------------------------------------------------------------ qualified rows

    def node_statements(
        self, q: str
    ) -> tuple[dict[str, list[ox.NamedNode | ox.Literal]], dict[str, list[str]]]:
        """A qualified node's statements and the contexts pointing to it (from the catalogue,
        decoded once per language: a node shows on the page of each of its parties)."""
        return self.v.memo("qualified", q, lambda: self.cat.qualified.get(q, ({}, {})))

    def parties(self, q: str) -> tuple[list[tuple[str, str]], str | None]:
        """The resources qualified node ``q`` connects, as (property, iri), and its role label."""
        out, inc = self.node_statements(q)
        kind = next((t for t in self.qualified_types if self.cat.is_a(q, t)), None)
        found: list[tuple[str, str]] = []
        for direction, p in self.party_props.get(kind or "", ()):
            targets = inc.get(p, []) if direction == "in" else [
                o.value for o in out.get(p, []) if isinstance(o, ox.NamedNode)
            ]
            found.extend((p, t) for t in targets)
        role = next(
            (self.v.label(o.value) for rp in ROLE_PROPS for o in out.get(self.cat.x(rp), [])
             if isinstance(o, ox.NamedNode)),
            None,
        )
        return found, role

    def row(self, q: str, here: str) -> Row:
        """Flatten qualified node ``q`` as seen from the page of ``here``."""
        v, terms = self.v, self.terms
        out, inc = self.node_statements(q)
        kind = next((t for t in self.qualified_types if self.cat.is_a(q, t)), None)
        parties: list[tuple[str, str]] = []  # (property, iri)
        for direction, p in self.party_props.get(kind or "", ()):
            targets = inc.get(p, []) if direction == "in" else [
                o.value for o in out.get(p, []) if isinstance(o, ox.NamedNode)
            ]
            parties.extend((p, t) for t in targets if t != here)
        main_prop, main = (parties[0] if parties else (None, None))
        seen = {main}
        others: list[tuple[str, Ref]] = []
        for p, t in parties[1:]:
            if t not in seen:
                seen.add(t)
                others.append((v.prop_label(p), v.ref(t)))
        role = None
        for rp in terms.role_props:
            for o in out.get(rp, []):
                if isinstance(o, ox.NamedNode):
                    role = v.label(o.value)
        start = _first_lit(out, terms.start[0]) or _first_lit(out, terms.start[1])
        end = _first_lit(out, terms.end[0]) or _first_lit(out, terms.end[1])
        amount_lit = _first_lit(out, terms.amount)
        currency = _first_lit(out, terms.currency)
        amount = v.amount(amount_lit.value, currency.value if currency else None) if amount_lit else None
        value_lit = _first_lit(out, terms.value[0]) or _first_lit(out, terms.value[1])
        value = None
        if value_lit is not None:
            value = v.number(value_lit.value)
            unit = next((o.value for o in out.get(terms.unit, []) if isinstance(o, ox.NamedNode)), None)
            if unit:
                value += " " + v.label(unit)
        when = v.period(start, end)
        first = start or end
        sort_date = first.value if first is not None else None
        main_ref = v.ref(main) if main else None
        if main and not when:
            when = v.dates_of(main)
            sort_date = self.cat.sort_date(main)
        return Row(
            node=v.ref(q), main=main_ref, role=role, others=others, when=when, amount=amount,
            value=value, cites=v.cites(q, limit=3), sort_date=sort_date,
        )

    # ------------------------------------------------------------------ timeline

    def _timeline(self, iri: str, d: Description) -> list[TimelineItem]:
        items: list[TimelineItem] = []
        seen: set[tuple[str, str]] = set()
        own = self.cat.sort_date(iri)
        if own:
            items.append(TimelineItem(own, self.v.dates_of(iri), self.v.ref(iri), d.types[0].label if d.types else "", None))
        for qg in d.qualified:
            for row in qg.rows:
                target = row.main or row.node
                if row.sort_date and (row.sort_date, target.iri) not in seen:
                    seen.add((row.sort_date, target.iri))
                    items.append(TimelineItem(row.sort_date, row.when, target, qg.title, row.role))
        for g in (*d.outgoing, *d.incoming):
            for val in g.values:
                if val.ref and val.sort_date and (val.sort_date, val.ref.iri) not in seen:
                    if self.cat.category(val.ref.iri) in ("concept", "source", "ontology"):
                        continue
                    seen.add((val.sort_date, val.ref.iri))
                    items.append(TimelineItem(val.sort_date, val.when, val.ref, g.title, None))
        items.sort(key=lambda t: (t.sort_date, t.ref.label))
        return items if len(items) > 1 or (items and items[0].ref.iri != iri) else []

    # ------------------------------------------------------------------ one group, paged

    def related(self, iri: str, prop: str, inverse: bool, page: int) -> Group | QualifiedGroup:
        """One property group of ``iri`` in full, a page of RELATED_PAGE at a time."""
        r, p = ox.NamedNode(iri), ox.NamedNode(prop)
        offset = (page - 1) * RELATED_PAGE
        if inverse:
            rows = access.select_slice(
                self.store, "resource_incoming_by_property", self.base, {"r": r, "p": p},
                offset, RELATED_PAGE + 1,
            )
            iris = [row["s"].value for row in rows if isinstance(row["s"], ox.NamedNode)]
        else:
            rows = access.select_slice(self.store, "resource_outgoing", self.base, {"r": r}, 0, OUT_WINDOW)
            objs = [row["o"].value for row in rows if row["p"].value == prop and isinstance(row["o"], ox.NamedNode)]
            iris = objs[offset: offset + RELATED_PAGE + 1]
        has_next = len(iris) > RELATED_PAGE
        iris = iris[:RELATED_PAGE]
        if iris and all(self.cat.is_qualified(s) for s in iris) and prop not in self.roles:
            qg = self._qgroup(prop, inverse)
            qg.rows = [self.row(s, iri) for s in iris]
            qg.rows.sort(key=lambda x: (x.sort_date or "9999", x.main.label if x.main else x.node.label))
            qg.total = offset + len(iris) + (1 if has_next else 0)
            qg.capped = has_next
            return qg
        cites = None if inverse else self.v.cites(iri, limit=2)
        values = [
            Value(self.v.ref(s), cites=cites if cites is not None else self.v.cites(s, limit=2),
                  when=self.v.dates_of(s))
            for s in iris
        ]
        values.sort(key=lambda x: x.ref.label.casefold() if x.ref else "")
        return Group(prop, self.v.prop_label(prop, inverse), inverse, values,
                     offset + len(iris) + (1 if has_next else 0), has_next)


class _HubCounts:
    """The properties pointing at each hub and their (capped) counts, per catalogue. Finding
    them takes a query per property the graph uses and a count of up to COUNT_CAP links each,
    several times the rest of the page; the graph does not change while the catalogue serves
    it, so a hub's next page reads only the links it shows. Few resources are hubs: bounded."""

    KEPT = 4096

    def __init__(self) -> None:
        self._of: Catalogue | None = None
        self._counts: dict[str, dict[str, int]] = {}

    def get(self, cat: Catalogue, iri: str) -> dict[str, int] | None:
        return self._counts.get(iri) if self._of is cat else None

    def put(self, cat: Catalogue, iri: str, counts: dict[str, int]) -> None:
        if self._of is not cat or len(self._counts) >= self.KEPT:
            self._of, self._counts = cat, {}
        self._counts[iri] = counts


_HUBS = _HubCounts()


@cache
def _probe_text(predicates: tuple[str, ...]) -> str:
    values = " ".join(str(ox.NamedNode(p)) for p in predicates)
    return f"SELECT ?r ?p WHERE {{ VALUES ?p {{ {values} }} FILTER EXISTS {{ ?s ?p ?r }} }}"


def _first_lit(out: dict[str, list[ox.NamedNode | ox.Literal]], p: str) -> ox.Literal | None:
    return next((o for o in out.get(p, []) if isinstance(o, ox.Literal)), None)


def rdf_description(store: Store, base: str, iri: str) -> list[ox.Triple]:
    """The triples that describe ``iri`` (see sparql/describe.rq)."""
    return access.construct(store, "describe", base, {"r": ox.NamedNode(iri)})
