"""What a SPARQL request is, decided before anything is evaluated: its query form, whether it is
an update, and whether it asks for federation (``SERVICE``), which this endpoint refuses.

The check reads the query with a tokenizer that follows SPARQL's lexical rules (strings, IRIs,
comments, prefixed names and variables are skipped as wholes, so ``"service"`` in a literal or
``<…/service>`` in an IRI is not mistaken for the keyword). A ``<`` can be either an IRI or the
less-than operator and a regular lexer cannot always tell which; when the word "service" occurs
anywhere outside what the lexer has identified as the keyword, a full parse with rdflib's SPARQL
grammar settles it. The query workers are also cut off from the network where the platform
allows it (see ``sparql_workers``): refusing here is the message, isolation is the guarantee.

The lexer runs in the server process before any time limit applies, so it must take time linear
in the length of any text: no token pattern may be retried from every character of a long run
(an unterminated string runs, possessively, to the end of its line; a run of name characters that
is not a prefixed name is one token), and ``tests/test_robustness.py`` times it on pathological
texts. ``QueryInfo.depth`` bounds nesting: the query engine recurses on it, and a few thousand
levels overflow its stack (the worker process dies), so deeper queries are refused up front.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

QUERY_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})
UPDATE_WORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
)
# Words that occur only in updates (WITH also starts one, but only as the first word).
_ONLY_UPDATE = UPDATE_WORDS - {"WITH"}

_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_PN_CHARS_BASE = r"A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF" \
    r"\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD"
_PN_CHARS = _PN_CHARS_BASE + r"_\-0-9\u00B7\u0300-\u036F\u203F-\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_LOCAL_CHAR = rf"[{_PN_CHARS}:]|{_PLX}"
_LOCAL = rf"(?:(?:[{_PN_CHARS_BASE}_:0-9]|{_PLX})(?:(?:{_LOCAL_CHAR}|\.)*(?:{_LOCAL_CHAR}))?)"
_PREFIX = rf"(?:[{_PN_CHARS_BASE}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)"

_TOKEN = re.compile(
    "|".join(
        [
            r"(?P<ws>\s+)",
            r"(?P<comment>#[^\r\n]*)",
            rf"(?P<iri><(?:[^<>\"{{}}|^`\\\x00-\x20]|{_UCHAR})*>)",
            # possessive loops, and an unterminated string runs to the end of its line (long
            # strings: of the text), so a failed string is never rescanned from each quote
            r"(?P<string>\"\"\"(?:[^\"\\]|\\.|\"(?!\"\"))*+(?:\"\"\"|\\?\Z)"
            r"|'''(?:[^'\\]|\\.|'(?!''))*+(?:'''|\\?\Z)"
            r"|\"(?:[^\"\\\r\n]|\\.)*+\"?"
            r"|'(?:[^'\\\r\n]|\\.)*+'?)",
            rf"(?P<var>[?$][{_PN_CHARS}]+)",
            r"(?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)",
            rf"(?P<blank>_:[{_PN_CHARS}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)",
            rf"(?P<pname>{_PREFIX}?:{_LOCAL}?)",
            r"(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)",
            # a run of name characters that is not a prefixed name, as one token (reported as a
            # word when it is one): else each of its characters would start a new pname attempt
            rf"(?P<run>[{_PN_CHARS_BASE}_][{_PN_CHARS}]*+(?:\.++[{_PN_CHARS}]++)*+)",
            r"(?P<other>.)",
        ]
    ),
    re.S,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Most levels of nesting accepted: brackets, plus runs of prefix operators (``!!!!x``), which the
# query engine also recurses on. Its stack overflows at a few thousand; real queries stay far
# below a hundred.
MAX_DEPTH = 256
_OPEN, _CLOSE, _PREFIX_OPS = frozenset("([{"), frozenset(")]}"), frozenset("!^+-")


def tokens(query: str) -> Iterator[Token]:
    """The query's significant tokens (whitespace and comments dropped)."""
    for m in _TOKEN.finditer(query):
        kind = m.lastgroup or "other"
        if kind == "run":
            kind = "word" if _WORD.fullmatch(m.group()) else "name"
        if kind not in ("ws", "comment"):
            yield Token(kind, m.group(), m.start())


