"""Tables of the persisted page index (``snapshot.py``) read in shards, each decoded when a page
first needs one of its keys (#8: a server starts in well under 2 s at any size).

A dict table is written as S shards (S a power of two) by ``zlib.crc32`` of the key's UTF-8:
process-independent, unlike ``hash()`` of a str, which is salted per process. A table of columns
(the search entries) is written in chunks of rows. Each shard is one ``marshal`` blob with its own
CRC-32, checked when it is decoded: a start checks the header and the directory only, not the
whole file (2 GB at 10M triples). A shard that fails its check raises ``CorruptIndex``, an HTTP
503 that says to load the store again; the server keeps answering what it can.

Once every shard of a table is decoded (the server's background thread does it, shard by shard),
``ShardedMapping.complete`` merges them into one plain dict, which the catalogue then holds
instead: steady-state lookups cost one dict lookup, as before sharding.
"""

from __future__ import annotations

import gc
import logging
import marshal
import mmap
import threading
import zlib
from collections.abc import (
    Callable,
    ItemsView,
    Iterator,
    KeysView,
    Mapping,
    Sequence,
    ValuesView,
)
from itertools import chain
from pathlib import Path
from typing import Any, TypeVar, overload

from starlette.exceptions import HTTPException

log = logging.getLogger(__name__)

V = TypeVar("V")
Shard = tuple[int, int, int]  # offset in the payload, length, CRC-32
# Weight of a shard (a key, plus one per item of a list, tuple, dict or set value, or per 32 bytes
# of a bytes value): ~2–8k keys of the catalogue's tables, a few ms to decode. A power of two:
# search entries are chunked by half of it (4096 rows).
SHARD_WEIGHT = 8192
_crc32 = zlib.crc32


class CorruptIndex(HTTPException):
    """A shard of the persisted index failed its checksum: the request that needed it answers
    503 (the pages' error handler shows the message); the others go on."""

    def __init__(self, path: Path, what: str) -> None:
        super().__init__(
            503, f"The page index {path} is corrupt ({what}); run `romagraph load` again to "
                 "rebuild it, or delete the file to have the server rebuild it on start.")


class Source:
    """The index file, mapped read-only (the kernel pages in what is decoded, nothing more)."""

    def __init__(self, path: Path, start: int) -> None:
        with path.open("rb") as f:
            self.map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        self.path = path
        self.start = start  # where the payload starts: offsets are relative to it

    def release(self) -> None:
        """Drop the mapped pages from this process's memory (once every table is decoded: they
        count in its RSS; a later read, of a table left in shards, maps them in again)."""
        if hasattr(mmap, "MADV_DONTNEED"):
            self.map.madvise(mmap.MADV_DONTNEED)

    def blob(self, shard: Shard | Sequence[int], what: str) -> Any:
        """The decoded blob, after checking its CRC-32."""
        offset, length, crc = shard
        offset += self.start
        with memoryview(self.map) as whole, whole[offset:offset + length] as view:
            if len(view) != length or _crc32(view) != crc:
                log.error("page index %s: %s fails its checksum; run `romagraph load` again",
                          self.path, what)
                raise CorruptIndex(self.path, f"{what} fails its checksum")
            collecting = gc.isenabled()
            gc.disable()  # nothing to collect in fresh data; spares collections while decoding
            try:
                return marshal.loads(view)  # noqa: S302 (our own file, checksummed)
            finally:
                if collecting:
                    gc.enable()


def shard_of(key: str, count: int) -> int:
    return _crc32(key.encode()) & (count - 1)


