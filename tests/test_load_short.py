"""A short, bounded run of benchmarks/load_test.py (issue #9): `romagraph serve --workers 2` on
loopback, 2 000 requests of the realistic mix (resource pages, home, browse, search API, the
documented SPARQL queries, export downloads) over 32 connections. Every answer must be a 2xx,
with no 5xx and no connection error, and the server's memory must not run away."""

from __future__ import annotations

import sys
import time

from server.config import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT))

from benchmarks.load_test import PAGE_KINDS, build_mix, romagraph_serve, run_load  # noqa: E402


def test_short_load_has_no_server_or_connection_errors():
    started = time.monotonic()
    with romagraph_serve(workers=2, env={"ROMAGRAPH_VALIDATE_ON_START": "false"}) as (url, pid):
        mix = build_mix(url)
        report = run_load(url, pid, mix, total=2000, concurrency=32, request_timeout=30)
    summary = report.as_dict()
    print(summary)
    assert report.requests == 2000
    assert sum(report.connection_errors.values()) == 0, summary
    assert report.server_errors == 0, summary
    assert report.statuses == {"2xx": 2000}, summary
    assert set(report.latencies) == set(mix)  # every kind was exercised
    assert report.quantile(PAGE_KINDS, 0.5) < 500
    assert report.rss_after_mb < report.rss_before_mb * 1.5 + 100, summary
    assert time.monotonic() - started < 90
