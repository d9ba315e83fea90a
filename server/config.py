"""All settings in one place; each one can be set by a ROMAGRAPH_* environment variable."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The base the Turtle in data/ and ontology/ is written against. A deployment under another
# base sets ROMAGRAPH_BASE_IRI and the loader rewrites IRIs as it reads the files.
CANONICAL_BASE = "https://w3id.org/romagraph/"

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Settings of the server and the command-line tool."""

    model_config = SettingsConfigDict(env_prefix="ROMAGRAPH_", extra="ignore")

    base_iri: str = Field(CANONICAL_BASE, description="Base of every IRI the graph mints.")
    root: Path = Field(REPO_ROOT, description="Folder holding ontology/, data/, shapes/, queries/.")
    store: str = Field(
        "memory:",
        description="Store URL: memory: (embedded, loaded from root), oxigraph:PATH (on-disk, "
        "built by `romagraph load`) or http(s)://… (a remote SPARQL 1.1 endpoint).",
    )
    host: str = Field("127.0.0.1", description="Address the server binds to.")
    port: int = Field(8000, description="Port the server listens on.")
    default_lang: str = Field("en", description="Interface language when none is asked for.")
    query_timeout: float = Field(5.0, description="Seconds a SPARQL query may run.")
    max_rows: int = Field(10000, description="Most result rows /sparql returns.")
    max_query_bytes: int = Field(100_000, description="Largest SPARQL query accepted.")
    query_workers: int = Field(2, description="Worker processes that evaluate /sparql queries.")
    query_in_memory: int = Field(
        5_000_000, description="With an on-disk store (oxigraph:PATH): each query worker copies "
        "the store into memory when it holds at most this many quads (3-8x faster queries, about "
        "400 MB per worker per million quads; the workers query the files until their copy is "
        "ready). 0: always query the files."
    )
    pages_in_memory: int = Field(
        2_000_000, description="With an on-disk store (oxigraph:PATH): the server process copies "
        "the store into memory in the background, for the pages' reads, when it holds at most "
        "this many quads (a resource's statements read ~20x faster; about 400 MB per million "
        "quads). 0: pages always read the files."
    )
    # Limits against overload and hostile input (issue #9; README "Limits and security").
    query_memory_mb: int = Field(
        2048, description="Memory (MiB) a query worker may take beyond the data it holds; a "
        "query that needs more is stopped (422). 0: no cap."
    )
    query_spin_us: int = Field(
        500, description="Microseconds a query worker waits awake for the next query before "
        "it sleeps: a worker woken for each query runs it on cold caches. 0: sleep at once."
    )
    query_nice: int = Field(
        10, description="How much lower the CPU priority of a query worker is than the server's "
        "once its query has run for a quarter of a second."
    )
    max_response_bytes: int = Field(
        50_000_000, description="Largest /sparql result body; cut at a row, announced."
    )
    max_body_bytes: int = Field(1_000_000, description="Largest request body accepted (413).")
    max_url_bytes: int = Field(16_384, description="Longest request URL accepted (414).")
    max_header_bytes: int = Field(32_768, description="Most bytes of request headers (431).")
    body_timeout: float = Field(
        20.0, description="Seconds a client may take to send its request body (408)."
    )
    validate_on_start: bool = Field(
        True, description="Validate data with SHACL before serving; refuse to start when invalid."
    )
    export_dir: Path = Field(
        REPO_ROOT / "export", description="Folder the /export/ dumps are cached in."
    )
    log_level: str = Field("info", description="Logging level.")
    page_cache_mb: int = Field(
        128, description="Memory (MiB) for rendered resource pages and search answers, kept while "
        "the server runs (the graph it serves does not change under it). 0: no cache."
    )
    sparql_cache_mb: int = Field(
        32, description="Memory (MiB) for /sparql answers, by query text, dataset and format, "
        "kept while the server runs on an embedded store (a remote store may change under "
        "it: never cached). 0: every query is evaluated."
    )

    @property
    def ontology_dir(self) -> Path:
        return self.root / "ontology"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def shapes_dir(self) -> Path:
        return self.root / "shapes"

    @property
    def queries_dir(self) -> Path:
        return self.root / "queries"


@lru_cache
def get_settings() -> Settings:
    return Settings()
