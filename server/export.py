"""Dumps of the whole dataset in every RDF format and as CSV tables, plus the VoID/DCAT
description computed from the store. Dumps are streamed and written atomically."""

from __future__ import annotations

import csv
import gzip
import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any, cast

import pyoxigraph as ox

from . import __version__
from .config import Settings
from .namespaces import PREFIXES
from .queries import SERVER_SPARQL, parse_query_file, server_query
from .store import Store
from .terms import term_text

DATASET_VERSION = __version__
DATASET_DATE = date(2026, 11, 21)  # the release date of this version of the data


@dataclass(frozen=True)
class Dump:
    key: str
    filename: str
    media_type: str
    fmt: ox.RdfFormat
    quads: bool  # keeps the named graphs


DUMPS: dict[str, Dump] = {
    d.key: d
    for d in (
        Dump("ttl", "romagraph.ttl", "text/turtle", ox.RdfFormat.TURTLE, False),
        Dump("nt", "romagraph.nt", "application/n-triples", ox.RdfFormat.N_TRIPLES, False),
        Dump("nq", "romagraph.nq", "application/n-quads", ox.RdfFormat.N_QUADS, True),
        Dump("trig", "romagraph.trig", "application/trig", ox.RdfFormat.TRIG, True),
        Dump("jsonld", "romagraph.jsonld", "application/ld+json", ox.RdfFormat.JSON_LD, True),
        Dump("rdfxml", "romagraph.rdf", "application/rdf+xml", ox.RdfFormat.RDF_XML, False),
    )
}
CSV_DIR = SERVER_SPARQL / "csv"


def csv_tables() -> list[str]:
    return sorted(p.stem for p in CSV_DIR.glob("*.rq"))


class _AtomicFile:
    """A file written under a temporary name and renamed on success only."""

    def __init__(self, path: Path, compress: bool = False) -> None:
        self.path = path
        self.compress = compress

    def __enter__(self) -> IO[bytes]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        raw = os.fdopen(fd, "wb")
        self.raw = raw
        self.handle = cast(
            IO[bytes], gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) if self.compress else raw
        )
        return self.handle

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if self.compress:
            self.handle.close()
        self.raw.close()
        if exc_type is None:
            os.chmod(self.tmp, 0o644)
            os.replace(self.tmp, self.path)
        else:
            Path(self.tmp).unlink(missing_ok=True)


def graph_iri(settings: Settings, name: str) -> ox.NamedNode:
    return ox.NamedNode(f"{settings.base_iri}graph/{name}")


