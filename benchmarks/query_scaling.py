#!/usr/bin/env python3
"""How each named query grows with the graph: in-process pyoxigraph time per size, and the ratio.

For every ``.rq`` file of ``queries/``, ``server/sparql/`` and ``server/sparql/csv/`` (or the
folders or files given with ``--queries``), on the synthetic graph plus the real one at each of
``--sizes``: the median of ``--runs`` evaluations (all rows read) in the process that loaded the
in-memory store (after ``--warmup`` unmeasured ones), and the growth ratio between consecutive
sizes. A linear query grows about as much as the graph (≈10× from 100k to 1M); a ratio far above
that is quadratic. ``--clock cpu`` reports the evaluating process's CPU time instead of wall time
(steadier on a shared machine).

Each query runs in a forked child of the loaded process, killed at ``--cap`` seconds, so one
runaway query is reported as ``>cap`` and never hangs the run. The server's queries that take
a bound variable get the binding in ``BINDINGS`` (as the server's substitutions do); the server
reads some of them only up to a window, this script reads every row.

    python benchmarks/query_scaling.py --sizes 100k,1M
    python benchmarks/query_scaling.py --sizes 1M --queries queries --runs 5 --cap 10
    python benchmarks/query_scaling.py --sizes 100k,1M --queries queries --clock cpu   # researcher queries
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import dataset, table  # noqa: E402

DEFAULT_FOLDERS = ("queries", "server/sparql", "server/sparql/csv")
BASE = "https://w3id.org/romagraph/"

# The variables the server binds by substitution, with a plausible value from the real graph.
_KM = ox.NamedNode(BASE + "id/org/kulturas-ministrija")
_JELGAVA = ox.NamedNode(BASE + "id/place/jelgava")
BINDINGS: dict[str, dict[str, ox.NamedNode | ox.Literal]] = {
    "dataset_observations": {"ds": ox.NamedNode(BASE + "data/almp-participation")},
    "dataset_structure": {"ds": ox.NamedNode(BASE + "data/almp-participation")},
    "describe": {"r": _KM},
    "place_grants": {"place": _JELGAVA},
    "place_observations": {"place": _JELGAVA},
    "place_participations": {"place": _JELGAVA},
    "place_parts": {"place": ox.NamedNode(BASE + "id/place/latvija")},
    "place_venues": {"place": _JELGAVA},
    "resource_exists": {"r": _KM},
    "resource_incoming": {"r": _KM},
    "resource_incoming_by_property": {
        "r": _KM, "p": ox.NamedNode("http://data.europa.eu/m8g/hasParticipant")},
    "resource_outgoing": {"r": _KM},
    "theme_concepts": {"scheme": ox.NamedNode(BASE + "def/theme")},
    "void_entities": {"base": ox.Literal(BASE + "id/")},
    "workbench_labels": {"iri": _KM},
}


def query_files(specs: list[str]) -> list[Path]:
    files: list[Path] = []
    for spec in specs:
        p = Path(spec) if Path(spec).is_absolute() else ROOT / spec
        files += sorted(p.glob("*.rq")) if p.is_dir() else [p]
    return files


def label(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


Subs = dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple]


def _child(store: ox.Store, text: str, subs: Subs | None, runs: int, warmup: int,
           cpu: bool, cap: float, out: Connection) -> None:
    """Evaluate ``warmup`` + ``runs`` times (fewer once ``cap`` / 2 is spent), sending (seconds,
    rows) for each measured run; a fresh fork has cold caches, hence the warm-up."""
    clock = time.process_time if cpu else time.perf_counter
    spent = 0.0
    for i in range(warmup + runs):
        started, wall = clock(), time.perf_counter()
        result = store.query(text, use_default_graph_as_union=True, substitutions=subs)
        rows = 1 if isinstance(result, ox.QueryBoolean) else sum(1 for _ in result)
        seconds = clock() - started
        if i >= warmup:
            out.send((seconds, rows))
        spent += time.perf_counter() - wall
        if spent > cap / 2:
            break
    out.close()


def measure(store: ox.Store, path: Path, runs: int, cap: float, warmup: int = 0,
            cpu: bool = False) -> tuple[float | None, int]:
    """Median seconds (None when the first run passes ``cap``) and the number of rows."""
    bindings = BINDINGS.get(path.stem)
    subs: Subs | None = {ox.Variable(k): v for k, v in bindings.items()} if bindings else None
    ctx = mp.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(store, path.read_text(encoding="utf-8"), subs, runs,
                                            warmup, cpu, cap, sender), daemon=True)
    proc.start()
    sender.close()
    deadline = time.perf_counter() + cap
    times: list[float] = []
    rows = 0
    try:
        while len(times) < runs:
            left = deadline - time.perf_counter()
            if left <= 0 or not receiver.poll(left):
                break
            seconds, rows = receiver.recv()
            times.append(seconds)
    except EOFError:  # the child stopped early (cap / 2 spent) or failed
        pass
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        receiver.close()
    if not times and proc.exitcode not in (0, -9):
        raise RuntimeError(f"{label(path)} failed in the child (exit {proc.exitcode})")
    return (statistics.median(times) if times else None), rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100k,1M", help="comma-separated sizes (default 100k,1M)")
    ap.add_argument("--queries", default=",".join(DEFAULT_FOLDERS),
                    help="comma-separated folders or .rq files (default: %(default)s)")
    ap.add_argument("--only", default="", help="keep only files whose name contains this")
    ap.add_argument("--runs", type=int, default=3, help="evaluations per query (median)")
    ap.add_argument("--warmup", type=int, default=1, help="unmeasured evaluations first")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="wall time, or CPU time of the evaluating process")
    ap.add_argument("--cap", type=float, default=30.0, help="seconds before a query is given up")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args()

    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    files = [f for f in query_files(args.queries.split(",")) if args.only in f.name]
    seconds: dict[str, dict[str, float | None]] = {label(f): {} for f in files}
    rows: dict[str, dict[str, int]] = {label(f): {} for f in files}
    for size in sizes:
        path = dataset(size)
        store = ox.Store()
        started = time.perf_counter()
        store.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
        print(f"{size}: {len(store):,} quads loaded in {time.perf_counter() - started:.1f} s",
              flush=True)
        for f in files:
            t, n = measure(store, f, args.runs, args.cap, args.warmup, args.clock == "cpu")
            seconds[label(f)][size], rows[label(f)][size] = t, n
            shown = f"{t * 1000:,.1f} ms" if t is not None else f">{args.cap:g} s"
            print(f"  {label(f)}: {shown} ({n} rows)", flush=True)
        del store

    def cell(t: float | None) -> object:
        return t * 1000 if t is not None else f">{args.cap * 1000:,.0f}"

    header = ["query", *(f"{s} ms" for s in sizes),
              *(f"{a}→{b}" for a, b in zip(sizes, sizes[1:], strict=False))]
    body = []
    for name, by_size in seconds.items():
        ratios: list[object] = []
        for a, b in zip(sizes, sizes[1:], strict=False):
            ta, tb = by_size.get(a), by_size.get(b)
            ratios.append(f"{tb / ta:.1f}×" if ta and tb else "–")
        body.append([name, *(cell(by_size.get(s)) for s in sizes), *ratios])
    table(f"In-process query {args.clock} time (median of {args.runs} after {args.warmup} warm-up, "
          f"cap {args.cap:g} s)", header, body)
    if args.json:
        args.json.write_text(json.dumps({"seconds": seconds, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
