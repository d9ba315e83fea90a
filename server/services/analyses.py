"""Coverage of the EU areas by national measures, and what changed between the two documents."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..queries import server_query
from ..store import OxigraphStore

THEMES = "https://w3id.org/romagraph/def/theme/"
EU_PILLARS = ("education", "employment", "health", "housing")
HORIZONTAL = (
    "anti-discrimination",
    "culture-identity",
    "participation",
    "coordination",
    "social-inclusion",
    "human-rights",
    "international-cooperation",
)


@dataclass
class CoverageRow:
    theme: str
    pillar: bool
    tasks: set[str] = field(default_factory=set)
    projects: set[str] = field(default_factory=set)
    events: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)
    results: int = 0
    none_statements: list[dict[str, str]] = field(default_factory=list)

    @property
    def status(self) -> str:
        """covered / says-none / not-mentioned: a document saying "no targeted measure" is a
        finding of its own, distinct from silence."""
        if self.none_statements:
            return "says-none"
        if self.tasks or self.projects or self.events:
            return "covered"
        return "not-mentioned"


def coverage(store: OxigraphStore) -> list[CoverageRow]:
    rows = {t: CoverageRow(THEMES + t, t in EU_PILLARS) for t in EU_PILLARS + HORIZONTAL}
    for r in store.select(server_query("coverage_items")):
        key = r["theme"].value.removeprefix(THEMES)
        row = rows.setdefault(key, CoverageRow(r["theme"].value, False))
        kind = r["kind"].value
        {"task": row.tasks, "project": row.projects, "event": row.events}[kind].add(r["item"].value)
        if "agent" in r:
            row.agents.add(r["agent"].value)
        row.results += int(r["results"].value)
    for r in store.select(server_query("coverage_none")):
        key = r["theme"].value.removeprefix(THEMES)
        row = rows.setdefault(key, CoverageRow(r["theme"].value, False))
        row.none_statements.append(
            {"cite": r["cite"].value, "quote": r["quote"].value if "quote" in r else ""}
        )
    return list(rows.values())


@dataclass
class Figure:
    dataset: str
    label_en: str
    label_lv: str
    period: str
    value: float
    doc: str


INDICATORS = "https://w3id.org/romagraph/def/indicator/"
TOPICS = {
    "roma-population": "population",
    "registered-unemployed": "unemployment",
    "roma-pupils": "pupils",
}


def changes(store: OxigraphStore, base: str) -> dict[str, object]:
    """Resources cited by only one of the two documents, and headline figures of both."""
    iic, km = f"{base}id/source/iic2014", f"{base}id/source/km2018"
    only_iic: list[str] = []
    only_km: list[str] = []
    both: list[str] = []
    for r in store.select(server_query("document_mentions")):
        docs = set(r["docs"].value.split())
        node = r["node"].value
        if not node.startswith(base + "id/") or "/citation/" in node:
            continue
        if docs == {iic}:
            only_iic.append(node)
        elif docs == {km}:
            only_km.append(node)
        elif {iic, km} <= docs:
            both.append(node)
    figures: dict[str, list[Figure]] = {t: [] for t in TOPICS.values()}
    for r in store.select(server_query("figures_over_time")):
        topic = TOPICS.get(r["indicator"].value.removeprefix(INDICATORS))
        if topic is None or "period" not in r:
            continue
        figures[topic].append(
            Figure(
                r["dataset"].value,
                r["en"].value if "en" in r else "",
                r["lv"].value if "lv" in r else "",
                r["period"].value,
                float(r["value"].value),
                r["doc"].value if "doc" in r else "",
            )
        )
    for fs in figures.values():
        fs.sort(key=lambda f: (f.period, f.dataset))
    return {
        "only_iic2014": sorted(only_iic),
        "only_km2018": sorted(only_km),
        "both": sorted(both),
        "figures": figures,
    }
