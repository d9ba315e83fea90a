"""Documentation of the ontology and the shapes, read from their Turtle."""

from __future__ import annotations

from dataclasses import dataclass

import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SH, SKOS


@dataclass
class Term:
    iri: str
    kind: str
    label_lv: str
    label_en: str
    definition_en: str
    alignments: list[str]


def ontology_terms(g: rdflib.Graph) -> list[Term]:
    terms = []
    for kind, cls in (
        ("class", OWL.Class),
        ("object property", OWL.ObjectProperty),
        ("datatype property", OWL.DatatypeProperty),
        ("concept scheme", SKOS.ConceptScheme),
    ):
        for s in sorted(set(g.subjects(RDF.type, cls)), key=str):
            labels = {lbl.language: str(lbl) for lbl in g.objects(s, RDFS.label)
                      if isinstance(lbl, rdflib.Literal)}
            labels |= {lbl.language: str(lbl) for lbl in g.objects(s, SKOS.prefLabel)
                       if isinstance(lbl, rdflib.Literal)}
            defs = {d.language: str(d) for d in g.objects(s, SKOS.definition)
                    if isinstance(d, rdflib.Literal)}
            align = [
                str(o)
                for p in (RDFS.subClassOf, RDFS.subPropertyOf, SKOS.closeMatch, SKOS.exactMatch)
                for o in g.objects(s, p)
            ]
            terms.append(
                Term(
                    str(s),
                    kind,
                    labels.get("lv", ""),
                    labels.get("en", ""),
                    defs.get("en", ""),
                    sorted(align),
                )
            )
    return terms


@dataclass
class Constraint:
    shape: str
    path: str
    message: str
    fixture: str


def shape_constraints(g: rdflib.Graph) -> list[Constraint]:
    out = []
    for shape in sorted(set(g.subjects(RDF.type, SH.NodeShape)), key=str):
        nodes = list(g.objects(shape, SH.property)) + list(g.objects(shape, SH.sparql)) + [shape]
        for n in nodes:
            msg = g.value(n, SH.message)
            if msg is None:
                continue
            path = g.value(n, SH.path)
            comment = str(g.value(n, RDFS.comment) or "")
            out.append(
                Constraint(
                    str(shape),
                    str(path) if isinstance(path, rdflib.URIRef) else "",
                    str(msg),
                    comment.removeprefix("fixture: "),
                )
            )
    return out
