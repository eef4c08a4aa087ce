"""Settlements the store could not record, kept in memory and tried again (``SendTracker``).

When the store fails to record how sends ended (its server restarting, a full disk: a
:class:`~smscenter.store.StoreError`), the sends' answers from the SMSC are not thrown away:
the tracker keeps them here, in memory, and tries them again with a growing pause (0.1 s
doubling up to 5 s) until the store takes them. Their callers hear of them only then (an
outcome is yielded once its settlement is in the store), so a fleet worker acknowledges their
queue entries only then too. Meanwhile their records stay ``sending`` in this live sender:
nobody sends them again, and once written they read as what the SMSC answered, not
``unknown``.

The memory is bounded (:attr:`HeldSettlements.CAPACITY` sends), and so is the wait: a store
that has failed for :attr:`HeldSettlements.GIVE_UP` seconds without a success is given up even
while the pool runs (a full disk does not fix itself; no caller should wait on it forever).
Sends beyond the bound, those still failing after that wait, and those still held when the
pool closes with the store failing :attr:`HeldSettlements.PATIENCE` seconds after it first
failed, end as before: their callers get the :class:`StoreError`, their records stay
``sending`` and read ``unknown`` once this sender stops (never resent blindly).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import anyio

__all__ = ("HeldSettlements",)


class HeldSettlements:
    """Ended jobs (with their continuations) whose settlement the store refused, waiting for a
    retry.

    :param capacity: the most jobs kept; the ones beyond end with the store's error.
    :param clock: the time source (seconds, monotonic; anyio's by default).
    """

    __slots__ = ("_clock", "_pause", "_retry_at", "capacity", "items", "since")

    #: The first pause after a failure, and the longest (seconds).
    FIRST_PAUSE = 0.1
    MAX_PAUSE = 5.0
    #: The most jobs kept by default.
    CAPACITY: ClassVar[int] = 50_000
    #: How long a closing pool keeps trying before it gives the held settlements up (seconds,
    #: from the first failure).
    PATIENCE: ClassVar[float] = 10.0
    #: How long an open pool keeps trying (seconds, from the first failure): longer than a
    #: Redis restart or a failover, shorter than a caller would wait on a broken disk.
    GIVE_UP: ClassVar[float] = 60.0

    def __init__(
        self, capacity: int | None = None, clock: Callable[[], float] | None = None
    ) -> None:
        self.capacity = self.CAPACITY if capacity is None else capacity
        self.items: list[Any] = []
        self._clock = clock or anyio.current_time
        self._pause = self.FIRST_PAUSE
        self._retry_at = 0.0
        #: When the store first failed without succeeding since (None: it is fine).
        self.since: float | None = None

    def __len__(self) -> int:
        return len(self.items)

    def keep(self, items: list[Any]) -> int:
        """The store refused ``items``: keep as many as fit (the first ones) and return how many
        (none once the store has failed for :attr:`GIVE_UP` seconds); the next try is due after
        the pause, which doubles."""
        now = self._clock()
        if self.since is None:
            self.since = now
        room = max(0, self.capacity - len(self.items))
        if now - self.since >= self.GIVE_UP:
            room = 0
        self.items.extend(items[:room])
        self._retry_at = now + self._pause
        self._pause = min(self._pause * 2, self.MAX_PAUSE)
        return min(room, len(items))

    def recorded(self) -> None:
        """The store took a batch: the next failure starts from the first pause again."""
        self._pause = self.FIRST_PAUSE
        self.since = None

    def due(self) -> bool:
        """True when held jobs wait and their retry is due."""
        return bool(self.items) and self._clock() >= self._retry_at

    def delay(self) -> float:
        """Seconds until the retry is due (``inf`` with nothing held)."""
        if not self.items:
            return math.inf
        return max(0.0, self._retry_at - self._clock())

    def release(self, new: list[Any]) -> list[Any]:
        """What to settle now, given the jobs that just ended: all of them with the held ones
        when the retry is due (or nothing is held); else only those that do not fit in the
        memory (the others wait with the held ones: the store failed a moment ago, so trying
        now would likely fail again; the overflow tries once more and, refused, ends with the
        store's error)."""
        if not self.items:
            return new
        if self._clock() >= self._retry_at:
            out, self.items = self.items, []
            out.extend(new)
            return out
        room = max(0, self.capacity - len(self.items))
        self.items.extend(new[:room])
        return new[room:]

    def take(self) -> list[Any]:
        """Everything held (the pool is closing)."""
        out, self.items = self.items, []
        return out
