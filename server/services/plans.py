"""The plan tree (plan → goal → task, with responsible institutions and implementing projects)
and the thematic view (theme → tasks → projects)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pyoxigraph as ox

from ..store import Store
from . import access
from .catalogue import Catalogue
from .present import CiteView, Ref, View


def notation_key(notation: str) -> tuple[tuple[int, int | str], ...]:
    """Natural order of notations: 1.3.2 < 1.3.10 < 2."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[.\s]+", notation) if p)


@dataclass
class Party:
    role: str | None
    agent: Ref
    cites: list[CiteView]


@dataclass
class PlanNode:
    ref: Ref
    notation: str
    kind: str
    parties: list[Party] = field(default_factory=list)
    projects: list[Ref] = field(default_factory=list)
    children: list[PlanNode] = field(default_factory=list)


@dataclass
class PlanTree:
    plan: Ref
    anchor: str
    period: str
    roots: list[PlanNode]
    size: int


@dataclass
class Relations:
    """Participations and implementations, read once per request for the plan and theme views."""

    parties: dict[str, list[tuple[str, str, str | None]]]  # context → [(participation, agent, role)]
    implemented_by: dict[str, list[str]]  # item → projects


def read_relations(store: Store, cat: Catalogue) -> Relations:
    parties: dict[str, list[tuple[str, str, str | None]]] = defaultdict(list)
    for r in access.select(store, "plan_participations", cat.base):
        role = r.get("role")
        parties[r["context"].value].append(
            (r["participation"].value, r["agent"].value, role.value if role else None)
        )
    impl: dict[str, list[str]] = defaultdict(list)
    for r in access.select(store, "plan_implementations", cat.base):
        impl[r["item"].value].append(r["project"].value)
    return Relations(dict(parties), dict(impl))


def anchor(iri: str) -> str:
    """An HTML id for ``iri``: its path, lower case, in ASCII words."""
    path = iri.split("://", 1)[-1].split("/", 1)[-1]
    for root in ("id/", "def/", "data/"):
        if root in path:
            path = path[path.index(root) + len(root):]
            break
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")


INLINE_ITEMS = 400  # up to this many plan items, /plans shows every tree on one page
THEME_LIST = 40  # entries per list on /themes before a link to the filtered browse list


def plan_index(cat: Catalogue, view: View) -> list[tuple[Ref, str, int]]:
    """Every plan with plan items: (plan, anchor, number of items), by label."""
    counts: dict[str, int] = defaultdict(int)
    for item in cat.members.get(cat.x("rg:PlanItem"), []):
        if item in cat.scheme:
            counts[cat.scheme[item]] += 1
    out = [(view.ref(p), anchor(p), n) for p, n in counts.items()]
    out.sort(key=lambda t: t[0].label.casefold())
    return out


def plan_url(cat: Catalogue, iri: str) -> str:
    """Where the plan tree shows ``iri`` (a plan or a plan item)."""
    plan = cat.scheme.get(iri, iri)
    if len(cat.members.get(cat.x("rg:PlanItem"), [])) <= INLINE_ITEMS:
        return f"/plans#{anchor(iri)}"
    return "/plans?" + urlencode({"plan": plan}) + f"#{anchor(iri)}"


def plan_trees(store: Store, cat: Catalogue, view: View, rel: Relations | None = None,
               only: str | None = None) -> list[PlanTree]:
    rel = rel or read_relations(store, cat)
    plan_item = cat.x("rg:PlanItem")
    items: dict[str, tuple[str, str | None]] = {}
    for r in access.select(store, "plan_items", cat.base):
        item = r["item"].value
        if not cat.is_a(item, plan_item) or (only and r["plan"].value != only):
            continue
        broader_term = r.get("broader")
        prev = items.get(item)
        items[item] = (r["plan"].value, broader_term.value if broader_term else (prev[1] if prev else None))
    nodes: dict[str, PlanNode] = {}
    for item in items:
        nodes[item] = node_for(cat, view, rel, item)
    by_plan: dict[str, list[PlanNode]] = defaultdict(list)
    for item, (plan, broader) in items.items():
        if broader and broader in nodes and items[broader][0] == plan:
            nodes[broader].children.append(nodes[item])
        else:
            by_plan[plan].append(nodes[item])
    for n in nodes.values():
        n.children.sort(key=lambda c: notation_key(c.notation))
    trees = []
    for plan, roots in by_plan.items():
        roots.sort(key=lambda c: notation_key(c.notation))
        size = sum(1 for i in items.values() if i[0] == plan)
        trees.append(PlanTree(view.ref(plan), anchor(plan), view.dates_of(plan), roots, size))
    trees.sort(key=lambda t: t.plan.label.casefold())
    return trees


