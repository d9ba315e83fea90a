"""Where the graph's Turtle files are and which named graph each one goes into."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .config import CANONICAL_BASE, Settings


@dataclass(frozen=True)
class SourceFile:
    """One Turtle file of the repository and the named graph it is loaded into."""

    path: Path
    graph: str  # IRI of the named graph

    def read_text(self, base: str = CANONICAL_BASE) -> str:
        text = self.path.read_text(encoding="utf-8")
        # Rewriting the base as text keeps one source of truth for the files while letting a
        # deployment publish under its own domain.
        return text if base == CANONICAL_BASE else text.replace(CANONICAL_BASE, base)


def graph_iri(base: str, name: str) -> str:
    return f"{base}graph/{name}"


def repository_files(settings: Settings, paths: list[Path] | None = None) -> list[SourceFile]:
    """The ontology and data files, in a stable order, each with its named graph.

    ``ontology/*`` goes to ``graph/ontology``; ``data/<folder>/*`` to ``graph/<folder>``;
    ``data/*.ttl`` at top level to ``graph/common``. ``paths`` (files or folders) narrows
    the data part to what the user named; the ontology is always included.
    """
    base = settings.base_iri
    files = [
        SourceFile(p, graph_iri(base, "ontology"))
        for p in sorted(settings.ontology_dir.glob("*.ttl"))
    ]
    data_dir = settings.data_dir.resolve()
    if paths:
        candidates: list[Path] = []
        for p in paths:
            p = p.resolve()
            candidates.extend(sorted(p.rglob("*.ttl")) if p.is_dir() else [p])
    else:
        candidates = sorted(data_dir.rglob("*.ttl"))
    for p in candidates:
        try:
            rel = p.resolve().relative_to(data_dir)
            name = rel.parts[0] if len(rel.parts) > 1 else "common"
        except ValueError:
            name = "external"
        files.append(SourceFile(p, graph_iri(base, name)))
    return files