def description_quads(
    store: Store,
    settings: Settings,
    sizes: dict[str, int] | None = None,
    union: UnionOfGraphs | None = None,
) -> list[ox.Quad]:
    """The VoID + DCAT description of the dataset, computed from the store (``union``: the merge
    of its graphs, if the caller has it already)."""
    if union is None:
        union = union_of_graphs(store)
    base = settings.base_iri
    n = ox.NamedNode
    lit = ox.Literal
    xsd = "http://www.w3.org/2001/XMLSchema#"
    g = graph_iri(settings, "dataset")
    ds = n(f"{base}data/romagraph")
    prefixes = dict(PREFIXES)
    out: list[ox.Quad] = []

    def add(s: ox.NamedNode, p: str, o: ox.NamedNode | ox.Literal) -> None:
        prefix, local = p.split(":", 1)
        out.append(ox.Quad(s, n(prefixes[prefix] + local), o, g))

    def integer(v: int) -> ox.Literal:
        return lit(str(v), datatype=n(xsd + "integer"))

    add(ds, "rdf:type", n(prefixes["dcat"] + "Dataset"))
    add(ds, "rdf:type", n(prefixes["void"] + "Dataset"))
    add(
        ds,
        "dct:title",
        lit("romagraph: kas ko dara Latvijas romu integrācijas politikā", language="lv"),
    )
    add(
        ds,
        "dct:title",
        lit("romagraph: who does what in Latvia's Roma-integration policy", language="en"),
    )
    add(
        ds,
        "dct:description",
        lit(
            "Saistīto datu grafs par Latvijas romu integrācijas politikas dalībniekiem, dokumentiem, "
            "plāniem, projektiem, pasākumiem un statistiku, ar atsaucēm uz avotiem.",
            language="lv",
        ),
    )
    add(
        ds,
        "dct:description",
        lit(
            "A linked-data graph of the actors, documents, plans and tasks, projects, events and "
            "statistics of Latvia's Roma-integration policy, every fact cited to its source.",
            language="en",
        ),
    )
    add(ds, "dct:publisher", n(f"{base}id/org/romagraph"))
    add(ds, "dct:license", n("https://creativecommons.org/licenses/by/4.0/"))
    add(ds, "dct:language", n("http://publications.europa.eu/resource/authority/language/LAV"))
    add(ds, "dct:language", n("http://publications.europa.eu/resource/authority/language/ENG"))
    add(ds, "dct:spatial", n("http://publications.europa.eu/resource/authority/country/LVA"))
    add(ds, "dct:issued", lit(DATASET_DATE.isoformat(), datatype=n(xsd + "date")))
    add(ds, "dcat:version", lit(DATASET_VERSION))
    add(ds, "owl:versionInfo", lit(DATASET_VERSION))
    add(ds, "dct:source", n(f"{base}id/source/iic2014"))
    add(ds, "dct:source", n(f"{base}id/source/km2018"))
    add(ds, "void:uriSpace", lit(f"{base}id/"))
    add(ds, "void:sparqlEndpoint", n(f"{base}sparql"))
    add(ds, "void:feature", n("http://www.w3.org/ns/formats/Turtle"))
    add(ds, "void:triples", integer(union.triples))
    counts = store.select(server_query("void_counts"))[0]
    add(ds, "void:distinctSubjects", integer(int(counts["subjects"].value)))
    add(ds, "void:distinctObjects", integer(int(counts["objects"].value)))
    entities = store.select(server_query("void_entities"), {"base": lit(f"{base}id/")})[0]
    add(ds, "void:entities", integer(int(entities["entities"].value)))
    for vocab in ("org", "skos", "dct", "prov", "oa", "schema", "eli", "cv", "qb", "foaf", "rg"):
        add(ds, "void:vocabulary", n(prefixes[vocab]))
    for row in store.select(server_query("void_examples")):
        add(ds, "void:exampleResource", n(row["example"].value))

    service = n(f"{base}sparql#service")
    add(service, "rdf:type", n(prefixes["dcat"] + "DataService"))
    add(service, "dct:title", lit("romagraph SPARQL endpoint", language="en"))
    add(service, "dct:title", lit("romagraph SPARQL galapunkts", language="lv"))
    add(service, "dcat:endpointURL", n(f"{base}sparql"))
    add(service, "dct:conformsTo", n("https://www.w3.org/TR/sparql11-protocol/"))
    add(service, "dcat:servesDataset", ds)
    add(ds, "dcat:distribution", service)

    for d in DUMPS.values():
        dist = n(f"{base}data/romagraph/{d.filename}")
        add(ds, "dcat:distribution", dist)
        add(ds, "void:dataDump", n(f"{base}export/{d.filename}"))
        add(dist, "rdf:type", n(prefixes["dcat"] + "Distribution"))
        add(dist, "dct:title", lit(f"romagraph ({d.key})", language="en"))
        add(dist, "dct:title", lit(f"romagraph ({d.key})", language="lv"))
        add(dist, "dcat:downloadURL", n(f"{base}export/{d.filename}"))
        add(dist, "dcat:accessURL", n(f"{base}export/"))
        add(
            dist, "dcat:mediaType", n(f"http://www.iana.org/assignments/media-types/{d.media_type}")
        )
        add(dist, "dct:license", n("https://creativecommons.org/licenses/by/4.0/"))
        if sizes and d.filename in sizes:
            add(
                dist,
                "dcat:byteSize",
                lit(str(sizes[d.filename]), datatype=n(xsd + "nonNegativeInteger")),
            )

    for row in store.select(server_query("void_class_partitions")):
        cls = row["class"]
        if not isinstance(cls, ox.NamedNode):
            continue
        part = n(f"{base}data/romagraph/class-partition/{_slug(cls.value)}")
        add(ds, "void:classPartition", part)
        add(part, "void:class", cls)
        add(part, "void:entities", integer(int(row["entities"].value)))
    for prop, triples in union.per_property:
        part = n(f"{base}data/romagraph/property-partition/{_slug(prop.value)}")
        add(ds, "void:propertyPartition", part)
        add(part, "void:property", prop)
        add(part, "void:triples", integer(triples))
    return out


def _slug(iri: str) -> str:
    import hashlib

    tail = iri.rstrip("/#").replace("#", "/").rsplit("/", 1)[-1]
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in tail)[:40]
    return f"{safe}-{hashlib.sha1(iri.encode()).hexdigest()[:8]}"