def node_for(cat: Catalogue, view: View, rel: Relations, item: str) -> PlanNode:
    primary = cat.primary.get(item, "")
    parties = [
        Party(view.label(role) if role else None, view.ref(agent), view.cites(part, limit=2))
        for part, agent, role in rel.parties.get(item, [])
    ]
    parties.sort(key=lambda p: (p.role or "", p.agent.label))
    projects = sorted((view.ref(p) for p in rel.implemented_by.get(item, [])), key=lambda r: r.label)
    return PlanNode(
        ref=view.ref(item), notation=cat.notation.get(item, ""),
        kind=view.class_label(primary) if primary else "", parties=parties, projects=projects,
    )


@dataclass
class ThemeView:
    ref: Ref
    anchor: str
    tasks: list[PlanNode]
    projects: list[Ref]  # on this theme, not through a listed task
    others: dict[str, list[Ref]]  # category label → resources on this theme
    more: dict[str, tuple[int, str]] = field(default_factory=dict)  # list → (total, browse URL)


def themes(store: Store, cat: Catalogue, view: View) -> list[ThemeView]:
    rel = read_relations(store, cat)
    scheme = ox.NamedNode(cat.base + "def/theme")
    concepts = [r["concept"].value for r in access.select(store, "theme_concepts", cat.base, {"scheme": scheme})]
    out = []
    for c in sorted(set(concepts), key=lambda c: view.label(c).casefold()):
        members = cat.tagged(c)
        more: dict[str, tuple[int, str]] = {}
        task_iris = [m for m in members if cat.is_a(m, "rg:PlanItem")]
        if len(task_iris) > THEME_LIST:
            more["tasks"] = (len(task_iris), _browse(cat, "rg:PlanItem", c))
        tasks = [node_for(cat, view, rel, m) for m in task_iris[:THEME_LIST]]
        tasks.sort(key=lambda n: (n.ref.label if not n.notation else "", notation_key(n.notation)))
        via_tasks = {p.iri for t in tasks for p in t.projects}
        project_iris = [m for m in members if cat.is_a(m, "schema:Project") and m not in via_tasks]
        if len(project_iris) > THEME_LIST:
            more["projects"] = (len(project_iris), _browse(cat, "schema:Project", c))
        projects = sorted((view.ref(m) for m in project_iris[:THEME_LIST]), key=lambda r: r.label.casefold())
        others: dict[str, list[Ref]] = defaultdict(list)
        for m in members:
            if cat.is_a(m, "rg:PlanItem") or cat.is_a(m, "schema:Project"):
                continue
            primary = cat.primary.get(m)
            label = view.class_label(primary, plural=True) if primary else "—"
            if len(others[label]) < THEME_LIST:
                others[label].append(view.ref(m))
            elif label not in more and primary:
                n = sum(1 for x in members if cat.primary.get(x) == primary)
                more[label] = (n, "/browse?" + urlencode({"class": primary, "theme": c}))
        for v in others.values():
            v.sort(key=lambda r: r.label.casefold())
        out.append(ThemeView(view.ref(c), anchor(c), tasks, projects, dict(sorted(others.items())), more))
    return out


def _browse(cat: Catalogue, cls: str, theme: str) -> str:
    return "/browse?" + urlencode({"class": cat.x(cls), "theme": theme})
