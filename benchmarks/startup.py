#!/usr/bin/env python3
"""Start-up time of ``romagraph serve`` and ``romagraph validate`` (#8), side by side.

Each measured operation runs in a fresh process, ``--repeat`` times, and the median is printed:

- a hello-world uvicorn app (``benchmarks/hello_app.py``): seconds until ``GET /hello`` answers
  200 — what the interpreter, FastAPI and uvicorn cost before any of our code (the peer);
- ``romagraph serve`` on the bundled data (``memory:``, SHACL validation on start): seconds until
  the home page and then a resource page answer 200;
- ``romagraph serve --store oxigraph:DIR`` on the already loaded on-disk store of the synthetic
  1M graph (with the page index ``romagraph load`` persisted; skipped when it is not in
  ``ROMAGRAPH_BENCH_DATA``): seconds until the home page and a resource page answer 200;
- ``romagraph validate`` (the bundled graph, whole): wall seconds of the command.

Next to wall time, the CPU seconds the server process had used when its first page answered
(``/proc``), and the CPU seconds of the ``validate`` process: the machine is shared, and CPU time
moves less with what else runs. ``-X importtime`` of ``server.app`` is what to read next.

    python benchmarks/startup.py [--repeat 5] [--store DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import DATA_DIR, ROOT, free_port, start, stop, table, wait_http  # noqa: E402

ROMAGRAPH = Path(sys.executable).parent / "romagraph"  # the console script, not a pyenv shim
BUNDLED_PAGE = "/resource?" + urlencode({"iri": "https://w3id.org/romagraph/id/org/finansu-ministrija"})
TICKS = os.sysconf("SC_CLK_TCK")


def romagraph(*args: str) -> list[str]:
    """The ``romagraph`` command as installed (``python -m server.cli`` when it is not)."""
    if ROMAGRAPH.exists():
        return [str(ROMAGRAPH), *args]
    return [sys.executable, "-m", "server.cli", *args]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def time_to_pages(command: list[str], pages: list[str], env: dict[str, str]
                  ) -> tuple[list[float], float]:
    """Start ``command`` (which takes ``--port``) and return the seconds until each of
    ``pages`` answers 200 (in order), and the server's CPU seconds at the first."""
    port = free_port()
    started = time.perf_counter()
    process = start([*command, "--port", str(port)], env=env)
    try:
        seconds: list[float] = []
        cpu = float("nan")
        for page in pages:
            wait_http(f"http://127.0.0.1:{port}{page}", process, timeout=300)
            seconds.append(time.perf_counter() - started)
            if len(seconds) == 1:
                cpu = cpu_seconds(process.pid)
        return seconds, cpu
    finally:
        stop(process)


def validate_run(env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of ``romagraph validate`` (the bundled graph)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    r = subprocess.run(romagraph("validate"), cwd=ROOT, env={**os.environ, **env},
                       capture_output=True, text=True, timeout=300)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise RuntimeError(f"romagraph validate failed:\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def organisation_page(store: Path) -> str:
    """The page of one organisation of the on-disk store (read before the server starts)."""
    import pyoxigraph as ox

    inner = ox.Store.read_only(str(store))
    row = next(iter(inner.query("SELECT ?s WHERE { ?s a <http://www.w3.org/ns/org#Organization> }"
                                " LIMIT 1", use_default_graph_as_union=True)))
    del inner
    return "/resource?" + urlencode({"iri": row["s"].value})


def index_usable(store: Path) -> bool:
    """Whether the server would read the page index persisted next to ``store`` (else it
    builds it in the background, minutes at 1M, and that is not a start-up time); says why."""
    from server.config import CANONICAL_BASE
    from server.services.snapshot import StaleIndex, read_index

    try:
        read_index(store, CANONICAL_BASE)
    except StaleIndex as e:
        print(f"(the page index of {store} is not usable: {e}; rebuild it with "
              f"`python -c 'from server.services.snapshot import build_index; "
              f"build_index(...)'` on a copy, or `romagraph load`)", flush=True)
        return False
    return True


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs of each (median printed); ≥ 3")
    ap.add_argument("--store", type=Path, default=DATA_DIR / "store-synth-1M-seed1-real",
                    help="a loaded on-disk store (romagraph load) to start on")
    args = ap.parse_args(argv)
    repeat = max(3, args.repeat)
    env = {"ROMAGRAPH_LOG_LEVEL": "warning"}
    rows: list[list[object]] = []

    hello: list[float] = []
    hello_cpu: list[float] = []
    for _ in range(repeat):
        (t,), cpu = time_to_pages(
            [sys.executable, "-m", "uvicorn", "benchmarks.hello_app:app", "--log-level",
             "warning"], ["/hello"], env)
        hello.append(t)
        hello_cpu.append(cpu)
    rows.append(["hello-world uvicorn app (GET /hello)", median(hello), float("nan"),
                 median(hello_cpu), 1.0])

    cells = [("romagraph serve (bundled, memory:, validates)", romagraph("serve"), BUNDLED_PAGE)]
    if (args.store / "CURRENT").is_file() and index_usable(args.store):
        cells.append((f"romagraph serve --store oxigraph:{args.store.name}",
                      romagraph("serve", "--store", f"oxigraph:{args.store}"),
                      organisation_page(args.store)))
    else:
        print(f"(no loaded store with a usable page index at {args.store}: the on-disk start is "
              "skipped)", flush=True)
    for label, command, page in cells:
        home: list[float] = []
        res: list[float] = []
        cpus: list[float] = []
        for _ in range(repeat):
            (h, r), cpu = time_to_pages(command, ["/", page], env)
            home.append(h)
            res.append(r)
            cpus.append(cpu)
        rows.append([label, median(home), median(res), median(cpus), median(home) / median(hello)])

    walls: list[float] = []
    cpus = []
    for _ in range(repeat):
        wall, cpu = validate_run(env)
        walls.append(wall)
        cpus.append(cpu)
    rows.append(["romagraph validate (bundled, whole)", median(walls), float("nan"),
                 median(cpus), median(walls) / median(hello)])
    table(f"Start-up, median of {repeat} fresh processes (wall s; CPU s of the server process "
          "when its first page answered, of the whole command for validate)",
          ["what", "first 200 / done s", "resource page s", "CPU s", "vs hello"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
