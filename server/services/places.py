"""The municipality view: everything that happens in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

import pyoxigraph as ox

from ..store import Store
from . import access
from .catalogue import Catalogue
from .describe import Describer, Row
from .present import CiteView, Ref, View

CAP = 200  # rows read per list; the place's resource page pages the rest


@dataclass
class Activity:
    context: Ref
    role: str | None
    org: Ref
    cites: list[CiteView]


@dataclass
class FundingRow:
    grant: Ref
    funder: Ref
    item: Ref | None
    amount: str | None


@dataclass
class PlaceView:
    place: Ref
    slug: str
    other_label: tuple[str, str] | None
    parent: list[Ref]
    governments: list[Ref]
    organisations: list[Ref]
    projects: list[Ref]
    events: list[Ref]
    posts: list[Row]
    tasks: list[Ref]
    activities: list[Activity]
    funding: list[FundingRow]
    datasets: list[Ref]
    parts: list[Ref]
    others: list[Ref]
    located_total: int
    more_url: str | None = None
    extra: dict[str, list[Ref]] = field(default_factory=dict)


def place_iri(cat: Catalogue, slug: str) -> str:
    return f"{cat.base}id/place/{slug}"


def place_slug(cat: Catalogue, iri: str) -> str | None:
    prefix = f"{cat.base}id/place/"
    if iri.startswith(prefix) and "/" not in iri[len(prefix):]:
        return iri[len(prefix):]
    return None


def places_index(cat: Catalogue, view: View) -> list[tuple[Ref, str | None, int]]:
    """Every place with its slug and how many resources are located there."""
    out = [
        (view.ref(p), place_slug(cat, p), len(cat.located(p)))
        for p in cat.members.get(cat.x("dct:Location"), [])
    ]
    out.sort(key=lambda t: (-t[2], t[0].label.casefold()))
    return out


def place_view(store: Store, cat: Catalogue, view: View, iri: str) -> PlaceView:
    p = ox.NamedNode(iri)
    by_label = lambda refs: sorted(refs, key=lambda r: r.label.casefold())  # noqa: E731
    located = cat.located(iri)
    total = len(located)
    located = located[:CAP]
    governments: list[str] = []
    orgs: list[str] = []
    projects: list[str] = []
    events: list[str] = []
    tasks: list[str] = []
    others: list[str] = []
    post_iris: list[str] = []
    local_gov = cat.base + "def/org-type/local-government"
    for s in located:
        cat_ = cat.category(s)
        if cat_ == "org":
            (governments if local_gov in cat.kinds.get(s, ()) else orgs).append(s)
        elif cat_ == "project":
            projects.append(s)
        elif cat_ == "event":
            events.append(s)
        elif cat_ == "plan":
            tasks.append(s)
        elif cat.is_a(s, "org:Post"):
            post_iris.append(s)
        else:
            others.append(s)
    activities: list[Activity] = []
    seen_ctx = set(projects) | set(events) | set(tasks)
    for r in access.select_slice(store, "place_participations", cat.base, {"place": p}, 0, CAP):
        ctx, org = r["context"].value, r["org"].value
        role = r.get("role")
        activities.append(
            Activity(view.ref(ctx), view.label(role.value) if role else None, view.ref(org),
                     view.cites(r["participation"].value, limit=2))
        )
        if ctx not in seen_ctx:
            seen_ctx.add(ctx)
            {"project": projects, "event": events, "plan": tasks}.get(cat.category(ctx), others).append(ctx)
    for r in access.select_slice(store, "place_venues", cat.base, {"place": p}, 0, CAP):
        ev = r["event"].value
        if ev not in seen_ctx:
            seen_ctx.add(ev)
            events.append(ev)
    funding = []
    for r in access.select_slice(store, "place_grants", cat.base, {"place": p}, 0, CAP):
        item, amount, cur = r.get("item"), r.get("amount"), r.get("currency")
        funding.append(
            FundingRow(
                view.ref(r["grant"].value), view.ref(r["funder"].value),
                view.ref(item.value) if item else None,
                view.amount(amount.value, cur.value if cur else None) if amount else None,
            )
        )
    parts = [r["part"].value for r in access.select_slice(store, "place_parts", cat.base, {"place": p}, 0, CAP)]
    datasets = list(dict.fromkeys(
        r["ds"].value for r in access.select_slice(store, "place_observations", cat.base, {"place": p}, 0, 5000)
    ))
    parent = [
        v.value
        for r in access.select_slice(store, "resource_outgoing", cat.base, {"r": p}, 0, 500)
        if r["p"].value == cat.x("dct:isPartOf") and isinstance((v := r["o"]), ox.NamedNode)
    ]
    describer = Describer(store, cat, view)
    posts = [describer.row(q, iri) for q in post_iris]
    activities.sort(key=lambda a: (a.context.label.casefold(), a.org.label))
    more = None
    if total > CAP:
        more = "/related?" + urlencode({"iri": iri, "p": cat.x("dct:spatial"), "dir": "in"})
    return PlaceView(
        place=view.ref(iri), slug=place_slug(cat, iri) or "", other_label=view.other_label(iri),
        parent=[view.ref(x) for x in parent],
        governments=by_label(view.ref(x) for x in governments),
        organisations=by_label(view.ref(x) for x in orgs),
        projects=by_label(view.ref(x) for x in projects),
        events=sorted((view.ref(x) for x in events), key=lambda r: cat.sort_date(r.iri) or "9999"),
        posts=posts, tasks=by_label(view.ref(x) for x in tasks), activities=activities,
        funding=funding, datasets=by_label(view.ref(x) for x in datasets),
        parts=by_label(view.ref(x) for x in parts), others=by_label(view.ref(x) for x in others),
        located_total=total, more_url=more,
    )
