"""Chunked SHACL validation (``romagraph validate FILE.nq | --store``) gives the results of
validating the whole graph at once, on the bundled graph and on graphs with injected errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from benchmarks.generate import generate
from server.config import REPO_ROOT, Settings
from server.validation import (
    NotChunkable,
    Violation,
    load_shapes,
    open_data,
    plan_shapes,
    validate,
    validate_chunked,
    validate_store,
    validate_whole_store,
)

FIXTURES = Path(__file__).parent / "fixtures"
SH = "http://www.w3.org/ns/shacl#"


def key(v: Violation) -> tuple[str, str, str, str, str, str]:
    return (v.focus, v.path or "", v.value or "", v.message, v.severity, v.shape or "")


def results(vs: list[Violation]) -> list[tuple[str, str, str, str, str, str]]:
    return sorted(map(key, vs))


def test_the_shapes_are_chunkable_and_read_what_they_say(settings: Settings) -> None:
    plan = plan_shapes(load_shapes(settings))
    rg = "https://w3id.org/romagraph/def/rg#"
    assert plan.inverse == {rg + "hasResult", "http://data.europa.eu/m8g/hasParticipation"}
    assert "http://www.w3.org/ns/prov#wasDerivedFrom" in plan.typed  # sh:class rg:Citation
    assert "http://www.w3.org/2004/02/skos/core#prefLabel" not in plan.typed
    assert "http://www.w3.org/1999/02/22-rdf-syntax-ns#type" in plan.target_subjects_of


def _shapes(ttl: str) -> rdflib.Graph:
    return rdflib.Graph().parse(data=f"@prefix sh: <{SH}> . @prefix ex: <http://ex/> .\n{ttl}",
                                format="turtle")


@pytest.mark.parametrize("ttl", [
    # a path from the value node: reads the value's own triples
    "ex:S sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:node [ sh:property "
    "[ sh:path ex:q ; sh:minCount 1 ] ] ] .",
    # a sequence path
    "ex:S sh:targetClass ex:C ; sh:property [ sh:path ( ex:p ex:q ) ; sh:minCount 1 ] .",
    # SPARQL reaching past $this's own triples
    "ex:S sh:targetClass ex:C ; sh:sparql [ sh:select "
    "\"SELECT $this WHERE { $this ex:p ?o . ?o ex:q ?v }\" ] .",
    # SPARQL-based target
    "ex:S sh:target [ a sh:SPARQLTarget ; sh:select \"SELECT ?this WHERE { ?this ?p ?o }\" ] .",
])
def test_shapes_that_read_further_are_refused(ttl: str) -> None:
    with pytest.raises(NotChunkable):
        plan_shapes(_shapes(ttl))


def test_a_sparql_constraint_on_this_own_triples_is_chunkable() -> None:
    plan_shapes(_shapes("ex:S sh:targetClass ex:C ; sh:sparql [ sh:select "
                        "\"SELECT $this ?value WHERE { $this ?p ?value . FILTER(isLiteral(?value)) }\" ] ."))


def test_bundled_graph_chunked_equals_whole(settings: Settings) -> None:
    whole = validate(settings)  # what `romagraph validate` runs: rdflib parse + pyshacl
    chunked = validate_chunked(settings, chunk_size=150, jobs=2)
    assert results(chunked.violations) == results(whole.violations)
    assert chunked.conforms == whole.conforms


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated graph with errors injected into it, plus every invalid fixture."""
    text = io.StringIO()
    generate(3000, 5, text, "nq")
    skos, prov = "http://www.w3.org/2004/02/skos/core#", "http://www.w3.org/ns/prov#"
    rg = "https://w3id.org/romagraph/def/rg#"
    out = []
    for i, line in enumerate(text.getvalue().splitlines(keepends=True)):
        if i % 13 == 0 and f"<{skos}prefLabel>" in line and "@en " in line:
            continue  # a missing English label: sh:qualifiedMinCount
        if i % 17 == 0 and f"<{prov}wasDerivedFrom>" in line:
            continue  # an uncited entity: sh:minCount
        if i % 7 == 0 and f"<{rg}Citation>" in line:
            line = line.replace(f"<{rg}Citation>", f"<{rg}SourceSection>")  # sh:class of values
        out.append(line)
    out.append(f'_:b <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{rg}Plan> '
               '<https://w3id.org/romagraph/graph/x> .\n')
    path = tmp_path_factory.mktemp("broken") / "broken.nq"
    path.write_text("".join(out), encoding="utf-8")
    return path


