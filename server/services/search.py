"""The in-memory search index over preferred and alternative labels, built at start-up.

Matching folds case and Latvian diacritics and matches each query word as a prefix of a label
word, either as typed or stemmed (so "Jelgavas" finds "Jelgava" and "jelg" finds both).
Ranking: exact label > label prefix > every word matched > the same tiers on alternative labels.

A common word matches tens of thousands of labels in a large graph, and scoring them all takes
a request tens of milliseconds. So the index is laid out for reading the best labels first and
stopping early (``search``); ``search_all`` is the plain algorithm, kept as the reference
(tests/test_search.py checks both agree):

- Labels are numbered in the order that breaks ties between equal scores (shorter label, then
  IRI), so a lower number always ranks first among labels of the same score.
- Each word has posting lists split into groups whose labels share everything the score depends
  on apart from the query: kind (pref/alt), language, category bonus, whether the word is the
  label's first, and (for first words) how many words the label has. For a given query every
  group has one best possible score, and a group's labels come in rank order.
- A query reads the groups of its first word (only labels whose first word matches can score
  above "every word matched"; for several words, the labels starting with the query are found
  by their first two words, or by bisection in the labels sorted by text when few) and all
  groups of its rarest word, best possible score first, merging groups of equal score by
  number; it stops as soon as the ``limit``-th best resource found so far beats every label
  not yet read. When words seldom occur together, the matching labels are found by set
  intersection instead (from the rarest word), and scored at once when few.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left, insort
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from itertools import accumulate, chain
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
MAX_WORDS = 8  # query words looked at
# Labels longer than any query are alike for the score; their first-word groups are merged.
LONG = MAX_WORDS + 1
# Labels starting with a query of several words are scored at once when at most this many.
FEW_STARTING = 256
# A query of several words whose labels are still unsettled after checking this many word by
# word has its matching labels found by set operations, and the rest scored at once when at
# most FEW_MATCHING.
FEW_CHECKED, FEW_MATCHING = 64, 64
# Checking one label's words costs about as much as this many steps of a set intersection.
CHECK_COST = 40
KEEP_SET = 256  # words with at least this many labels keep them as a set once needed
LAST = "\U0010ffff"  # sorts after every folded text: the end of a prefix's range


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
IRI, TEXT, NORM, TOKENS, STEMS, KIND, LANG, BONUS = range(len(ENTRY_FIELDS))  # columns


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


@dataclass(frozen=True)
class Group:
    """What the labels of one posting group share: all the score needs besides the query."""

    first: bool  # the word is the label's first word
    length: int  # words in the label, at most LONG (0 when not ``first``: it does not matter)
    kind: str
    lang: str
    bonus: int


Lists = tuple[tuple[int, Sequence[int]], ...]  # (group, label numbers) of one word
Postings = dict[str, Lists]
Pairs = dict[str, tuple[tuple[str, ...], tuple[Lists, ...]]]  # first word -> seconds, lists


@dataclass(frozen=True)
class _Query:
    words: list[str]
    stems: list[str]  # each word's stem: a label word matches the word when it starts with it
    norm: str
    stemmed: str
    lang: str

    @classmethod
    def of(cls, text: str, lang: str) -> _Query | None:
        qwords = words(text)[:MAX_WORDS]
        if not qwords:
            return None
        stems = [stem(w) for w in qwords]
        return cls(qwords, stems, " ".join(qwords), " ".join(stems), lang)


class _Top:
    """The ``limit`` best resources seen, each by its best label: (-score, label number)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.best: dict[str, tuple[int, int]] = {}
        self.ranked: list[tuple[int, int]] = []  # the ``limit`` smallest of ``best``, sorted

    def offer(self, iri: str, key: tuple[int, int]) -> None:
        old = self.best.get(iri)
        if old is not None and old <= key:
            return
        self.best[iri] = key
        if old is not None:
            at = bisect_left(self.ranked, old)
            if at < len(self.ranked) and self.ranked[at] == old:
                del self.ranked[at]
        insort(self.ranked, key)
        del self.ranked[self.limit:]

    def beats(self, key: tuple[int, int]) -> bool:
        """Whether every label whose key is at least ``key`` is out of the answer."""
        return len(self.ranked) >= self.limit and self.ranked[-1] < key


