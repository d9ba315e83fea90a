"""Named SPARQL files: the researcher's queries in ``queries/`` and the server's own in
``server/sparql/``. Each file opens with a comment block; its ``# Title:`` line names it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyoxigraph as ox

SERVER_SPARQL = Path(__file__).parent / "sparql"


@dataclass(frozen=True)
class NamedQuery:
    name: str  # file stem
    title: str
    description: str  # the rest of the header comment, as written
    text: str
    path: Path

    @property
    def kind(self) -> str:
        m = re.search(
            r"^\s*(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", _strip_prologue(self.text), re.I | re.M
        )
        return m.group(1).upper() if m else "SELECT"


def _strip_prologue(text: str) -> str:
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    return "\n".join(ln for ln in lines if not re.match(r"\s*(PREFIX|BASE)\b", ln, re.I))


def parse_query_file(path: Path) -> NamedQuery:
    text = path.read_text(encoding="utf-8")
    header: list[str] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line[1:].strip())
    title = next((h.split(":", 1)[1].strip() for h in header if h.lower().startswith("title:")), "")
    description = "\n".join(h for h in header if not h.lower().startswith("title:")).strip()
    return NamedQuery(path.stem, title or path.stem, description, text, path)


def load_dir(folder: Path) -> dict[str, NamedQuery]:
    """Every ``.rq`` file in ``folder``, parsed, so a broken one fails at start-up."""
    found: dict[str, NamedQuery] = {}
    for p in sorted(folder.glob("*.rq")):
        q = parse_query_file(p)
        try:
            ox.Store().query(q.text)
        except SyntaxError as e:
            raise SyntaxError(f"{p}: {e}") from e
        found[q.name] = q
    return found


@cache
def server_query(name: str) -> str:
    """The text of one of the server's own queries (``server/sparql/<name>.rq``)."""
    return (SERVER_SPARQL / f"{name}.rq").read_text(encoding="utf-8")
