"""Slot leases on Redis: at most N holders of a kind (binds, HTTP requests) across the fleet.

Each slot ``k`` is one key, held with redis-py's :class:`redis.asyncio.lock.Lock` (``SET NX PX``
with a random token; extend and release check the token in Lua). A lease expires on the Redis
server unless renewed, so a holder that dies frees its slot after the lease time.

A holder that cannot renew (Redis away, or paused itself) must stop before the server could
hand the slot to someone else. It never reads the server's clock for that: it counts from
*before* it sent its last successful renewal (the server set the expiry after that), on its
own monotonic clock, and stops a safety margin before ``renewal sent + ttl``.
"""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, LockNotOwnedError, RedisError

if TYPE_CHECKING:
    from smscenter.fleet._fleet import Fleet

__all__ = ("Lease", "SlotLeases")

logger = logging.getLogger("smscenter.fleet")

# Between rounds of tries while every slot is taken (or Redis is away), with jitter.
_POLL_FIRST, _POLL_MAX = 0.01, 0.5
# How often a failed renewal is tried again, at most.
_RETRY = 0.2


class Lease:
    """Slot ``slot`` held by this process until :attr:`stop_at` (local monotonic time) unless
    renewed; :attr:`lost` is set when it must not be relied on any more.

    :ivar slot: 1..N (a bind lease: the bind's number in the fleet).
    :ivar name: the Redis key.
    :ivar stop_at: when the holder must have stopped using it, at the latest.
    :ivar lost: set once it cannot be renewed in time or another took it.
    :ivar why: why it was lost.
    """

    def __init__(
        self,
        lock: Lock,
        slot: int,
        ttl: float,
        margin: float,
        since: float,
        fleet: Fleet | None = None,
    ) -> None:
        self._lock = lock
        self._fleet = fleet  # counts the renewals and the release in its round_trips
        self.slot = slot
        self.name = lock.name if isinstance(lock.name, str) else bytes(lock.name).decode()
        self.ttl = ttl
        self.margin = margin
        self._renewed_at = since
        self.stop_at = since + ttl - margin
        self.lost = anyio.Event()
        self.why = ""
        self.renewals = 0

    def __repr__(self) -> str:
        state = "lost" if self.lost.is_set() else "held"
        return f"<Lease {self.name} {state}>"

    def _lose(self, why: str) -> None:
        if not self.lost.is_set():
            self.why = why
            logger.warning("fleet: lease %s lost: %s", self.name, why)
            self.lost.set()

    async def keep(self) -> None:
        """Renew every ``ttl / 4`` until cancelled; set :attr:`lost` (and return) when the
        lease is gone or :attr:`stop_at` passes without a renewal."""
        interval = self.ttl / 4
        next_try = self._renewed_at + interval
        while not self.lost.is_set():
            now = anyio.current_time()
            if now >= self.stop_at:
                self._lose("not renewed in time (Redis unreachable?)")
                return
            if now < next_try:
                await anyio.sleep(min(next_try, self.stop_at) - now)
                continue
            sent = anyio.current_time()
            if self._fleet is not None:
                self._fleet.round_trips += 1
            try:
                with anyio.fail_after(max(0.001, self.stop_at - sent)):
                    await self._lock.extend(self.ttl, replace_ttl=True)
            except LockNotOwnedError:
                self._lose("expired and taken, or removed, in Redis")
                return
            except (RedisError, OSError, TimeoutError) as exc:
                logger.warning("fleet: renewing %s failed: %s", self.name, exc)
                next_try = sent + min(interval, _RETRY)
                continue
            self.renewals += 1
            self._renewed_at = sent
            self.stop_at = sent + self.ttl - self.margin
            next_try = sent + interval

    async def release(self) -> None:
        """Give the slot back (quietly if it is gone already or Redis is away: it expires)."""
        with anyio.move_on_after(2, shield=True):
            if self._fleet is not None:
                self._fleet.round_trips += 1
            try:
                await self._lock.release()
            except (LockError, RedisError, OSError) as exc:
                logger.debug("fleet: releasing %s: %s", self.name, exc)


class SlotLeases:
    """Slots ``1..count`` of one kind, as :class:`Lease` objects.

    :param fleet: the fleet (Redis client and keys).
    :param kind: ``"bind"`` or ``"http"`` (part of the key).
    :param count: how many slots exist fleet-wide.
    :param ttl: the lease time on the server.
    :param margin: how long before the end of ``ttl`` a holder that could not renew stops.
    """

    def __init__(self, fleet: Fleet, kind: str, count: int, ttl: float, margin: float) -> None:
        if count < 1:
            raise ValueError(f"{kind} slots must be at least 1")
        if not 0 <= margin < ttl:
            raise ValueError("the lease margin must be less than the lease time")
        self._fleet = fleet
        self.kind = kind
        self.count = count
        self.ttl = ttl
        self.margin = margin
        self._token = f"{fleet.holder}:{secrets.token_hex(4)}"

    def key(self, slot: int) -> str:
        return self._fleet.keys.slot(self.kind, slot)

    async def try_acquire(self) -> Lease | None:
        """One round over the slots (from a random one): a lease, or None if all are taken.

        :raises redis.exceptions.RedisError: Redis cannot be reached.
        """
        client = self._fleet.client
        start = random.randrange(self.count)
        for i in range(self.count):
            slot = (start + i) % self.count + 1
            lock = Lock(
                client, self.key(slot), timeout=self.ttl, blocking=False, thread_local=False
            )
            since = anyio.current_time()
            self._fleet.round_trips += 1
            if await lock.acquire(token=f"{self._token}:{slot}"):
                return Lease(lock, slot, self.ttl, self.margin, since, self._fleet)
        return None

    async def acquire(self) -> Lease:
        """Wait until a slot is free and take it (Redis away: keep waiting)."""
        delay = _POLL_FIRST
        while True:
            try:
                lease = await self.try_acquire()
            except (RedisError, OSError) as exc:
                logger.warning("fleet: cannot lease a %s slot: %s", self.kind, exc)
                lease = None
            if lease is not None:
                return lease
            await anyio.sleep(delay * (0.5 + random.random()))
            delay = min(_POLL_MAX, delay * 2)

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[Lease]:
        """A lease for the body (no renewal: for short holds such as one HTTP request)."""
        lease = await self.acquire()
        try:
            yield lease
        finally:
            await lease.release()
