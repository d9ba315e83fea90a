"""Search: the fast path (labels that start with the query, found by bisection) answers exactly
what scoring every matching label answers, on the repository's graph and on a generated graph
large enough for common words to match thousands of labels."""

from __future__ import annotations

import io
import random

import pyoxigraph as ox
import pytest

from benchmarks.generate import generate
from server.config import Settings
from server.services.catalogue import Catalogue
from server.services.search import WORDS_TIER_MAX, SearchIndex
from server.services.text import words
from server.store import OxigraphStore


def _queries(index: SearchIndex, n: int, seed: int) -> list[str]:
    """Whole words, prefixes of 1-5 letters and two-word phrases taken from the labels."""
    rng = random.Random(seed)
    texts = [e.text for e in index.entries]
    out: set[str] = set()
    for text in rng.sample(texts, min(n, len(texts))):
        ws = words(text)
        w = rng.choice(ws)
        out.update({w, w[: rng.randint(1, 5)]})
        if len(ws) > 1:
            i = rng.randrange(len(ws) - 1)
            out.add(f"{ws[i]} {ws[i + 1][:3]}")
    return sorted(out)


def _agree(index: SearchIndex, queries: list[str]) -> int:
    """Assert both paths agree on every query; return how many the fast path settled alone."""
    fast = 0
    for q in queries:
        for lang in ("en", "lv"):
            hits = index.search(q, lang, 10)
            assert hits == index.search_all(q, lang, 10), (q, lang)
            fast += len(hits) == 10 and hits[-1].score > WORDS_TIER_MAX
    return fast


def test_fast_search_agrees_with_scoring_everything(store: OxigraphStore,
                                                    settings: Settings) -> None:
    index = SearchIndex.build(Catalogue.build(store, settings.base_iri))
    queries = _queries(index, 400, seed=1) + ["romu", "jelgavas", "kultūras ministrija", "nva"]
    _agree(index, queries)


@pytest.fixture(scope="module")
def generated_index() -> SearchIndex:
    text = io.StringIO()
    generate(30_000, 3, text, "nq")
    inner = ox.Store()
    inner.load(text.getvalue().encode(), format=ox.RdfFormat.N_QUADS)
    return SearchIndex.build(Catalogue.build(OxigraphStore(inner=inner), Settings().base_iri))


def test_fast_search_agrees_on_a_generated_graph(generated_index: SearchIndex) -> None:
    queries = _queries(generated_index, 300, seed=2)
    fast = _agree(generated_index, queries)
    assert fast > 20  # the fast path is really taken (not everything falls back)
