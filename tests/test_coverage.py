"""Coverage of the source documents by the graph, and two publishing rules for data/.

* Every section of both documents (each rg:SourceSection) must have at least one entity
  cited from it; the per-section table is printed (run pytest with ``-s``) and written to
  ``test-artifacts/coverage.txt``.
* No e-mail address or phone number anywhere in the text of data/**/*.ttl (the sources print
  private contact details; see ../shared/sources/README.md), and no blank nodes in data/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from server.config import CANONICAL_BASE, REPO_ROOT

DATA = REPO_ROOT / "data"
DATA_FILES = sorted(DATA.rglob("*.ttl"))

# section keys of data/README.md ("Sources and citations")
SECTIONS = {
    "iic2014": ["intro", "I", "II-1", "II-2", "II-3", "III-1", "III-2", "III-3", "III-4", "colophon"],
    "km2018": ["abbreviations", "intro", "I", "II-council", "II-cooperation", "II-education",
               "II-employment", "II-health", "III", "IV", "V", "VI", "VII"],
}

COVERAGE_QUERY = """
PREFIX rg: <https://w3id.org/romagraph/def/rg#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX oa: <http://www.w3.org/ns/oa#>
SELECT DISTINCT ?section ?doc ?key ?entity ?citation
WHERE {
  ?section a rg:SourceSection ; dct:isPartOf ?doc .
  OPTIONAL { ?section skos:notation ?key }
  OPTIONAL { ?citation oa:hasSource ?section . ?entity prov:wasDerivedFrom ?citation . }
}
"""


def kind_of(iri: str, base: str) -> str:
    """"org", "event", "project" … for id/{kind}/…; "dataset/observation" for data/…; "code list" for def/…"""
    rel = iri[len(base):] if iri.startswith(base) else iri
    parts = rel.split("/")
    if parts[0] == "id" and len(parts) > 1:
        return parts[1]
    return {"data": "statistics", "def": "code list"}.get(parts[0], "other")


@pytest.fixture(scope="module")
def coverage(store, settings, artifacts: Path) -> dict[tuple[str, str], int]:
    entities: dict[tuple[str, str], set[str]] = {}
    citations: dict[tuple[str, str], set[str]] = {}
    for r in store.select(COVERAGE_QUERY):
        doc = r["doc"].value.rsplit("/", 1)[1]
        key = r["key"].value if "key" in r else r["section"].value.rsplit("/", 1)[1]
        entities.setdefault((doc, key), set())
        citations.setdefault((doc, key), set())
        if "entity" in r:
            entities[(doc, key)].add(r["entity"].value)
            citations[(doc, key)].add(r["citation"].value)
    order = {(d, k): (i, j) for i, d in enumerate(SECTIONS) for j, k in enumerate(SECTIONS[d])}
    lines = [f"{'document':<9} {'section':<15} {'entities':>8} {'citations':>9}  entities by kind"]
    for sec in sorted(entities, key=lambda s: order.get(s, (99, 99))):
        kinds: dict[str, int] = {}
        for e in entities[sec]:
            k = kind_of(e, settings.base_iri)
            kinds[k] = kinds.get(k, 0) + 1
        detail = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) or "<-- NOTHING CITED"
        lines.append(f"{sec[0]:<9} {sec[1]:<15} {len(entities[sec]):>8} {len(citations[sec]):>9}  {detail}")
    report = "\n".join(lines) + "\n"
    (artifacts / "coverage.txt").write_text(report, encoding="utf-8")
    print("\n" + report)
    return {sec: len(v) for sec, v in entities.items()}


def test_every_section_of_both_documents_exists(coverage) -> None:
    for doc, keys in SECTIONS.items():
        for key in keys:
            assert (doc, key) in coverage, f"no rg:SourceSection for {doc} {key}"


def test_every_section_has_cited_entities(coverage) -> None:
    empty = sorted(k for k, n in coverage.items() if n == 0)
    assert not empty, f"sections with no entity cited from them: {empty}"


# ------------------------------------------------------------------ privacy

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Latvian numbers: 8 digits starting with 6 (landline) or 2 (mobile), optionally after +371 or
# after "t." / "tel." / "tālr."; bare 2xxxxxxx numbers are not checked (amounts such as 27204409).
PHONE = re.compile(
    r"(\+371[\s-]?\d{8})"
    r"|((?:\bt\.|\btel\.?|\btālr\.?|\bphone|\btelefons?)\s*:?\s*\d[\d\s-]{6,}\d)"
    r"|((?<![\d.,])6\d{7}(?![\d.,]))",
    re.IGNORECASE,
)
CONTACT_PROPERTIES = re.compile(r"foaf:mbox|schema:email|schema:telephone|vcard:(email|tel)\b|mailto:", re.I)


@pytest.mark.parametrize("path", DATA_FILES, ids=lambda p: str(p.relative_to(DATA)))
def test_no_email_or_phone_in_data(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    hits = []
    for n, line in enumerate(text.splitlines(), 1):
        for rx in (EMAIL, PHONE, CONTACT_PROPERTIES):
            for m in rx.finditer(line):
                hits.append(f"{path.relative_to(REPO_ROOT)}:{n}: {m.group(0)!r}")
    assert not hits, "contact details in data:\n" + "\n".join(hits)


@pytest.mark.parametrize("path", DATA_FILES, ids=lambda p: str(p.relative_to(DATA)))
def test_no_blank_nodes_in_data(path: Path) -> None:
    blanks = []
    for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=CANONICAL_BASE):
        for term in (t.subject, t.object):
            if isinstance(term, ox.BlankNode):
                blanks.append(str(t))
    assert not blanks, f"{path.relative_to(REPO_ROOT)} has {len(blanks)} triple(s) with blank nodes, e.g. {blanks[:3]}"


def test_privacy_patterns_catch_the_sources_contacts() -> None:
    """The patterns above do find the contact details the 2014 booklet prints (iic2014:366-370)."""
    sample = "E-pasts: Solvita.Vevere@km.gov.lv, t. 67330310\nt. 67330312; e-pasts: deniss.kretalovs@km.gov.lv"
    assert len(EMAIL.findall(sample)) == 2
    assert PHONE.search("t. 67330310") and PHONE.search("67047944") and PHONE.search("+371 67047994")
    assert not PHONE.search("schema:amount 27204409.00 ; rg:value 32005188")