@dataclass(frozen=True)
class QueryInfo:
    """What the lexer could tell about a request before it is run."""

    form: str | None  # SELECT, ASK, CONSTRUCT or DESCRIBE; None when not recognised
    update: str | None  # the update operation (INSERT, LOAD, …) when the text is an update
    service: bool  # a SERVICE clause is (or may be) present
    dataset_clause: bool  # FROM or FROM NAMED is present
    depth: int = 0  # deepest nesting of brackets and prefix operators

    @property
    def returns_graph(self) -> bool:
        return self.form in ("CONSTRUCT", "DESCRIBE")


@lru_cache(maxsize=512)
def inspect(query: str, parse: bool = True) -> QueryInfo:
    """Classify ``query`` without evaluating it (cached: clients repeat their queries).

    ``parse=False`` skips the full rdflib parse that settles a "service" the lexer could not
    place (up to seconds of pure Python for a long query): for callers whose evaluation cannot
    reach the network anyway (isolated query workers), where the lexer's verdict is the message
    and isolation the guarantee."""
    form: str | None = None
    update: str | None = None
    service = False
    dataset = False
    first_word: str | None = None
    depth = deepest = run = 0
    for tok in tokens(query):
        if tok.kind == "other":
            if tok.text in _OPEN:
                depth += 1
            elif tok.text in _CLOSE:
                depth = max(0, depth - 1)
            run = run + 1 if tok.text in _PREFIX_OPS else 0
            deepest = max(deepest, depth + run)
            continue
        run = 0
        if tok.kind != "word":
            continue
        word = tok.text.upper()
        if first_word is None and word not in ("PREFIX", "BASE"):
            first_word = word
            if word in QUERY_FORMS:
                form = word
            elif word in UPDATE_WORDS:
                update = word
        if word == "SERVICE":
            service = True
        elif word == "FROM":
            dataset = True
        elif word in _ONLY_UPDATE and update is None:
            update = word
    if parse and not service and deepest <= MAX_DEPTH and "service" in query.lower():
        service = _parser_finds_service(query)
    return QueryInfo(form, update, service, dataset, deepest)


def _parser_finds_service(query: str) -> bool:
    """Full parse with rdflib's SPARQL grammar; a query it cannot parse is treated as suspect."""
    try:
        from rdflib.plugins.sparql.parser import parseQuery
    except ImportError:  # pragma: no cover - rdflib is a dependency
        return True
    try:
        parsed = parseQuery(query)
    except Exception:  # any parse failure: cannot rule a SERVICE clause out
        return True
    return _contains_service(parsed)


def _contains_service(node: Any) -> bool:
    """Walk rdflib's parse tree (CompValue dicts and pyparsing ParseResults)."""
    if getattr(node, "name", None) == "ServiceGraphPattern":
        return True
    if isinstance(node, dict):
        return any(_contains_service(v) for v in node.values())
    if isinstance(node, str):
        return False
    if isinstance(node, list | tuple) or type(node).__name__ == "ParseResults":
        return any(_contains_service(v) for v in node)
    return False


_POSITION = re.compile(r"at (\d+):(\d+)")


def describe_syntax_error(query: str, message: str) -> str:
    """The parser's message, followed by the offending line and a caret under the column."""
    m = _POSITION.search(message)
    if not m:
        return message
    line_no, col = int(m.group(1)), int(m.group(2))
    lines = query.splitlines()
    if not 1 <= line_no <= len(lines):
        return message
    line = lines[line_no - 1]
    return f"{message}\n\n{line_no:>4} | {line}\n     | {' ' * max(0, col - 1)}^"
