"""The synthetic graph generator of the benchmarks: the same graph for the same seed, the size
asked for, the named graphs of the real data, and valid against the project's SHACL shapes."""

from __future__ import annotations

import io
from pathlib import Path

import pyoxigraph as ox

from benchmarks.generate import generate, parse_size
from server.config import Settings
from server.validation import validate


def _text(triples: int, seed: int, fmt: str) -> str:
    out = io.StringIO()
    generate(triples, seed, out, fmt)
    return out.getvalue()


def test_sizes_parse() -> None:
    assert [parse_size(s) for s in ("10k", "100K", "1M", "2.5m", "10000")] == [
        10_000, 100_000, 1_000_000, 2_500_000, 10_000
    ]


def test_same_seed_same_graph_other_seed_other_graph() -> None:
    assert _text(3000, 7, "nq") == _text(3000, 7, "nq")
    assert _text(3000, 7, "nq") != _text(3000, 8, "nq")


def test_quads_and_turtle_hold_the_same_triples_in_the_real_named_graphs() -> None:
    quads = list(ox.parse(_text(5000, 3, "nq").encode(), ox.RdfFormat.N_QUADS))
    triples = {q.triple for q in ox.parse(_text(5000, 3, "ttl").encode(), ox.RdfFormat.TURTLE)}
    assert len(quads) == len(set(quads))  # no triple written twice
    assert {q.triple for q in quads} == triples
    assert 5000 <= len(triples) < 5000 * 1.15
    assert {q.graph_name.value for q in quads} == {
        f"https://w3id.org/romagraph/graph/{g}" for g in ("common", "iic2014", "km2018")
    }


def test_ten_thousand_triples_conform_to_the_shapes(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "synthetic.ttl"
    with path.open("w", encoding="utf-8") as f:
        n = generate(10_000, 1, f, "ttl")
    assert 10_000 <= n < 11_500
    report = validate(settings, [path])  # what `romagraph validate FILE` runs
    assert report.conforms, [(v.focus, v.message) for v in report.violations[:10]]
    assert report.violations == []
    assert report.triples >= n  # the ontology and code lists are validated along
