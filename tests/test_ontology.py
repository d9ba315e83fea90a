"""The ontology parses, every local term is documented in both languages and aligned, and
OWL-RL reasoning over ontology + data finds no inconsistency."""

from __future__ import annotations

import owlrl
import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from server.config import Settings
from server.store import OxigraphStore

RG = rdflib.Namespace("https://w3id.org/romagraph/def/rg#")
ALIGN = {RDFS.subClassOf, RDFS.subPropertyOf, SKOS.closeMatch, SKOS.exactMatch}


def _ontology(settings: Settings) -> rdflib.Graph:
    g = rdflib.Graph()
    g.parse(settings.ontology_dir / "romagraph.ttl")
    return g


def test_ontology_header(settings: Settings) -> None:
    g = _ontology(settings)
    onto = rdflib.URIRef("https://w3id.org/romagraph/def/rg")
    assert (onto, RDF.type, OWL.Ontology) in g
    titles = {t.language for t in g.objects(onto, rdflib.DCTERMS.title)}
    assert titles == {"lv", "en"}
    assert g.value(onto, OWL.versionInfo) is not None
    assert g.value(onto, rdflib.DCTERMS.license) is not None


def test_every_local_term_documented_and_aligned(settings: Settings) -> None:
    g = _ontology(settings)
    terms = {s for s in g.subjects() if isinstance(s, rdflib.URIRef) and s.startswith(str(RG))}
    assert len(terms) >= 15
    for t in sorted(terms):
        assert {lbl.language for lbl in g.objects(t, RDFS.label)} == {"lv", "en"}, t
        assert {d.language for d in g.objects(t, SKOS.definition)} >= {"en", "lv"}, t
        assert any(g.value(t, p) is not None for p in ALIGN), f"{t} is not aligned"
        assert g.value(t, RDFS.isDefinedBy) is not None, t


def test_code_lists_cover_the_eu_pillars(store: OxigraphStore) -> None:
    rows = store.select(
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
        "SELECT ?c WHERE { ?c skos:inScheme <https://w3id.org/romagraph/def/theme> }"
    )
    codes = {r["c"].value.rsplit("/", 1)[1] for r in rows}
    assert {
        "education",
        "employment",
        "health",
        "housing",
        "anti-discrimination",
        "culture-identity",
        "participation",
        "coordination",
    } <= codes


def test_owl_rl_reasoning_finds_no_inconsistency(settings: Settings, store: OxigraphStore) -> None:
    g = rdflib.Graph()
    for q in store.quads():
        s, p, o = (rdflib.util.from_n3(t.__str__()) for t in (q.subject, q.predicate, q.object))
        g.add((s, p, o))
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(g)
    # OWL-RL marks inconsistencies by asserting owl:Nothing members or error triples.
    assert not list(g.subjects(RDF.type, OWL.Nothing))
    errors = list(
        g.objects(None, rdflib.URIRef("http://www.daml.org/2002/03/agents/agent-ont#error"))
    )
    assert not errors, errors[:5]