# -- the union of the graphs ----------------------------------------------------------------------
#
# The triple formats and ``void:triples`` see the store as its SPARQL default graph does: the union
# of all its graphs, one set of triples, so a triple stated in several graphs is written once.
# ``CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }`` does that by remembering every triple it has
# written (≈650 MB at 1M triples). Here only the triples found in more than one graph are
# remembered: they are rare (a fact restated in two source files) and found by one streamed query
# that looks each quad up in the other graphs (an index lookup per quad, nothing held); every
# other quad is written as it is read from the store, in the store's order (the order CONSTRUCT
# writes in, so the dumps are the same bytes). Should there be more repeated quads than
# MAX_REPEATED, a query that keeps each triple in its first graph only (graphs in name order)
# is streamed instead: slower, still bounded.

MAX_REPEATED = 200_000  # quads of triples that are in several graphs, held to deduplicate them

# Quads of the named graphs whose triple is in another named graph too.
_REPEATED = """SELECT ?s ?p ?o WHERE {
  GRAPH ?g { ?s ?p ?o }
  FILTER EXISTS { GRAPH ?h { ?s ?p ?o } FILTER(?h != ?g) }
}"""
# Each triple of the named graphs once, from the first graph (by name; IRIs before blank nodes)
# that has it; two graphs named by blank nodes are not ordered, so a triple they both hold (and
# no IRI-named graph) is kept twice.
_FIRST_OCCURRENCES = """GRAPH ?g {{ ?s {p} ?o }}
    FILTER NOT EXISTS {{
      GRAPH ?h {{ ?s {p} ?o }} FILTER(isIRI(?h) && (isBLANK(?g) || STR(?h) < STR(?g)))
    }}"""


def _distinct_pattern(default_graph: bool, p: str = "?p") -> str:
    """A group pattern matching each triple ``?s {p} ?o`` of the store once. ``default_graph``:
    the store is queried without the union default graph, so a pattern outside ``GRAPH`` matches
    its real default graph, whose triples come first (a remote endpoint's default graph is the
    union: it is left out)."""
    first = _FIRST_OCCURRENCES.format(p=p)
    if not default_graph:
        return f"{{ {first} }}"
    return f"{{ {{ ?s {p} ?o }} UNION {{ {first}\n    FILTER NOT EXISTS {{ ?s {p} ?o }} }} }}"


@dataclass(frozen=True)
class UnionOfGraphs:
    """The graphs of a store merged into one set of triples, counted without materialising it."""

    per_property: list[tuple[ox.NamedNode, int]]  # distinct triples per predicate, by IRI
    repeated: frozenset[ox.Triple] | None  # the triples in several graphs; None: too many

    @property
    def triples(self) -> int:
        return sum(n for _, n in self.per_property)


def _embedded(store: Store) -> ox.Store | None:
    """The pyoxigraph store under ``store``, or None for a remote endpoint."""
    inner = getattr(store, "inner", None)
    return inner if isinstance(inner, ox.Store) else None


def union_of_graphs(store: Store) -> UnionOfGraphs:
    """Counts of the union of the store's graphs and the triples that several graphs repeat."""
    inner = _embedded(store)
    occurrences = _repeated_triples(store, inner) if inner is not None else None
    if inner is None or occurrences is None:  # counted by the store, each triple once
        query = (
            "SELECT ?property (COUNT(*) AS ?triples) WHERE "
            + _distinct_pattern(inner is not None, "?property")
            + " GROUP BY ?property ORDER BY ?property"
        )
        rows = (
            store.select(query)
            if inner is None
            else store.raw_query(query, use_default_graph_as_union=False)
        )
        return UnionOfGraphs(_per_property(rows, Counter()), None)
    extra: Counter[ox.NamedNode | ox.BlankNode | ox.Literal] = Counter()
    for t, n in occurrences.items():
        extra[t.predicate] += n - 1
    rows = store.select(server_query("void_property_partitions"))
    return UnionOfGraphs(_per_property(rows, extra), frozenset(occurrences))


def _per_property(
    rows: Iterable[Any], minus: Counter[ox.NamedNode | ox.BlankNode | ox.Literal]
) -> list[tuple[ox.NamedNode, int]]:
    """``(?property, ?triples)`` rows, less ``minus`` triples of each property."""
    out = []
    for r in rows:
        prop = r["property"]
        if isinstance(prop, ox.NamedNode):
            out.append((prop, int(r["triples"].value) - minus[prop]))
    return out


