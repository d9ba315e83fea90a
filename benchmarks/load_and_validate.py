#!/usr/bin/env python3
"""Loading, reopening, validating and starting the server, per scale, side by side.

For each size of synthetic graph (``generate.py``):

- load time and peak memory (RSS) into the in-memory store (``Store.load``, what ``memory:``
  does with the repository's Turtle) and into the on-disk store (``romagraph load``'s bulk load
  into ``oxigraph:DIR``), each in a fresh process;
- time to reopen the loaded on-disk store read-only and count it;
- the quads alone into the on-disk store, each in a fresh process: one ``Store.bulk_load`` of the
  file (what ``romagraph load`` did) vs ``load_disk`` (``bulk_extend`` in batches of 50k quads);
- SHACL validation time and peak memory (the worker's peak counts pages shared with the main
  process): of the whole graph at once (``server.validation.validate``,
  what ``romagraph validate FILE.ttl`` runs: rdflib parse + pyshacl; skipped above
  ``--skip-whole-above`` triples, with the reason), and chunk by chunk (``validate_chunked``, what
  ``romagraph validate FILE.nq`` and ``romagraph validate --store oxigraph:DIR`` run) of the
  synthetic graph plus the real one (``synth-SIZE-seed1-real.nq``), from the file and from an
  on-disk store loaded with it, in ``--validate-jobs`` processes;
- ``romagraph serve`` start time: on the already loaded on-disk store (with the page catalogue and
  search index ``romagraph load`` persists next to it; with ``--serve-no-index`` also without it,
  when the server builds them in the background), and on ``memory:`` loading the same graph from
  Turtle, until the home page answers, until a resource page answers and until ``/sparql`` answers.

``--validate-max 0`` skips SHACL validation, ``--serve-memory-max 0`` the ``memory:`` start.

    python benchmarks/load_and_validate.py --sizes 10k,100k,1M
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    ROOT,
    count_lines,
    dataset,
    free_port,
    peak_rss_mb,
    run_measured,
    start,
    stop,
    table,
    wait_http,
)
from benchmarks.generate import parse_size  # noqa: E402
from server.services.snapshot import INDEX_FILE  # noqa: E402

MEMORY_LOAD = """
import time, pyoxigraph as ox
t = time.perf_counter()
store = ox.Store()
store.load(path=sys.argv[1], format=ox.RdfFormat.N_QUADS)
result = {"seconds": time.perf_counter() - t, "quads": len(store)}
"""

DISK_LOAD = """
import time
from pathlib import Path
from server.backends.disk import load_disk
from server.backends.loading import dump_sources
from server.config import Settings
from server.services.snapshot import build_index
t = time.perf_counter()
n = load_disk(Path(sys.argv[2]), dump_sources([Path(sys.argv[1])], Settings()), progress=False)
loaded = time.perf_counter()
build_index(Path(sys.argv[2]), Settings().base_iri)  # what `romagraph load` adds to the bulk load
result = {"seconds": loaded - t, "index": time.perf_counter() - loaded, "quads": n}
"""

BULK_LOAD = """
import time, pyoxigraph as ox
t = time.perf_counter()
store = ox.Store(sys.argv[2])
store.bulk_load(path=sys.argv[1], format=ox.RdfFormat.N_QUADS)
store.flush()
result = {"seconds": time.perf_counter() - t, "quads": len(store)}
"""

QUADS_LOAD = """
import time
from pathlib import Path
from server.backends.disk import load_disk
from server.backends.loading import dump_sources
from server.config import Settings
t = time.perf_counter()
n = load_disk(Path(sys.argv[2]), dump_sources([Path(sys.argv[1])], Settings()), progress=False)
result = {"seconds": time.perf_counter() - t, "quads": n}
"""

REOPEN = """
import time
from pathlib import Path
from server.backends.disk import open_disk
t = time.perf_counter()
store = open_disk(Path(sys.argv[1]))
opened = time.perf_counter() - t
n = len(store)
q = store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://schema.org/Project> }")
result = {"open": opened, "seconds": time.perf_counter() - t, "quads": n}
"""

CHUNKED = """
import time
from pathlib import Path
from server.config import Settings
from server.validation import validate_chunked
t = time.perf_counter()
source = sys.argv[1]
where = {"store_url": source} if source.startswith("oxigraph:") else {"paths": [Path(source)]}
report = validate_chunked(Settings(), jobs=int(sys.argv[2]), chunk_size=int(sys.argv[3]), **where)
result = {"seconds": time.perf_counter() - t, "conforms": report.conforms,
          "violations": len(report.violations), "triples": report.triples,
          "worker_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}
"""

VALIDATE = """
import time
from pathlib import Path
from server.config import Settings
from server.validation import validate
t = time.perf_counter()
report = validate(Settings(), [Path(sys.argv[1])])
result = {"seconds": time.perf_counter() - t, "conforms": report.conforms,
          "violations": len(report.violations), "triples": report.triples}
"""


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def sample_page(store: Path) -> str:
    """The page of one organisation of the graph."""
    import pyoxigraph as ox

    inner = ox.Store.read_only(str(store))
    row = next(iter(inner.query("SELECT ?s WHERE { ?s a <http://www.w3.org/ns/org#Organization> }"
                                " LIMIT 1", use_default_graph_as_union=True)))
    return "/resource?" + urlencode({"iri": row["s"].value})


def serve_start(store_url: str, env: dict[str, str], work: Path, page: str
                ) -> tuple[float, float, float, float]:
    """Seconds until ``/`` answers, until ``page`` answers, until ``/sparql`` answers, and the
    peak RSS (MB)."""
    port = free_port()
    t = time.perf_counter()
    process = start(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--store", store_url],
        env={"ROMAGRAPH_LOG_LEVEL": "warning", "ROMAGRAPH_VALIDATE_ON_START": "false",
             "ROMAGRAPH_EXPORT_DIR": str(work / "export"), **env},
        log=work / "serve.log",
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/", process, timeout=900)
        pages = time.perf_counter() - t
        wait_http(f"http://127.0.0.1:{port}{page}", process, timeout=900)
        resource = time.perf_counter() - t
        wait_http(f"http://127.0.0.1:{port}/sparql", process, method="POST",
                  data={"query": "ASK {}"}, headers={"Accept": "application/sparql-results+json"},
                  timeout=900)
        sparql = time.perf_counter() - t
        return pages, resource, sparql, peak_rss_mb(process.pid)
    finally:
        stop(process)


def memory_root(ttl: Path, work: Path) -> Path:
    """A ROMAGRAPH_ROOT whose data/ is the synthetic Turtle, for ``memory:``."""
    root = work / "root"
    (root / "data" / "synthetic").mkdir(parents=True, exist_ok=True)
    for folder in ("ontology", "shapes", "queries"):
        (root / folder).symlink_to(ROOT / folder)
    (root / "data" / "synthetic" / "synthetic.ttl").symlink_to(ttl)
    return root


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10k,100k,1M")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip-whole-above", "--validate-max", dest="validate_max", default="1M",
                    help="largest size validated whole with pyshacl (above: skipped, and said so)")
    ap.add_argument("--validate-jobs", type=int, default=2,
                    help="processes of chunked validation (romagraph validate --jobs)")
    ap.add_argument("--chunk-size", type=int, default=2000,
                    help="focus nodes per chunk (romagraph validate --chunk-size)")
    ap.add_argument("--serve-memory-max", default="1M",
                    help="largest size `romagraph serve` is started on memory: for")
    ap.add_argument("--serve-no-index", action="store_true",
                    help="also start on the on-disk store without its persisted page index")
    args = ap.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",")]
    loads, reopen, validation, serving = [], [], [], []
    quad_loads, chunked = [], []
    for size in sizes:
        nq = dataset(size, args.seed, with_real=False)
        ttl = dataset(size, args.seed, with_real=False, fmt="ttl")
        n = count_lines(nq)
        print(f"== {size}: {n:,} quads", flush=True)
        work = Path(tempfile.mkdtemp(prefix="romagraph-lv-"))
        try:
            mem = run_measured(MEMORY_LOAD, str(nq))
            disk = run_measured(DISK_LOAD, str(nq), str(work / "store"))
            size_mb = folder_mb(work / "store")
            loads.append([size, n, mem["seconds"], mem["peak_mb"], disk["seconds"],
                          disk["index"], disk["peak_mb"], size_mb,
                          disk["seconds"] / mem["seconds"]])
            bulk = run_measured(BULK_LOAD, str(nq), str(work / "bulk"))
            shutil.rmtree(work / "bulk", ignore_errors=True)
            quads = run_measured(QUADS_LOAD, str(nq), str(work / "quads"))
            shutil.rmtree(work / "quads", ignore_errors=True)
            quad_loads.append([size, n, bulk["seconds"], bulk["peak_mb"], n / bulk["seconds"],
                               quads["seconds"], quads["peak_mb"], n / quads["seconds"]])
            ro = run_measured(REOPEN, str(work / "store"))
            reopen.append([size, ro["open"] * 1000, ro["seconds"], ro["peak_mb"],
                           mem["seconds"] / ro["open"]])
            if n <= parse_size(args.validate_max) * 1.2:
                v = run_measured(VALIDATE, str(ttl), timeout=3600)
                validation.append([size, v["triples"], v["seconds"], v["peak_mb"],
                                   "conforms" if v["conforms"] else f"{v['violations']} violations",
                                   v["triples"] / v["seconds"]])
            else:
                validation.append([size, n, float("nan"), float("nan"),
                                   f"skipped (> --validate-max {args.validate_max})",
                                   float("nan")])
            # the synthetic graph plus the real one, its ontology included (what a load of the
            # repository holds): from the file, and from an on-disk store loaded with it
            real = dataset(size, args.seed)
            run_measured(QUADS_LOAD, str(real), str(work / "real-store"))
            for label, source in (("N-Quads file", str(real)),
                                  ("on-disk store", f"oxigraph:{work / 'real-store'}")):
                c = run_measured(CHUNKED, source, str(args.validate_jobs), str(args.chunk_size),
                                 timeout=7200)
                chunked.append([size, label, c["triples"], c["seconds"], c["peak_mb"],
                                c["worker_peak_mb"],
                                "conforms" if c["conforms"] else f"{c['violations']} violations",
                                c["triples"] / c["seconds"]])
            page = sample_page(work / "store")
            d_pages, d_page, d_sparql, d_rss = serve_start(f"oxigraph:{work / 'store'}", {}, work,
                                                           page)
            n_pages = n_page = float("nan")
            if args.serve_no_index:
                (work / "store" / INDEX_FILE).unlink()
                n_pages, n_page, _, _ = serve_start(f"oxigraph:{work / 'store'}", {}, work, page)
            if n <= parse_size(args.serve_memory_max) * 1.2:
                root = memory_root(ttl, work)
                m_pages, m_page, m_sparql, m_rss = serve_start(
                    "memory:", {"ROMAGRAPH_ROOT": str(root)}, work, page)
            else:
                m_pages = m_page = m_sparql = m_rss = float("nan")
            serving.append([size, d_pages, d_page, d_sparql, d_rss, n_pages, n_page, m_pages,
                            m_page, m_sparql, m_rss, m_pages / d_pages])
        finally:
            shutil.rmtree(work, ignore_errors=True)
    table("Load: in-memory (Store.load of N-Quads) vs on-disk (`romagraph load`, bulk load)",
          ["size", "quads", "memory s", "memory peak MB", "disk s", "+ page index s",
           "disk peak MB", "disk store MB", "disk / memory time"], loads)
    table("The quads into the on-disk store: one Store.bulk_load of the file (before) vs "
          "load_disk (bulk_extend in batches of 50k quads), without the page index",
          ["size", "quads", "bulk_load s", "bulk_load peak MB", "bulk_load quads/s",
           "batches s", "batches peak MB", "batches quads/s"], quad_loads)
    table("Reopen the loaded on-disk store read-only (`oxigraph:DIR`)",
          ["size", "open ms", "open + count + query s", "peak MB", "memory load / open"], reopen)
    table("SHACL validation (`romagraph validate FILE`: rdflib parse + pyshacl, ontology included)",
          ["size", "triples", "seconds", "peak MB", "result", "triples/s"], validation)
    table(f"Chunked SHACL validation (`romagraph validate FILE.nq | --store oxigraph:DIR "
          f"--jobs {args.validate_jobs} --chunk-size {args.chunk_size}`)",
          ["size", "from", "quads", "seconds", "peak MB (main)", "peak MB (worker)", "result",
           "quads/s"], chunked)
    table("`romagraph serve` start: on the loaded on-disk store (with its persisted page index; "
          "without it, built in the background) vs memory: loading the same Turtle",
          ["size", "disk: home s", "disk: resource s", "disk: /sparql s", "disk peak MB",
           "no index: home s", "no index: resource s", "memory: home s", "memory: resource s",
           "memory: /sparql s", "memory peak MB", "memory / disk (home)"], serving)
    return 0


if __name__ == "__main__":
    sys.exit(main())
