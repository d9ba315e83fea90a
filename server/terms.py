"""Small helpers that turn RDF terms into text for tables and pages."""

from __future__ import annotations

import pyoxigraph as ox


def term_text(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None) -> str:
    """The plain value of a term: an IRI, a blank-node id or a literal's lexical form.

    >>> term_text(ox.Literal("Jelgava", language="lv"))
    'Jelgava'
    >>> term_text(ox.NamedNode("https://w3id.org/romagraph/id/place/jelgava"))
    'https://w3id.org/romagraph/id/place/jelgava'
    """
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Triple):
        return (
            f"<< {term_text(term.subject)} {term_text(term.predicate)} {term_text(term.object)} >>"
        )
    return term.value
