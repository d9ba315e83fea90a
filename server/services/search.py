"""The in-memory search index over preferred and alternative labels, built at start-up.

Matching folds case and Latvian diacritics and matches each query word as a prefix of a label
word, either as typed or stemmed (so "Jelgavas" finds "Jelgava" and "jelg" finds both).
Ranking: exact label > label prefix > every word matched > the same tiers on alternative labels.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass

from .catalogue import Catalogue
from .text import normalise, stem, words

# Never offered by search: too many, and reached from their datasets and sources.
HIDDEN = ("qb:Observation", "rg:Citation", "qb:DataStructureDefinition")
TIER = {("pref", "exact"): 100, ("pref", "prefix"): 80, ("pref", "words"): 60,
        ("alt", "exact"): 50, ("alt", "prefix"): 40, ("alt", "words"): 30}
CATEGORY_BONUS = {"qualified": -40, "concept": -4, "ontology": -8, "source": -6, "other": -6}


@dataclass(frozen=True)
class Entry:
    iri: str
    text: str  # the label as written
    norm: str  # its folded words joined by spaces
    tokens: tuple[str, ...]
    stems: str  # the stems of its words joined by spaces
    kind: str  # "pref" or "alt"
    lang: str
    bonus: int  # by the resource's category


@dataclass(frozen=True)
class Hit:
    iri: str
    score: int
    matched: str  # the label that matched
    kind: str


class SearchIndex:
    def __init__(self, entries: list[Entry], catalogue: Catalogue) -> None:
        self.entries = entries
        self.catalogue = catalogue
        postings: dict[str, set[int]] = defaultdict(set)
        for i, e in enumerate(entries):
            for t in e.tokens:
                postings[t].add(i)
        self.postings = {k: frozenset(v) for k, v in postings.items()}
        self.tokens = sorted(self.postings)

    @classmethod
    def build(cls, catalogue: Catalogue) -> SearchIndex:
        hidden = {catalogue.x(h) for h in HIDDEN}
        entries: list[Entry] = []
        iris = set(catalogue.pref) | set(catalogue.rdfs_label) | set(catalogue.alt)
        for iri in sorted(iris):
            if catalogue.primary.get(iri) in hidden:
                continue
            labels = catalogue.pref.get(iri) or catalogue.rdfs_label.get(iri) or {}
            seen: set[tuple[str, str]] = set()
            bonus = CATEGORY_BONUS.get(catalogue.category(iri), 0)
            for lang, text in sorted(labels.items()):
                entries.append(_entry(iri, text, "pref", lang, bonus))
                seen.add(("pref", normalise(text)))
            for lang, text in catalogue.alt.get(iri, ()):
                if ("pref", normalise(text)) not in seen:
                    entries.append(_entry(iri, text, "alt", lang, bonus))
        return cls([e for e in entries if e.tokens], catalogue)

    def _candidates(self, word: str) -> set[int]:
        """Entries with a word that starts with ``word`` or with its stem."""
        found: set[int] = set()
        prefixes = {word, stem(word)}
        for p in prefixes:
            i = bisect_left(self.tokens, p)
            while i < len(self.tokens) and self.tokens[i].startswith(p):
                found |= self.postings[self.tokens[i]]
                i += 1
        return found

    def search(self, query: str, lang: str = "en", limit: int = 10) -> list[Hit]:
        qwords = words(query)[:8]
        if not qwords:
            return []
        candidates: set[int] | None = None
        for w in qwords:
            c = self._candidates(w)
            candidates = c if candidates is None else candidates & c
            if not candidates:
                return []
        qnorm = " ".join(qwords)
        qstem = " ".join(stem(w) for w in qwords)
        best: dict[str, Hit] = {}
        first, first_stem = qwords[0], stem(qwords[0])
        for i in candidates or ():
            e = self.entries[i]
            if e.norm == qnorm or e.stems == qstem:
                tier = "exact"
            elif e.norm.startswith(qnorm) or e.stems.startswith(qstem):
                tier = "prefix"
            else:
                tier = "words"
            score = TIER[(e.kind, tier)] + e.bonus
            score += 2 if e.lang == lang else 0
            score += 3 if e.tokens[0].startswith((first, first_stem)) else 0
            old = best.get(e.iri)
            if old is None or (score, -len(e.text)) > (old.score, -len(old.matched)):
                best[e.iri] = Hit(e.iri, score, e.text, e.kind)
        return heapq.nsmallest(
            limit, best.values(), key=lambda h: (-h.score, len(h.matched), h.iri)
        )


def _entry(iri: str, text: str, kind: str, lang: str, bonus: int) -> Entry:
    tokens = tuple(words(text))
    return Entry(iri, text, " ".join(tokens), tokens, " ".join(stem(t) for t in tokens), kind, lang, bonus)
