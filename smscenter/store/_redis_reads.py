"""The reading half of :class:`~smscenter.store.RedisStore` (its base class): the plumbing every
call goes through (the client, Redis errors as :class:`StoreError`, a script run), the reads
(``get``, ``find``, ``counts``, ``records``, the change feed), and who is still sending: a
``SENDING`` record whose owner stopped reads as ``UNKNOWN`` and is written so (``_reap``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from smscenter.store._model import (
    NotTrackedError,
    StoreError,
    TrackedMessage,
    TrackedState,
    store_key,
)
from smscenter.store._redis_codec import decode_record

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

__all__ = ("CHUNK", "PRESENCE", "RedisReads")

#: Client name prefix of a store's connections (``CLIENT LIST`` shows who is connected).
PRESENCE = "smsc-owner:"
#: Messages per script call: a batch bigger than this is split, so that one call does not hold
#: the (single-threaded) server for long.
CHUNK = 500
_T = TypeVar("_T")


class RedisReads:
    """The reads of a Redis store (the base of :class:`~smscenter.store.RedisStore`)."""

    if TYPE_CHECKING:  # set by RedisStore; redis-py's types exist only with the extra
        login: str
        prefix: str
        owner: str
        _redis: Redis | None
        _scripts: dict[str, AsyncScript]
        _closed: bool
        _presence_ok: bool
        _poll: float
        _changed: asyncio.Event | None
        _wait_replicas: int
        _wait_ms: int

    # --- plumbing ------------------------------------------------------------------------------

    def _key(self, suffix: str) -> str:
        return self.prefix + suffix

    def _client(self) -> Redis:
        if self._redis is None:
            if self._closed:
                raise StoreError("the store is closed")
            raise StoreError("the store is not open (use it as an async context manager)")
        return self._redis

    async def _call(self, awaitable: Awaitable[_T]) -> _T:
        from redis.exceptions import RedisError

        try:
            return await awaitable
        except RedisError as exc:
            raise StoreError(f"Redis: {type(exc).__name__}: {exc}") from exc

    async def _script(self, name: str, args: list[Any]) -> Any:
        client = self._client()
        result = await self._call(
            self._scripts[name](keys=[self._key("ver")], args=[self.prefix, *args])
        )
        if self._changed is not None:
            self._changed.set()
        if self._wait_replicas:
            acked = await self._call(client.wait(self._wait_replicas, self._wait_ms))
            if acked < self._wait_replicas:
                raise StoreError(
                    f"Redis: {acked} of {self._wait_replicas} replicas confirmed the write"
                )
        return result

    # --- read by applications ------------------------------------------------------------------

    async def _fetch(
        self, client_ids: Sequence[str], *, history: bool = False
    ) -> list[TrackedMessage | None]:
        """Records (one round trip, and one more for the owners of ``SENDING`` ones)."""
        if not client_ids:
            return []
        client = self._client()
        async with client.pipeline(transaction=False) as pipe:
            for cid in client_ids:
                pipe.hgetall(self._key("msg:" + cid))
                if history:
                    pipe.lrange(self._key("hist:" + cid), 0, -1)
            raw = await self._call(pipe.execute())
        step = 2 if history else 1
        hashes: list[dict[str, str]] = raw[::step]
        dead = await self._dead(
            {h["own"] for h in hashes if h.get("st") == "sending" and h.get("own")}
        )
        out: list[TrackedMessage | None] = []
        for i, fields in enumerate(hashes):
            if not fields:
                out.append(None)
                continue
            reports = raw[i * step + 1] if history else None
            out.append(decode_record(fields, reports, orphaned=fields.get("own") in dead))
        return out

    async def get(self, client_id: int | str) -> TrackedMessage:
        """The record of ``client_id``, with its report history.

        :raises NotTrackedError: no such record.
        """
        key = store_key(client_id)
        (found,) = await self._fetch([key], history=True)
        if found is None:
            raise NotTrackedError(f"no record for client id {key!r}")
        return found

    async def find(self, message_id: str) -> TrackedMessage | None:
        """The record a provider message id (any part's, any id style) belongs to."""
        from smscenter.ids import canonical_message_id

        cid = await self._call(
            self._client().get(self._key("mid:" + canonical_message_id(message_id)))
        )
        if cid is None:
            return None
        (found,) = await self._fetch([str(cid)], history=True)
        return found

    async def _dead(self, owners: set[str]) -> set[str]:
        """Which of ``owners`` (senders holding ``SENDING`` records) stopped.

        Stopped is: its liveness key expired (no renewal for ``lease``), or none of its
        connections is open any more (a killed process's sockets close at once). The second
        is read from ``CLIENT LIST`` and trusted only for a sender that renewed its liveness
        since the server started (after a server restart the senders need a moment to
        reconnect); the liveness keys of senders found gone this way are deleted, so that the
        scripts read them as stopped too.
        """
        owners = owners - {self.owner}
        if not owners:
            return set()
        client = self._client()
        ordered = sorted(owners)
        async with client.pipeline(transaction=False) as pipe:
            for own in ordered:
                pipe.exists(self._key("live:" + own))
            alive = await self._call(pipe.execute())
        dead = {own for own, ok in zip(ordered, alive, strict=True) if not ok}
        rest = owners - dead
        if not rest or not self._presence_ok:
            return dead
        from redis.exceptions import ResponseError

        try:
            async with client.pipeline(transaction=False) as pipe:
                pipe.info("server")
                pipe.time()
                for own in sorted(rest):
                    pipe.get(self._key("live:" + own))
                info, (seconds, _), *renewed = await pipe.execute()
            clients = await client.client_list(_type="normal")
        except ResponseError:  # no CLIENT / INFO for this user: leases alone decide
            self._presence_ok = False
            return dead
        except Exception as exc:
            raise StoreError(f"Redis: {type(exc).__name__}: {exc}") from exc
        # Only a sender that renewed since this server started had a connection to it: one
        # that did not may just not have reconnected yet after a server restart.
        started = int(seconds) - int(info.get("uptime_in_seconds", 0))
        rest = {
            own
            for own, at in zip(sorted(rest), renewed, strict=True)
            if at is not None and int(at) // 1_000_000 >= started
        }
        connected = {str(c.get("name", "")) for c in clients}
        gone = sorted(own for own in rest if PRESENCE + own not in connected)
        if gone:
            await self._call(client.delete(*(self._key("live:" + own) for own in gone)))
        return dead | set(gone)

    async def _reap(self) -> None:
        """Write the ``SENDING`` records of senders that stopped as ``UNKNOWN``."""
        client = self._client()
        cids = await self._call(client.zrange(self._key("st:sending"), 0, CHUNK - 1))
        if not cids:
            return
        async with client.pipeline(transaction=False) as pipe:
            for cid in cids:
                pipe.hget(self._key("msg:" + str(cid)), "own")
            owners = await self._call(pipe.execute())
        if not await self._dead({str(o) for o in owners if o}):
            return
        while True:
            looked, _ = await self._script("reap", [self.owner, CHUNK])
            if looked < CHUNK:
                return

    async def counts(self) -> Mapping[TrackedState, int]:
        """How many records are in each state (states with none are left out)."""
        await self._reap()
        client = self._client()
        states = list(TrackedState)
        async with client.pipeline(transaction=False) as pipe:
            for state in states:
                pipe.zcard(self._key("st:" + state.value))
            sizes = await self._call(pipe.execute())
        return {state: n for state, n in zip(states, sizes, strict=True) if n}

    async def changes(self, *, since: int = 0) -> AsyncIterator[TrackedMessage]:
        """Records as they change, in version order, after version ``since``, until the store
        closes (reads the feed again at once after this instance's own writes, and every
        ``poll_interval`` for other processes' ones)."""
        while self._redis is not None:
            changed = self._changed = self._changed or asyncio.Event()
            changed.clear()
            try:
                batch: Any = await self._call(
                    self._client().zrangebyscore(
                        self._key("feed"), f"({since}", "+inf", start=0, num=CHUNK, withscores=True
                    )
                )  # withscores: (member, score) pairs
                records = await self._fetch([str(cid) for cid, _ in batch])
            except StoreError:
                if self._closed:  # closed while reading: the feed ends
                    return
                raise
            if not batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), self._poll)
                continue
            for (_, score), record in zip(batch, records, strict=True):
                since = int(score)
                # Changed again since the feed was read: it comes later, at its new version.
                if record is not None and record.version == since:
                    yield record

    async def records(
        self, *, states: Iterable[TrackedState] | None = None, limit: int | None = None
    ) -> AsyncIterator[TrackedMessage]:
        """Records (without history), optionally only those in ``states``, oldest first."""
        wanted = None if states is None else frozenset(states)
        if wanted is not None and TrackedState.UNKNOWN in wanted:
            await self._reap()
        client = self._client()
        # One index to walk: every record by creation order, or the one state's own index.
        if wanted is not None and len(wanted) == 1:
            (only,) = wanted
            index = self._key("st:" + only.value)
        else:
            index = self._key("recs")
        sent = 0
        start = 0
        while limit is None or sent < limit:
            found = await self._call(client.zrange(index, start, start + CHUNK - 1))
            cids = [str(c) for c in found]
            if not cids:
                return
            start += len(cids)
            for record in await self._fetch(cids):
                if record is None or (wanted is not None and record.state not in wanted):
                    continue
                yield record
                sent += 1
                if limit is not None and sent >= limit:
                    return
