"""The page catalogue and search index persisted in an on-disk store's folder, so that
``romagraph serve --store oxigraph:DIR`` starts in about a second at any size.

``romagraph load`` builds both from the new store and writes them to ``DIR/romagraph-pages.idx``
before the store is renamed into place, so a store and its index appear together. The file holds
a JSON header (format, Python version, base IRI, the store's fingerprint, the payload's size and
where the directory is), then each table in shards (``sharded.py``: one ``marshal`` blob per
shard, by a hash of the key), then the directory (offset, length and CRC-32 of every shard). On
start the server maps the file, checks the header and the directory (a few ms at any size) and
decodes each shard when a page first needs one of its keys, checking its CRC-32; a background
thread decodes the rest shard by shard and swaps each complete table for a plain dict.

The fingerprint is a hash of the names and sizes of the RocksDB files (and of ``CURRENT``): any
write that reaches the folder changes it, and reading (read-only opens) never does. A file that is
missing, written for another base IRI or version, stale (the store changed) or corrupt (bad
header, size or directory) is never trusted: the server builds the catalogue in a background
thread instead, pages answer 503 with Retry-After until it is ready, and the rebuilt index is
written back (atomically: a temporary file in the same folder, then a rename) when the folder is
writable. A shard that fails its checksum later answers 503 for the pages that need it.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import hashlib
import json
import logging
import marshal
import os
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..store import Store
from .catalogue import SECTIONS, Catalogue, QualifiedIndex
from .search import EntryColumns, SearchIndex
from .sharded import (
    SHARD_WEIGHT,
    ChunkedColumns,
    CorruptIndex,
    LazyColumn,
    PackedList,
    Shard,
    ShardedMapping,
    Source,
    chunk_rows,
    row_chunks,
    shard_count,
    split,
)

log = logging.getLogger(__name__)

INDEX_FILE = "romagraph-pages.idx"
# Bump whenever Catalogue or SearchIndex change what they persist (2: search postings grouped
# and ordered for best-first reading, label orders by text; 3: tables in shards, checked each).
FORMAT = 3
MAGIC = b"romagraph pages index\n"
SEARCH_SECTIONS = (
    "search_entries", "search_groups", "search_postings", "search_pairs", "search_sorted",
)
CHUNKED = ("search_entries",)  # columns, persisted in chunks of rows (the others: whole)
PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"  # marshal's format may change with it


class StaleIndex(Exception):
    """The persisted index cannot be used (missing, stale, other version, corrupt): why."""


def fingerprint(folder: Path) -> str:
    """A hash of the store's RocksDB files (names and sizes) and of ``CURRENT``; our own files,
    hidden temporary files and RocksDB's info logs (``LOG*``) and ``LOCK`` are left out."""
    h = hashlib.sha1()
    for f in sorted(folder.iterdir()):
        if f.name.startswith((".", "romagraph-", "LOG", "LOCK")) or not f.is_file():
            continue
        h.update(f"{f.name}\0{f.stat().st_size}\n".encode())
    current = folder / "CURRENT"
    if current.is_file():
        h.update(current.read_bytes())
    return h.hexdigest()


