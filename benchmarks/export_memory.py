#!/usr/bin/env python3
"""Export time and peak memory per dump format at 1M triples, against the memory the store
itself takes, measured side by side in one run.

Each (store, format) pair runs in a fresh process: the store is opened (``memory:``: the graph
parsed into an in-memory store; ``oxigraph:``: the on-disk store built by ``romagraph load``,
opened read-only), its resident memory is read, the peak-RSS counter is reset
(``/proc/self/clear_refs``), the dump is written with ``server.export`` (the code behind
``romagraph export`` and ``/export/``), and the peak during the export is read.

    python benchmarks/export_memory.py --size 1M
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import count_lines, dataset, run_measured, table  # noqa: E402
from server.export import DUMPS  # noqa: E402

EXPORT = """
import time
from pathlib import Path
import pyoxigraph as ox
from server.backends.disk import open_disk
from server.config import Settings
from server.export import write_csv, write_dump
from server.store import OxigraphStore

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")

source, key, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
t = time.perf_counter()
if source.endswith(".nq"):
    inner = ox.Store()
    inner.load(path=source, format=ox.RdfFormat.N_QUADS)
    store = OxigraphStore(inner=inner)
else:
    store = open_disk(Path(source))
opened = time.perf_counter() - t
resident = status("VmRSS")
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak (VmHWM) to the current resident size
t = time.perf_counter()
if key == "csv":
    written = write_csv(store, Settings(), out / "csv")
else:
    written = [write_dump(store, Settings(), key, out)]
result = {"open": opened, "resident_mb": resident, "seconds": time.perf_counter() - t,
          "export_peak_mb": status("VmHWM"), "bytes": sum(p.stat().st_size for p in written)}
"""

DISK_LOAD = """
from pathlib import Path
from server.backends.disk import load_disk
from server.backends.loading import dump_sources
from server.config import Settings
n = load_disk(Path(sys.argv[2]), dump_sources([Path(sys.argv[1])], Settings()), progress=False)
result = {"quads": n}
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="1M")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--formats", default=",".join([*DUMPS, "csv"]))
    args = ap.parse_args(argv)
    nq = dataset(args.size, args.seed)
    quads = count_lines(nq)
    print(f"# Export per format: {quads:,} quads ({args.size} synthetic + the repository's graph)",
          flush=True)
    work = Path(tempfile.mkdtemp(prefix="romagraph-export-"))
    rows = []
    try:
        run_measured(DISK_LOAD, str(nq), str(work / "store"))
        for key in args.formats.split(","):
            for label, source in (("memory:", str(nq)), ("oxigraph:", str(work / "store"))):
                out = work / "out"
                r = run_measured(EXPORT, source, key, str(out), timeout=1800)
                shutil.rmtree(out, ignore_errors=True)
                extra = r["export_peak_mb"] - r["resident_mb"]
                rows.append([key, label, r["seconds"], r["bytes"] / 1e6, r["resident_mb"],
                             r["export_peak_mb"], extra, r["export_peak_mb"] / r["resident_mb"]])
                print(f"{key} from {label}: {r['seconds']:.1f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    table(f"Export at {quads:,} quads: time and memory per format (dump includes the VoID/DCAT "
          "description, computed from the store)",
          ["format", "store", "seconds", "file MB", "store resident MB", "peak during export MB",
           "export's own MB", "peak / store"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