def test_generated_graph_with_injected_errors_chunked_equals_whole(
    settings: Settings, broken: Path, tmp_path: Path
) -> None:
    paths = [broken, FIXTURES / "context.ttl", *sorted((FIXTURES / "invalid").glob("*.ttl"))]
    store = open_data(settings, paths)
    shapes = load_shapes(settings)
    whole = validate_whole_store(store, shapes)
    assert len(whole) > 100
    messages = {v.message for v in whole}
    assert any("English (@en) label" in m for m in messages)
    assert any("must point to a rg:Citation" in m for m in messages)
    assert any("no blank nodes" in m for m in messages)  # a blank focus node
    for size, jobs in ((1, 1), (97, 1), (500, 2), (100_000, 1)):
        assert results(validate_store(store, shapes, chunk_size=size, jobs=jobs)) == \
            results(whole), (size, jobs)
    on_disk = open_data(settings, paths, folder=tmp_path / "staged")  # how big dumps are read

    def no_blank_ids(vs: list[Violation]) -> list[tuple[str, ...]]:
        return sorted((v.focus if ":" in v.focus else "_", v.path or "",
                       "_" if v.value == v.focus else v.value or "", v.message) for v in vs)

    assert no_blank_ids(validate_store(on_disk, shapes, chunk_size=300, jobs=2)) == \
        no_blank_ids(whole)


def test_chunked_report_names_the_files_as_the_whole_one_does(settings: Settings) -> None:
    paths = [FIXTURES / "context.ttl", *sorted((FIXTURES / "invalid").glob("*.ttl"))]

    def named(vs: list[Violation]) -> list[tuple[str, ...]]:  # blank node ids differ per parse
        return sorted((v.path or "", v.message, v.severity, *v.files, str(v.label)) for v in vs)

    whole = validate(settings, paths)
    chunked = validate_chunked(settings, paths, chunk_size=5)
    assert named(chunked.violations) == named(whole.violations)
    assert not chunked.conforms


def test_cli_validates_nquads_and_a_loaded_store(tmp_path: Path) -> None:
    nq = tmp_path / "g.nq"
    with nq.open("w", encoding="utf-8") as f:
        generate(3000, 2, f, "nq")
    with nq.open("a", encoding="utf-8") as f:  # an organisation with no type and no citation
        f.write("<https://w3id.org/romagraph/id/org/bad> "
                "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
                "<http://www.w3.org/ns/org#Organization> <https://w3id.org/romagraph/graph/x> .\n")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True,
                              text=True, cwd=REPO_ROOT, timeout=300)

    r = run("validate", str(nq), "--jobs", "2", "--chunk-size", "300", "--format", "json")
    assert r.returncode == 1, r.stderr[-2000:]
    report = json.loads(r.stdout)
    bad = [v for v in report["violations"] if v["focus"].endswith("/id/org/bad")]
    assert any("org:classification" in v["message"] for v in bad)
    assert all(v["files"] == ["https://w3id.org/romagraph/graph/x"] for v in bad)
    store = tmp_path / "store"
    ontology = sorted(str(p) for p in (REPO_ROOT / "ontology").glob("*.ttl"))
    r = run("load", "--store", f"oxigraph:{store}", "--from", str(nq), *sum(
        (["--from", p] for p in ontology), []), "--no-progress")
    assert r.returncode == 0, r.stderr[-2000:]
    r2 = run("validate", "--store", f"oxigraph:{store}", "--format", "json")
    assert r2.returncode == 1, r2.stderr[-2000:]

    def same(vs: list[dict[str, object]]) -> list[tuple[object, ...]]:  # shape ids: per process
        return sorted((v["focus"], v["path"] or "", v["value"] or "", v["message"], v["files"])
                      for v in vs)

    assert same(json.loads(r2.stdout)["violations"]) == same(report["violations"])
    text = run("validate", "--store", f"oxigraph:{store}")
    assert "org:classification" in text.stdout and "violation(s)" in text.stdout


def test_literal_terms_convert_as_rdflib_parses_them() -> None:
    from server.validation import _to_rdflib

    g = rdflib.Graph().parse(data='<http://a> <http://p> "x", "y"@lv, "1"^^<http://www.w3.org/2001/XMLSchema#integer> .',
                             format="turtle")
    parsed = {o for o in g.objects()}
    store = ox.Store()
    store.load(g.serialize(format="nt"), ox.RdfFormat.N_TRIPLES)
    assert {_to_rdflib(q.object) for q in store} == parsed
