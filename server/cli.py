"""The ``romagraph`` command-line tool."""

from __future__ import annotations

import csv
import io
import json
import logging
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .config import Settings, get_settings
from .store import DataError, open_store

app = typer.Typer(
    help="romagraph: the linked-data graph of Latvia's Roma-integration policy.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
log = logging.getLogger("romagraph")


def _settings() -> Settings:
    s = get_settings()
    logging.basicConfig(
        level=s.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return s


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code)


class ReportFormat(str, Enum):
    text = "text"
    json = "json"


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Data files or folders (default: all of data/).")
    ] = None,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", help="Report format.")
    ] = ReportFormat.text,
) -> None:
    """Validate ontology + data against the SHACL shapes; exit 1 on violations."""
    from .validation import validate as run_validation

    settings = _settings()
    try:
        report = run_validation(settings, paths or None)
    except DataError as e:
        raise _fail(f"syntax error: {e}", 1) from e
    if fmt is ReportFormat.json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        for v in report.violations:
            where = ", ".join(v.files) or "(no file)"
            label = f" ({v.label})" if v.label else ""
            typer.echo(f"{v.severity}: {v.focus}{label}\n  file: {where}")
            if v.path:
                typer.echo(f"  property: {v.path}")
            if v.value:
                typer.echo(f"  value: {v.value}")
            typer.echo(f"  message: {v.message}")
        errors = sum(v.severity == "Violation" for v in report.violations)
        verdict = "conforms" if report.conforms else f"{errors} violation(s)"
        typer.echo(f"{report.triples} triples checked: {verdict}")
    raise typer.Exit(0 if report.conforms else 1)


class TableFormat(str, Enum):
    table = "table"
    csv = "csv"
    tsv = "tsv"
    json = "json"


