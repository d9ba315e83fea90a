"""The home page: what the graph is and how much of each kind it holds."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..deps import LangDep, StoreDep
from ..queries import server_query
from ..rendering import render

router = APIRouter()


@router.get("/", response_class=HTMLResponse, summary="Home page")
def home(request: Request, store: StoreDep, lang: LangDep) -> HTMLResponse:
    """What the graph holds: counts per class."""
    rows = store.select(server_query("class_counts"))
    counts = [
        {
            "class": r["class"].value,
            "label": (r.get("labelLv") if lang == "lv" else r.get("labelEn")) or r.get("labelEn"),
            "count": int(r["count"].value),
        }
        for r in rows
    ]
    return render(request, "home.html", {"counts": counts, "triples": len(store)}, lang)
