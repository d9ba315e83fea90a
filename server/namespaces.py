"""The prefixes the project uses, declared once for Turtle output, SPARQL and the workbench."""

from __future__ import annotations

from .config import CANONICAL_BASE

PREFIXES: dict[str, str] = {
    "rg": CANONICAL_BASE + "def/rg#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "org": "http://www.w3.org/ns/org#",
    "prov": "http://www.w3.org/ns/prov#",
    "oa": "http://www.w3.org/ns/oa#",
    "schema": "https://schema.org/",
    "eli": "http://data.europa.eu/eli/ontology#",
    "cv": "http://data.europa.eu/m8g/",
    "qb": "http://purl.org/linked-data/cube#",
    "sdmx-dimension": "http://purl.org/linked-data/sdmx/2009/dimension#",
    "sdmx-measure": "http://purl.org/linked-data/sdmx/2009/measure#",
    "opengov": "http://www.w3.org/ns/opengov#",
    "frapo": "http://purl.org/cerif/frapo/",
    "dcat": "http://www.w3.org/ns/dcat#",
    "void": "http://rdfs.org/ns/void#",
    "sh": "http://www.w3.org/ns/shacl#",
}


def data_prefixes(base: str = CANONICAL_BASE) -> dict[str, str]:
    """Prefixes for the IRIs the project mints under ``base`` (used by ``romagraph fmt``)."""
    return {
        "rgorg": base + "id/org/",
        "rgperson": base + "id/person/",
        "rgpost": base + "id/post/",
        "rgmember": base + "id/membership/",
        "rgplace": base + "id/place/",
        "rgdoc": base + "id/doc/",
        "rgplan": base + "id/plan/",
        "rgprog": base + "id/programme/",
        "rgproject": base + "id/project/",
        "rgevent": base + "id/event/",
        "rgpart": base + "id/participation/",
        "rggrant": base + "id/grant/",
        "rgresult": base + "id/result/",
        "rgsource": base + "id/source/",
        "rgcite": base + "id/citation/",
        "rgdata": base + "data/",
        "rgdef": base + "def/",
    }


def sparql_prologue(base: str = CANONICAL_BASE) -> str:
    """PREFIX declarations for every project prefix, for queries written without them."""
    lines = [f"PREFIX {p}: <{iri}>" for p, iri in {**PREFIXES, **data_prefixes(base)}.items()]
    return "\n".join(lines) + "\n"
