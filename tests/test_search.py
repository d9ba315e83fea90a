"""Search: the index read best first (``search``) answers exactly what scoring every matching
label answers (``search_all``), on the repository's graph and on a generated graph large enough
for common words to match thousands of labels: one word, several words, prefixes of words,
Latvian diacritics, no match, every limit; also after being persisted and read back. And a
common word is answered by scoring a few labels, not every label that has it."""

from __future__ import annotations

import io
import marshal
import random

import pyoxigraph as ox
import pytest

from benchmarks.generate import generate
from server.config import Settings
from server.services.catalogue import Catalogue
from server.services.search import SearchIndex
from server.services.text import words
from server.store import OxigraphStore

# Latvian letters with diacritics, in queries as typed (folded by the index).
LATVIAN = ["Kultūras ministrija", "pašvaldība", "Jelgavā", "Ķekavas novads", "biedrība „Čigāni”",
           "Ģimene", "līdzdalība", "ĻOTI", "ņemot", "Žurka", "ēka", "romu integrācijas plāns",
           "Izglītība valoda iekļaušana", "Bērni", "sadarbība ar", "ūdens", "Čigānu"]
NO_MATCH = ["zzzq", "roma zzzq", "zzzq roma", "qqq 2018", "xyzzy plugh"]
LIMITS = (1, 3, 10, 50, 100)


def _queries(index: SearchIndex, n: int, seed: int) -> list[str]:
    """Whole words, prefixes of 1-5 letters and phrases of two to four words (the last one
    sometimes cut), taken from the labels as written (case, diacritics, punctuation) and folded."""
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
            out.add(" ".join(ws[: rng.randint(2, min(4, len(ws)))]))  # how the label starts
        written = text.split()
        if len(written) > 1:
            k = rng.randint(1, min(3, len(written)))
            start = rng.randrange(len(written) - k + 1)
            phrase = " ".join(written[start:start + k])
            out.update({phrase, phrase[: rng.randint(1, len(phrase))]})
    return sorted(out)


def _agree(index: SearchIndex, queries: list[str], limits: tuple[int, ...] = (10,)) -> None:
    """Assert both ways agree on every query, in both languages, at every limit."""
    for q in queries:
        for lang in ("en", "lv"):
            for limit in limits:
                hits = index.search(q, lang, limit)
                assert hits == index.search_all(q, lang, limit), (q, lang, limit)
                assert len({h.iri for h in hits}) == len(hits) <= limit


def test_fast_search_agrees_with_scoring_everything(store: OxigraphStore,
                                                    settings: Settings) -> None:
    index = SearchIndex.build(Catalogue.build(store, settings.base_iri))
    queries = _queries(index, 400, seed=1) + ["romu", "jelgavas", "kultūras ministrija", "nva"]
    _agree(index, queries + LATVIAN + NO_MATCH)
    _agree(index, ["roma", "romu", "kult", "ministrija", "2018", "p", "r"], LIMITS)
    assert index.search("Kultūras ministrija", "lv")[0].matched == "Kultūras ministrija"
    assert index.search("kulturas MINISTRIJA", "lv") == index.search("Kultūras ministrija", "lv")
    for q in NO_MATCH:
        assert index.search(q) == []


@pytest.fixture(scope="module")
def generated_index() -> SearchIndex:
    text = io.StringIO()
    generate(30_000, 3, text, "nq")
    inner = ox.Store()
    inner.load(text.getvalue().encode(), format=ox.RdfFormat.N_QUADS)
    return SearchIndex.build(Catalogue.build(OxigraphStore(inner=inner), Settings().base_iri))


def _common_words(index: SearchIndex, n: int) -> list[str]:
    """The ``n`` words most labels have."""
    by_count = sorted(index.tokens, key=lambda t: -sum(len(ids) for _, ids in index.postings[t]))
    return by_count[:n]


def test_fast_search_agrees_on_a_generated_graph(generated_index: SearchIndex) -> None:
    queries = _queries(generated_index, 300, seed=2)
    common = _common_words(generated_index, 12)
    pairs = [f"{a} {b}" for a in common[:6] for b in common[:6] if a != b]
    _agree(generated_index, queries + common + pairs + LATVIAN + NO_MATCH)
    _agree(generated_index, common[:4] + pairs[:4] + [w[:2] for w in common[:4]], LIMITS)


def test_a_common_word_is_answered_from_a_few_labels(generated_index: SearchIndex) -> None:
    """The best labels are read first: a word hundreds of resources have is settled after
    scoring a few more labels than the answer holds, prefixes of it too, in either language."""
    index = generated_index
    for word in _common_words(index, 8):
        matching = len(index.search_all(word, "en", 10**6))
        assert matching >= 150, word
        for q in (word, word[:4]):
            for lang in ("en", "lv"):
                hits, scored = index._search(q, lang, 10)
                assert len(hits) == 10 and scored <= 30, (q, lang, scored, matching)


def test_the_persisted_index_answers_the_same(generated_index: SearchIndex) -> None:
    """Written as ``romagraph load`` does (marshal of each section) and read back lazily."""
    blobs = {k: marshal.dumps(v) for k, v in generated_index.to_sections().items()}
    read = SearchIndex.from_sections(generated_index.catalogue, lambda k: marshal.loads(blobs[k]))
    queries = _queries(generated_index, 80, seed=3) + LATVIAN + NO_MATCH
    for q in queries:
        for lang in ("en", "lv"):
            assert read.search(q, lang, 10) == generated_index.search(q, lang, 10), (q, lang)
    assert read.search_all("roma", "lv", 50) == generated_index.search_all("roma", "lv", 50)
