"""The in-memory search index over preferred and alternative labels, built at start-up.

Matching folds case and Latvian diacritics and matches each query word as a prefix of a label
word, either as typed or stemmed (so "Jelgavas" finds "Jelgava" and "jelg" finds both).
Ranking: exact label > label prefix > every word matched > the same tiers on alternative labels.

A common word matches tens of thousands of labels in a large graph, and scoring them all takes
a request hundreds of milliseconds. Labels that *start* with the query are found first, by
bisection in the labels sorted by their folded text and by their stems; when they alone give
``limit`` resources scoring above anything a mere word match can score, the rest are not looked
at (``search_all`` is the plain algorithm; tests/test_search.py checks both agree).
"""

from __future__ import annotations

import heapq
import threading
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any, overload

from .catalogue import Catalogue
from .deferred import Deferred
from .text import normalise, stem, words

# Never offered by search: too many, and reached from their datasets and sources.
HIDDEN = ("qb:Observation", "rg:Citation", "qb:DataStructureDefinition")
TIER = {("pref", "exact"): 100, ("pref", "prefix"): 80, ("pref", "words"): 60,
        ("alt", "exact"): 50, ("alt", "prefix"): 40, ("alt", "words"): 30}
CATEGORY_BONUS = {"qualified": -40, "concept": -4, "ontology": -8, "source": -6, "other": -6}
LANG_BONUS, FIRST_WORD_BONUS = 2, 3
# The best a label can score when the query is not a prefix of it (no bonus is positive).
WORDS_TIER_MAX = TIER[("pref", "words")] + LANG_BONUS + FIRST_WORD_BONUS
_sorting = threading.Lock()


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


ENTRY_FIELDS = tuple(f.name for f in fields(Entry))


class EntryColumns(Sequence[Entry]):
    """Entries kept as one list per field (as persisted); an Entry is made when it is read."""

    def __init__(self, columns: Sequence[Sequence[Any]]) -> None:
        self.columns = columns
        self._n = len(columns[0]) if columns else 0

    @overload
    def __getitem__(self, i: int) -> Entry: ...
    @overload
    def __getitem__(self, i: slice) -> list[Entry]: ...
    def __getitem__(self, i: int | slice) -> Entry | list[Entry]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._n))]
        return Entry(*(c[i] for c in self.columns))

    def __len__(self) -> int:
        return self._n


