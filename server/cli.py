"""The ``romagraph`` command-line tool."""

from __future__ import annotations

import csv
import io
import json
import logging
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .config import Settings, get_settings
from .store import DataError, is_memory, open_store

if TYPE_CHECKING:
    from .validation import Report

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
    store: Annotated[
        str | None,
        typer.Option(help="Validate a loaded on-disk store (oxigraph:PATH) instead of files."),
    ] = None,
    chunked: Annotated[
        bool | None,
        typer.Option(
            "--chunked/--whole",
            help="Validate in chunks of focus nodes (flat memory; the same results) or the "
            "whole graph at once. Default: chunked for --store, RDF dumps (.nq, .trig, .nt, "
            ".gz…), --jobs above 1 and --chunk-size; whole for Turtle files.",
        ),
    ] = None,
    chunk_size: Annotated[
        int | None, typer.Option("--chunk-size", min=1, help="Focus nodes per chunk [2000].")
    ] = None,
    jobs: Annotated[int, typer.Option(min=1, help="Processes validating chunks.")] = 1,
    progress: Annotated[bool, typer.Option(help="Show a progress bar (chunked).")] = True,
) -> None:
    """Validate ontology + data against the SHACL shapes; exit 1 on violations.

    Large graphs (a dump given as FILE.nq, or a store loaded with `romagraph load`) are
    validated chunk by chunk: each focus node with the triples its shapes read."""
    from .validation import DUMP_SUFFIXES, NotChunkable, validate_chunked
    from .validation import validate as run_validation

    settings = _settings()
    if chunked is None:
        chunked = bool(store or chunk_size or jobs > 1
                       or any(p.suffix in DUMP_SUFFIXES for p in paths or []))
    try:
        if chunked or store:
            try:
                report = validate_chunked(settings, paths or None, store, whole=not chunked,
                                          chunk_size=chunk_size or 2000, jobs=jobs,
                                          progress=progress and sys.stderr.isatty())
            except NotChunkable as e:
                log.warning("validating the whole graph at once: %s", e)
                report = validate_chunked(settings, paths or None, store, whole=True)
        else:
            report = run_validation(settings, paths or None)
    except DataError as e:
        raise _fail(f"syntax error: {e}", 1) from e
    except (OSError, ValueError) as e:
        raise _fail(str(e)) from e
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
    if not isinstance(result, ox.QuerySolutions):  # triples (a remote store streams its own)
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


def _validate(settings: Settings) -> Report:
    from .validation import validate  # imported by the process that validates

    return validate(settings)


