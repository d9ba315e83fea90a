"""SHACL validation of the repository's data, with reports that a person can act on."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import rdflib
from pyshacl import validate as shacl_validate
from rdflib.namespace import SH, SKOS

from .config import Settings
from .sources import SourceFile, repository_files
from .store import DataError

log = logging.getLogger(__name__)


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
    """One rdflib graph of all files, and for each subject IRI the files that describe it."""
    graph = rdflib.Graph()
    origin: dict[str, set[str]] = {}
    for f in files:
        g = rdflib.Graph()
        try:
            g.parse(data=f.read_text(base), format="turtle", publicID=base)
        except Exception as e:  # BadSyntax and friends carry file position in their text
            raise DataError(f.path, str(e)) from e
        for s in set(g.subjects()):
            origin.setdefault(str(s), set()).add(str(f.path))
        graph += g
    return graph, origin


def _label(data: rdflib.Graph, node: rdflib.term.Node | None) -> str | None:
    if node is None:
        return None
    labels = {getattr(o, "language", None): str(o) for o in data.objects(node, SKOS.prefLabel)}
    return labels.get("en") or labels.get("lv") or next(iter(labels.values()), None)


def validate(settings: Settings, paths: list[Path] | None = None) -> Report:
    """Validate ontology + data (or the named paths) against ``shapes/``."""
    files = repository_files(settings, paths)
    data, origin = parse_files(files, settings.base_iri)
    shapes = load_shapes(settings)
    conforms, results, _ = shacl_validate(
        data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True
    )
    violations: list[Violation] = []
    for r in results.subjects(rdflib.RDF.type, SH.ValidationResult):
        focus = results.value(r, SH.focusNode)
        path = results.value(r, SH.resultPath)
        value = results.value(r, SH.value)
        lbl = _label(data, focus)
        violations.append(
            Violation(
                focus=str(focus),
                label=lbl,
                path=str(path) if path is not None else None,
                value=str(value) if value is not None else None,
                message=str(results.value(r, SH.resultMessage) or ""),
                severity=str(results.value(r, SH.resultSeverity) or "").rsplit("#", 1)[-1],
                shape=str(results.value(r, SH.sourceShape) or "") or None,
                files=sorted(
                    str(Path(p).resolve().relative_to(settings.root.resolve()))
                    if Path(p).resolve().is_relative_to(settings.root.resolve())
                    else p
                    for p in origin.get(str(focus), set())
                ),
            )
        )
    violations.sort(key=lambda v: (v.files, v.focus, v.path or "", v.message))
    errors = [v for v in violations if v.severity == "Violation"]
    return Report(conforms=not errors, violations=violations, triples=len(data))