def write_index(folder: Path, catalogue: Catalogue, index: SearchIndex, print_: str,
                weight: int = SHARD_WEIGHT) -> Path:
    """Write the catalogue and index for the store in ``folder`` (whose fingerprint is
    ``print_``) atomically: into a temporary file in the same folder, then renamed over.

    Tables are marshalled and written one at a time (at 10M triples the whole payload is
    2 GB), each in shards (``sharded.py``; ``weight`` sets their size), after room for the
    header; the directory of shards (offset, length and CRC-32 of each) is written last, and the
    header, which says where it is, into the room, padded with spaces, which JSON ignores."""
    started = time.perf_counter()
    sections = catalogue.to_sections() | index.to_sections()
    names = list(sections)

    def header(directory: Shard, size: int) -> bytes:
        return json.dumps({
            "format": FORMAT, "python": PYTHON, "base": catalogue.base, "fingerprint": print_,
            "quads": catalogue.triples, "predicates": list(catalogue.predicates),
            "resources": len(catalogue.types), "size": size, "directory": directory,
        }).encode("utf-8")

    widest = 1 << 62  # no offset, size or checksum is wider than this
    room = len(header((widest, widest, widest), widest))
    target = folder / INDEX_FILE
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{INDEX_FILE}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(MAGIC + room.to_bytes(8, "big") + b" " * room)
            offset = 0

            def put(value: Any) -> Shard:
                nonlocal offset
                blob = marshal.dumps(value)
                out.write(blob)
                where = (offset, len(blob), zlib.crc32(blob))
                offset += len(blob)
                return where

            directory: dict[str, tuple[Any, ...]] = {}
            for name in names:
                table = sections.pop(name)  # the plain copy goes as it is written
                directory[name] = _write_table(name, table, put, weight)
                del table
            final = header(put(directory), offset)
            out.seek(len(MAGIC) + 8)
            out.write(final.ljust(room))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    log.info("catalogue: wrote %s (%.0f MB) in %.2f s", target, target.stat().st_size / 1e6,
             time.perf_counter() - started)
    return target


def _write_table(name: str, table: Any, put: Callable[[Any], Shard],
                 weight: int) -> tuple[Any, ...]:
    """Write one table; its directory entry: ``("keys", keys, shards)`` for a table sharded by
    key, ``("rows", rows, chunks, rows per chunk, columns)`` for columns chunked by rows,
    ``("whole", 0, [shard])`` for a table read whole."""
    if name in SECTIONS:  # every table of the catalogue is a dict
        shards: list[Any] = split(table, shard_count(table, weight))
        written = []
        for i, shard in enumerate(shards):
            written.append(put(shard))
            shards[i] = None  # gone once written
        return ("keys", len(table), written)
    if name in CHUNKED:
        rows = chunk_rows(weight)
        count = len(table[0]) if table else 0
        return ("rows", count, [put(c) for c in row_chunks(table, rows)], rows, len(table))
    return ("whole", 0, [put(table)])


def read_index(folder: Path, base: str) -> tuple[Catalogue, SearchIndex]:
    """The persisted catalogue and index of the store in ``folder``, each table decoded in shards
    as pages need them; raises StaleIndex, saying why, when the file must not be used.

    The file is mapped, not read: a start checks the header, the file's size and the directory
    (its CRC-32); each shard is checked when it is decoded."""
    source, header, directory = open_index(folder, base)

    def section(name: str, convert: Callable[[Any], Any] | None = None) -> Any:
        kind, count, shards, *extra = directory[name]
        if kind == "keys":
            return ShardedMapping(source, name, shards, count, convert)
        if kind == "rows":
            rows, width = extra
            return ChunkedColumns(source, name, shards, count, rows, width).columns
        value = source.blob(shards[0], name)
        return convert(value) if convert else value

    catalogue = Catalogue.from_sections(
        base, int(header["quads"]), tuple(header["predicates"]), section
    )
    return catalogue, SearchIndex.from_sections(catalogue, section)