class SearchIndex(Deferred):
    def __init__(self, entries: Sequence[Entry], catalogue: Catalogue) -> None:
        # Numbered by the tie-break of equal scores (shorter label, then IRI; stable).
        ordered = sorted(entries, key=lambda e: (len(e.text), e.iri))
        # kept as columns: ranking reads a few fields of many entries per query
        self.entries = EntryColumns([[getattr(e, f) for e in ordered] for f in ENTRY_FIELDS])
        self.catalogue = catalogue
        self.groups, self.postings, self.pairs = _postings(ordered)
        self._sets: dict[str, frozenset[int]] = {}
        self._kept = 0  # labels in all of ``_sets``
        self.sorted_norm = _order([e.norm for e in ordered])
        self.sorted_stems = _order([e.stems for e in ordered])
        self._derive()

    def _derive(self) -> None:
        """What is computed from the persisted tables, not stored: sorted words and the
        running count of labels per word (how common a prefix is, by two look-ups)."""
        self.tokens = sorted(self.postings)
        sizes = (sum(len(ids) for _, ids in self.postings[t]) for t in self.tokens)
        self.counts = [0, *accumulate(sizes)]

    # ------------------------------------------------------------------ persisting

    def to_sections(self) -> dict[str, Any]:
        """Plain values for ``marshal`` (label numbers as machine integers in ``bytes``); the
        inverse of ``from_sections``."""
        return {
            "search_entries": [list(c) for c in self.entries.columns],
            "search_groups": [_astuple(g) for g in self.groups],
            "search_postings": {
                t: tuple((g, _packed(ids)) for g, ids in lists) for t, lists in self.postings.items()
            },
            "search_pairs": {
                t: (seconds, tuple(tuple((g, _packed(ids)) for g, ids in ls) for ls in lists))
                for t, (seconds, lists) in self.pairs.items()
            },
            "search_sorted": [_packed(self.sorted_norm), _packed(self.sorted_stems)],
        }

    @classmethod
    def from_sections(cls, catalogue: Catalogue, section: Callable[[str], Any]) -> SearchIndex:
        """An index whose tables are decoded by ``section(name)`` on first use."""
        index = cls.__new__(cls)
        index.catalogue = catalogue
        index._sets, index._kept = {}, 0
        index.defer({
            "entries": lambda: EntryColumns(section("search_entries")),
            "groups": lambda: [Group(*g) for g in section("search_groups")],
            "postings": lambda: {
                t: tuple((g, _unpacked(ids)) for g, ids in lists)
                for t, lists in section("search_postings").items()
            },
            "pairs": lambda: {
                t: (seconds, tuple(tuple((g, _unpacked(ids)) for g, ids in ls) for ls in lists))
                for t, (seconds, lists) in section("search_pairs").items()
            },
            "sorted_norm": lambda: _unpacked(section("search_sorted")[0]),
            "sorted_stems": lambda: _unpacked(section("search_sorted")[1]),
            "tokens": lambda: index._derived("tokens"),
            "counts": lambda: index._derived("counts"),
        })
        return index

    def _derived(self, name: str) -> Any:
        if name not in self.__dict__:
            self._derive()
        return self.__dict__[name]

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

    # ------------------------------------------------------------------ searching

    def _words_from(self, prefix: str) -> range:
        """Positions in ``tokens`` of the words starting with ``prefix``."""
        return range(bisect_left(self.tokens, prefix), bisect_left(self.tokens, prefix + LAST))

    def _matching(self, q: _Query, j: int) -> range:
        """The label words that match query word ``j``: those starting with its stem (which
        starts every word that starts with the word itself)."""
        return self._words_from(q.stems[j])

    def _starting_with(self, q: _Query) -> set[int] | None:
        """The labels starting with the query (as typed or stemmed) when they are few."""
        found: set[int] = set()
        for text, order, column in ((q.norm, self.sorted_norm, NORM),
                                    (q.stemmed, self.sorted_stems, STEMS)):
            values = _SortedView(self.entries.columns[column], order)
            lo, hi = bisect_left(values, text), bisect_left(values, text + LAST)
            if hi - lo + len(found) > FEW_STARTING:
                return None
            found.update(order[i] for i in range(lo, hi))
        return found

    def _streams(self, q: _Query, starting: set[int] | None,
                 counts: list[int]) -> list[tuple[int, Sequence[int]]]:
        """(best possible score, label numbers in rank order) for every group to read."""
        groups, tokens, many = self.groups, self.tokens, len(q.words)
        out: list[tuple[int, Sequence[int]]] = []
        # Labels whose first word matches the first query word: all that can score more than
        # "every word matched". With several query words, those starting with the query are
        # ``starting`` (scored already) when few, else found by their first two words.
        for p in self._matching(q, 0):
            word = tokens[p]
            for g, ids in self.postings[word]:
                group = groups[g]
                if group.first:
                    tier = _best_tier(q, word, group.length) if many == 1 else "words"
                    out.append((_bound(group, tier, q.lang) + FIRST_WORD_BONUS, ids))
            if many > 1 and starting is None and stem(word) == q.stems[0]:
                out += self._pair_streams(q, word)
        # Every other label matching the query has each of its words, the rarest one too: read
        # all of that word's groups ("every word matched", no first-word bonus).
        rarest = min(range(many), key=counts.__getitem__)
        for p in self._matching(q, rarest):
            for g, ids in self.postings[tokens[p]]:
                group = groups[g]
                if not (group.first and rarest == 0):
                    out.append((_bound(group, "words", q.lang), ids))
        return out

    def _matching_all(self, q: _Query, counts: list[int]) -> set[int] | frozenset[int]:
        """Every label matching the query: the rarest word's, then those with the others
        (intersecting with each matching word's set, or checking the labels' words when they
        are far fewer than the word's labels)."""
        order = sorted(range(len(q.words)), key=counts.__getitem__)
        sets = [self._token_set(p) for p in self._matching(q, order[0])]
        found: set[int] | frozenset[int] = sets[0] if len(sets) == 1 else set().union(*sets)
        tokens = self.entries.columns[TOKENS]
        for j in order[1:]:
            if len(found) * CHECK_COST < counts[j]:
                s = q.stems[j]
                found = {i for i in found if any(t.startswith(s) for t in tokens[i])}
            else:
                kept: set[int] = set()
                for p in self._matching(q, j):
                    kept |= found & self._token_set(p)  # iterates over the smaller set
                found = kept
            if not found:
                break
        return found

    def _token_set(self, p: int) -> frozenset[int]:
        """The labels with word number ``p``, as a set; kept for common words (those costly to
        make), up to as many labels in all as the index has (about 20 MB at 200k labels)."""
        word = self.tokens[p]
        found = self._sets.get(word)
        if found is None:
            found = frozenset(chain.from_iterable(ids for _, ids in self.postings[word]))
            if len(found) >= KEEP_SET and self._kept + len(found) <= len(self.entries):
                self._sets[word] = found
                self._kept += len(found)  # a race may count one twice: only keeps fewer
        return found

    def _pair_streams(self, q: _Query, first: str) -> list[tuple[int, Sequence[int]]]:
        """The groups of labels whose first two words are ``first`` and a word that can make
        them start with the query, each with its best possible score."""
        seconds, lists = self.pairs.get(first, ((), ()))
        q0, q1, s1, last = q.words[0], q.words[1], q.stems[1], len(q.words) == 2
        out: list[tuple[int, Sequence[int]]] = []
        for k in range(bisect_left(seconds, s1), bisect_left(seconds, s1 + LAST)):
            second = seconds[k]
            stem2 = stem(second)
            as_typed = first == q0 and (second.startswith(q1) if last else second == q1)
            if not (as_typed or (stem2.startswith(s1) if last else stem2 == s1)):
                continue  # never starts with the query: at best "every word matched"
            for g, ids in lists[k]:
                group = self.groups[g]
                if group.length < len(q.words):
                    continue
                exact = group.length == len(q.words) and (not last or stem2 == s1)
                tier = "exact" if exact else "prefix"
                out.append((_bound(group, tier, q.lang) + FIRST_WORD_BONUS, ids))
        return out

    def _count(self, found: range) -> int:
        return self.counts[found.stop] - self.counts[found.start]

    def search(self, query: str, lang: str = "en", limit: int = 10) -> list[Hit]:
        """The same answer as ``search_all``, reading labels best first and stopping when no
        label left can enter the answer."""
        return self._search(query, lang, limit)[0]

    def _search(self, query: str, lang: str, limit: int) -> tuple[list[Hit], int]:
        """The hits, and how many labels were scored to find them."""
        q = _Query.of(query, lang)
        if q is None:
            return [], 0
        counts = [self._count(self._matching(q, j)) for j in range(len(q.words))]
        if not min(counts):  # a word no label has
            return [], 0
        top = _Top(limit)
        seen: set[int] = set()
        iris = self.entries.columns[IRI]
        starting = self._starting_with(q) if len(q.words) > 1 else None
        for i in sorted(starting or ()):
            top.offer(iris[i], (-self._score(i, q), i))
            seen.add(i)
        tokens = self.entries.columns[TOKENS]
        # One word: every label read has it. Several: the rarest word's labels may lack the
        # others; checked label by label while that pays, then against the exact set of
        # matching labels (set operations), all scored at once when few are left.
        others = q.stems if len(q.stems) > 1 else []
        matching: set[int] | frozenset[int] | None = None
        checked = 0
        for bound, i in _best_first(self._streams(q, starting, counts)):
            if top.beats((-bound, i)):
                break
            if i in seen:
                continue
            if others and matching is None:
                checked += 1
                if checked > FEW_CHECKED:
                    matching = self._matching_all(q, counts)
                    rest = matching - seen
                    if len(rest) <= FEW_MATCHING:  # the answer is complete once they are in
                        for j in sorted(rest):
                            top.offer(iris[j], (-self._score(j, q), j))
                        seen |= rest
                        break
            seen.add(i)
            if matching is not None:
                if i not in matching:
                    continue
            elif others and not all(any(t.startswith(s) for t in tokens[i]) for s in others):
                continue
            top.offer(iris[i], (-self._score(i, q), i))
        return self._hits(top.ranked), len(seen)

    def _score(self, i: int, q: _Query) -> int:
        col = self.entries.columns
        norm, stemmed = col[NORM][i], col[STEMS][i]
        if norm == q.norm or stemmed == q.stemmed:
            tier = "exact"
        elif norm.startswith(q.norm) or stemmed.startswith(q.stemmed):
            tier = "prefix"
        else:
            tier = "words"
        score = TIER[(col[KIND][i], tier)] + col[BONUS][i]
        if col[LANG][i] == q.lang:
            score += LANG_BONUS
        if col[TOKENS][i][0].startswith((q.words[0], q.stems[0])):
            score += FIRST_WORD_BONUS
        return score

    def _hits(self, ranked: Iterable[tuple[int, int]]) -> list[Hit]:
        col = dict(zip(ENTRY_FIELDS, self.entries.columns, strict=True))
        return [Hit(col["iri"][i], -neg, col["text"][i], col["kind"][i]) for neg, i in ranked]

    # ------------------------------------------------------------------ the reference

    def _candidates(self, word: str) -> set[int]:
        """Entries with a word that starts with ``word`` or with its stem."""
        found: set[int] = set()
        for p in self._words_from(stem(word)):
            for _, ids in self.postings[self.tokens[p]]:
                found.update(ids)
        return found

    def search_all(self, query: str, lang: str = "en", limit: int = 10) -> list[Hit]:
        """Every label that has each query word as a word prefix, scored."""
        q = _Query.of(query, lang)
        if q is None:
            return []
        candidates: set[int] | None = None
        for w in q.words:
            c = self._candidates(w)
            candidates = c if candidates is None else candidates & c
            if not candidates:
                return []
        return self._rank(candidates or set(), q, limit)

    def _rank(self, candidates: set[int], q: _Query, limit: int) -> list[Hit]:
        """Each resource by its best label (highest score, then shortest, then first in the
        index), best first: highest score, then shortest label, then IRI."""
        iris = self.entries.columns[IRI]
        texts = self.entries.columns[TEXT]
        best: dict[str, tuple[int, int, int]] = {}  # iri -> (-score, len(text), entry)
        for i in candidates:
            mine = (-self._score(i, q), len(texts[i]), i)
            old = best.get(iris[i])
            if old is None or mine < old:
                best[iris[i]] = mine
        ranked = heapq.nsmallest(limit, best.values(), key=lambda b: (b[0], b[1], iris[b[2]]))
        return self._hits((neg, i) for neg, _, i in ranked)


