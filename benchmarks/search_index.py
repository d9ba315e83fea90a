"""CPU time of the search index alone, in-process, on a loaded store's persisted index (#8).

Reads the search index that ``romagraph load`` persisted next to an on-disk store (the 1M
benchmark store by default), then times ``SearchIndex.search`` on a fixed list of real queries
(common words, rare words, several words, prefixes, diacritics, no match) in both interface
languages: median CPU µs per search (``time.process_time``, so other processes on the machine
do not count). Also prints the size of the search sections in the persisted file and the
resident memory the decoded index takes. ``--check`` also asserts that every answer equals
``search_all`` (scoring every matching label), the reference the fast path must reproduce.

    python benchmarks/search_index.py [--size 1M] [--store DIR] [--reps 30] [--check]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import DATA_DIR, table  # noqa: E402
from server.services import snapshot  # noqa: E402
from server.services.search import SearchIndex  # noqa: E402

BASE = "https://w3id.org/romagraph/"
QUERIES = (
    # common words: thousands to tens of thousands of labels each
    "project", "projekts", "municipality", "pašvaldība", "roma", "romu", "2018", "biedrība",
    "partner", "ministrija", "funding", "1",
    # rare words and names
    "jelgava", "daugavpils", "pededze", "kultūras ministrija",
    # several words
    "finansējums projektam", "funding of", "romu integrācija", "pededze 82 pašvaldība",
    "partner funding", "izglītība valoda iekļaušana", "result children",
    # prefixes of words
    "p", "proj", "bied", "pašv", "jelg", "ministr", "fin proj",
    # no match
    "zzzq", "roma zzzq",
)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def section_sizes(folder: Path) -> dict[str, int]:
    """Bytes of each search table in the persisted index file (all its shards)."""
    sizes = snapshot.table_sizes(folder, BASE)
    return {name: size for name, (size, _) in sizes.items() if name.startswith("search")}


def cpu_us(index: SearchIndex, query: str, lang: str, reps: int) -> float:
    """Median of five batches of ``reps`` searches, CPU µs per search."""
    batches = []
    for _ in range(5):
        started = time.process_time()
        for _ in range(reps):
            index.search(query, lang, 10)
        batches.append((time.process_time() - started) / reps * 1e6)
    return statistics.median(batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1M", help="which benchmark store (when no --store)")
    parser.add_argument("--store", type=Path, default=None, help="an on-disk store folder")
    parser.add_argument("--reps", type=int, default=30, help="searches per timed batch")
    parser.add_argument("--check", action="store_true", help="assert search == search_all")
    args = parser.parse_args()
    folder = args.store or DATA_DIR / f"store-synth-{args.size}-seed1-real"

    started = time.perf_counter()
    _, index = snapshot.read_index(folder, BASE)  # reads the file; decodes nothing yet
    before = rss_mb()
    index.resolve_all()
    index.search("warm up", "en", 10)  # anything built on first use
    loaded = time.perf_counter() - started
    ram = rss_mb() - before
    sizes = section_sizes(folder)
    print(f"index of {folder}: {len(index.entries):,} labels; decoded in {loaded:.2f} s; "
          f"RSS of the decoded search index +{ram:,.0f} MB; persisted search sections "
          + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sizes.items()), flush=True)

    rows: list[list[object]] = []
    every: list[float] = []
    for q in QUERIES:
        cells: list[object] = [q]
        for lang in ("en", "lv"):
            if args.check:
                assert index.search(q, lang, 10) == index.search_all(q, lang, 10), (q, lang)
            us = cpu_us(index, q, lang, args.reps)
            every.append(us)
            cells.append(us)
        cells.append(len(index.search_all(q, "en", 10**9)))
        rows.append(cells)
    table(f"CPU µs per search (median of 5 × {args.reps}), {len(index.entries):,} labels",
          ["query", "en µs", "lv µs", "resources matching"], rows)
    print(f"\nmedian over {len(every)} (query, lang): {statistics.median(every):,.0f} µs; "
          f"mean {statistics.fmean(every):,.0f} µs; max {max(every):,.0f} µs")


if __name__ == "__main__":
    main()
