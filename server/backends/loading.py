"""What ``romagraph load`` reads: the repository's files (each into its named graph, as the
in-memory loader does) or RDF dumps given on the command line, with a byte-counting progress bar."""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO

import pyoxigraph as ox
from tqdm import tqdm

from ..config import Settings
from ..sources import SourceFile, graph_iri, repository_files

QUAD_FORMATS = (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG)


@dataclass(frozen=True)
class LoadSource:
    """One input of a load: how to open it, its format and, for triple formats, its graph."""

    path: Path
    size: int  # bytes read from disk, for the progress bar
    fmt: ox.RdfFormat
    graph: str | None  # named graph of a triple format; None: the quads keep their own graphs
    base: str
    opener: Callable[[], IO[bytes]]


def repository_sources(settings: Settings, paths: list[Path] | None = None) -> list[LoadSource]:
    """The ontology and data files, each into the named graph ``sources.py`` assigns it."""
    return [
        LoadSource(f.path, f.path.stat().st_size, ox.RdfFormat.TURTLE, f.graph, settings.base_iri,
                   partial(_rewritten, f, settings.base_iri))
        for f in repository_files(settings, paths)
    ]


def _rewritten(f: SourceFile, base: str) -> IO[bytes]:
    return io.BytesIO(f.read_text(base).encode("utf-8"))


def _dump(path: Path, compressed: bool) -> IO[bytes]:
    raw = path.open("rb")
    return gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw  # type: ignore[return-value]


def dump_sources(paths: Iterable[Path], settings: Settings) -> list[LoadSource]:
    """RDF files as they are (N-Quads, TriG, Turtle, N-Triples, RDF/XML, JSON-LD; optionally
    ``.gz``). Quad formats keep their graphs; triple formats go to ``graph/external``."""
    out = []
    for p in paths:
        p = Path(p)
        if not p.is_file():
            raise FileNotFoundError(f"no such file: {p}")
        compressed = p.suffix == ".gz"
        ext = (p.with_suffix("") if compressed else p).suffix.lstrip(".")
        fmt = ox.RdfFormat.from_extension(ext)
        if fmt is None:
            raise ValueError(f"{p}: unknown RDF file extension .{ext} (use .nq, .trig, .ttl, .nt…)")
        graph = None if fmt in QUAD_FORMATS else graph_iri(settings.base_iri, "external")
        out.append(LoadSource(p, p.stat().st_size, fmt, graph, settings.base_iri,
                              partial(_dump, p, compressed)))
    return out


class _Counting(io.RawIOBase):
    """A reader that advances a progress bar by the bytes it reads."""

    def __init__(self, inner: IO[bytes], bar: tqdm) -> None:
        self.inner = inner
        self.bar = bar

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.inner.read(len(b))
        n = len(data)
        b[:n] = data
        self.bar.update(n)
        return n

    def close(self) -> None:
        self.inner.close()
        super().close()


@contextmanager
def progress_bar(sources: list[LoadSource], enabled: bool, desc: str) -> Iterator[tqdm]:
    total = sum(s.size for s in sources)
    with tqdm(total=total, unit="B", unit_scale=True, desc=desc, disable=not enabled) as bar:
        yield bar


def counted(source: LoadSource, bar: tqdm) -> IO[bytes]:
    """The source opened for reading; reading it advances ``bar`` (by on-disk bytes for ``.gz``
    files; a repository file rewritten for another base counts its rewritten bytes)."""
    if source.path.suffix == ".gz":
        raw = _Counting(source.path.open("rb"), bar)
        return gzip.GzipFile(fileobj=io.BufferedReader(raw), mode="rb")  # type: ignore[return-value]
    return io.BufferedReader(_Counting(source.opener(), bar), buffer_size=1 << 20)