def shard_count(table: Mapping[str, Any], weight: int = SHARD_WEIGHT) -> int:
    """Shards for ``table``: its weight over ``weight``, a power of two, at most about two per
    key (a table of few keys with large values, such as members, spreads them out)."""
    total = len(table)
    for v in table.values():
        if isinstance(v, list | tuple | dict | frozenset):
            total += len(v)
        elif isinstance(v, bytes):  # a marshalled qualified node: ~32 bytes an item
            total += len(v) >> 5
    wanted = max(1, -(-total // weight))
    most = max(1, 2 * len(table))
    count = 1
    while count < wanted and count < most:
        count *= 2
    return count


def split(table: Mapping[str, V], count: int) -> list[dict[str, V]]:
    """``table`` as ``count`` dicts by ``shard_of`` (each keeps the table's order)."""
    shards: list[dict[str, V]] = [{} for _ in range(count)]
    mask = count - 1
    for key, value in table.items():
        shards[_crc32(key.encode()) & mask][key] = value
    return shards


class ShardedMapping(Mapping[str, V]):
    """A read-only table whose shards are decoded on first use of one of their keys (under one
    lock per shard); ``convert`` is applied to each shard as it is decoded."""

    def __init__(self, source: Source, name: str, shards: Sequence[Shard], count: int,
                 convert: Callable[[dict[str, Any]], dict[str, V]] | None = None) -> None:
        n = len(shards)
        assert n and n & (n - 1) == 0, "shards come in powers of two"
        self.source, self.name, self._where = source, name, shards
        self._count, self._convert, self._mask = count, convert, n - 1
        self._locks = [threading.Lock() for _ in range(n)]
        # What lookups read: each shard once decoded, then the merged dict in every slot.
        self._slots: list[dict[str, V] | None] = [None] * n
        self._parts: list[dict[str, V] | None] | None = [None] * n  # None once merged
        self._whole: dict[str, V] | None = None

    # -- the hot path: a crc32 and two lookups
    def __getitem__(self, key: str) -> V:
        try:
            i = _crc32(key.encode()) & self._mask
        except AttributeError:
            raise KeyError(key) from None
        shard = self._slots[i]
        if shard is None:
            shard = self._load(i)
        return shard[key]

    def get(self, key: str, default: Any = None) -> Any:
        try:
            i = _crc32(key.encode()) & self._mask
        except AttributeError:
            return default
        shard = self._slots[i]
        if shard is None:
            shard = self._load(i)
        return shard.get(key, default)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        i = _crc32(key.encode()) & self._mask
        shard = self._slots[i]
        if shard is None:
            shard = self._load(i)
        return key in shard

    def __len__(self) -> int:
        return self._count  # stored in the directory: nothing decoded

    # -- whole-table reads: every shard, in order
    def __iter__(self) -> Iterator[str]:
        return chain.from_iterable(self._shards())

    def keys(self) -> KeysView[str]:
        return _Keys(self)

    def items(self) -> ItemsView[str, V]:
        return _Items(self)

    def values(self) -> ValuesView[V]:
        return _Values(self)

    def _shards(self) -> Iterator[dict[str, V]]:
        parts = self._parts  # read before _whole: ``complete`` sets _whole first
        if parts is None:
            assert self._whole is not None
            yield self._whole
            return
        for i in range(len(parts)):
            # once merged, every part of this list is decoded: it is read as it was
            yield parts[i] or self._load(i)

    def _load(self, i: int) -> dict[str, V]:
        with self._locks[i]:
            parts = self._parts
            if parts is None:
                assert self._whole is not None
                return self._whole
            shard = parts[i]
            if shard is None:
                raw = self.source.blob(self._where[i], f"shard {i} of {self.name}")
                shard = self._convert(raw) if self._convert else raw
                parts[i] = self._slots[i] = shard
            return shard

    def span(self, key: str) -> tuple[int, int]:
        """Where the shard that holds ``key`` lies in the file: offset and length (for tools and
        tests)."""
        offset, length, _ = self._where[shard_of(key, len(self._slots))]
        return self.source.start + offset, length

    @property
    def decoded(self) -> int:
        """How many shards are decoded (all of them once merged)."""
        parts = self._parts
        return len(self._slots) if parts is None else sum(p is not None for p in parts)

    def complete(self, pause: Callable[[], None] = lambda: None) -> dict[str, V]:
        """Decode every shard (``pause()`` after each: the interpreter goes to requests between
        shards), merge them into one dict, and serve lookups from it; returns it."""
        for i in range(len(self._slots)):
            self._load(i)
            pause()
        parts = self._parts
        if parts is None:
            assert self._whole is not None
            return self._whole
        whole: dict[str, V] = {}
        for part in parts:
            assert part is not None
            whole.update(part)
            pause()
        self._whole = whole
        self._slots = [whole] * len(self._slots)
        self._parts = None  # the shards go (but to an iteration under way, which holds them)
        return whole


class _Keys(KeysView[str]):
    _mapping: ShardedMapping[Any]

    def __iter__(self) -> Iterator[str]:
        return chain.from_iterable(self._mapping._shards())


class _Items(ItemsView[str, V]):
    _mapping: ShardedMapping[V]

    def __iter__(self) -> Iterator[tuple[str, V]]:
        return chain.from_iterable(s.items() for s in self._mapping._shards())


class _Values(ValuesView[V]):
    _mapping: ShardedMapping[V]

    def __iter__(self) -> Iterator[V]:
        return chain.from_iterable(s.values() for s in self._mapping._shards())


# ---------------------------------------------------------------------- packed lists

_LIST = (ord("["), ord("[") | 0x80)  # marshal's list type code, without and with its ref flag


class PackedList(Sequence[str]):
    """A list persisted as one ``marshal`` blob (the members of a class: millions of IRIs at
    10M triples), decoded on first use of an item; its length is read from the blob's header,
    so counting (the home page counts every main class) decodes nothing."""

    __slots__ = ("_blob", "_items", "_n")

    def __init__(self, blob: bytes) -> None:
        self._blob = blob
        self._items: list[str] | None = None
        if blob[:1] and blob[0] in _LIST:  # a list: its type code, then its length
            self._n = int.from_bytes(blob[1:5], "little")
        else:
            self._n = len(self._list())

    @classmethod
    def pack(cls, items: Sequence[str]) -> bytes:
        return marshal.dumps(list(items))

    def unpacked(self) -> list[str]:
        """The plain list (decoded now if it was not)."""
        return self._list()

    def _list(self) -> list[str]:
        items = self._items
        if items is None:
            items = self._items = marshal.loads(self._blob)  # noqa: S302 (checksummed shard)
            self._blob = b""
        return items

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        return self._list()[i]

    def __iter__(self) -> Iterator[str]:
        return iter(self._list())

    def __contains__(self, item: object) -> bool:
        return item in self._list()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PackedList):
            other = other._list()
        return isinstance(other, list | tuple) and self._list() == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PackedList({self._list()!r})"


# ---------------------------------------------------------------------- columns in row chunks


def chunk_rows(weight: int = SHARD_WEIGHT) -> int:
    return max(1, weight // 2)


def row_chunks(columns: Sequence[Sequence[Any]], rows: int) -> Iterator[list[list[Any]]]:
    """The columns cut into chunks of ``rows`` rows (each chunk: one slice per column)."""
    n = len(columns[0]) if columns else 0
    for start in range(0, n, rows):
        yield [list(c[start:start + rows]) for c in columns]


class ChunkedColumns:
    """Equal-length columns persisted in chunks of rows; ``columns`` are lazy sequences, each
    row chunk decoded (all its columns) on first use of one of its rows."""

    def __init__(self, source: Source, name: str, chunks: Sequence[Shard], count: int,
                 rows: int, width: int) -> None:
        assert rows & (rows - 1) == 0, "rows per chunk come in powers of two"
        self.source, self.name, self._where, self.count = source, name, chunks, count
        self.shift = rows.bit_length() - 1
        self.mask = rows - 1
        self.chunks: list[list[list[Any]] | None] = [None] * len(chunks)
        self._locks = [threading.Lock() for _ in chunks]
        self.plain: list[list[Any]] | None = None  # the whole columns, once complete
        self.columns = [LazyColumn(self, f) for f in range(width)]

    def load(self, c: int) -> list[list[Any]]:
        with self._locks[c]:
            chunk = self.chunks[c]
            if chunk is None:
                chunk = self.chunks[c] = self.source.blob(
                    self._where[c], f"chunk {c} of {self.name}")
            return chunk

    def value(self, field: int, i: int) -> Any:
        """Row ``i`` of column ``field``, decoding its chunk (or from the joined columns, when
        ``complete`` finished meanwhile)."""
        plain = self.plain
        if plain is not None:
            return plain[field][i]
        return self.load(i >> self.shift)[field][i & self.mask]

    def complete(self, pause: Callable[[], None] = lambda: None) -> list[list[Any]]:
        """Decode every chunk (pausing between), join them into plain lists and serve the lazy
        columns from those; returns them."""
        if self.plain is not None:
            return self.plain
        for c in range(len(self.chunks)):
            self.load(c)
            pause()
        chunks = [c for c in self.chunks if c is not None]
        plain = [list(chain.from_iterable(c[f] for c in chunks)) for f in range(len(self.columns))]
        self.plain = plain
        self.chunks = [None] * len(self.chunks)  # lookups now read ``plain``
        return plain


class LazyColumn(Sequence[Any]):
    def __init__(self, owner: ChunkedColumns, field: int) -> None:
        self.owner, self.field = owner, field

    def __len__(self) -> int:
        return self.owner.count

    @overload
    def __getitem__(self, i: int) -> Any: ...
    @overload
    def __getitem__(self, i: slice) -> list[Any]: ...
    def __getitem__(self, i: int | slice) -> Any:
        owner = self.owner
        plain = owner.plain
        if plain is not None:
            return plain[self.field][i]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(owner.count))]
        if i < 0:
            i += owner.count
        if not 0 <= i < owner.count:
            raise IndexError(i)
        chunk = owner.chunks[i >> owner.shift]
        if chunk is None:
            return owner.value(self.field, i)
        return chunk[self.field][i & owner.mask]