class _SortedView(Sequence[str]):
    """``values`` read in the order ``order`` (for bisection without a sorted copy)."""

    def __init__(self, values: Sequence[str], order: Sequence[int]) -> None:
        self.values, self.order = values, order

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self.values[j] for j in self.order[i]]
        return self.values[self.order[i]]

    def __len__(self) -> int:
        return len(self.order)


def _best_tier(q: _Query, word: str, length: int) -> str:
    """The tier of a one-word query on labels whose first word is ``word`` and that have
    ``length`` words: the first word alone decides it."""
    if length == 1 and (word == q.words[0] or stem(word) == q.stems[0]):
        return "exact"
    if word.startswith(q.words[0]) or stem(word).startswith(q.stems[0]):
        return "prefix"
    return "words"


def _bound(group: Group, tier: str, lang: str) -> int:
    return TIER[(group.kind, tier)] + group.bonus + (LANG_BONUS if group.lang == lang else 0)


def _best_first(streams: list[tuple[int, Sequence[int]]]) -> Iterator[tuple[int, int]]:
    """(bound, label) of every stream, highest bound first, then by label number."""
    levels: dict[int, list[Sequence[int]]] = defaultdict(list)
    for bound, ids in streams:
        levels[bound].append(ids)
    for bound in sorted(levels, reverse=True):
        lists = levels[bound]
        merged = lists[0] if len(lists) == 1 else heapq.merge(*lists)
        for i in merged:
            yield bound, i


