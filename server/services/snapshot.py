"""The page catalogue and search index persisted in an on-disk store's folder, so that
``romagraph serve --store oxigraph:DIR`` starts in about a second at any size.

``romagraph load`` builds both from the new store and writes them to ``DIR/romagraph-pages.idx``
before the store is renamed into place, so a store and its index appear together. The file holds
a JSON header (format, Python version, base IRI, the store's fingerprint, a CRC-32 of the payload
and where each table is) and one ``marshal`` blob per table. On start the server checks the header
(a few ms) and decodes each table when a page first needs it, while a background thread decodes
the rest.

The fingerprint is a hash of the names and sizes of the RocksDB files (and of ``CURRENT``): any
write that reaches the folder changes it, and reading (read-only opens) never does. A file that is
missing, written for another base IRI or version, stale (the store changed) or corrupt (bad
checksum) is never trusted: the server builds the catalogue in a background thread instead, pages
answer 503 with Retry-After until it is ready, and the rebuilt index is written back (atomically:
a temporary file in the same folder, then a rename) when the folder is writable.
"""

from __future__ import annotations

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
from .catalogue import SECTIONS, Catalogue
from .search import SearchIndex

log = logging.getLogger(__name__)

INDEX_FILE = "romagraph-pages.idx"
# Bump whenever Catalogue or SearchIndex change what they persist (2: search postings grouped
# and ordered for best-first reading, label orders by text).
FORMAT = 2
MAGIC = b"romagraph pages index\n"
SEARCH_SECTIONS = (
    "search_entries", "search_groups", "search_postings", "search_pairs", "search_sorted",
)
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


def write_index(folder: Path, catalogue: Catalogue, index: SearchIndex, print_: str) -> Path:
    """Write the catalogue and index for the store in ``folder`` (whose fingerprint is
    ``print_``) atomically: into a temporary file in the same folder, then renamed over.

    Tables are marshalled and written one at a time (at 10M triples the whole payload is
    2 GB), after room for the header: its final text (offsets, checksum) is known only at the
    end, and is then written into that room padded with spaces, which JSON ignores."""
    started = time.perf_counter()
    sections = catalogue.to_sections() | index.to_sections()
    names = list(sections)

    def header(where: dict[str, list[int]], size: int, crc: int) -> bytes:
        return json.dumps({
            "format": FORMAT, "python": PYTHON, "base": catalogue.base, "fingerprint": print_,
            "quads": catalogue.triples, "predicates": list(catalogue.predicates),
            "resources": len(catalogue.types), "size": size, "crc32": crc, "sections": where,
        }).encode("utf-8")

    widest = 1 << 62  # no offset, size or checksum is wider than this
    room = len(header({n: [widest, widest] for n in names}, widest, widest))
    target = folder / INDEX_FILE
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{INDEX_FILE}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(MAGIC + room.to_bytes(8, "big") + b" " * room)
            where: dict[str, list[int]] = {}
            crc, offset = 0, 0
            for name in names:
                blob = marshal.dumps(sections.pop(name))  # the plain copy goes as it is written
                where[name] = [offset, len(blob)]
                crc = zlib.crc32(blob, crc)
                offset += len(blob)
                out.write(blob)
                del blob
            final = header(where, offset, crc)
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


def read_index(folder: Path, base: str) -> tuple[Catalogue, SearchIndex]:
    """The persisted catalogue and index of the store in ``folder``, each table decoded on first
    use; raises StaleIndex, saying why, when the file must not be used."""
    path = folder / INDEX_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise StaleIndex(f"no persisted index ({path.name})") from None
    except OSError as e:
        raise StaleIndex(f"cannot read {path.name}: {e}") from e
    start = len(MAGIC) + 8
    if not data.startswith(MAGIC) or len(data) < start:
        raise StaleIndex(f"{path.name} is corrupt (not a romagraph index)")
    end = start + int.from_bytes(data[len(MAGIC):start], "big")
    try:
        header = json.loads(data[start:end])
        sections: dict[str, list[int]] = header["sections"]
    except (ValueError, KeyError, TypeError) as e:
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
    payload = memoryview(data)[end:]
    if len(payload) != header.get("size") or zlib.crc32(payload) != header.get("crc32"):
        raise StaleIndex(f"{path.name} is corrupt (checksum mismatch)")
    missing = {*SECTIONS, *SEARCH_SECTIONS} - set(sections)
    if missing:
        raise StaleIndex(f"{path.name} is corrupt (no {', '.join(sorted(missing))})")

    def section(name: str) -> Any:
        offset, length = sections[name]
        collecting = gc.isenabled()
        gc.disable()  # nothing to collect in fresh data; spares a full collection per blob
        try:
            return marshal.loads(payload[offset:offset + length])  # noqa: S302 (checksummed)
        finally:
            if collecting:
                gc.enable()

    catalogue = Catalogue.from_sections(
        base, int(header["quads"]), tuple(header["predicates"]), section
    )
    return catalogue, SearchIndex.from_sections(catalogue, section)


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
    time.sleep(DECODE_AFTER)
    started = time.perf_counter()
    catalogue.resolve_all()
    index.resolve_all()
    log.info("catalogue: all tables decoded in %.2f s", time.perf_counter() - started)


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
