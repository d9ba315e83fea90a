"""Rendered pages and search answers, kept while the server runs.

What a resource page, a paged relation, the home page or a search shows is a function of the
URL, the interface language and the page catalogue, which does not change while the server
serves it; so the body is rendered once and the next request for it costs a dictionary
lookup. Bounded by bytes (``ROMAGRAPH_PAGE_CACHE_MB``, least recently used first out); 0
turns it off. Headers (language cookie, Vary…) are still made per request."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from starlette.requests import Request


class ResponseCache:
    """Response bodies (or answers holding one) by key, least recently used dropped first past
    ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def size(self) -> int:
        return self._size

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item[0]

    def put(self, key: Hashable, body: Any, size: int | None = None) -> None:
        """Keep ``body``: bytes, or any answer whose ``size`` in bytes is given."""
        size = len(body) if size is None else size
        if size > self.max_bytes // 8:  # one huge page does not push out hundreds
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= old[1]
            self._items[key] = (body, size)
            self._size += size
            while self._size > self.max_bytes and self._items:
                _, (_, dropped) = self._items.popitem(last=False)
                self._size -= dropped


_create = threading.Lock()


def cache_of(request: Request) -> ResponseCache | None:
    """The app's cache (made on first use from its settings), or None when it is turned off."""
    state = request.app.state
    cache: ResponseCache | None = getattr(state, "response_cache", None)
    if cache is None:
        with _create:
            cache = getattr(state, "response_cache", None)
            if cache is None:
                settings = getattr(state, "settings", None)
                mb = getattr(settings, "page_cache_mb", 0) if settings is not None else 0
                cache = ResponseCache(max(0, int(mb)) << 20)
                state.response_cache = cache
    return cache if cache.max_bytes > 0 else None


def key_of(request: Request, lang: str, *extra: Any) -> tuple[Any, ...]:
    """What a page's body depends on: its path and query (the language links repeat them),
    the interface language, and whatever the caller adds (the catalogue it was built from)."""
    return (request.url.path, request.url.query, lang, *extra)