@app.command()
def query(
    file: Annotated[str, typer.Argument(help="A .rq file, a name from queries/, or - for stdin.")],
    fmt: Annotated[
        TableFormat, typer.Option("--format", help="Output format.")
    ] = TableFormat.table,
) -> None:
    """Run a SPARQL query against the bundled graph and print the result."""
    import pyoxigraph as ox

    from .namespaces import sparql_prologue
    from .terms import term_text

    settings = _settings()
    if file == "-":
        text = sys.stdin.read()
    else:
        p = Path(file)
        if not p.exists():
            p = settings.queries_dir / (file if file.endswith(".rq") else f"{file}.rq")
        if not p.exists():
            raise _fail(f"no such query file: {file}")
        text = p.read_text(encoding="utf-8")
    try:
        store = open_store(settings)
    except DataError as e:
        raise _fail(f"syntax error: {e}", 1) from e
    try:
        result = (
            store.raw_query(text, prefixes=None)
            if "PREFIX" in text.upper()
            else store.raw_query(sparql_prologue(settings.base_iri) + text)
        )
    except SyntaxError as e:
        raise _fail(f"query syntax error: {e}", 1) from e
    if isinstance(result, ox.QueryBoolean):
        typer.echo("true" if bool(result) else "false")
        return
    if isinstance(result, ox.QueryTriples):
        typer.echo(result.serialize(format=ox.RdfFormat.TURTLE).decode("utf-8"), nl=False)
        return
    names = [v.value for v in result.variables]
    rows = [[row[n] for n in names] for row in result]
    if fmt is TableFormat.json:
        typer.echo(
            json.dumps(
                [
                    {n: term_text(t) for n, t in zip(names, r, strict=True) if t is not None}
                    for r in rows
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
    elif fmt in (TableFormat.csv, TableFormat.tsv):
        buf = io.StringIO()
        w = csv.writer(buf, delimiter="," if fmt is TableFormat.csv else "\t", lineterminator="\n")
        w.writerow(names)
        w.writerows([[term_text(t) if t is not None else "" for t in r] for r in rows])
        typer.echo(buf.getvalue(), nl=False)
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(*names, show_lines=False)
        for r in rows:
            table.add_row(*[term_text(t) if t is not None else "" for t in r])
        Console().print(table)
        typer.echo(f"{len(rows)} row(s)")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (ROMAGRAPH_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (ROMAGRAPH_PORT).")] = None,
    store: Annotated[str | None, typer.Option(help="Store URL (ROMAGRAPH_STORE).")] = None,
    serve_invalid: Annotated[
        bool, typer.Option("--serve-invalid", help="Serve even if the data fails SHACL validation.")
    ] = False,
    workers: Annotated[int, typer.Option(help="HTTP worker processes.")] = 1,
) -> None:
    """Start the web server (pages, SPARQL endpoint, exports) on the bundled data."""
    import os

    import uvicorn

    settings = _settings()
    # Child processes read settings from the environment, so pass the options on that way.
    if host:
        os.environ["ROMAGRAPH_HOST"] = host
    if port:
        os.environ["ROMAGRAPH_PORT"] = str(port)
    if store:
        os.environ["ROMAGRAPH_STORE"] = store
    if serve_invalid:
        os.environ["ROMAGRAPH_VALIDATE_ON_START"] = "false"
    get_settings.cache_clear()
    settings = get_settings()
    if settings.validate_on_start:
        from .validation import validate as run_validation

        try:
            report = run_validation(settings)
        except DataError as e:
            raise _fail(f"refusing to serve: syntax error: {e}", 1) from e
        if not report.conforms:
            for v in report.violations[:20]:
                typer.echo(
                    f"{v.severity}: {v.focus} {v.path or ''}: {v.message} [{', '.join(v.files)}]",
                    err=True,
                )
            raise _fail(
                "refusing to serve: the data fails SHACL validation "
                "(run `romagraph validate`, or pass --serve-invalid)",
                1,
            )
        os.environ["ROMAGRAPH_VALIDATE_ON_START"] = "false"  # done once here, not per worker
    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level=settings.log_level,
    )


class ExportFormat(str, Enum):
    ttl = "ttl"
    nt = "nt"
    nq = "nq"
    trig = "trig"
    jsonld = "jsonld"
    rdfxml = "rdfxml"
    csv = "csv"
    all = "all"


@app.command()
def export(
    fmt: Annotated[
        ExportFormat, typer.Option("--format", help="Dump format, or all.")
    ] = ExportFormat.ttl,
    out: Annotated[Path, typer.Option("--out", help="Folder to write into.")] = Path("export"),
    gzip_: Annotated[bool, typer.Option("--gzip", help="Also write .gz variants.")] = False,
) -> None:
    """Export the whole dataset (ontology, code lists, data, description) as RDF dumps or CSV."""
    from tqdm import tqdm

    from .export import DUMPS, write_csv, write_dump

    settings = _settings()
    try:
        store = open_store(settings)
    except DataError as e:
        raise _fail(f"syntax error: {e}", 1) from e
    keys = list(DUMPS) + ["csv"] if fmt is ExportFormat.all else [fmt.value]
    for key in tqdm(keys, desc="export", unit="format", disable=len(keys) == 1):
        if key == "csv":
            for p in write_csv(store, settings, out / "csv"):
                typer.echo(str(p))
            continue
        for compress in [False, True] if gzip_ else [False]:
            typer.echo(str(write_dump(store, settings, key, out, compress)))


@app.command()
def fmt(
    check: Annotated[bool, typer.Option(help="Only report files that are not normalised.")] = False,
) -> None:
    """Rewrite data/*.ttl in the canonical, deterministic Turtle form."""
    from .formatting import format_file

    settings = _settings()
    changed = []
    for p in sorted(settings.data_dir.rglob("*.ttl")):
        try:
            if format_file(p, write=not check):
                changed.append(p)
        except DataError as e:
            raise _fail(f"syntax error: {e}", 1) from e
    for p in changed:
        typer.echo(("would reformat " if check else "reformatted ") + str(p))
    if check and changed:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
