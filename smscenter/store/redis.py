"""``RedisStore``: the :class:`~smscenter.store.MessageStore` on a Redis server, for a fleet.

Many workers on many machines share one store, so a receipt that arrives on any worker's bind
(or at any webhook instance) lands on the right record, and a campaign's progress reads the same
from everywhere. Needs the ``redis`` extra (``pip install 'smscenter[redis]'``: redis-py's
asyncio client) and a Redis server >= 6.2.

Configure the server for durability: the store's contract ("returned means durable") holds only
as far as the server keeps what it acknowledged:

- ``appendonly yes`` with ``appendfsync always`` (every write is on disk before Redis answers)
  or ``appendfsync everysec`` (at most about a second of writes lost if the *machine* crashes;
  a crash of the Redis process alone loses nothing). See
  https://redis.io/docs/latest/operate/oss_and_stack/management/persistence/.
- ``maxmemory-policy noeviction``: with any eviction policy a full server silently deletes
  records and ids; with ``noeviction`` it refuses writes instead, and the store raises
  :class:`~smscenter.store.StoreError` (nothing is sent, no receipt is acknowledged).
- With replicas, ``wait_replicas=`` makes every write wait until that many replicas have it.

The store checks ``appendonly`` and ``maxmemory-policy`` when it opens (``CONFIG GET``) and logs
a warning when they are weaker (or when a managed server refuses ``CONFIG``).

Everything lives under one hash tag per login, ``smsc:{<login>}:...`` (one cluster slot), laid
out as described in ``smscenter/store/_redis_lua.py``: one hash per record, a list of its
reports, an id index (every part's canonical id -> client id, expiring after ``id_ttl``,
72 hours by default: receipts come within the provider's validity period, at most a day or two),
unmatched receipts kept until their id is settled (or purged), a version counter and a change
feed (a sorted set of client ids by their last version). Every write is one Lua script per
batch: one round trip per batch, not per message.

This module holds the store's lifecycle and its writes; the reads, the plumbing every call
goes through and the reading of stopped senders are in ``_redis_reads.py`` (its base class).

A record is ``SENDING`` in one store instance (its *owner*); each instance keeps a liveness key
``smsc:{<login>}:live:<owner>`` that expires ``lease`` after its last renewal (every third of
``lease``). When the owner stops (killed, or cut off from Redis longer than ``lease``), its
``SENDING`` records read as ``UNKNOWN`` everywhere, and are written so by the next store that
looks at them: another worker never sends them again unless asked to (``resend_unknown``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from smscenter.models import DeliveryReport
from smscenter.store import _redis_lua as lua
from smscenter.store._model import (
    NotTrackedError,
    PlannedSend,
    Settlement,
    StoreError,
    TrackedMessage,
    TrackedState,
)
from smscenter.store._redis_codec import LOST, encode_report, encode_settlement
from smscenter.store._redis_reads import CHUNK, PRESENCE, RedisReads

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

__all__ = ("RedisStore",)

_log = logging.getLogger("smscenter.store")
#: Seconds between retention runs of a long-lived store (besides at open).
_PURGE_EVERY = 3600.0


def _check_login(login: str) -> str:
    if not isinstance(login, str) or not login:
        raise ValueError("login must be a non-empty str")
    if any(c in login for c in "{}\n\r "):
        raise ValueError("login must not contain braces, spaces or line breaks")
    return login


class RedisStore(RedisReads):
    """The message store on a Redis server, shared by every worker of a fleet.

    :param url: the server's URL (``redis://host:6379/0``, ``rediss://...``, ``unix://...``),
        as redis-py's ``Redis.from_url`` reads it.
    :param login: the provider login the records belong to: every key is under
        ``smsc:{<login>}:``.
    :param id_ttl: how long the id index keeps a provider id (receipts later than that are kept
        as unmatched until purged). Default 72 hours.
    :param retention: records unchanged for this long, and unmatched reports as old, are
        deleted when the store opens and about once an hour while it is open (by whichever
        worker's store does it first). ``None`` keeps everything. Default 30 days.
    :param lease: how long a store's ``SENDING`` records stay its own after its last sign of
        life (renewed every ``lease / 3``). Default 15 seconds.
    :param wait_replicas: wait for this many replicas to confirm each write (``WAIT``); ``0``
        relies on the server's own fsync policy.
    :param wait_timeout: how long to wait for them.
    :param check_config: read the server's persistence and eviction settings on open and warn
        when they are weaker than the durability contract needs.
    :param max_connections: connections to the server at most (calls beyond wait their turn).
    :param owner: this instance's sender name (default: host, pid and a random part).
    :param poll_interval: seconds between looks at the change feed in :meth:`changes` when
        nothing new came (this instance's own writes wake it at once).

    Use it as an async context manager (``async with RedisStore(url, login="x") as store``).
    """

    def __init__(
        self,
        url: str,
        *,
        login: str,
        id_ttl: timedelta = timedelta(hours=72),
        retention: timedelta | None = timedelta(days=30),
        lease: timedelta = timedelta(seconds=15),
        wait_replicas: int = 0,
        wait_timeout: timedelta = timedelta(seconds=1),
        check_config: bool = True,
        owner: str | None = None,
        poll_interval: float = 0.2,
        max_connections: int = 50,
    ) -> None:
        self._url = url
        self.login = _check_login(login)
        self.prefix = f"smsc:{{{login}}}:"
        if id_ttl < timedelta(seconds=1):
            raise ValueError("id_ttl must be at least a second")
        if lease < timedelta(seconds=1):
            raise ValueError("lease must be at least a second")
        self._id_ttl = int(id_ttl.total_seconds())
        if retention is not None and retention <= timedelta(0):
            raise ValueError("retention must be positive (or None to keep everything)")
        self._retention = retention
        self._lease = lease
        self._lease_ms = int(lease.total_seconds() * 1000)
        self._wait_replicas = wait_replicas
        self._wait_ms = int(wait_timeout.total_seconds() * 1000)
        self._check_config = check_config
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        if any(c.isspace() for c in self.owner) or not self.owner:
            raise ValueError("owner must be a non-empty name without spaces")
        self._max_connections = max_connections
        # False once the server refused CLIENT LIST (managed servers may): leases alone then.
        self._presence_ok = True
        self._redis: Redis | None = None
        self._scripts: dict[str, AsyncScript] = {}
        self._heartbeat: asyncio.Task[None] | None = None
        self._closed = False
        self._poll = poll_interval
        self._changed: asyncio.Event | None = None

    def __repr__(self) -> str:
        # The URL may carry a password: never shown.
        return f"RedisStore(login={self.login!r}, owner={self.owner!r})"

    # --- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> RedisStore:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def open(self) -> None:
        """Connect, check the server's settings, and start renewing this sender's liveness."""
        if self._redis is not None:
            return
        if self._closed:
            raise StoreError("the store is closed")
        try:
            from redis.asyncio import Redis
        except ImportError as exc:  # pragma: no cover - the extra is installed in tests
            raise ImportError("RedisStore needs redis-py: pip install 'smscenter[redis]'") from exc
        from redis.asyncio import BlockingConnectionPool

        # A blocking pool: many concurrent calls wait for a connection instead of failing. Every
        # connection carries the owner's name: while any is open, the owner is alive.
        pool = BlockingConnectionPool.from_url(
            self._url,
            decode_responses=True,
            max_connections=self._max_connections,
            timeout=20,
            client_name=PRESENCE + self.owner,
        )
        client: Redis = Redis.from_pool(pool)
        self._redis = client
        self._scripts = {
            "prepare": client.register_script(lua.PREPARE),
            "settle": client.register_script(lua.SETTLE),
            "record": client.register_script(lua.RECORD),
            "reap": client.register_script(lua.REAP),
            "purge": client.register_script(lua.PURGE),
            "renew": client.register_script(lua.RENEW),
        }
        await self._call(client.ping())
        if self._check_config:
            await self._warn_on_config(client)
        await self._renew()
        if self._retention is not None:
            await self.purge(older_than=self._retention)
        self._heartbeat = asyncio.create_task(self._beat(), name="smscenter-store-heartbeat")

    async def aclose(self) -> None:
        """Stop the heartbeat, give up this sender's liveness (its unsettled ``SENDING`` records
        read as ``UNKNOWN`` from now on) and close the connection. Idempotent."""
        self._closed = True
        if self._changed is not None:
            self._changed.set()  # a waiting change feed sees the close at once
        task, self._heartbeat = self._heartbeat, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        client, self._redis = self._redis, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.delete(self._key("live:" + self.owner))
            await client.aclose()

    async def _warn_on_config(self, client: Redis) -> None:
        try:
            aof = (await client.config_get("appendonly")).get("appendonly")
            policy = (await client.config_get("maxmemory-policy")).get("maxmemory-policy")
        except Exception as exc:  # managed servers often refuse CONFIG
            _log.warning("RedisStore: cannot read the server's settings (%s)", type(exc).__name__)
            return
        if aof != "yes":
            _log.warning(
                "RedisStore: the Redis server runs without appendonly: a restart loses records"
            )
        if policy != "noeviction":
            _log.warning(
                "RedisStore: maxmemory-policy is %s, not noeviction: a full server deletes records",
                policy,
            )

    async def _renew(self) -> None:
        client = self._client()
        await self._call(client.set(self._key("live:" + self.owner), "1", px=self._lease_ms))

    async def _beat(self) -> None:
        period = self._lease.total_seconds() / 3
        last_purge = time.monotonic()
        while True:
            await asyncio.sleep(period)
            try:
                await self._renew()
                await self._reap()
                if self._retention is not None and time.monotonic() - last_purge > _PURGE_EVERY:
                    last_purge = time.monotonic()
                    await self.purge(older_than=self._retention)
            except StoreError as exc:
                # Keep trying: once the lease runs out the fleet reads our SENDING records as
                # UNKNOWN, which is the safe reading of a sender nobody can see.
                _log.warning("RedisStore: liveness not renewed: %s", exc)

    # --- written by the transports -------------------------------------------------------------

    async def prepare(
        self, sends: Sequence[PlannedSend], *, resend_unknown: bool = False
    ) -> list[TrackedMessage | None]:
        """Claim ``sends`` for sending (see :meth:`MessageStore.prepare
        <smscenter.store.MessageStore.prepare>`): one script per batch of up to 500."""
        answers: list[TrackedMessage | None] = []
        for start in range(0, len(sends), CHUNK):
            chunk = sends[start : start + CHUNK]
            args: list[Any] = [self.owner, self._lease_ms, int(resend_unknown)]
            for send in chunk:
                args += (send.client_id, send.recipient, send.transport.value)
            flags = await self._script("prepare", args)
            held = [send.client_id for send, flag in zip(chunk, flags, strict=True) if flag]
            records = dict(zip(held, await self._fetch(held), strict=True))
            # Held by a sender found stopped just now: ask again (the script then writes them
            # UNKNOWN, and sends them if resend_unknown).
            again = [
                send
                for send in chunk
                if (r := records.get(send.client_id)) is not None
                and r.state is TrackedState.UNKNOWN
                and r.error == LOST
            ]
            if again:
                retry: list[Any] = [self.owner, self._lease_ms, int(resend_unknown)]
                for send in again:
                    retry += (send.client_id, send.recipient, send.transport.value)
                reflags = await self._script("prepare", retry)
                for send, flag in zip(again, reflags, strict=True):
                    if flag:
                        (records[send.client_id],) = await self._fetch([send.client_id])
                    else:
                        records.pop(send.client_id, None)
            for send, flag in zip(chunk, flags, strict=True):
                answers.append(records.get(send.client_id) if flag else None)
        return answers

    async def settle(self, settlements: Sequence[Settlement]) -> None:
        """Record how sends ended, durably, and match receipts that came before (see
        :meth:`MessageStore.settle <smscenter.store.MessageStore.settle>`).

        :raises NotTrackedError: a settlement's client id has no record (nothing was prepared
            for it); the others in its batch are recorded.
        """
        missing: list[str] = []
        for start in range(0, len(settlements), CHUNK):
            chunk = settlements[start : start + CHUNK]
            args: list[Any] = [self.owner, self._id_ttl]
            args += [encode_settlement(s) for s in chunk]
            found = await self._script("settle", args)
            missing += [s.client_id for s, ok in zip(chunk, found, strict=True) if not ok]
        if missing:
            raise NotTrackedError(f"no record to settle for client id(s) {missing[:5]}")

    async def record(self, *reports: DeliveryReport) -> None:
        """Record delivery reports, durably and idempotently (see :meth:`MessageStore.record
        <smscenter.store.MessageStore.record>`)."""
        now = datetime.now(UTC)
        for start in range(0, len(reports), CHUNK):
            args: list[Any] = [self._id_ttl]
            for report in reports[start : start + CHUNK]:
                args += (report.message_id, report.client_id or "", encode_report(report, now))
            await self._script("record", args)

    # --- retention -----------------------------------------------------------------------------

    async def purge(self, *, older_than: timedelta) -> int:
        """Delete records (with their history and ids) unchanged for ``older_than``, and
        unmatched reports as old; return how many records went."""
        client = self._client()
        seconds, micros = await self._call(client.time())
        cutoff = seconds * 1_000_000 + micros - older_than // timedelta(microseconds=1)
        total = 0
        while True:
            deleted, more = await self._script("purge", [cutoff, CHUNK])
            total += int(deleted)
            if not more:
                return total
