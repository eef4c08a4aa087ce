"""``WorkQueue``: a campaign's messages on a Redis Stream, handed out to a fleet of workers.

Producers enqueue messages (``smscenter bulk SOURCE --redis URL``); workers on any machine take
them (``smscenter worker --redis URL``), send them through an
:class:`~smscenter.SMPPPool` that tracks them in the same
:class:`~smscenter.store.RedisStore`, and acknowledge each one only once its outcome is in the
store. The queue is a Redis Stream with a consumer group (https://redis.io/docs/latest/develop/
data-types/streams/), under the store's key prefix: ``smsc:{<login>}:q:<name>``.

What makes it safe:

- **Idempotent enqueue.** A message is queued in the same Lua script that creates its store
  record (state ``queued``), and only if the store has no record of its ``client_id``:
  enqueuing a campaign twice queues nothing twice. (A record in ``failed``, which never reached
  the provider, is queued again.)
- **Read only what fits.** :meth:`WorkQueue.take` asks for at most ``count`` entries
  (``XREADGROUP COUNT``): a worker takes what its pool has room for, not the whole stream.
- **Acknowledged after the store.** :meth:`WorkQueue.done` acknowledges (``XACK``) and deletes
  the entries; a worker calls it only after the pool yielded the message's outcome, which the
  pool yields only once the store has it.
- **Dead workers' entries are taken over.** :meth:`WorkQueue.take` first claims entries that
  another consumer has held for longer than ``claim_idle`` (``XAUTOCLAIM``). The store decides
  what happens to each: one still ``queued`` is sent; one ``sending`` in a worker that stopped
  reads ``unknown`` and is reported, never sent again blindly; one already accepted (or later)
  is not sent again.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, Iterable, Sequence
from datetime import timedelta
from typing import Any

import attrs

from smscenter.fleet._entries import decode_message, encode_message
from smscenter.models import Message
from smscenter.store import _redis_lua as lua
from smscenter.store._model import StoreError, store_key
from smscenter.store.redis import RedisStore

__all__ = ("EnqueueResult", "QueueProgress", "WorkItem", "WorkQueue")

#: Messages per enqueue script call (one round trip each).
_BATCH = 500


@attrs.frozen(kw_only=True)
class WorkItem:
    """One queued message, taken by a worker.

    :ivar entry_id: its stream entry's id (what :meth:`WorkQueue.done` acknowledges).
    :ivar message: the message (one recipient, with its ``client_id``).
    :ivar client_id: the message's client id, as the store keys it.
    :ivar claimed: True when it was taken over from another worker (``XAUTOCLAIM``).
    """

    entry_id: str
    message: Message | None
    client_id: str
    claimed: bool = False


@attrs.frozen(kw_only=True)
class QueueProgress:
    """Where a queue stands (``smscenter report --redis``).

    :ivar waiting: entries no worker has taken yet.
    :ivar taken: entries taken by a worker and not yet acknowledged.
    :ivar consumers: each worker (consumer) name -> how many entries it holds.
    """

    waiting: int
    taken: int
    consumers: dict[str, int]

    @property
    def remaining(self) -> int:
        """Entries not done yet (waiting or taken)."""
        return self.waiting + self.taken


@attrs.frozen(kw_only=True)
class EnqueueResult:
    """What :meth:`WorkQueue.enqueue` did: ``queued`` new entries, ``known`` messages skipped
    because the store already tracks their client id (queued, sent or settled before)."""

    queued: int = 0
    known: int = 0


class WorkQueue:
    """A stream of messages for the workers of one login, on a :class:`RedisStore`'s server.

    :param store: the open :class:`~smscenter.store.RedisStore` of the login (its connection
        and key prefix are shared; every queued message gets its record there).
    :param name: the queue's name (one stream per name; ``outbox`` by default).
    :param group: the consumer group the workers share.
    :param consumer: this worker's name in the group (default: the store's owner name, unique
        per process).
    :param claim_idle: take over entries another worker has held this long without finishing
        (it stopped, or lost Redis). Longer than a worker keeps a message before its outcome
        (its read-ahead at the account's rate, plus the SMSC's answer time). Default 60 s.
    """

    def __init__(
        self,
        store: RedisStore,
        *,
        name: str = "outbox",
        group: str = "workers",
        consumer: str | None = None,
        claim_idle: timedelta = timedelta(seconds=60),
    ) -> None:
        if not name or any(c in name for c in "{} \n"):
            raise ValueError("name must be non-empty, without braces or spaces")
        self.store = store
        self.name = name
        self.key = store.prefix + "q:" + name
        self.group = group
        self.consumer = consumer or store.owner
        self._claim_idle_ms = int(claim_idle.total_seconds() * 1000)
        self._claim_cursor = "0-0"
        self._next_claim = 0.0
        self._script: Any = None
        self._ready = False

    def __repr__(self) -> str:
        return f"WorkQueue(key={self.key!r}, consumer={self.consumer!r})"

    async def _client(self) -> Any:
        client = self.store._client()
        if not self._ready:
            from redis.exceptions import ResponseError

            try:
                await client.xgroup_create(self.key, self.group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise StoreError(f"Redis: {exc}") from exc
            self._script = client.register_script(lua.ENQUEUE)
            self._ready = True
        return client

    # --- producers -----------------------------------------------------------------------------

    async def enqueue(
        self,
        messages: Iterable[Message] | AsyncIterable[Message],
        *,
        requeue_failed: bool = True,
    ) -> EnqueueResult:
        """Queue ``messages`` (each with a ``client_id`` and one recipient), idempotently:
        one the store already tracks is not queued again (except a ``failed`` one, with
        ``requeue_failed``). One script per 500 messages.

        :raises ValidationError: a message the queue cannot carry (raised before its batch is
            queued; the batches before it stay queued, and enqueuing again skips them).
        :raises StoreError: Redis refused or was unreachable (enqueue again: nothing is doubled).
        """
        await self._client()
        queued = known = 0
        batch: list[str] = []

        async def flush() -> None:
            nonlocal queued, known
            if not batch:
                return
            args = [self.store.prefix, self.key[len(self.store.prefix) :], int(requeue_failed)]
            flags = await self.store._call(
                self._script(keys=[self.store.prefix + "ver"], args=[*args, *batch])
            )
            added = sum(int(f) for f in flags)
            queued += added
            known += len(flags) - added
            batch.clear()

        def add(message: Message) -> None:
            entry = encode_message(message)  # validates: a client id, one recipient
            assert message.client_id is not None
            batch.extend((store_key(message.client_id), message.to[0], entry))

        if isinstance(messages, AsyncIterable):
            async for message in messages:
                add(message)
                if len(batch) >= 3 * _BATCH:
                    await flush()
        else:
            for message in messages:
                add(message)
                if len(batch) >= 3 * _BATCH:
                    await flush()
        await flush()
        return EnqueueResult(queued=queued, known=known)

    # --- workers -------------------------------------------------------------------------------

    async def take(self, count: int, *, block: timedelta | None = None) -> list[WorkItem]:
        """Take up to ``count`` messages: first ones other workers left behind for longer than
        ``claim_idle``, then new ones (waiting up to ``block`` for some to come).

        An entry whose record was deleted (purged) comes back with ``message=None``: acknowledge
        it and move on.
        """
        if count < 1:
            return []
        client = await self._client()
        items: list[WorkItem] = []
        now = time.monotonic()
        if now >= self._next_claim:
            cursor, entries = await self._autoclaim(client, count)
            items += [self._item(e, claimed=True) for e in entries]
            if cursor == "0-0":  # went round: look again only after a while
                self._next_claim = now + self._claim_idle_ms / 4000
            self._claim_cursor = cursor
        if len(items) < count:
            ms = None if block is None else max(1, int(block.total_seconds() * 1000))
            answer = await self.store._call(
                client.xreadgroup(
                    self.group,
                    self.consumer,
                    {self.key: ">"},
                    count=count - len(items),
                    block=ms if not items else None,
                )
            )
            for _stream, entries in answer or ():
                items += [self._item(e) for e in entries]
        return items

    async def _autoclaim(self, client: Any, count: int) -> tuple[str, list[Any]]:
        answer = await self.store._call(
            client.xautoclaim(
                self.key,
                self.group,
                self.consumer,
                self._claim_idle_ms,
                start_id=self._claim_cursor,
                count=count,
            )
        )
        # [next cursor, entries] (Redis 7 adds the ids of deleted entries).
        return str(answer[0]), list(answer[1])

    def _item(self, entry: Sequence[Any], *, claimed: bool = False) -> WorkItem:
        entry_id, fields = entry
        if not fields:  # deleted while pending
            return WorkItem(entry_id=entry_id, message=None, client_id="", claimed=claimed)
        return WorkItem(
            entry_id=entry_id,
            message=decode_message(fields["m"]),
            client_id=fields["c"],
            claimed=claimed,
        )

    @property
    def claim_idle(self) -> timedelta:
        """How long an entry may sit with one worker before others take it over."""
        return timedelta(milliseconds=self._claim_idle_ms)

    async def touch(self, items: Iterable[WorkItem | str]) -> None:
        """Tell the group this worker is still on these entries (``XCLAIM`` to itself resets
        their idle time), so that others do not take them over while it waits for their
        answers. A worker holding entries longer than ``claim_idle`` calls it (``run_worker``
        does, every third of ``claim_idle``)."""
        ids = [i if isinstance(i, str) else i.entry_id for i in items]
        if not ids:
            return
        client = await self._client()
        await self.store._call(
            client.xclaim(self.key, self.group, self.consumer, 0, ids, justid=True)
        )

    async def done(self, items: Iterable[WorkItem | str]) -> None:
        """Acknowledge and delete entries (one round trip): call it only once their outcomes
        are in the store."""
        ids = [i if isinstance(i, str) else i.entry_id for i in items]
        if not ids:
            return
        client = await self._client()
        async with client.pipeline(transaction=False) as pipe:
            pipe.xack(self.key, self.group, *ids)
            pipe.xdel(self.key, *ids)
            await self.store._call(pipe.execute())

    async def leave(self) -> None:
        """Take this worker out of the group's list of consumers, if it holds no entry (a
        clean exit; entries it still holds stay to be claimed by the others)."""
        client = await self._client()
        consumers = await self.store._call(client.xinfo_consumers(self.key, self.group))
        for c in consumers:
            if str(c["name"]) == self.consumer and not int(c["pending"]):
                await self.store._call(
                    client.xgroup_delconsumer(self.key, self.group, self.consumer)
                )

    async def progress(self) -> QueueProgress:
        """How many entries wait, how many workers hold, and who holds them (reads only: a
        queue nobody enqueued to yet is empty)."""
        client = self.store._client()
        if not await self.store._call(client.exists(self.key)):
            return QueueProgress(waiting=0, taken=0, consumers={})
        client = await self._client()
        async with client.pipeline(transaction=False) as pipe:
            pipe.xlen(self.key)
            pipe.xinfo_consumers(self.key, self.group)
            length, consumers = await self.store._call(pipe.execute())
        held = {str(c["name"]): int(c["pending"]) for c in consumers if int(c["pending"])}
        taken = sum(held.values())
        return QueueProgress(waiting=int(length) - taken, taken=taken, consumers=held)
