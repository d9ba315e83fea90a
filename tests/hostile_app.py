"""A graph written by an attacker, for the security tests (issue #9): the repository's graph with
markup in every label, title, description and quote, and resources whose IRIs use the
``javascript:`` and ``data:`` schemes. ``uvicorn tests.hostile_app:create --factory`` serves it.

Every page must show the markup as text and must never turn such an IRI into a clickable link.
"""

from __future__ import annotations

from functools import cache

import pyoxigraph as ox
from fastapi import FastAPI

from server.app import create_app
from server.config import REPO_ROOT, Settings
from server.namespaces import PREFIXES
from server.store import OxigraphStore, open_store

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
SVG = "'><svg onload=alert(3)>"
CLOSE = "</textarea></title></script><script>alert(4)</script>"
PAYLOAD = f" {SCRIPT}{IMG}{SVG}{CLOSE}"
# What must never appear unescaped in a page: each is what the payload would open as markup (an
# event handler that escaped its attribute is caught by parsing the page: tests/test_security.py).
MARKERS = ("<script>alert", "<img src=x", "<svg onload", "</textarea></title>")

HOSTILE_IRIS = (
    "javascript:alert(5)",
    "JaVaScRiPt:alert(6)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCg3KTwvc2NyaXB0Pg==",
    "vbscript:msgbox(8)",
)
BAD_SCHEMES = ("javascript:", "data:", "vbscript:")

LABELS = [PREFIXES[p] + local for p, local in (
    ("skos", "prefLabel"), ("skos", "altLabel"), ("rdfs", "label"), ("dct", "title"),
    ("dct", "description"), ("rdfs", "comment"), ("skos", "definition"), ("skos", "note"),
    ("skos", "scopeNote"), ("dct", "alternative"), ("schema", "name"),
    ("schema", "description"), ("foaf", "name"), ("rg", "quote"),
)]


def settings() -> Settings:
    return Settings(root=REPO_ROOT, validate_on_start=False, query_timeout=2.0,
                    query_workers=2, body_timeout=3.0)


@cache
def hostile_store() -> OxigraphStore:
    """The repository's graph, with the payload appended to every label-like literal and the
    hostile IRIs linked from (and typed like) real resources."""
    base = open_store(settings())
    assert isinstance(base, OxigraphStore)
    inner = ox.Store()
    labels = {ox.NamedNode(p) for p in LABELS}
    quads = []
    for q in base.inner.quads_for_pattern(None, None, None, None):
        o = q.object
        if q.predicate in labels and isinstance(o, ox.Literal):
            o = (ox.Literal(o.value + PAYLOAD, language=o.language) if o.language
                 else ox.Literal(o.value + PAYLOAD, datatype=o.datatype))
        quads.append(ox.Quad(q.subject, q.predicate, o, q.graph_name))
    inner.extend(quads)

    g = ox.NamedNode(Settings().base_iri + "graph/hostile")
    n = ox.NamedNode
    org_class = n(PREFIXES["org"] + "Organization")
    rdf_type = n(PREFIXES["rdf"] + "type")
    pref = n(PREFIXES["skos"] + "prefLabel")
    see_also = n(PREFIXES["rdfs"] + "seeAlso")
    # real organisations and projects link to the hostile IRIs
    targets = [q.subject for q in inner.quads_for_pattern(None, rdf_type, org_class, None)][:5]
    targets.append(n(Settings().base_iri + "id/org/kulturas-ministrija"))
    for i, bad in enumerate(HOSTILE_IRIS):
        node = n(bad)
        inner.add(ox.Quad(node, rdf_type, org_class, g))
        for lang in ("lv", "en"):
            inner.add(ox.Quad(node, pref, ox.Literal(f"Hostile {i}{PAYLOAD}", language=lang), g))
        for t in targets:
            inner.add(ox.Quad(t, see_also, node, g))
            inner.add(ox.Quad(t, n(PREFIXES["org"] + "linkedTo"), node, g))
            inner.add(ox.Quad(node, n(PREFIXES["org"] + "linkedTo"), t, g))
    return OxigraphStore(inner=inner, files=list(base.files))


def create() -> FastAPI:
    return create_app(settings(), hostile_store())
