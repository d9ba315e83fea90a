"""The embedded on-disk Oxigraph store (``oxigraph:PATH``): built once by ``romagraph load`` with
RocksDB's bulk loader, then reopened read-only by every server process in milliseconds.

A load never touches the live store until it is complete: it is written into a temporary directory
next to the target and renamed into place, so a failed or interrupted load leaves the previous
store as it was. Servers that have the old store open keep reading it until they restart.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

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
    return OxigraphStore(inner=inner)


def load_disk(target: Path, sources: list[LoadSource], progress: bool = True) -> int:
    """Bulk-load ``sources`` into a new store at ``target`` (atomically replacing an existing
    store there) and return the number of quads it holds."""
    target = target.absolute()
    if target.exists() and not (is_store_dir(target) or not any(target.iterdir())):
        raise FileExistsError(
            f"{target} exists and is not an Oxigraph store; refusing to replace it"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.loading-"))
    try:
        count = _bulk_load(tmp, sources, progress, f"load {target.name}")
        _swap_into_place(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return count


def _bulk_load(folder: Path, sources: list[LoadSource], progress: bool, desc: str) -> int:
    store = ox.Store(str(folder))
    with progress_bar(sources, progress, desc) as bar:
        for src in sources:
            with counted(src, bar) as reader:
                try:
                    store.bulk_load(
                        input=reader,
                        format=src.fmt,
                        base_iri=src.base,
                        to_graph=ox.NamedNode(src.graph) if src.graph else None,
                    )
                except SyntaxError as e:
                    raise DataError(src.path, str(e)) from e
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
