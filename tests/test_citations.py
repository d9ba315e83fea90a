"""Every quote in the graph is printed in the document its citation names, so a researcher who
follows a citation finds the words. Whitespace is normalised (the PDF extraction broke lines);
a quote joined across a page break, around the footnotes printed in between, must say so in a
skos:editorialNote and is checked at both ends."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.config import REPO_ROOT
from server.store import OxigraphStore

SOURCES = REPO_ROOT.parent / "shared" / "sources"
FILES = {"iic2014": "000_183e37f28ad00fcc.txt", "km2018": "001_a6f3d32e067f6513.txt"}
QUOTES = """
PREFIX rg: <https://w3id.org/romagraph/def/rg#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?cite ?quote ?doc (BOUND(?note) AS ?noted) WHERE {
  ?cite rg:quote ?quote ; oa:hasSource/dct:isPartOf ?doc .
  OPTIONAL { ?cite skos:editorialNote ?note }
}"""
ELLIPSIS = re.compile(r"\s*(?:\.\.\.|…|\[\.\.\]|\[…\])\s*")


def _normalise(text: str) -> str:
    text = text.replace("\u201e", '"').replace("\u201d", '"').replace("\u201c", '"')
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def documents() -> dict[str, tuple[str, str]]:
    out = {}
    for key, name in FILES.items():
        text = (SOURCES / name).read_text(encoding="utf-8")
        # footnote numbers stand on lines of their own in the extraction
        without_numbers = "\n".join(
            ln for ln in text.splitlines() if not re.fullmatch(r"\s*\d{1,2}\s*", ln)
        )
        out[key] = (_normalise(text), _normalise(without_numbers))
    return out


def test_sources_are_beside_the_repository() -> None:
    assert all((SOURCES / name).exists() for name in FILES.values()), SOURCES


def test_every_quote_is_printed_in_its_document(
    store: OxigraphStore, documents: dict[str, tuple[str, str]]
) -> None:
    rows = store.select(QUOTES)
    assert len(rows) > 500
    missing = []
    for r in rows:
        texts = documents[Path(r["doc"].value).name]
        parts = [p for p in ELLIPSIS.split(_normalise(r["quote"].value)) if p]
        if all(any(p in t for t in texts) for p in parts):
            continue
        whole = " ".join(parts)
        joined_across_break = r["noted"].value == "true" and all(
            any(end in t for t in texts) for end in (whole[:30], whole.split()[-1])
        )
        if not joined_across_break:
            missing.append((r["cite"].value, r["quote"].value[:80]))
    assert not missing, missing
