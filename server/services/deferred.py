"""Attributes decoded on first use: what lets a server read a persisted page catalogue and search
index (``snapshot.py``) in milliseconds and decode each part only when a page first needs it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any


class Deferred:
    """A mix-in: ``defer({name: loader})`` makes ``self.name`` call ``loader()`` on first use and
    keep the value (once, however many threads ask at the same time). Each attribute has its
    own lock: a request that needs the labels does not wait while another thread decodes the
    qualified nodes."""

    def defer(self, loaders: dict[str, Callable[[], Any]]) -> None:
        self.__dict__["_deferred_locks"] = {name: threading.RLock() for name in loaders}
        self.__dict__["_deferred"] = dict(loaders)

    def pending(self) -> tuple[str, ...]:
        """The attributes not decoded yet."""
        return tuple(n for n in self.__dict__.get("_deferred", ()) if n not in self.__dict__)

    def resolve_all(self) -> None:
        """Decode every deferred attribute now, then drop the loaders (and what they hold)."""
        loaders = self.__dict__.get("_deferred")
        if not loaders:
            return
        for name in tuple(loaders):
            getattr(self, name)
        self.__dict__["_deferred"] = {}

    if not TYPE_CHECKING:  # mypy keeps checking attribute names as if this were not here

        def __getattr__(self, name: str) -> Any:
            loaders = self.__dict__.get("_deferred")
            if not loaders or name not in loaders:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            with self.__dict__["_deferred_locks"][name]:
                if name not in self.__dict__:
                    self.__dict__[name] = loaders[name]()
            return self.__dict__[name]
