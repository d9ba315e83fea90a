#!/usr/bin/env python3
"""Loading, reopening, validating and starting the server, per scale, side by side.

For each size of synthetic graph (``generate.py``):

- load time and peak memory (RSS) into the in-memory store (``Store.load``, what ``memory:``
  does with the repository's Turtle) and into the on-disk store (``romagraph load``'s bulk load
  into ``oxigraph:DIR``), each in a fresh process;
- time to reopen the loaded on-disk store read-only and count it;
- SHACL validation (``server.validation.validate``, what ``romagraph validate`` runs: rdflib parse
  + pyshacl) time and peak memory; skipped above ``--validate-max`` triples, with the reason;
- ``romagraph serve`` start time: on the already loaded on-disk store, and on ``memory:`` loading
  the same graph from Turtle, until the home page answers and until ``/sparql`` answers.

    python benchmarks/load_and_validate.py --sizes 10k,100k,1M
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

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


def serve_start(store_url: str, env: dict[str, str], work: Path) -> tuple[float, float, float]:
    """Seconds until ``/`` answers, until ``/sparql`` answers, and the peak RSS (MB)."""
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
        wait_http(f"http://127.0.0.1:{port}/sparql", process, method="POST",
                  data={"query": "ASK {}"}, headers={"Accept": "application/sparql-results+json"},
                  timeout=900)
        sparql = time.perf_counter() - t
        return pages, sparql, peak_rss_mb(process.pid)
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
    ap.add_argument("--validate-max", default="1M",
                    help="largest size validated with pyshacl (above: skipped, and said so)")
    ap.add_argument("--serve-memory-max", default="1M",
                    help="largest size `romagraph serve` is started on memory: for")
    args = ap.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",")]
    loads, reopen, validation, serving = [], [], [], []
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
                          disk["peak_mb"], size_mb, disk["seconds"] / mem["seconds"]])
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
            d_pages, d_sparql, d_rss = serve_start(f"oxigraph:{work / 'store'}", {}, work)
            if n <= parse_size(args.serve_memory_max) * 1.2:
                root = memory_root(ttl, work)
                m_pages, m_sparql, m_rss = serve_start("memory:", {"ROMAGRAPH_ROOT": str(root)},
                                                       work)
            else:
                m_pages = m_sparql = m_rss = float("nan")
            serving.append([size, d_pages, d_sparql, d_rss, m_pages, m_sparql, m_rss,
                            m_pages / d_pages])
        finally:
            shutil.rmtree(work, ignore_errors=True)
    table("Load: in-memory (Store.load of N-Quads) vs on-disk (`romagraph load`, bulk load)",
          ["size", "quads", "memory s", "memory peak MB", "disk s", "disk peak MB",
           "disk store MB", "disk / memory time"], loads)
    table("Reopen the loaded on-disk store read-only (`oxigraph:DIR`)",
          ["size", "open ms", "open + count + query s", "peak MB", "memory load / open"], reopen)
    table("SHACL validation (`romagraph validate FILE`: rdflib parse + pyshacl, ontology included)",
          ["size", "triples", "seconds", "peak MB", "result", "triples/s"], validation)
    table("`romagraph serve` start: on the loaded on-disk store vs memory: loading the same Turtle",
          ["size", "disk: pages s", "disk: /sparql s", "disk peak MB", "memory: pages s",
           "memory: /sparql s", "memory peak MB", "memory / disk (pages)"], serving)
    return 0


if __name__ == "__main__":
    sys.exit(main())
