"""The one way data files are written: sorted, deterministic Turtle, so diffs show only real changes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import rdflib

from .config import CANONICAL_BASE
from .namespaces import PREFIXES, data_prefixes
from .store import DataError


def canonical_turtle(graph: rdflib.Graph) -> str:
    out = rdflib.Graph()
    for prefix, iri in {**PREFIXES, **data_prefixes(CANONICAL_BASE)}.items():
        out.bind(prefix, iri, override=True, replace=True)
    out += graph
    return out.serialize(format="longturtle")


def atomic_write(path: Path, text: str) -> None:
    """Write through a temporary file and rename, so a failure never leaves half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _leading_comments(text: str) -> list[str]:
    lines = []
    for line in text.splitlines(keepends=True):
        if not line.startswith("#"):
            break
        lines.append(line)
    return lines


def format_file(path: Path, write: bool = True) -> bool:
    """Normalise one Turtle file; returns True if its text was (or would be) changed."""
    text = path.read_text(encoding="utf-8")
    g = rdflib.Graph()
    try:
        g.parse(data=text, format="turtle", publicID=CANONICAL_BASE)
    except Exception as e:  # rdflib raises several parser exception types
        raise DataError(path, str(e)) from e
    if any(isinstance(t, rdflib.BNode) for triple in g for t in triple):
        raise DataError(path, "blank nodes are not allowed in data/: mint an IRI")
    # The opening comment block says why a file exists; it is kept, everything else is normalised.
    header = "".join(_leading_comments(text))
    new = header + ("\n" if header else "") + canonical_turtle(g)
    if new == text:
        return False
    if write:
        atomic_write(path, new)
    return True
