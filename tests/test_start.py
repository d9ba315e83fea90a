"""Start-up on a loaded on-disk store: `romagraph load` persists the page catalogue and search
index next to the store; the server reads them instead of scanning the graph, pages answer exactly
as when built from the store, and a stale or corrupt file is detected and rebuilt, never trusted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from server.backends.disk import open_disk
from server.config import REPO_ROOT, Settings
from server.services import snapshot
from server.services.catalogue import SECTIONS

BASE = "https://w3id.org/romagraph/"
PAGES = [
    "/", "/doc/org/kulturas-ministrija", "/browse?class=org:Organization", "/places",
    "/plans", "/sources", "/themes", "/search?q=roma", "/api/search?q=kult",
    "/api/search?q=jelgavas", "/doc/org/no-such-organisation",
]
HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store built by `romagraph load` (the repository's graph)."""
    path = tmp_path_factory.mktemp("start") / "store"
    r = subprocess.run(
        [sys.executable, "-m", "server.cli", "load", "--store", f"oxigraph:{path}",
         "--no-progress", "--load-invalid"],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert "with the page catalogue and search index" in r.stdout
    return path


@pytest.fixture
def copy(loaded: Path, tmp_path: Path) -> Path:
    """A private copy of the loaded store, to spoil."""
    target = tmp_path / "store"
    shutil.copytree(loaded, target, ignore=shutil.ignore_patterns("LOCK"))
    return target


def disk_settings(settings: Settings, path: Path) -> Settings:
    return settings.model_copy(update={"store": f"oxigraph:{path}"})


def answers(client: TestClient) -> dict[str, tuple[int, str]]:
    out = {}
    for url in PAGES:
        r = client.get(url, headers=HTML)
        out[url] = (r.status_code, r.text)
    return out


def wait_ready(client: TestClient, timeout: float = 120) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status: dict[str, object] = client.get("/api/status").json()
        if status["pages"] == "ready" and status["catalogue"] != "building":
            return status
        time.sleep(0.1)
    raise AssertionError("the catalogue was not built in time")


def test_load_persists_the_index_with_the_store(loaded: Path) -> None:
    index = loaded / snapshot.INDEX_FILE
    assert index.is_file() and index.stat().st_size > 100_000
    assert not [p for p in loaded.iterdir() if p.name.startswith(".")]  # no temporary file left
    catalogue, search = snapshot.read_index(loaded, BASE)
    assert catalogue.triples == len(open_disk(loaded)) > 10_000
    assert set(catalogue.pending()) == set(SECTIONS)  # nothing decoded until used
    assert catalogue.label(BASE + "id/org/kulturas-ministrija", "lv") == "Kultūras ministrija"
    assert search.search("kultūras ministrija", "lv")[0].iri == BASE + "id/org/kulturas-ministrija"


def test_serve_reads_the_persisted_index_and_pages_answer_as_when_built(
    loaded: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="server.services.snapshot"):
        cached = create_app(disk_settings(settings, loaded))
    assert cached.state.catalogue_source == "cache"
    assert "catalogue: loaded from cache" in caplog.text
    built = create_app(settings, open_disk(loaded))  # the same store, catalogue built now
    assert built.state.catalogue_source == "built"
    a, b = TestClient(cached), TestClient(built)
    status = a.get("/api/status").json()
    # the pages read the files until the background copy into memory is made (5 s after start)
    assert status.pop("store_reads") in ("files", "memory")
    assert status == {"pages": "ready", "catalogue": "cache", "quads": len(open_disk(loaded)),
                      "process": os.getpid()}
    got, want = answers(a), answers(b)
    assert [got[u][0] for u in PAGES] == [200] * (len(PAGES) - 1) + [404]
    assert got == want
    # and once every table is decoded (what the background thread does), still the same
    cached.state.catalogue.resolve_all()
    cached.state.search_index.resolve_all()
    for name in SECTIONS:
        mine, theirs = getattr(cached.state.catalogue, name), getattr(built.state.catalogue, name)
        assert dict(mine) == dict(theirs), name
    assert list(cached.state.search_index.entries) == list(built.state.search_index.entries)
    assert answers(a) == want


def spoil_checksum(path: Path) -> None:
    index = path / snapshot.INDEX_FILE
    data = bytearray(index.read_bytes())
    data[-100] ^= 0xFF
    index.write_bytes(bytes(data))


def spoil_store(path: Path) -> None:
    """Write to the store behind the index's back (as another tool could)."""
    store = ox.Store(str(path))
    store.add(ox.Quad(ox.NamedNode(BASE + "id/org/new"),
                      ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel"),
                      ox.Literal("Jaunā biedrība", language="lv"),
                      ox.NamedNode(BASE + "graph/common")))
    store.flush()
    del store


def spoil_base(path: Path) -> None:
    catalogue, index = snapshot.read_index(path, BASE)
    catalogue.resolve_all()
    index.resolve_all()
    catalogue.base = "https://example.org/"
    snapshot.write_index(path, catalogue, index, snapshot.fingerprint(path))


def spoil_format(path: Path) -> None:
    """Mark the index as written by the previous format (as every store loaded before an upgrade
    that changed what is persisted)."""
    index = path / snapshot.INDEX_FILE
    data = index.read_bytes()
    start = len(snapshot.MAGIC) + 8
    end = start + int.from_bytes(data[len(snapshot.MAGIC):start], "big")
    header = json.loads(data[start:end])
    header["format"] = snapshot.FORMAT - 1
    new = json.dumps(header).encode()
    index.write_bytes(snapshot.MAGIC + len(new).to_bytes(8, "big") + new + data[end:])


def spoil_truncate(path: Path) -> None:
    index = path / snapshot.INDEX_FILE
    index.write_bytes(index.read_bytes()[:5000])


@pytest.mark.parametrize(("spoil", "reason"), [
    (spoil_checksum, "corrupt (checksum mismatch)"),
    (spoil_truncate, "corrupt"),
    (spoil_store, "stale: the store changed"),
    (spoil_base, "written for the base IRI https://example.org/"),
    (spoil_format, "written by another version"),
    (lambda p: (p / snapshot.INDEX_FILE).unlink(), "no persisted index"),
])
def test_an_unusable_index_is_rebuilt_not_trusted(
    spoil: object, reason: str, copy: Path, settings: Settings
) -> None:
    spoil(copy)  # type: ignore[operator]
    with pytest.raises(snapshot.StaleIndex, match=reason.split(" (")[0]):
        snapshot.read_index(copy, BASE)
    app = create_app(disk_settings(settings, copy))
    assert app.state.catalogue_source in ("building", "built")
    client = TestClient(app)
    status = wait_ready(client)
    assert status["catalogue"] == "built" and reason in str(status["reason"])
    assert client.get("/").status_code == 200
    # the rebuilt index was written back, and it describes the store as it is now
    catalogue, _ = snapshot.read_index(copy, BASE)
    assert catalogue.triples == len(open_disk(copy))
    if spoil is spoil_store:
        assert catalogue.label(BASE + "id/org/new", "lv") == "Jaunā biedrība"
        assert client.get("/api/search", params={"q": "jaunā biedr"}).json()[0]["iri"] == (
            BASE + "id/org/new"
        )
    assert create_app(disk_settings(settings, copy)).state.catalogue_source == "cache"


def test_pages_answer_503_while_the_catalogue_is_built(
    copy: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    (copy / snapshot.INDEX_FILE).unlink()
    release = threading.Event()
    real_build = snapshot.build

    def slow_build(*args: object) -> object:
        release.wait(60)
        return real_build(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(snapshot, "build", slow_build)
    app = create_app(disk_settings(settings, copy))
    with TestClient(app) as client:
        _answers_503_until_built(client, release)


def _answers_503_until_built(client: TestClient, release: threading.Event) -> None:
    for url in ("/", "/doc/org/kulturas-ministrija", "/api/search?q=kult", "/nowhere"):
        r = client.get(url, headers=HTML)
        assert r.status_code == (404 if url == "/nowhere" else 503), url
        if r.status_code == 503:
            assert r.headers["Retry-After"] == "10"
            assert "still being built" in r.text
    assert client.get("/api/status").json()["catalogue"] == "building"
    ask = client.post("/sparql", data={"query": "ASK { ?s ?p ?o }"},
                      headers={"Accept": "application/sparql-results+json"})
    assert ask.status_code == 200 and ask.json()["boolean"] is True
    release.set()
    wait_ready(client)
    assert client.get("/").status_code == 200


def test_index_is_written_atomically(
    copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = copy / snapshot.INDEX_FILE
    before = index.read_bytes()
    catalogue, search = snapshot.read_index(copy, BASE)

    def failing_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="No space left"):
        snapshot.write_index(copy, catalogue, search, snapshot.fingerprint(copy))
    assert index.read_bytes() == before  # the old file is untouched…
    assert not [p for p in copy.iterdir() if p.name.startswith(".")]  # …and no half-written one
    snapshot.read_index(copy, BASE)  # still valid


def test_a_failed_index_build_fails_the_load_and_keeps_the_old_store(
    copy: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.backends.disk import load_disk
    from server.backends.loading import dump_sources

    dump = copy.parent / "one.nq"
    dump.write_text(f"<{BASE}a> <{BASE}p> \"1\" <{BASE}graph/x> .\n")

    def broken(folder: Path, base: str) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(snapshot, "build_index", broken)
    before = len(open_disk(copy))
    with pytest.raises(OSError, match="disk full"):
        load_disk(copy, dump_sources([dump], settings), progress=False, pages_base=BASE)
    assert len(open_disk(copy)) == before
    snapshot.read_index(copy, BASE)  # the old store's index still matches it
    assert sorted(p.name for p in copy.parent.iterdir()) == ["one.nq", "store"]