class SearchIndex(Deferred):
    def __init__(
        self, entries: Sequence[Entry], catalogue: Catalogue,
        postings: dict[str, frozenset[int]] | None = None,
    ) -> None:
        # kept as columns: ranking reads a few fields of thousands of entries per query
        self.entries = entries if isinstance(entries, EntryColumns) else EntryColumns(
            [[getattr(e, f) for e in entries] for f in ENTRY_FIELDS])
        self.catalogue = catalogue
        if postings is None:
            found: dict[str, set[int]] = defaultdict(set)
            for i, e in enumerate(entries):
                for t in e.tokens:
                    found[t].add(i)
            postings = {k: frozenset(v) for k, v in found.items()}
        self.postings = postings
        self.tokens = sorted(self.postings)

    # ------------------------------------------------------------------ persisting

    def to_sections(self) -> dict[str, Any]:
        """The entries as one list per field and the postings as sorted tuples (plain values
        for ``marshal``); the inverse of ``from_sections``."""
        columns = [list(c) for c in self.entries.columns]
        return {
            "search_entries": columns,
            "search_postings": {t: tuple(sorted(ids)) for t, ids in self.postings.items()},
        }

    @classmethod
    def from_sections(cls, catalogue: Catalogue, section: Callable[[str], Any]) -> SearchIndex:
        """An index whose entries and postings are decoded by ``section(name)`` on first use."""
        index = cls.__new__(cls)
        index.catalogue = catalogue
        index.defer({
            "entries": lambda: EntryColumns(section("search_entries")),
            "postings": lambda: {
                t: frozenset(ids) for t, ids in section("search_postings").items()
            },
            "tokens": lambda: sorted(index.postings),
        })
        return index

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

    def _sorted_by(self, field: str) -> tuple[list[str], list[int]]:
        """The entries' ``field`` values in order, and the entry index of each (built once)."""
        key = f"_sorted_{field}"
        if key not in self.__dict__:
            with _sorting:
                if key not in self.__dict__:
                    entries = self.entries
                    values = (list(entries.columns[ENTRY_FIELDS.index(field)])
                              if isinstance(entries, EntryColumns)
                              else [getattr(e, field) for e in entries])
                    order = sorted(range(len(values)), key=values.__getitem__)
                    self.__dict__[key] = ([values[i] for i in order], order)
        found: tuple[list[str], list[int]] = self.__dict__[key]
        return found

    def _starting_with(self, field: str, text: str) -> set[int]:
        values, order = self._sorted_by(field)
        found: set[int] = set()
        i = bisect_left(values, text)
        while i < len(values) and values[i].startswith(text):
            found.add(order[i])
            i += 1
        return found

    def search(self, query: str, lang: str = "en", limit: int = 10) -> list[Hit]:
        qwords = words(query)[:8]
        if not qwords:
            return []
        qnorm = " ".join(qwords)
        qstem = " ".join(stem(w) for w in qwords)
        starting = self._starting_with("norm", qnorm) | self._starting_with("stems", qstem)
        if len(starting) >= limit:
            hits = self._rank(starting, qwords, lang, limit)
            if len(hits) == limit and hits[-1].score > WORDS_TIER_MAX:
                return hits
        return self.search_all(query, lang, limit)

    def search_all(self, query: str, lang: str = "en", limit: int = 10) -> list[Hit]:
        """Every label that has each query word as a word prefix, scored."""
        qwords = words(query)[:8]
        if not qwords:
            return []
        candidates: set[int] | None = None
        for w in qwords:
            c = self._candidates(w)
            candidates = c if candidates is None else candidates & c
            if not candidates:
                return []
        return self._rank(candidates or set(), qwords, lang, limit)

    def _rank(self, candidates: set[int], qwords: list[str], lang: str, limit: int) -> list[Hit]:
        qnorm = " ".join(qwords)
        qstem = " ".join(stem(w) for w in qwords)
        firsts = (qwords[0], stem(qwords[0]))
        col = dict(zip(ENTRY_FIELDS, self.entries.columns, strict=True))
        iris, texts, norms, tokens = col["iri"], col["text"], col["norm"], col["tokens"]
        stems, kinds, langs, bonuses = col["stems"], col["kind"], col["lang"], col["bonus"]
        best: dict[str, tuple[int, int, int]] = {}  # iri -> (score, -len(text), entry)
        for i in candidates:
            norm, stemmed = norms[i], stems[i]
            if norm == qnorm or stemmed == qstem:
                tier = "exact"
            elif norm.startswith(qnorm) or stemmed.startswith(qstem):
                tier = "prefix"
            else:
                tier = "words"
            score = TIER[(kinds[i], tier)] + bonuses[i]
            if langs[i] == lang:
                score += LANG_BONUS
            if tokens[i][0].startswith(firsts):
                score += FIRST_WORD_BONUS
            mine = (score, -len(texts[i]), i)
            old = best.get(iris[i])
            if old is None or mine[:2] > old[:2]:
                best[iris[i]] = mine
        hits = (Hit(iris[i], score, texts[i], kinds[i]) for score, _, i in best.values())
        return heapq.nsmallest(limit, hits, key=lambda h: (-h.score, len(h.matched), h.iri))


def _entry(iri: str, text: str, kind: str, lang: str, bonus: int) -> Entry:
    tokens = tuple(words(text))
    return Entry(iri, text, " ".join(tokens), tokens, " ".join(stem(t) for t in tokens), kind, lang, bonus)
