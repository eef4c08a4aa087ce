"""One small bounded cache, for objects that memoise parsed values on a hot path.

A :class:`BoundedCache` is a ``dict`` (its lookups are the C ones: ``cache.get(key)`` costs
what a dict lookup costs) that empties itself when it is full. Clearing everything at once,
rather than evicting one entry at a time, is enough for the values cached in smscenter: they
repeat in runs (the receipts of one bulk send share their dates, cost and status), so a cleared
cache refills with the current run after a few misses, and an insert stays a single store.

Caches are owned by objects (a ``PduFramer``, a ``ReceiptReader``), never kept at module level:
what one connection decodes never changes what another one returns, and dropping the owner
frees the memory.
"""

from __future__ import annotations

from typing import TypeVar

__all__ = ("BoundedCache",)

_K = TypeVar("_K")
_V = TypeVar("_V")


class BoundedCache(dict[_K, _V]):
    """A dict of at most ``maxsize`` entries: :meth:`put` empties it first when it is full.

    Read it as a dict (``get``, ``in``, ``[]``); write it through :meth:`put` only, which is
    what keeps it bounded.

    :param maxsize: the most entries it holds (at least 1).
    """

    __slots__ = ("maxsize",)

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        super().__init__()
        self.maxsize = maxsize

    def put(self, key: _K, value: _V) -> _V:
        """Store ``value`` under ``key`` (emptying the cache first if it is full); return it."""
        if len(self) >= self.maxsize:
            self.clear()
        self[key] = value
        return value

    def __repr__(self) -> str:
        return f"BoundedCache(maxsize={self.maxsize}, size={len(self)})"