def open_index(
    folder: Path, base: str
) -> tuple[Source, dict[str, Any], dict[str, tuple[Any, ...]]]:
    """The mapped index file of ``folder``, its header and its directory, checked."""
    path = folder / INDEX_FILE
    try:
        size = path.stat().st_size
        if size < len(MAGIC) + 8:
            raise StaleIndex(f"{path.name} is corrupt (not a romagraph index)")
        source = Source(path, 0)
    except FileNotFoundError:
        raise StaleIndex(f"no persisted index ({path.name})") from None
    except (OSError, ValueError) as e:
        raise StaleIndex(f"cannot read {path.name}: {e}") from e
    data = source.map
    start = len(MAGIC) + 8
    if data[:len(MAGIC)] != MAGIC:
        raise StaleIndex(f"{path.name} is corrupt (not a romagraph index)")
    end = start + int.from_bytes(data[len(MAGIC):start], "big")
    try:
        header = json.loads(data[start:end])
        header.get("format")
    except (ValueError, AttributeError) as e:
        raise StaleIndex(f"{path.name} is corrupt (unreadable header)") from e
    if (header.get("format"), header.get("python")) != (FORMAT, PYTHON):
        raise StaleIndex(
            f"{path.name} was written by another version (format {header.get('format')}, "
            f"Python {header.get('python')})"
        )
    if header.get("base") != base:
        raise StaleIndex(f"{path.name} was written for the base IRI {header.get('base')}")
    if header.get("fingerprint") != fingerprint(folder):
        raise StaleIndex(f"{path.name} is stale: the store changed after it was written")
    try:
        where: Shard = tuple(header["directory"])
    except (KeyError, TypeError) as e:
        raise StaleIndex(f"{path.name} is corrupt (unreadable header)") from e
    if size - end != header.get("size"):
        raise StaleIndex(f"{path.name} is corrupt (truncated or extended: {size} bytes)")
    source.start = end
    try:
        directory: dict[str, tuple[Any, ...]] = source.blob(where, "the directory")
    except (CorruptIndex, ValueError, EOFError, TypeError) as e:
        raise StaleIndex(f"{path.name} is corrupt (checksum mismatch)") from e
    missing = {*SECTIONS, *SEARCH_SECTIONS} - set(directory)
    if missing:
        raise StaleIndex(f"{path.name} is corrupt (no {', '.join(sorted(missing))})")
    return source, header, directory


def table_sizes(folder: Path, base: str) -> dict[str, tuple[int, int]]:
    """Bytes and shards of each table in the persisted index of ``folder`` (for benchmarks)."""
    _, _, directory = open_index(folder, base)
    return {name: (sum(length for _, length, _ in entry[2]), len(entry[2]))
            for name, entry in directory.items()}


def build_index(folder: Path, base: str) -> Path:
    """Build the catalogue and index of the store in ``folder`` and persist them there (what
    ``romagraph load`` does before renaming a new store into place)."""
    from ..backends.disk import open_disk

    print_ = fingerprint(folder)
    store = open_disk(folder)
    try:
        catalogue, index = build(store, base)
    finally:
        del store
    return write_index(folder, catalogue, index, print_)


def build(store: Store, base: str) -> tuple[Catalogue, SearchIndex]:
    catalogue = Catalogue.build(store, base)
    started = time.perf_counter()
    index = SearchIndex.build(catalogue)
    log.info("search index: %d labels in %.2f s", len(index.entries), time.perf_counter() - started)
    return catalogue, index


# ---------------------------------------------------------------------- serving


def install(app: Any, store: Store, base: str, folder: Path | None) -> None:
    """Put the catalogue and search index on ``app.state``: built now for a store without a
    folder (``memory:``, a remote endpoint, a store handed in); for ``oxigraph:DIR``, read from
    the persisted index or, when it cannot be used, built in the background."""
    state = app.state
    if folder is None:
        state.catalogue, state.search_index = build(store, base)
        state.catalogue_source = "built"
        return
    started = time.perf_counter()
    try:
        catalogue, index = read_index(folder, base)
    except StaleIndex as e:
        log.warning(
            "catalogue: %s in %s; building it in the background (pages answer 503 until then)",
            e, folder,
        )
        state.catalogue = state.search_index = None
        state.catalogue_source = "building"
        state.catalogue_reason = str(e)
        _thread(_build_in_background, state, store, base, folder)
        return
    state.search_index, state.catalogue = index, catalogue
    state.catalogue_source = "cache"
    log.info(
        "catalogue: loaded from cache %s (%d quads) in %.3f s",
        folder / INDEX_FILE, catalogue.triples, time.perf_counter() - started,
    )
    _thread(_decode_all, catalogue, index)


