"""Wording of properties (in both directions) and names of classes, from
``server/vocabulary_labels.json``, with the ontology's own labels as a fallback."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..config import CANONICAL_BASE
from ..namespaces import PREFIXES

LABELS_FILE = Path(__file__).resolve().parent.parent / "vocabulary_labels.json"
EXTRA_PREFIXES = {"vann": "http://purl.org/vocab/vann/"}


@cache
def prefixes(base: str = CANONICAL_BASE) -> dict[str, str]:
    """The project's prefixes, with ``rg:`` under the deployment's base."""
    out = {**PREFIXES, **EXTRA_PREFIXES}
    out["rg"] = base + "def/rg#"
    return out


@cache
def expand(curie: str, base: str = CANONICAL_BASE) -> str:
    prefix, _, local = curie.partition(":")
    return prefixes(base)[prefix] + local


def curie(iri: str, base: str = CANONICAL_BASE) -> str | None:
    """The CURIE of ``iri`` when one of the project's prefixes covers it."""
    best: tuple[int, str] | None = None
    for p, ns in prefixes(base).items():
        if iri.startswith(ns) and (best is None or len(ns) > best[0]):
            best = (len(ns), f"{p}:{iri[len(ns):]}")
    return best[1] if best else None


@dataclass(frozen=True)
class Wording:
    en: str
    lv: str
    en_inverse: str
    lv_inverse: str

    def get(self, lang: str, inverse: bool = False) -> str:
        if inverse:
            return self.lv_inverse if lang == "lv" else self.en_inverse
        return self.lv if lang == "lv" else self.en


@cache
def _table(base: str) -> tuple[dict[str, Wording], dict[str, Wording]]:
    raw = json.loads(LABELS_FILE.read_text(encoding="utf-8"))
    props = {expand(k, base): Wording(*v) for k, v in raw["properties"].items()}
    classes = {expand(k, base): Wording(*v) for k, v in raw["classes"].items()}
    return props, classes


def property_wording(iri: str, base: str = CANONICAL_BASE) -> Wording | None:
    return _table(base)[0].get(iri)


def class_wording(iri: str, base: str = CANONICAL_BASE) -> Wording | None:
    return _table(base)[1].get(iri)


def humanise(iri: str) -> str:
    """A readable name from an IRI's last segment: ``…#subOrganizationOf`` → ``sub organization of``."""
    local = re.split(r"[#/]", iri.rstrip("/#"))[-1] or iri
    local = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", local).replace("_", " ")
    return local.lower() if not local.isupper() else local