def _postings(entries: Sequence[Entry]) -> tuple[list[Group], Postings, Pairs]:
    """The groups; per word the label numbers (ascending) of each group it occurs in; per
    first word, its second words and their labels (of the first word's groups)."""
    numbers: dict[Group, int] = {}
    found: dict[str, dict[int, array[int]]] = defaultdict(dict)
    pairs: dict[str, dict[str, dict[int, array[int]]]] = defaultdict(lambda: defaultdict(dict))
    for i, e in enumerate(entries):
        first = e.tokens[0]
        head = numbers.setdefault(
            Group(True, min(len(e.tokens), LONG), e.kind, e.lang, e.bonus), len(numbers))
        rest = numbers.setdefault(Group(False, 0, e.kind, e.lang, e.bonus), len(numbers))
        found[first].setdefault(head, array("i")).append(i)
        for t in dict.fromkeys(e.tokens[1:]):
            if t != first:
                found[t].setdefault(rest, array("i")).append(i)
        if len(e.tokens) > 1:
            pairs[first][e.tokens[1]].setdefault(head, array("i")).append(i)
    groups = sorted(numbers, key=numbers.__getitem__)
    return groups, {w: tuple(lists.items()) for w, lists in found.items()}, {
        w: (tuple(sorted(seconds)), tuple(tuple(seconds[t].items()) for t in sorted(seconds)))
        for w, seconds in pairs.items()
    }


def _order(values: list[str]) -> array[int]:
    return array("i", sorted(range(len(values)), key=values.__getitem__))


def _packed(ids: Sequence[int]) -> bytes:
    return ids.tobytes() if isinstance(ids, array | memoryview) else array("i", ids).tobytes()


def _unpacked(data: bytes) -> Sequence[int]:
    return memoryview(data).cast("i")


def _astuple(group: Group) -> tuple[Any, ...]:
    return tuple(getattr(group, f.name) for f in fields(group))


def _entry(iri: str, text: str, kind: str, lang: str, bonus: int) -> Entry:
    tokens = tuple(words(text))
    return Entry(iri, text, " ".join(tokens), tokens, " ".join(stem(t) for t in tokens), kind, lang, bonus)
