"""Load from ``wrk`` (C, epoll; Debian package ``wrk``): on a 2-core machine a Python client takes
a large share of a core from the server under test, wrk a small one, so throughput and tail
latency are the server's. Requests are replayed raw, in turn, from a generated Lua script."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def available() -> bool:
    return shutil.which("wrk") is not None


@dataclass
class WrkCell:
    """What one wrk run measured."""

    requests: int
    errors: int  # non-2xx/3xx answers plus socket errors (timeouts included)
    rps: float
    p50_ms: float
    p99_ms: float

    @property
    def tail(self) -> float:
        """p99 / p50."""
        return self.p99_ms / self.p50_ms if self.p50_ms else float("nan")


def _lua_string(raw: bytes) -> str:
    """A quoted Lua string of exactly these bytes (long brackets would turn CR LF into LF)."""
    out = []
    for b in raw:
        if b in (0x22, 0x5C) or b < 0x20 or b > 0x7E:
            out.append(f"\\{b:03d}")
        else:
            out.append(chr(b))
    return '"' + "".join(out) + '"'


def script(requests: Sequence[bytes]) -> str:
    """A wrk Lua script that sends ``requests`` in turn on each connection."""
    items = ",\n".join(_lua_string(r) for r in requests)
    return (
        "local reqs = {\n" + items + "\n}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #reqs + 1\n"
        "  return reqs[i]\n"
        "end\n"
    )


def _ms(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value.strip())
    if not m:
        return float("nan")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse(output: str) -> WrkCell:
    """Requests, errors, requests/s and p50/p99 from wrk's ``--latency`` report."""
    total = re.search(r"(\d+) requests in", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    errors = 0
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                      output):
        errors += sum(int(g) for g in m.groups())
    return WrkCell(
        requests=int(total.group(1)) if total else 0,
        errors=errors,
        rps=float(rps.group(1)) if rps else float("nan"),
        p50_ms=_ms(p50.group(1)) if p50 else float("nan"),
        p99_ms=_ms(p99.group(1)) if p99 else float("nan"),
    )


def run(host: str, port: int, requests: Sequence[bytes], connections: int, seconds: float,
        timeout: float = 60.0) -> WrkCell:
    """``connections`` keep-alive connections for ``seconds`` (one wrk thread: its CPU use stays
    small), each sending ``requests`` in turn."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", encoding="latin-1",
                                     delete=False) as f:
        f.write(script(requests))
        path = Path(f.name)
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
             f"--timeout={max(1, round(timeout))}s", "--latency", "-s", str(path),
             f"http://{host}:{port}/"],
            capture_output=True, text=True, timeout=seconds + timeout + 30, check=False,
        )
    finally:
        path.unlink(missing_ok=True)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed: {out.stderr.strip() or out.stdout.strip()}")
    return parse(out.stdout)
