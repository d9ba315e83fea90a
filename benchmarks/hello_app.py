"""The HTTP floor of the benchmarks: a FastAPI endpoint that answers every query with a
constant empty SPARQL result, so its throughput is what uvicorn + FastAPI cost on their own."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response

app = FastAPI()
EMPTY = b'{"head":{"vars":[]},"results":{"bindings":[]}}'


@app.post("/sparql")
async def sparql() -> Response:
    return Response(EMPTY, media_type="application/sparql-results+json")
