"""Statistics datasets (RDF Data Cube): the observations as a table and as chart data."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import pyoxigraph as ox

from ..store import Store
from . import access
from .catalogue import Catalogue
from .present import CiteView, Ref, View

MAX_STATEMENTS = 20000  # statements of observations read at most
NOT_DIMENSIONS = (
    "rdf:type", "qb:dataSet", "sdmx-measure:obsValue", "rg:value", "rg:unit",
    "prov:wasDerivedFrom", "skos:editorialNote", "rg:printedAs", "skos:prefLabel",
    "skos:altLabel", "skos:note", "dct:description",
)
PERIODS = ("sdmx-dimension:refPeriod", "rg:schoolYear")
GYEAR = "http://www.w3.org/2001/XMLSchema#gYear"


@dataclass
class Cell:
    text: str
    sort: str
    ref: Ref | None = None


@dataclass
class ObsRow:
    iri: str
    url: str
    dims: list[Cell]
    value: Decimal | None
    value_text: str
    unit: str
    cites: list[CiteView]
    note: str | None = None


@dataclass
class DatasetView:
    iri: str
    dimensions: list[tuple[str, str]]  # (property, label)
    rows: list[ObsRow]
    truncated: bool
    chart: dict[str, Any] = field(default_factory=dict)


def _number(lit: ox.Literal) -> Decimal | None:
    try:
        return Decimal(lit.value)
    except InvalidOperation:
        return None


def dataset_view(store: Store, cat: Catalogue, view: View, iri: str) -> DatasetView:
    x = cat.x
    ds = ox.NamedNode(iri)
    rows = access.select_slice(store, "dataset_observations", cat.base, {"ds": ds}, 0, MAX_STATEMENTS)
    truncated = len(rows) >= MAX_STATEMENTS
    obs: dict[str, dict[str, list[ox.NamedNode | ox.Literal]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        o = row["o"]
        if isinstance(o, ox.NamedNode | ox.Literal):
            obs[row["obs"].value][row["p"].value].append(o)
    skip = {x(p) for p in NOT_DIMENSIONS}
    declared = [
        r["dimension"].value
        for r in access.select(store, "dataset_structure", cat.base, {"ds": ds})
        if "dimension" in r
    ]
    seen_dims: list[str] = []
    for props in obs.values():
        for p in props:
            if p not in skip and p not in seen_dims:
                seen_dims.append(p)
    periods = [x(p) for p in PERIODS]
    dims = [d for d in declared if d in seen_dims] + sorted(
        (d for d in seen_dims if d not in declared), key=lambda d: (d not in periods, d)
    )
    measure_props = (x("sdmx-measure:obsValue"), x("rg:value"))
    out_rows: list[ObsRow] = []
    for o_iri, props in obs.items():
        cells = [_cell(cat, view, props.get(d, [])) for d in dims]
        lit = next((v for p in measure_props for v in props.get(p, []) if isinstance(v, ox.Literal)), None)
        unit = next((v.value for v in props.get(x("rg:unit"), []) if isinstance(v, ox.NamedNode)), None)
        note = next((v.value for v in props.get(x("skos:editorialNote"), []) if isinstance(v, ox.Literal)), None)
        out_rows.append(
            ObsRow(
                iri=o_iri, url=view.url(o_iri), dims=cells,
                value=_number(lit) if lit else None,
                value_text=view.number(lit.value) if lit else "",
                unit=view.label(unit) if unit else "",
                cites=view.cites(o_iri, limit=1), note=note,
            )
        )
    out_rows.sort(key=lambda r: tuple(c.sort for c in r.dims))
    dv = DatasetView(
        iri=iri, dimensions=[(d, view.prop_label(d)) for d in dims], rows=out_rows, truncated=truncated
    )
    dv.chart = chart_data(dv, view.label(iri), periods)
    return dv


def _cell(cat: Catalogue, view: View, values: list[ox.NamedNode | ox.Literal]) -> Cell:
    if not values:
        return Cell("", "")
    v = values[0]
    if isinstance(v, ox.NamedNode):
        notation = cat.notation.get(v.value, "")
        scheme = cat.scheme.get(v.value, "")
        return Cell(view.label(v.value), f"{scheme}|{notation}|{view.label(v.value)}", view.ref(v.value))
    text = v.value if v.datatype and v.datatype.value == GYEAR else view.literal(v)
    return Cell(text, v.value)


def chart_data(dv: DatasetView, title: str, periods: list[str]) -> dict[str, Any]:
    """Chart.js bar-chart data: the dimension with most values on the x axis (a non-period one
    when there is a choice), one series per combination of the other varying dimensions."""
    rows = [r for r in dv.rows if r.value is not None]
    if not rows:
        return {}
    varying = [
        i for i in range(len(dv.dimensions)) if len({r.dims[i].text for r in rows}) > 1
    ]
    if not varying:
        labels = [title]
        series: dict[str, list[float | None]] = {"": [float(rows[0].value or 0)]}
        x_index = None
    else:
        non_period = [i for i in varying if dv.dimensions[i][0] not in periods]
        pool = non_period or varying
        x_index = max(pool, key=lambda i: (len({r.dims[i].text for r in rows}), -i))
        labels = _ordered(rows, x_index)
        rest = [i for i in varying if i != x_index]
        series_keys = _ordered_keys(rows, rest)
        series = {k: [None] * len(labels) for k in series_keys}
        for r in rows:
            key = " · ".join(r.dims[i].text for i in rest)
            series[key][labels.index(r.dims[x_index].text)] = float(r.value or 0)
    unit = next((r.unit for r in rows if r.unit), "")
    return {
        "type": "bar",
        "title": title,
        "unit": unit,
        "xTitle": dv.dimensions[x_index][1] if x_index is not None else "",
        "labels": labels,
        "datasets": [{"label": k or unit or title, "data": v} for k, v in series.items()],
    }


def _ordered(rows: list[ObsRow], i: int) -> list[str]:
    seen: dict[str, str] = {}
    for r in sorted(rows, key=lambda r: r.dims[i].sort):
        seen.setdefault(r.dims[i].text, r.dims[i].sort)
    return list(seen)


def _ordered_keys(rows: list[ObsRow], idx: list[int]) -> list[str]:
    seen: dict[str, None] = {}
    for r in sorted(rows, key=lambda r: tuple(r.dims[i].sort for i in idx)):
        seen.setdefault(" · ".join(r.dims[i].text for i in idx), None)
    return list(seen)
