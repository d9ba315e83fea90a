"""Every SHACL constraint has an invalid fixture that triggers it, with its own message; the
shapes graph itself conforms to SHACL-for-SHACL."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from pyshacl import validate
from rdflib.namespace import RDF, RDFS, SH

from server.config import Settings
from server.validation import load_shapes

FIXTURES = Path(__file__).parent / "fixtures"


def _shapes(settings: Settings) -> rdflib.Graph:
    return load_shapes(settings)


def _constraints(settings: Settings) -> list[tuple[str, str]]:
    g = _shapes(settings)
    found = []
    for node, comment in g.subject_objects(RDFS.comment):
        text = str(comment)
        if text.startswith("fixture: "):
            message = g.value(node, SH.message)
            assert message is not None, f"constraint {node} has no sh:message"
            found.append((text.removeprefix("fixture: ").strip(), str(message)))
    return sorted(found)


def _ontology(settings: Settings) -> rdflib.Graph:
    g = rdflib.Graph()
    for p in sorted(settings.ontology_dir.glob("*.ttl")):
        g.parse(p)
    return g


def test_every_constraint_has_a_message(settings: Settings) -> None:
    g = _shapes(settings)
    property_shapes = set(g.objects(None, SH.property)) | set(
        g.subjects(RDF.type, SH.PropertyShape)
    )
    sparql_constraints = set(g.objects(None, SH.sparql))
    node_level = {
        s
        for p in (SH.nodeKind, SH["or"])
        for s in g.subjects(p, None)
        if (s, RDF.type, SH.NodeShape) in g
    }
    constraints = property_shapes | sparql_constraints | node_level
    assert len(constraints) >= 60
    missing = sorted(str(n) for n in constraints if g.value(n, SH.message) is None)
    assert not missing, f"constraints without sh:message: {missing}"


def test_every_fixture_named_by_a_shape_exists(settings: Settings) -> None:
    names = {f for f, _ in _constraints(settings)}
    assert len(names) >= 60
    on_disk = {p.name for p in (FIXTURES / "invalid").glob("*.ttl")}
    assert names <= on_disk, f"missing fixtures: {sorted(names - on_disk)}"
    assert on_disk <= names, f"fixtures no shape names: {sorted(on_disk - names)}"


def test_context_fixture_conforms(settings: Settings) -> None:
    data = _ontology(settings)
    data.parse(FIXTURES / "context.ttl")
    conforms, _, text = validate(data, shacl_graph=_shapes(settings), advanced=True)
    assert conforms, text


@pytest.mark.parametrize(
    "fixture,message",
    _constraints(Settings(validate_on_start=False)),
    ids=lambda v: v if v.endswith(".ttl") else "",
)
def test_invalid_fixture_fails_with_its_message(
    settings: Settings, fixture: str, message: str
) -> None:
    data = _ontology(settings)
    data.parse(FIXTURES / "context.ttl")
    data.parse(FIXTURES / "invalid" / fixture)
    conforms, results, _ = validate(data, shacl_graph=_shapes(settings), advanced=True)
    assert not conforms
    messages = {str(m) for m in results.objects(None, SH.resultMessage)}
    assert any(m == message or m.startswith(message.split("{")[0]) for m in messages), (
        f"{fixture}: expected {message!r}, got {sorted(messages)}"
    )


def test_shapes_conform_to_shacl_for_shacl(settings: Settings) -> None:
    # meta_shacl first checks the shapes graph against SHACL-for-SHACL and raises if it fails;
    # a deliberately broken shape proves the check is live.
    shapes = _shapes(settings)
    validate(rdflib.Graph(), shacl_graph=shapes, meta_shacl=True, advanced=True)
    broken = rdflib.Graph()
    broken.parse(
        data="""@prefix sh: <http://www.w3.org/ns/shacl#> .
        <http://x/S> a sh:NodeShape ; sh:property [ sh:path <http://x/p> ; sh:minCount "one" ] .""",
        format="turtle",
    )
    with pytest.raises(Exception, match="(?i)shacl"):
        validate(rdflib.Graph(), shacl_graph=broken, meta_shacl=True)