def _validate_aside(settings: Settings) -> Callable[[], Report]:
    """Start validating the data in a forked process (on the other core, while this one goes on
    starting the server) and return the call that waits for its report, raising what the
    validation raised. In this process when fork is unavailable."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if "fork" not in multiprocessing.get_all_start_methods():
        report = _validate(settings)
        return lambda: report
    # fork: the child has this process's imports and settings; no thread runs yet to copy
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
    future = pool.submit(_validate, settings)

    def wait() -> Report:
        try:
            return future.result()
        finally:
            pool.shutdown()

    return wait


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (ROMAGRAPH_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (ROMAGRAPH_PORT).")] = None,
    store: Annotated[str | None, typer.Option(help="Store URL (ROMAGRAPH_STORE).")] = None,
    serve_invalid: Annotated[
        bool, typer.Option("--serve-invalid", help="Serve even if the data fails SHACL validation.")
    ] = False,
    workers: Annotated[int, typer.Option(
        help="HTTP server processes. More than one share the port with SO_REUSEPORT, so the "
        "kernel spreads connections over them; each has its own store handle, page catalogue "
        "and ROMAGRAPH_QUERY_WORKERS query workers.")] = 1,
    timeout_keep_alive: Annotated[
        int, typer.Option(help="Seconds an idle keep-alive connection stays open.")
    ] = 5,
    limit_concurrency: Annotated[
        int, typer.Option(help="Most connections and tasks per worker process; more get 503.")
    ] = 1000,
    http: Annotated[
        str, typer.Option(help="HTTP parser: httptools (fast, C) or h11 (pure Python); auto: "
                          "httptools when installed. Both bound the request head (see "
                          "--h11-max-incomplete-event-size).")
    ] = "auto",
    h11_max_incomplete_event_size: Annotated[
        int, typer.Option(help="Most bytes of a request line and headers, whichever parser; "
                          "more: 431 (httptools) or 400 (h11).")
    ] = 65536,
    timeout_graceful_shutdown: Annotated[
        int, typer.Option(help="Seconds open requests get to finish on shutdown.")
    ] = 10,
) -> None:
    """Start the web server (pages, SPARQL endpoint, exports) on the bundled data.

    Slow or hostile clients: an idle connection is closed after --timeout-keep-alive seconds, a
    request body must arrive within ROMAGRAPH_BODY_TIMEOUT (408), a request head may not exceed
    --h11-max-incomplete-event-size, and --limit-concurrency caps open connections. A query
    worker is never held by a client: results are read from it before they are sent."""
    import importlib.util
    import os

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
    if settings.validate_on_start and not is_memory(settings.store):
        # A loaded store (oxigraph:PATH, http://…) was validated by `romagraph load`; the
        # repository's files are not what it serves, so they are not validated again here.
        os.environ["ROMAGRAPH_VALIDATE_ON_START"] = "false"
        get_settings.cache_clear()
        settings = get_settings()
    if settings.validate_on_start:
        validating = _validate_aside(settings)
        import server.app  # noqa: F401  # its 0.5 s of imports, while the data validates
        try:
            report = validating()
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
        get_settings.cache_clear()  # nor again by create_app in this process (it did, 1.5 s)
    elif is_memory(settings.store):
        # --serve-invalid skips SHACL, not parsing: a syntax error still stops us here, with
        # the file and line, rather than as a traceback from each worker
        try:
            open_store(settings)
        except DataError as e:
            raise _fail(f"refusing to serve: syntax error: {e}", 1) from e
    if http == "auto":
        http = "h11" if importlib.util.find_spec("httptools") is None else "httptools"
    if http == "httptools":  # with the bound on the request head h11 has and httptools lacks
        http = "server.http_protocol:BoundedHttpToolsProtocol"
    from .serving import run as run_server

    options = dict(
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        timeout_keep_alive=timeout_keep_alive,
        limit_concurrency=limit_concurrency or None,
        http=http,
        h11_max_incomplete_event_size=h11_max_incomplete_event_size,
        timeout_graceful_shutdown=timeout_graceful_shutdown,
    )
    try:
        run_server(options, workers)
    except OSError as e:  # the port is taken, or the address is not this machine's
        raise _fail(f"cannot listen on {settings.host}:{settings.port}: {e}", 1) from e


@app.command()
def load(
    store: Annotated[
        str | None,
        typer.Option(help="Store URL to load into: oxigraph:PATH or http(s)://… (ROMAGRAPH_STORE)."),
    ] = None,
    update_url: Annotated[
        str | None,
        typer.Option(
            "--update-url",
            help="Graph Store Protocol URL of a remote store (PUT ?graph=…); default: the "
            "store URL with /query replaced by /store, as the Oxigraph server has it.",
        ),
    ] = None,
    from_files: Annotated[
        list[Path] | None,
        typer.Option(
            "--from",
            help="Load these RDF dumps (.nq, .trig, .ttl, .nt, optionally .gz) instead of the "
            "repository; quads keep their graphs, triples go to graph/external. Not validated.",
        ),
    ] = None,
    load_invalid: Annotated[
        bool, typer.Option("--load-invalid", help="Load even if the data fails SHACL validation.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Load the graph into an on-disk store (bulk load into a new folder, then renamed into
    place) or a remote store (one Graph Store Protocol PUT per named graph)."""
    import time

    from .backends.loading import dump_sources, repository_sources

    settings = _settings()
    url = store or settings.store
    if is_memory(url):
        raise _fail(
            "memory: is loaded from the repository when the server starts; name a store to "
            "load into with --store oxigraph:PATH or --store http://host:port/query"
        )
    if not from_files and settings.validate_on_start and not load_invalid:
        from .validation import validate as run_validation

        try:
            report = run_validation(settings)
        except DataError as e:
            raise _fail(f"refusing to load: syntax error: {e}", 1) from e
        if not report.conforms:
            raise _fail(
                "refusing to load: the data fails SHACL validation "
                "(run `romagraph validate`, or pass --load-invalid)", 1
            )
    try:
        sources = (
            dump_sources(from_files, settings) if from_files else repository_sources(settings)
        )
    except (OSError, ValueError) as e:
        raise _fail(str(e)) from e
    started = time.perf_counter()
    try:
        if url.startswith("oxigraph:"):
            from .backends.disk import load_disk, store_path

            path = store_path(url)
            count = load_disk(path, sources, progress=progress, pages_base=settings.base_iri)
            typer.echo(
                f"loaded {count} quads into {path} (with the page catalogue and search index) "
                f"in {time.perf_counter() - started:.1f} s"
            )
        elif url.startswith(("http://", "https://")):
            from .backends.remote import default_update_url, load_remote

            target = update_url or default_update_url(url)
            if target is None:
                raise _fail("give the Graph Store Protocol URL of this endpoint with --update-url")
            sent = load_remote(target, sources, progress=progress)
            for graph, n in sent.items():
                typer.echo(f"{graph or '(default graph)'}: {n} triples")
            typer.echo(
                f"loaded {sum(sent.values())} triples into {len(sent)} graphs at {target} "
                f"in {time.perf_counter() - started:.1f} s"
            )
        else:
            raise _fail(f"unsupported store URL {url!r}; use oxigraph:PATH or http(s)://…")
    except DataError as e:
        raise _fail(f"syntax error: {e}", 1) from e
    except (OSError, ConnectionError) as e:
        raise _fail(f"load failed: {e}", 1) from e


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