def _repeated_triples(store: Store, inner: ox.Store) -> Counter[ox.Triple] | None:
    """How many graphs hold each triple that is in more than one (None: too many to hold)."""
    occurrences: Counter[ox.Triple] = Counter()
    held = 0
    for row in store.raw_query(_REPEATED):
        occurrences[ox.Triple(row["s"], row["p"], row["o"])] += 1
        held += 1
        if held > MAX_REPEATED:
            return None
    for q in inner.quads_for_pattern(None, None, None, ox.DefaultGraph()):  # usually empty
        named = sum(
            1
            for r in inner.quads_for_pattern(q.subject, q.predicate, q.object, None)
            if not isinstance(r.graph_name, ox.DefaultGraph)
        )
        if named:
            occurrences[q.triple] = named + 1
            held += named + 1
            if held > MAX_REPEATED:
                return None
    return occurrences


def _triples(store: Store, union: UnionOfGraphs) -> Iterator[ox.Triple]:
    """The union of all graphs as triples, each once, streamed from the store."""
    inner = _embedded(store)
    if inner is None:  # a remote endpoint merges the graphs itself; the answer is streamed
        yield from store.raw_query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
        return
    if union.repeated is None:
        query = f"SELECT ?s ?p ?o WHERE {_distinct_pattern(True)}"
        for row in store.raw_query(query, use_default_graph_as_union=False):
            yield ox.Triple(row["s"], row["p"], row["o"])
        return
    quads = inner.quads_for_pattern(None, None, None, None)
    repeated = union.repeated
    if not repeated:
        for q in quads:
            yield q.triple
        return
    subjects = {t.subject for t in repeated}
    written: set[ox.Triple] = set()
    for q in quads:
        t = q.triple
        if q.subject in subjects and t in repeated:
            if t in written:
                continue
            written.add(t)
        yield t


def _quads(store: Store, description: list[ox.Quad]) -> Iterator[ox.Quad]:
    yield from store.quads()
    yield from description


def write_dump(
    store: Store, settings: Settings, key: str, out_dir: Path, compress: bool = False
) -> Path:
    """Write one dump (with the dataset description and version inside) and return its path."""
    d = DUMPS[key]
    union = union_of_graphs(store)
    description = description_quads(store, settings, union=union)
    path = out_dir / (d.filename + (".gz" if compress else ""))
    prefixes = (
        {k: v for k, v in PREFIXES.items()}
        if d.fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.RDF_XML)
        else None
    )
    with _AtomicFile(path, compress) as f:
        if d.quads:
            ox.serialize(_quads(store, description), f, d.fmt, prefixes=prefixes)
        else:
            triples = _chain_triples(store, union, description)
            ox.serialize(triples, f, d.fmt, prefixes=prefixes)
    return path


def _chain_triples(
    store: Store, union: UnionOfGraphs, description: list[ox.Quad]
) -> Iterator[ox.Triple]:
    yield from _triples(store, union)
    for q in description:
        yield q.triple

def write_csv(store: Store, settings: Settings, out_dir: Path) -> list[Path]:
    """One UTF-8 CSV per table, plus CSVW metadata describing every column."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    tables = []
    for name in csv_tables():
        q = parse_query_file(CSV_DIR / f"{name}.rq")
        result = store.raw_query(q.text)
        columns = [v.value for v in result.variables]
        path = out_dir / f"{name}.csv"
        fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                w = csv.writer(f)
                w.writerow(columns)
                for row in result:
                    w.writerow([term_text(row[c]) if row[c] is not None else "" for c in columns])
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(path)
        docs = _column_docs(q.description)
        tables.append(
            {
                "url": path.name,
                "dc:title": q.title,
                "dc:description": q.description.splitlines()[0] if q.description else q.title,
                "tableSchema": {
                    "columns": [
                        {
                            "name": c,
                            "titles": c,
                            "dc:description": docs.get(c, ""),
                            "datatype": "string",
                        }
                        for c in columns
                    ],
                },
            }
        )
    meta = {
        "@context": "http://www.w3.org/ns/csvw",
        "dc:title": "romagraph tables",
        "dc:license": "https://creativecommons.org/licenses/by/4.0/",
        "dc:modified": DATASET_DATE.isoformat(),
        "schema:version": DATASET_VERSION,
        "tables": tables,
    }
    meta_path = out_dir / "csv-metadata.json"
    with _AtomicFile(meta_path) as f:
        f.write(json.dumps(meta, ensure_ascii=False, indent=2).encode("utf-8"))
    written.append(meta_path)
    return written


def _column_docs(description: str) -> dict[str, str]:
    docs = {}
    for line in description.splitlines():
        if line.startswith("column "):
            name, _, text = line.removeprefix("column ").partition(":")
            docs[name.strip()] = text.strip()
    return docs
