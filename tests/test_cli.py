"""The romagraph command line: validate, query and fmt on the bundled graph."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from server.config import REPO_ROOT

FIXTURES = Path(__file__).parent / "fixtures"


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        capture_output=True,
        text=True,
        input=stdin,
        cwd=REPO_ROOT,
        timeout=300,
    )


def test_help_lists_commands() -> None:
    out = run("--help").stdout
    for cmd in ("validate", "query", "serve", "fmt"):
        assert cmd in out


def test_validate_bundled_data_conforms() -> None:
    r = run("validate")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "conforms" in r.stdout


def test_validate_reports_violation_with_file_and_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text((FIXTURES / "invalid" / "organisation-no-type.ttl").read_text())
    r = run("validate", str(FIXTURES / "context.ttl"), str(bad), "--format", "json")
    assert r.returncode == 1
    report = json.loads(r.stdout)
    assert not report["conforms"]
    hit = [v for v in report["violations"] if v["focus"].endswith("/id/org/x")]
    assert any("org:classification" in v["message"] for v in hit)
    assert any(str(bad) in f for v in hit for f in v["files"])
    assert any(v["label"] == "X" for v in hit)


def test_validate_names_file_and_line_of_syntax_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.ttl"
    bad.write_text("@prefix x: <http://x/> .\n\nx:a x:b x:c ;;; .\nx:d x:e\n")
    r = run("validate", str(bad))
    assert r.returncode == 1
    assert "broken.ttl" in r.stderr and "line" in r.stderr


def test_query_from_stdin_as_csv() -> None:
    q = "SELECT ?c WHERE { ?c a owl:Class } ORDER BY ?c"
    r = run("query", "-", "--format", "csv", stdin=q)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "c"
    assert "https://w3id.org/romagraph/def/rg#PlanTask" in lines


def test_query_syntax_error_is_reported() -> None:
    r = run("query", "-", stdin="SELECT ?x WHERE { ?x ")
    assert r.returncode == 1
    assert "syntax error" in r.stderr


def test_data_files_are_normalised() -> None:
    r = run("fmt", "--check")
    assert r.returncode == 0, r.stdout
