"""The HTTP floor of the benchmarks: a FastAPI endpoint that answers every query with a
constant empty SPARQL result, so its throughput is what uvicorn + FastAPI cost on their own."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response

app = FastAPI()
EMPTY = b'{"head":{"vars":[]},"results":{"bindings":[]}}'


@app.post("/sparql")
async def sparql() -> Response:
    return Response(EMPTY, media_type="application/sparql-results+json")


@app.get("/hello")
async def hello() -> HTMLResponse:
    """The floor for pages: a constant small HTML answer to a GET (pages_scale.py)."""
    return HTMLResponse("<!doctype html><title>hello</title><p>hello, world</p>")
