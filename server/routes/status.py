"""``/api/status``: whether the pages are ready and where their catalogue came from."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, Request

router = APIRouter(tags=["dataset"])


@router.get("/api/status", summary="Readiness of the pages and the origin of their catalogue")
async def status(request: Request) -> dict[str, Any]:
    """``catalogue`` is ``cache`` (read from the index `romagraph load` persisted next to an
    on-disk store), ``built`` (read from the store at start), ``building`` (pages answer 503
    until it is ready; the SPARQL endpoint already answers) or ``failed``."""
    state = request.app.state
    catalogue = state.catalogue
    out: dict[str, Any] = {
        "pages": "ready" if catalogue is not None else "not ready",
        "catalogue": getattr(state, "catalogue_source", "built"),
        "process": os.getpid(),  # which of `serve --workers N`'s processes answered
    }
    if catalogue is not None:
        out["quads"] = catalogue.triples
    reads = getattr(state.store, "reads", None)
    if reads is not None:  # an embedded store: pages read "memory" or (on disk) "files"
        out["store_reads"] = reads
    if getattr(state, "catalogue_reason", None):
        out["reason"] = state.catalogue_reason
    pool = getattr(state, "sparql_pool", None)
    if pool is not None:
        out["sparql"] = pool.status()
    return out
