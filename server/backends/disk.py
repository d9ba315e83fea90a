"""The embedded on-disk Oxigraph store (``oxigraph:PATH``): built once by ``romagraph load`` with
RocksDB's bulk loader, then reopened read-only by every server process in milliseconds.

A load never touches the live store until it is complete: it is written into a temporary directory
next to the target and renamed into place, so a failed or interrupted load leaves the previous
store as it was. With ``pages_base`` the load also persists the page catalogue and search index in
that folder before the rename (``services/snapshot.py``), so servers start without rebuilding them. Servers that have the old store open keep reading it until they restart.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from ..store import DataError, OxigraphStore
from .loading import LoadSource, counted, progress_bar

log = logging.getLogger(__name__)


def store_path(url: str) -> Path:
    """``oxigraph:PATH`` → ``PATH`` (relative paths are relative to the working directory)."""
    path = url.removeprefix("oxigraph:").removeprefix("//")
    if not path:
        raise ValueError("the store URL oxigraph:PATH needs a folder, e.g. oxigraph:var/store")
    return Path(path).expanduser()


def is_store_dir(path: Path) -> bool:
    """Whether ``path`` holds a RocksDB database (what an Oxigraph store is on disk)."""
    return (path / "CURRENT").is_file() and any(path.glob("MANIFEST-*"))


def open_disk(path: Path) -> OxigraphStore:
    """Open a loaded on-disk store read-only; several processes may do so at once."""
    if not is_store_dir(path):
        raise FileNotFoundError(
            f"no Oxigraph store at {path}: build it first with "
            f"`romagraph load --store oxigraph:{path}`"
        )
    started = time.perf_counter()
    try:
        inner = ox.Store.read_only(str(path))
    except OSError as e:
        raise OSError(f"cannot open the Oxigraph store at {path}: {e}") from e
    log.info("opened on-disk store %s read-only in %.3f s", path, time.perf_counter() - started)
    return OxigraphStore(inner=inner, reads="files")


# Quads copied per step, and seconds to wait first: each step holds the interpreter (the copy is
# Python objects crossing into the new store), ~1,000 quads ≈ 10 ms; the first requests after a
# start and the catalogue's decoding come first.
COPY_STEP = 1_000
COPY_AFTER = 5.0


def read_from_memory_soon(
    store: OxigraphStore, max_quads: int, quads: int | None = None, after: float = COPY_AFTER
) -> threading.Thread | None:
    """Copy an on-disk store into memory in a background thread and then let every read go to
    the copy (``store.inner`` is swapped; queries already running finish on the files).

    Pages read a resource's statements through the store's indexes, and RocksDB decodes each
    term with a lookup of its own: ≈20 µs per statement from the files, ≈1 µs from memory
    (measured at 1M, benchmarks/README.md), about a third of an uncached page's time. Only
    when the store holds at most ``max_quads`` (``quads``: its size if known, else counted)."""
    if max_quads <= 0:
        return None
    files = store.inner

    def copy() -> None:
        time.sleep(after)
        size = quads if quads is not None else len(files)
        if size > max_quads:
            log.info("pages read the files: %d quads > ROMAGRAPH_PAGES_IN_MEMORY=%d",
                     size, max_quads)
            return
        started = time.perf_counter()
        memory = ox.Store()
        stream = files.quads_for_pattern(None, None, None)
        while step := list(islice(stream, COPY_STEP)):
            memory.bulk_extend(step)
            time.sleep(0)  # let a waiting request have the interpreter between steps
        store.inner, store.reads = memory, "memory"
        log.info("pages read an in-memory copy of the store (%d quads, copied in %.1f s)",
                 len(memory), time.perf_counter() - started)

    thread = threading.Thread(target=copy, name="romagraph-store-copy", daemon=True)
    thread.start()
    return thread


def load_disk(
    target: Path, sources: list[LoadSource], progress: bool = True, pages_base: str | None = None
) -> int:
    """Bulk-load ``sources`` into a new store at ``target`` (atomically replacing an existing
    store there) and return the number of quads it holds. With ``pages_base`` (the deployment's
    base IRI), also persist the page catalogue and search index with the store."""
    target = target.absolute()
    if target.exists() and not (is_store_dir(target) or not any(target.iterdir())):
        raise FileExistsError(
            f"{target} exists and is not an Oxigraph store; refusing to replace it"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.loading-"))
    try:
        count = _bulk_load(tmp, sources, progress, f"load {target.name}")
        if pages_base is not None:
            from ..services.snapshot import build_index

            build_index(tmp, pages_base)
        _swap_into_place(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return count


BATCH = 50_000  # quads per bulk_extend: ~100 MB peak at any size, as fast as one bulk_load


def source_quads(src: LoadSource, reader: IO[bytes]) -> Iterator[ox.Quad]:
    """The quads of a source as a stream (blank nodes renamed per source, as a load does)."""
    parsed = ox.parse(reader, src.fmt, base_iri=src.base, rename_blank_nodes=True)
    if src.graph is None:
        return iter(parsed)
    graph = ox.NamedNode(src.graph)
    return (ox.Quad(q.subject, q.predicate, q.object, graph) for q in parsed)


def extend_from(store: ox.Store, src: LoadSource, reader: IO[bytes]) -> None:
    """Parse ``src`` as a stream into ``store`` in batches of ``BATCH`` quads; a syntax error is
    a DataError naming the source."""
    quads = source_quads(src, reader)
    try:
        while batch := list(islice(quads, BATCH)):
            store.bulk_extend(batch)
    except SyntaxError as e:
        raise DataError(src.path, str(e)) from e


def _bulk_load(folder: Path, sources: list[LoadSource], progress: bool, desc: str) -> int:
    """Parse each source as a stream and write it with ``bulk_extend`` in batches of ``BATCH``
    quads: ``Store.bulk_load`` of a whole file held ~1 GB at 1M quads; batches keep the memory
    flat at the same speed (benchmarks/README.md). The folder is new and only renamed into
    place once complete, so a failure half-way leaves nothing behind."""
    store = ox.Store(str(folder))
    with progress_bar(sources, progress, desc) as bar:
        for src in sources:
            with counted(src, bar) as reader:
                extend_from(store, src, reader)
    store.flush()
    count = len(store)
    del store  # closes RocksDB, so the folder can be renamed and reopened read-only
    return count


def _swap_into_place(new: Path, target: Path) -> None:
    if not target.exists():
        os.replace(new, target)
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.replace(target, old)
    os.replace(new, target)
    shutil.rmtree(old, ignore_errors=True)
