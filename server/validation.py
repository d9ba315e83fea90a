"""SHACL validation of the repository's data, with reports that a person can act on."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib.namespace import SH, SKOS

from .config import Settings
from .sources import SourceFile, graph_iri, repository_files
from .store import DataError

log = logging.getLogger(__name__)
OxTerm = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


@dataclass
class Violation:
    focus: str
    label: str | None
    path: str | None
    value: str | None
    message: str
    severity: str
    shape: str | None
    files: list[str]


@dataclass
class Report:
    conforms: bool
    violations: list[Violation]
    triples: int

    def as_dict(self) -> dict[str, object]:
        return {
            "conforms": self.conforms,
            "triples": self.triples,
            "violations": [asdict(v) for v in self.violations],
        }


def load_shapes(settings: Settings) -> rdflib.Graph:
    shapes = rdflib.Graph()
    for p in sorted(settings.shapes_dir.glob("*.ttl")):
        try:
            shapes.parse(p, format="turtle")
        except Exception as e:  # rdflib raises several parser exception types
            raise DataError(p, str(e)) from e
    return shapes


def parse_files(files: list[SourceFile], base: str) -> tuple[rdflib.Graph, dict[str, set[str]]]:
    """One rdflib graph of all files, and for each subject IRI the files that describe it.

    The Turtle is parsed by pyoxigraph (Rust; the same parser ``open_store`` uses, so a file
    that validates is one the server loads) and its triples are added to the rdflib graph
    pyshacl needs: 0.2 s for the bundled graph where rdflib's own parser took 0.5 s. The terms
    are the ones rdflib's parser builds (``_to_rdflib``; tests/test_validation_scale.py), but
    for ``"x"^^xsd:string``, which pyoxigraph does not tell from ``"x"`` (the same literal in
    RDF 1.1; pyshacl's sh:datatype xsd:string accepts both). A syntax error names the file,
    line and column."""
    graph = rdflib.Graph()
    add = graph.add
    term = _term_converter()
    origin: dict[str, set[str]] = {}
    for f in files:
        try:
            triples = ox.parse(f.read_text(base).encode(), ox.RdfFormat.TURTLE, base_iri=base)
            subjects: set[OxTerm] = set()
            for t in triples:  # the parser is lazy: syntax errors surface while iterating
                s = t.subject
                subjects.add(s)
                add((term(s), term(t.predicate), term(t.object)))
        except (SyntaxError, NotChunkable) as e:  # NotChunkable: an RDF-star triple term
            raise DataError(f.path, str(e)) from e
        for s in subjects:
            origin.setdefault(str(term(s)), set()).add(str(f.path))
    return graph, origin


def _label(data: rdflib.Graph, node: rdflib.term.Node | None) -> str | None:
    if node is None:
        return None
    labels = {getattr(o, "language", None): str(o) for o in data.objects(node, SKOS.prefLabel)}
    return labels.get("en") or labels.get("lv") or next(iter(labels.values()), None)


def _relative(settings: Settings, p: str) -> str:
    path = Path(p).resolve()
    root = settings.root.resolve()
    return str(path.relative_to(root)) if path.is_relative_to(root) else p


def _violations(
    data: rdflib.Graph, results: rdflib.Graph, keep: Callable[[rdflib.term.Node], bool] | None = None
) -> list[Violation]:
    """The results of a pyshacl report (of focus nodes ``keep`` accepts), ``files`` left empty."""
    out: list[Violation] = []
    for r in results.subjects(rdflib.RDF.type, SH.ValidationResult):
        focus = results.value(r, SH.focusNode)
        if keep is not None and not keep(focus):  # type: ignore[arg-type]
            continue
        path = results.value(r, SH.resultPath)
        value = results.value(r, SH.value)
        out.append(
            Violation(
                focus=str(focus),
                label=_label(data, focus),
                path=str(path) if path is not None else None,
                value=str(value) if value is not None else None,
                message=str(results.value(r, SH.resultMessage) or ""),
                severity=str(results.value(r, SH.resultSeverity) or "").rsplit("#", 1)[-1],
                shape=str(results.value(r, SH.sourceShape) or "") or None,
                files=[],
            )
        )
    return out


_PARSED_QUERIES: dict[tuple[str, str | None, frozenset[tuple[str, str]]], object] = {}


@contextmanager
def _sparql_parsed_once() -> Iterator[None]:
    """pyshacl hands rdflib a SPARQL constraint's text once per focus node, and rdflib parses
    it each time (~50 ms with pyparsing: 18 of the 23 s of validating 100k triples). Parse each
    text once: the translated query is reusable with other bindings (what ``prepareQuery``
    gives)."""
    from rdflib.plugins.sparql import processor

    original = processor.SPARQLProcessor.query
    cache = _PARSED_QUERIES

    def query(self: object, q: object, initBindings: object = None,  # noqa: N803
              initNs: Mapping[str, object] | None = None, base: str | None = None,  # noqa: N803
              DEBUG: bool = False) -> object:  # noqa: N803
        if isinstance(q, str):
            key = (q, base, frozenset((k, str(v)) for k, v in (initNs or {}).items()))
            if key not in cache:
                if len(cache) > 256:
                    cache.clear()
                cache[key] = processor.translateQuery(processor.parseQuery(q), base, initNs)
            q = cache[key]
        return original(self, q, initBindings, initNs, base, DEBUG)  # type: ignore[arg-type]

    processor.SPARQLProcessor.query = query  # type: ignore[assignment,method-assign]
    try:
        yield
    finally:
        processor.SPARQLProcessor.query = original  # type: ignore[method-assign]


@contextmanager
def _targets_among(keep: set[rdflib.term.Node] | None) -> Iterator[None]:
    """Restrict the focus nodes pyshacl finds from the shapes' targets to ``keep``: the values
    a chunk carries for sh:class (with their rdf:type) are targets of shapes too, and would
    otherwise be validated, incompletely, and their results dropped (half of the work).
    ``Shape.focus_nodes`` is only used for targets (rules, which use it too, are refused by
    ``plan_shapes``); a shape given its focus nodes runs exactly as on its targets."""
    if keep is None:
        yield
        return
    from pyshacl.shape import Shape

    original = Shape.focus_nodes

    def focus_nodes(self: Shape, data_graph: object, debug: bool = False) -> set[object]:
        return {n for n in original(self, data_graph, debug=debug) if n in keep}

    Shape.focus_nodes = focus_nodes  # type: ignore[method-assign]
    try:
        yield
    finally:
        Shape.focus_nodes = original  # type: ignore[method-assign]


@contextmanager
def _parameters_as_set() -> Iterator[None]:
    """pyshacl looks up each predicate of a shape, for every focus and value node it checks, in
    the *list* of constraint parameters (with advanced mode, a copy of it): a linear scan
    with rdflib's Python term equality, 1.8 million comparisons and a sixth of the time of
    validating the bundled graph. The same items in a list that answers ``in`` from a set
    (they are the keys of pyshacl's parameter map, so hash and equality agree)."""
    from pyshacl import shape
    from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP

    original = getattr(shape, "CONSTRAINT_PARAMS", (None, None))  # (None, None): not cached yet
    shape.CONSTRAINT_PARAMS = (  # type: ignore[attr-defined]
        _SetList(ALL_CONSTRAINT_PARAMETERS), CONSTRAINT_PARAMETERS_MAP
    )
    try:
        yield
    finally:
        shape.CONSTRAINT_PARAMS = original  # type: ignore[attr-defined]


class _SetList(list[object]):
    """A list whose ``in`` is a set lookup; ``copy`` and ``append`` (what pyshacl does to it
    in advanced mode) keep it one."""

    def __init__(self, items: Iterable[object] = ()) -> None:
        super().__init__(items)
        self._members = set(self)

    def extend(self, items: Iterable[object]) -> None:
        items = list(items)
        super().extend(items)
        self._members.update(items)

    def __contains__(self, item: object) -> bool:
        return item in self._members

    def copy(self) -> _SetList:
        twin = _SetList()
        list.extend(twin, self)  # without hashing the items again (rdflib hashes in Python)
        twin._members = self._members.copy()
        return twin

    def append(self, item: object) -> None:
        super().append(item)
        self._members.add(item)


class _MemoGraph(rdflib.Graph):
    """A view of a graph (same store, same triples) that remembers the answer to each triple
    pattern. pyshacl reads a shape's parameters from the shapes graph again for every focus
    and value node it validates the shape on (18k times for the bundled graph), through
    rdflib's context-aware store; remembered, validation takes a quarter less time. For the
    shapes graph, which nothing changes while pyshacl runs; a change through the view clears
    what it remembers."""

    def __init__(self, graph: rdflib.Graph) -> None:
        super().__init__(store=graph.store, identifier=graph.identifier,
                         namespace_manager=graph.namespace_manager)
        self._answers: dict[tuple[object, object, object], list[tuple[object, ...]]] = {}

    def triples(self, triple):  # rdflib's signature
        from rdflib.paths import Path as RdfPath

        if isinstance(triple[1], RdfPath):  # path lookups go to the graph's own evaluation
            yield from super().triples(triple)
            return
        answer = self._answers.get(triple)
        if answer is None:
            answer = self._answers[triple] = list(super().triples(triple))
        yield from answer

    def add(self, triple):
        self._answers.clear()
        return super().add(triple)

    def addN(self, quads):  # noqa: N802
        self._answers.clear()
        return super().addN(quads)

    def remove(self, triple):
        self._answers.clear()
        return super().remove(triple)


def _run_pyshacl(data: rdflib.Graph, shapes: rdflib.Graph,
                 keep: set[rdflib.term.Node] | None = None) -> rdflib.Graph:
    """pyshacl with SHACL-SPARQL and advanced features, warnings allowed. ``data`` is built for
    this run, so pyshacl validates it in place instead of copying it first (what it does in
    advanced mode, for the triples SHACL rules would add; with rules, it still copies). The
    shapes are read through a ``_MemoGraph``."""
    from pyshacl import validate as shacl_validate  # 0.2 s of imports, only when validating

    with _sparql_parsed_once(), _targets_among(keep), _parameters_as_set():
        _conforms, results, _ = shacl_validate(
            data, shacl_graph=_MemoGraph(shapes), inference="none", advanced=True,
            allow_warnings=True,
            inplace=(None, SH.rule, None) not in shapes,
        )
    return results


def _report(violations: list[Violation], triples: int) -> Report:
    violations.sort(key=lambda v: (v.files, v.focus, v.path or "", v.message))
    errors = [v for v in violations if v.severity == "Violation"]
    return Report(conforms=not errors, violations=violations, triples=triples)


def validate(settings: Settings, paths: list[Path] | None = None) -> Report:
    """Validate ontology + data (or the named paths) against ``shapes/``."""
    files = repository_files(settings, paths)
    data, origin = parse_files(files, settings.base_iri)
    shapes = load_shapes(settings)
    violations = _violations(data, _run_pyshacl(data, shapes))
    for v in violations:
        v.files = sorted(_relative(settings, p) for p in origin.get(v.focus, set()))
    return _report(violations, len(data))


# --------------------------------------------------------------------------------------------
# Chunked validation of large graphs
#
# pyshacl is linear in the size of the data graph but slow (~4k triples/s) and holds the whole
# graph, its rdflib indexes and the report in memory (2.2 GB at 1M triples). Every constraint of
# ``shapes/`` looks only at a focus node's own triples, at the triples that point to it along an
# ``sh:inversePath``, and at the ``rdf:type`` (with ``rdfs:subClassOf``) of the values it reaches;
# ``plan_shapes`` checks that from the shapes graph itself and refuses (``NotChunkable``) shapes
# that look further. So the graph is cut, with pyoxigraph, into chunks of focus nodes, each with
# that neighbourhood and the class hierarchy, and pyshacl validates each chunk on its own
# (optionally in several processes). A chunk also makes the values it carries targets of
# shapes (their ``rdf:type`` is there, their other triples are not): their results are dropped,
# as every focus node is validated, with everything its shapes read, in exactly one chunk. The
# merged results are the ones whole-graph validation gives (tests/test_validation_scale.py).
# --------------------------------------------------------------------------------------------

RDF_TYPE = str(rdflib.RDF.type)
SUBCLASS_OF = str(rdflib.RDFS.subClassOf)
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

# Parameters that look at nothing but the value (or focus) node itself and its rdf:type.
_LOCAL_PARAMETERS = {
    SH[n] for n in (
        "datatype", "nodeKind", "minExclusive", "minInclusive", "maxExclusive", "maxInclusive",
        "minLength", "maxLength", "pattern", "flags", "languageIn", "in", "hasValue", "class",
    )
}
# Parameters that count or compare the values of one path from one node.
_PATH_PARAMETERS = {
    SH[n] for n in (
        "minCount", "maxCount", "uniqueLang", "qualifiedMinCount", "qualifiedMaxCount",
        "qualifiedValueShapesDisjoint", "equals", "disjoint", "lessThan", "lessThanOrEquals",
    )
}
# Annotations with no effect on which results there are.
_INERT = {
    SH[n] for n in (
        "message", "severity", "name", "description", "order", "group", "defaultValue",
        "deactivated", "targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf",
        "prefixes", "declare", "property", "node", "qualifiedValueShape", "or", "and", "xone",
        "not", "sparql", "path", "closed", "ignoredProperties",
    )
}
_SH = str(SH)


class NotChunkable(ValueError):
    """The shapes read further than a focus node's neighbourhood: validate the whole graph."""


@dataclass(frozen=True)
class ShapePlan:
    """What the shapes read around a focus node, and how to find the focus nodes."""

    inverse: frozenset[str]  # predicates of sh:inversePath paths: incoming triples are read
    typed: frozenset[str]  # outgoing predicates whose values are checked with sh:class
    typed_inverse: frozenset[str]  # inverse predicates whose subjects are checked with sh:class
    target_classes: frozenset[str]
    target_subjects_of: frozenset[str]
    target_objects_of: frozenset[str]
    target_nodes: tuple[rdflib.term.Node, ...]


def _list(shapes: rdflib.Graph, head: rdflib.term.Node) -> list[rdflib.term.Node]:
    return list(rdflib.collection.Collection(shapes, head))


def _only_this_outgoing(query: str, namespaces: dict[str, str]) -> bool:
    """Whether every triple pattern of a SPARQL constraint has ``$this`` as its subject and a
    plain predicate, i.e. whether it reads only the focus node's own triples."""
    from rdflib.paths import Path as RdfPath
    from rdflib.plugins.sparql import prepareQuery

    try:
        algebra = prepareQuery(query, initNs=namespaces).algebra
    except Exception:  # unparseable here: treat as reaching anywhere
        return False
    this = rdflib.Variable("this")
    ok = True

    def walk(node: object) -> None:
        nonlocal ok
        if isinstance(node, dict):
            if getattr(node, "name", None) in {"ServiceGraphPattern", "Graph"}:
                ok = False
            if getattr(node, "name", None) == "BGP":
                for s, p, _o in node["triples"]:
                    if s != this or isinstance(p, RdfPath):
                        ok = False
            for v in node.values():
                walk(v)
        elif isinstance(node, list | tuple):
            for v in node:
                walk(v)

    walk(algebra)
    return ok


def plan_shapes(shapes: rdflib.Graph) -> ShapePlan:
    """Read the shapes graph and work out the neighbourhood each focus node needs; raise
    ``NotChunkable`` (with the reason) for a constraint that reads further."""
    inverse: set[str] = set()
    typed: set[str] = set()
    typed_inverse: set[str] = set()
    namespaces = {p: str(n) for p, n in shapes.namespaces()}
    seen: set[tuple[rdflib.term.Node, int]] = set()

    def fail(shape: rdflib.term.Node, why: str) -> NotChunkable:
        return NotChunkable(f"shape {shape}: {why}")

    def uses_class(shape: rdflib.term.Node, depth: int = 0) -> bool:
        """Whether a shape applied to value nodes checks their class (needs their rdf:type)."""
        if depth > 20:
            return True
        if (shape, SH["class"], None) in shapes:
            return True
        nested = [o for p in (SH.node, SH["not"], SH.qualifiedValueShape)
                  for o in shapes.objects(shape, p)]
        for p in (SH["or"], SH["and"], SH.xone):
            for head in shapes.objects(shape, p):
                nested.extend(_list(shapes, head))
        nested.extend(shapes.objects(shape, SH.property))
        return any(uses_class(n, depth + 1) for n in nested)

    def visit(shape: rdflib.term.Node, depth: int) -> None:
        """``depth`` 0: the shape applies to the focus node; 1: to a value of its path."""
        if (shape, depth) in seen:
            return
        seen.add((shape, depth))
        for p in set(shapes.predicates(shape)):
            if str(p).startswith(_SH) and p not in _LOCAL_PARAMETERS | _PATH_PARAMETERS | _INERT:
                raise fail(shape, f"{p} is not supported by chunked validation")
        if (shape, SH.target, None) in shapes or (shape, SH.rule, None) in shapes:
            raise fail(shape, "SPARQL-based targets and rules read the whole graph")
        path = shapes.value(shape, SH.path)
        values_depth = depth
        if path is not None:
            if depth > 0:
                raise fail(shape, "a path from a value node reads that node's own triples")
            if isinstance(path, rdflib.URIRef):
                key, inv = str(path), False
            else:
                inv_p = shapes.value(path, SH.inversePath)
                if not isinstance(inv_p, rdflib.URIRef) or len(set(shapes.predicates(path))) != 1:
                    raise fail(shape, "only predicate and sh:inversePath paths are supported")
                key, inv = str(inv_p), True
                inverse.add(key)
            values_depth = 1
            value_shapes = [o for p in (SH.node, SH["not"], SH.qualifiedValueShape)
                            for o in shapes.objects(shape, p)]
            for p in (SH["or"], SH["and"], SH.xone):
                for head in shapes.objects(shape, p):
                    value_shapes.extend(_list(shapes, head))
            if (shape, SH["class"], None) in shapes or any(uses_class(v) for v in value_shapes):
                (typed_inverse if inv else typed).add(key)
        elif depth > 0 and any(
            (shape, p, None) in shapes for p in (SH.closed, SH.equals, SH.disjoint)
        ):
            raise fail(shape, "sh:closed/sh:equals/sh:disjoint on a value node read its triples")
        for sparql in shapes.objects(shape, SH.sparql):
            if values_depth > 0:
                raise fail(shape, "a SPARQL constraint on value nodes")
            query = str(shapes.value(sparql, SH.select) or "")
            if not query or not _only_this_outgoing(query, namespaces):
                raise fail(shape, "its SPARQL constraint reads more than $this's own triples")
        for prop in shapes.objects(shape, SH.property):
            if values_depth > 0:
                raise fail(shape, "a property shape on value nodes reads their triples")
            visit(prop, 0)
        for p in (SH.node, SH["not"], SH.qualifiedValueShape):
            for o in shapes.objects(shape, p):
                visit(o, values_depth)
        for p in (SH["or"], SH["and"], SH.xone):
            for head in shapes.objects(shape, p):
                for member in _list(shapes, head):
                    visit(member, values_depth)

    classes: set[str] = set()
    subjects_of: set[str] = set()
    objects_of: set[str] = set()
    nodes: list[rdflib.term.Node] = []
    roots: set[rdflib.term.Node] = set()
    for p, bucket in ((SH.targetClass, classes), (SH.targetSubjectsOf, subjects_of),
                      (SH.targetObjectsOf, objects_of)):
        for s, o in shapes.subject_objects(p):
            bucket.add(str(o))
            roots.add(s)
    for s, o in shapes.subject_objects(SH.targetNode):
        nodes.append(o)
        roots.add(s)
    for s in shapes.subjects(SH.target):
        raise fail(s, "SPARQL-based targets read the whole graph")
    for cls in (rdflib.RDFS.Class, rdflib.OWL.Class):
        for s in shapes.subjects(rdflib.RDF.type, cls):
            if (s, rdflib.RDF.type, SH.NodeShape) in shapes:  # implicit class target
                classes.add(str(s))
                roots.add(s)
    for shape in sorted(roots, key=str):
        visit(shape, 0)
    return ShapePlan(frozenset(inverse), frozenset(typed), frozenset(typed_inverse),
                     frozenset(classes), frozenset(subjects_of), frozenset(objects_of),
                     tuple(nodes))


def _to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> rdflib.term.Node:
    """A pyoxigraph term as rdflib builds it when parsing (``"x"`` without an xsd:string)."""
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        dt = term.datatype.value
        return rdflib.Literal(term.value, datatype=None if dt == XSD_STRING else rdflib.URIRef(dt))
    raise NotChunkable(f"RDF-star triple terms are not supported: {term}")


def _to_ox(term: rdflib.term.Node) -> ox.NamedNode | ox.BlankNode:
    return ox.BlankNode(str(term)) if isinstance(term, rdflib.BNode) else ox.NamedNode(str(term))


def _term_converter() -> Callable[[OxTerm], rdflib.term.Node]:
    """``_to_rdflib`` remembering its answers: a graph repeats its predicates, classes and
    values, and building an rdflib term costs more than looking one up (half the time of
    turning the bundled graph into rdflib terms)."""
    cache: dict[object, rdflib.term.Node] = {}

    def term(t: OxTerm) -> rdflib.term.Node:
        node = cache.get(t)
        if node is None:
            node = cache[t] = _to_rdflib(t)
        return node

    return term


def rdflib_graph(triples: Iterable[ox.Triple]) -> rdflib.Graph:
    g = rdflib.Graph()
    add = g.add
    term = _term_converter()
    for t in triples:
        add((term(t.subject), term(t.predicate), term(t.object)))
    return g


def focus_nodes(store: ox.Store, plan: ShapePlan) -> list[ox.NamedNode | ox.BlankNode | ox.Literal]:
    """Every node some shape targets (SHACL instance: rdf:type/rdfs:subClassOf*), once each, in
    a stable order; the union of the store's graphs is the data graph."""
    found: dict[object, None] = {}

    def select(query: str) -> None:
        for row in store.query(query, use_default_graph_as_union=True):  # type: ignore[union-attr]
            found.setdefault(row[0], None)

    for c in sorted(plan.target_classes):
        select(f"SELECT DISTINCT ?s WHERE {{ ?s <{RDF_TYPE}>/<{SUBCLASS_OF}>* <{c}> }}")
    for p in sorted(plan.target_subjects_of):
        select(f"SELECT DISTINCT ?s WHERE {{ ?s <{p}> ?o }}")
    for p in sorted(plan.target_objects_of):
        select(f"SELECT DISTINCT ?o WHERE {{ ?s <{p}> ?o }}")
    for n in plan.target_nodes:
        found.setdefault(_to_ox(n) if not isinstance(n, rdflib.Literal)
                         else ox.Literal(str(n)), None)
    return list(found)  # type: ignore[arg-type]


def cut_chunk(store: ox.Store, plan: ShapePlan, focus: Iterable[object],
              schema: Iterable[ox.Triple]) -> set[ox.Triple]:
    """The triples pyshacl needs to validate ``focus``: their own triples, the triples pointing
    to them along inverse paths, the rdf:type of the values checked with sh:class, and the
    class hierarchy (``schema``)."""
    triples: set[ox.Triple] = set(schema)
    typed = plan.typed
    rdf_type = ox.NamedNode(RDF_TYPE)
    inverse = [(ox.NamedNode(p), p in plan.typed_inverse) for p in sorted(plan.inverse)]
    values: set[object] = set()
    for f in focus:
        if isinstance(f, ox.Literal):
            continue
        for q in store.quads_for_pattern(f, None, None):  # type: ignore[arg-type]
            triples.add(q.triple)
            if q.predicate.value in typed and not isinstance(q.object, ox.Literal):
                values.add(q.object)
        for p, needs_type in inverse:
            for q in store.quads_for_pattern(None, p, f):  # type: ignore[arg-type]
                triples.add(q.triple)
                if needs_type:
                    values.add(q.subject)
    for v in values:
        for q in store.quads_for_pattern(v, rdf_type, None):  # type: ignore[arg-type]
            triples.add(q.triple)
    return triples


_WORKER_SHAPES: rdflib.Graph | None = None


def _init_worker(shapes: rdflib.Graph) -> None:
    global _WORKER_SHAPES
    _WORKER_SHAPES = shapes


def _validate_chunk(ntriples: bytes, focus: list[str]) -> list[Violation]:
    """pyshacl on one chunk (N-Triples, blank node ids kept), keeping the results of ``focus``
    (N-Triples terms) only."""
    assert _WORKER_SHAPES is not None
    data = rdflib_graph(ox.parse(ntriples, ox.RdfFormat.N_TRIPLES))
    keep = {_to_rdflib(t) for t in _parse_terms(focus)}
    return _violations(data, _run_pyshacl(data, _WORKER_SHAPES, keep), keep.__contains__)


def _term_text(term: object) -> str:
    return str(term)  # pyoxigraph terms print as N-Triples


def _parse_terms(texts: list[str]) -> Iterator[ox.NamedNode | ox.BlankNode | ox.Literal]:
    if not texts:
        return
    doc = "".join(f"<urn:x:s> <urn:x:p> {t} .\n" for t in texts).encode()
    for t in ox.parse(doc, ox.RdfFormat.N_TRIPLES):
        yield t.object


def _chunks(store: ox.Store, plan: ShapePlan, focus: list[object],
            size: int) -> Iterator[tuple[bytes, list[str], int]]:
    schema = [q.triple for q in store.quads_for_pattern(None, ox.NamedNode(SUBCLASS_OF), None)]
    for i in range(0, len(focus), size):
        part = focus[i:i + size]
        triples = cut_chunk(store, plan, part, schema)
        yield (ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"",
               [_term_text(f) for f in part], len(part))


def validate_store(
    store: ox.Store,
    shapes: rdflib.Graph,
    *,
    chunk_size: int = 2000,
    jobs: int = 1,
    progress: bool = False,
) -> list[Violation]:
    """Validate the union of the store's graphs chunk by chunk (see ``plan_shapes``); the
    results are those of validating the whole graph at once. ``files`` are left empty."""
    from tqdm import tqdm

    plan = plan_shapes(shapes)
    focus: list[object] = focus_nodes(store, plan)  # type: ignore[assignment]
    chunks = _chunks(store, plan, focus, max(1, chunk_size))
    out: list[Violation] = []
    with tqdm(total=len(focus), unit="node", desc="validate", disable=not progress) as bar:
        if jobs <= 1:
            _init_worker(shapes)
            for nt, keep, n in chunks:
                out.extend(_validate_chunk(nt, keep))
                bar.update(n)
            return out
        import multiprocessing

        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        with ctx.Pool(jobs, initializer=_init_worker, initargs=(shapes,)) as pool:
            pending: deque[tuple[object, int]] = deque()
            for nt, keep, n in chunks:  # at most 2 chunks per process in flight: flat memory
                pending.append((pool.apply_async(_validate_chunk, (nt, keep)), n))
                while len(pending) >= 2 * jobs:
                    res, k = pending.popleft()
                    out.extend(res.get())  # type: ignore[attr-defined]
                    bar.update(k)
            while pending:
                res, k = pending.popleft()
                out.extend(res.get())  # type: ignore[attr-defined]
                bar.update(k)
    return out


def validate_whole_store(store: ox.Store, shapes: rdflib.Graph) -> list[Violation]:
    """pyshacl on the union of the store's graphs at once (the reference for ``validate_store``)."""
    data = rdflib_graph(q.triple for q in store)
    return _violations(data, _run_pyshacl(data, shapes))


DUMP_SUFFIXES = {".nq", ".trig", ".nt", ".gz", ".jsonld", ".rdf", ".owl", ".xml", ".n3"}


ON_DISK_ABOVE = 20_000_000  # bytes of dumps above which open_data stages them on disk


def open_data(settings: Settings, paths: list[Path] | None = None,
              store_url: str | None = None, folder: Path | None = None) -> ox.Store:
    """The data to validate as a pyoxigraph store: a loaded on-disk store (``oxigraph:PATH``,
    read-only), or the ontology plus the named files (default: data/), in memory or, given a
    ``folder``, in a new on-disk store there (flat memory at any size). Turtle files of the
    repository's kind go each into a graph named by its ``file:`` URI, so results can name the
    file; RDF dumps (N-Quads, TriG, …, optionally .gz) keep their own graphs."""
    if store_url:
        from .backends.disk import store_path

        path = store_path(store_url)
        try:
            return ox.Store.read_only(str(path))
        except OSError as e:
            raise OSError(f"cannot open the Oxigraph store at {path}: {e}") from e
    from .backends.disk import extend_from
    from .backends.loading import dump_sources

    paths = list(paths or [])
    dumps = [p for p in paths if p.is_file() and p.suffix in DUMP_SUFFIXES]
    turtle = [p for p in paths if p not in dumps]
    store = ox.Store(str(folder)) if folder else ox.Store()
    if turtle or not dumps:
        files = repository_files(settings, turtle or None)
    else:  # the ontology, as `validate FILE` always includes it
        files = [SourceFile(p, graph_iri(settings.base_iri, "ontology"))
                 for p in sorted(settings.ontology_dir.glob("*.ttl"))]
    for f in files:
        try:
            store.load(f.read_text(settings.base_iri), format=ox.RdfFormat.TURTLE,
                       base_iri=settings.base_iri, to_graph=ox.NamedNode(f.path.resolve().as_uri()))
        except SyntaxError as e:
            raise DataError(f.path, str(e)) from e
    for src in dump_sources(dumps, settings):
        with src.opener() as reader:
            extend_from(store, src, reader)
    return store


def graph_files(settings: Settings, store: ox.Store, focus: str) -> list[str]:
    """Where ``focus`` is described: the files (``file:`` graphs) or named graphs it is the
    subject of."""
    if ":" in focus:  # an IRI has a scheme; a blank node's id (as rdflib prints it) has not
        node: ox.NamedNode | ox.BlankNode = ox.NamedNode(focus)
    else:
        node = ox.BlankNode(focus)
    out = set()
    for q in store.quads_for_pattern(node, None, None):
        g = q.graph_name
        if isinstance(g, ox.NamedNode):
            if g.value.startswith("file:"):
                from urllib.parse import unquote, urlparse

                out.add(_relative(settings, unquote(urlparse(g.value).path)))
            else:
                out.add(g.value)
    return sorted(out)


def validate_chunked(
    settings: Settings,
    paths: list[Path] | None = None,
    store_url: str | None = None,
    *,
    chunk_size: int = 2000,
    jobs: int = 1,
    progress: bool = False,
    whole: bool = False,
) -> Report:
    """``validate`` for graphs of any size: the data (``open_data``) is cut into chunks of
    ``chunk_size`` focus nodes validated one by one, in ``jobs`` processes. ``whole``
    validates the same data at once instead (the reference, and for shapes that cannot be
    chunked)."""
    import shutil
    import tempfile

    big = sum(p.stat().st_size for p in paths or [] if p.is_file() and p.suffix in DUMP_SUFFIXES)
    folder = Path(tempfile.mkdtemp(prefix="romagraph-validate-")) \
        if not store_url and big > ON_DISK_ABOVE else None
    try:
        store = open_data(settings, paths, store_url, folder)
        shapes = load_shapes(settings)
        if whole:
            violations = validate_whole_store(store, shapes)
        else:
            violations = validate_store(store, shapes, chunk_size=chunk_size, jobs=jobs,
                                        progress=progress)
        for v in violations:
            v.files = graph_files(settings, store, v.focus)
        report = _report(violations, len(store))
        del store  # closes RocksDB before its folder goes
        return report
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
