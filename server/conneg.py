"""Content negotiation, owned by this one module: the media-type tables, Accept parsing with
q-values, and the choice of a format for a response (or 406)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class Format:
    key: str  # the short name used by ?format= and file suffixes
    media_type: str  # the registered media type sent back
    aliases: tuple[str, ...] = ()  # other media types that ask for the same thing
    extension: str = ""


# RDF graph formats, first = default for non-browser clients.
RDF_FORMATS: tuple[Format, ...] = (
    Format("ttl", "text/turtle", ("application/x-turtle",), "ttl"),
    Format("nt", "application/n-triples", ("text/plain",), "nt"),
    Format("jsonld", "application/ld+json", ("application/json",), "jsonld"),
    Format("rdfxml", "application/rdf+xml", ("application/xml", "text/xml"), "rdf"),
    Format("trig", "application/trig", (), "trig"),
    Format("nq", "application/n-quads", (), "nq"),
)
# SPARQL SELECT/ASK result formats, first = default.
RESULT_FORMATS: tuple[Format, ...] = (
    Format("json", "application/sparql-results+json", ("application/json",), "srj"),
    Format("xml", "application/sparql-results+xml", ("application/xml", "text/xml"), "srx"),
    Format("csv", "text/csv", (), "csv"),
    Format("tsv", "text/tab-separated-values", (), "tsv"),
)
HTML = Format("html", "text/html", ("application/xhtml+xml",), "html")

OX_RDF = {
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "trig": ox.RdfFormat.TRIG,
    "nq": ox.RdfFormat.N_QUADS,
}
OX_RESULTS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}


# Other names clients put in ``format=`` (SPARQLWrapper sends turtle, rdf+xml, json-ld, n3, …),
# tried after the keys, extensions and media types; "xml" reaches RDF/XML only where SPARQL XML
# results are not on offer.
FORMAT_NAMES = {
    "turtle": "ttl",
    "n3": "ttl",  # Turtle is N3
    "ntriples": "nt",
    "n-triples": "nt",
    "json-ld": "jsonld",
    "rdf+xml": "rdfxml",
    "rdf": "rdfxml",
    "xml": "rdfxml",
    "nquads": "nq",
    "n-quads": "nq",
}


class NotAcceptable(Exception):
    """None of the offered formats is acceptable to the client."""

    def __init__(self, offered: tuple[Format, ...]) -> None:
        super().__init__(
            "Not acceptable; this resource is available as "
            + ", ".join(f.media_type for f in offered)
        )
        self.offered = offered


def parse_accept(header: str | None) -> list[tuple[str, float, int]]:
    """Media ranges with their q-values and position, best first.

    >>> parse_accept("text/html;q=0.9, text/turtle")
    [('text/turtle', 1.0, 1), ('text/html', 0.9, 0)]
    """
    if not header or not header.strip():
        return [("*/*", 1.0, 0)]
    ranges: list[tuple[str, float, int]] = []
    for i, part in enumerate(header.split(",")[:64]):  # bound absurd headers
        fields = [f.strip() for f in part.split(";")]
        mt = fields[0].lower()
        if not mt or "/" not in mt:
            continue
        q = 1.0
        for p in fields[1:]:
            if p.lower().startswith("q="):
                try:
                    q = max(0.0, min(1.0, float(p[2:])))
                except ValueError:
                    q = 0.0
        ranges.append((mt, q, i))
    # Higher q first; among equals, more specific ranges first, then header order.
    ranges.sort(key=lambda r: (-r[1], r[0].count("*"), r[2]))
    return ranges


def _matches(media_range: str, fmt: Format) -> bool:
    if media_range == "*/*":
        return True
    if media_range.endswith("/*"):
        # A wildcard is matched against the type actually sent back, not its aliases: `text/*`
        # must not select SPARQL XML results (alias text/xml) served as application/….
        return fmt.media_type.startswith(media_range[:-1])
    return media_range in (fmt.media_type, *fmt.aliases)


def negotiate(
    accept: str | None, offered: tuple[Format, ...], override: str | None = None
) -> Format:
    """The offered format the client prefers; ``override`` (``?format=``) wins when given.

    Raises NotAcceptable when nothing offered is acceptable.
    """
    return _negotiate(accept, offered, override)


@functools.lru_cache(maxsize=1024)  # clients send the same few Accept headers again and again
def _negotiate(accept: str | None, offered: tuple[Format, ...], override: str | None) -> Format:
    if override:
        o = override.lower().strip()
        for name in (o, FORMAT_NAMES.get(o)):
            for f in offered:
                if name in (f.key, f.extension, f.media_type, *f.aliases):
                    return f
        raise NotAcceptable(offered)
    ranges = parse_accept(accept)
    best: tuple[float, int, int, Format] | None = None
    for rng, q, _pos in ranges:
        if q <= 0:
            continue
        for idx, f in enumerate(offered):
            if _matches(rng, f) and not _excluded(ranges, f):
                # An exact or alias match beats a wildcard of the same q.
                spec = rng.count("*")
                cand = (q, -spec, -idx, f)
                if best is None or cand[:3] > best[:3]:
                    best = cand
    if best is None:
        raise NotAcceptable(offered)
    return best[3]


def _excluded(ranges: list[tuple[str, float, int]], fmt: Format) -> bool:
    """A client may refuse a type explicitly with q=0."""
    return any(q == 0 and r in (fmt.media_type, *fmt.aliases) for r, q, _ in ranges)


def by_key(key: str) -> Format:
    for f in (*RDF_FORMATS, *RESULT_FORMATS, HTML):
        if f.key == key:
            return f
    raise KeyError(key)