# Seconds the background decoding waits: decoding a large table holds the interpreter for
# a while, and the first requests after a start come first (they decode what they need).
DECODE_AFTER = 3.0


def _thread(target: Callable[..., None], *args: Any) -> None:
    threading.Thread(target=target, args=args, name="romagraph-catalogue", daemon=True).start()


def _decode_all(catalogue: Catalogue, index: SearchIndex) -> None:
    """Decode every table in the background. The cyclic garbage collector is off meanwhile: the
    heap grows by tens of millions of objects at 10M triples, and each full collection on the
    way held the interpreter up to 0.6 s (12 of them, 2.8 s in all). Then the catalogue, which
    never changes, is frozen out of the collector's reach (``gc.freeze``): later full
    collections do not walk it again."""
    time.sleep(DECODE_AFTER)
    started = time.perf_counter()
    collecting = gc.isenabled()
    gc.disable()
    try:
        settle(catalogue, index, pause=lambda: time.sleep(0))
    finally:
        gc.freeze()
        if collecting:
            gc.enable()
    log.info("catalogue: all tables decoded in %.2f s", time.perf_counter() - started)


def settle(catalogue: Catalogue, index: SearchIndex,
           pause: Callable[[], None] = lambda: None) -> None:
    """Decode every table, shard by shard (``pause()`` between: each shard holds the interpreter
    for milliseconds, and requests go in between), and put each complete table on the
    catalogue or index as one plain dict or list: steady-state lookups then cost what they cost
    before sharding. Whoever still holds a sharded table keeps a complete, working one (its
    lookups read the merged dict too). A table with a corrupt shard stays sharded: pages that
    need that shard answer 503, the others go on."""
    sources: set[Source] = set()
    for name in SECTIONS:
        try:
            value = getattr(catalogue, name)
            if isinstance(value, QualifiedIndex) and isinstance(value.blobs, ShardedMapping):
                sources.add(value.blobs.source)
                catalogue.qualified = QualifiedIndex(value.blobs.complete(pause))
            elif isinstance(value, ShardedMapping):
                sources.add(value.source)
                whole = value.complete(pause)
                if name == "members":  # plain lists, as a catalogue built from the store has
                    whole = {c: _unpacked(m, pause) for c, m in whole.items()}
                setattr(catalogue, name, whole)
        except CorruptIndex:
            continue  # logged where found
        pause()
    try:
        columns = index.entries.columns
        if columns and isinstance(columns[0], LazyColumn):
            sources.add(columns[0].owner.source)
            index.entries = EntryColumns(columns[0].owner.complete(pause))
        index.resolve_all()
        catalogue.resolve_all()
    except CorruptIndex:
        pass  # logged where found
    for source in sources:
        source.release()
    _trim()


def _trim() -> None:
    """Give the heap's free pages back to the system: the shards, freed once merged, leave
    ~30 MB at 1M in glibc's free lists otherwise (RSS after the decoding as before sharding)."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _unpacked(members: PackedList, pause: Callable[[], None]) -> list[str]:
    pause()
    return members.unpacked()


def _build_in_background(state: Any, store: Store, base: str, folder: Path) -> None:
    try:
        print_ = fingerprint(folder)
        catalogue, index = build(store, base)
    except Exception as e:
        log.exception("catalogue: building failed")
        state.catalogue_source = "failed"
        state.catalogue_reason = f"{type(e).__name__}: {e}"
        return
    state.search_index, state.catalogue = index, catalogue  # pages wait for the catalogue
    try:
        if fingerprint(folder) == print_:  # not replaced by a new load meanwhile
            write_index(folder, catalogue, index, print_)
    except OSError as e:
        log.warning("catalogue: cannot persist the index in %s (%s); the next start rebuilds it",
                    folder, e)
    state.catalogue_source = "built"  # and persisted, when it could be
