"""The Redis Streams work queue on a real redis-server: idempotent enqueue, reading only what
fits, acknowledging after the store, taking over a dead worker's entries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import anyio
import pytest

from smscenter import Message
from smscenter._provider import Transport
from smscenter.exceptions import ValidationError
from smscenter.fleet import WorkItem, WorkQueue
from smscenter.store import PlannedSend, Settlement, TrackedState
from smscenter.store.redis import RedisStore

LOGIN = "acme"


def campaign(n: int, start: int = 0) -> list[Message]:
    return [
        Message(to=f"+7999{i:07d}", text=f"hello #{i}", client_id=f"c-{i}")
        for i in range(start, start + n)
    ]


def planned(items: list[WorkItem]) -> list[PlannedSend]:
    return [
        PlannedSend(client_id=i.client_id, recipient=i.message.to[0], transport=Transport.SMPP)
        for i in items
        if i.message is not None
    ]


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[RedisStore]:
    async with RedisStore(redis_url, login=LOGIN) as opened:
        yield opened


async def test_enqueue_is_idempotent_by_client_id(store: RedisStore) -> None:
    queue = WorkQueue(store)
    first = await queue.enqueue(campaign(1200))
    assert (first.queued, first.known) == (1200, 0)

    async def again() -> AsyncIterator[Message]:  # an async source, overlapping the first
        for message in campaign(1300, start=100):
            yield message

    second = await queue.enqueue(again())
    assert (second.queued, second.known) == (200, 1100)
    progress = await queue.progress()
    assert progress.waiting == 1400 and progress.taken == 0
    assert await store.counts() == {TrackedState.QUEUED: 1400}
    record = await store.get("c-5")
    assert record.state is TrackedState.QUEUED and record.recipient == "+79990000005"
    assert record.attempts == 0


async def test_a_message_the_queue_cannot_carry_is_refused_before_its_batch(
    store: RedisStore,
) -> None:
    queue = WorkQueue(store)
    for bad in (
        Message(to="+79990000001", text="no id"),
        Message(to=["+79990000001", "+79990000002"], text="two", client_id="x"),
        Message(to="+79990000001", text="hi", client_id="y", extra={"foo": "1"}),
    ):
        with pytest.raises(ValidationError):
            await queue.enqueue([*campaign(3), bad])
    assert (await queue.progress()).waiting == 0
    assert await store.counts() == {}


async def test_the_message_round_trips_through_an_entry(store: RedisStore) -> None:
    queue = WorkQueue(store)
    sent = Message(
        to="+79990000001",
        text="Привет",
        sender="ACME",
        client_id=17,
        validity=timedelta(hours=2),
        report=False,
        max_parts=2,
    )
    await queue.enqueue([sent])
    (item,) = await queue.take(10)
    assert item.message == sent and item.client_id == "17" and not item.claimed


async def test_take_reads_only_what_fits_and_done_acknowledges(store: RedisStore) -> None:
    queue = WorkQueue(store, consumer="w1")
    await queue.enqueue(campaign(50))
    items = await queue.take(8)
    assert [i.client_id for i in items] == [f"c-{i}" for i in range(8)]
    progress = await queue.progress()
    assert (progress.waiting, progress.taken, progress.consumers) == (42, 8, {"w1": 8})
    assert await store.prepare(planned(items)) == [None] * 8
    await store.settle(
        [
            Settlement(client_id=i.client_id, state=TrackedState.ACCEPTED, message_id=f"{n + 1}")
            for n, i in enumerate(items)
        ]
    )
    await queue.done(items)
    progress = await queue.progress()
    assert (progress.waiting, progress.taken, progress.consumers) == (42, 0, {})
    assert len(await queue.take(100)) == 42
    assert await queue.take(5) == []  # nothing left; no block: returns at once


async def test_requeue_of_failed_only(store: RedisStore) -> None:
    queue = WorkQueue(store)
    await queue.enqueue(campaign(3))
    items = await queue.take(3)
    await store.prepare(planned(items))
    await store.settle(
        [
            Settlement(client_id="c-0", state=TrackedState.ACCEPTED, message_id="1"),
            Settlement(client_id="c-1", state=TrackedState.FAILED, error="PoolTimeout: x"),
            Settlement(client_id="c-2", state=TrackedState.UNKNOWN, error="TimeoutError: x"),
        ]
    )
    await queue.done(items)
    result = await queue.enqueue(campaign(3))
    assert (result.queued, result.known) == (1, 2)  # the failed one only: never the unknown
    (again,) = await queue.take(10)
    assert again.client_id == "c-1"
    assert (await queue.enqueue(campaign(3), requeue_failed=False)).queued == 0


async def test_a_dead_workers_entries_are_taken_over_and_its_sends_end_unknown(
    redis_url: str, store: RedisStore
) -> None:
    await WorkQueue(store).enqueue(campaign(10))
    dead_store = RedisStore(redis_url, login=LOGIN, lease=timedelta(seconds=1))
    await dead_store.open()
    dead = WorkQueue(dead_store, consumer="dead", claim_idle=timedelta(milliseconds=50))
    taken = await dead.take(6)
    # It wrote three of them (SENDING), then was killed before any answer.
    assert await dead_store.prepare(planned(taken[:3])) == [None] * 3
    assert dead_store._heartbeat is not None
    dead_store._heartbeat.cancel()
    client, dead_store._redis = dead_store._redis, None
    assert client is not None
    await client.delete(dead_store.prefix + "live:" + dead_store.owner)  # its lease ran out
    await client.aclose()

    other = WorkQueue(store, consumer="other", claim_idle=timedelta(milliseconds=50))
    await anyio.sleep(0.1)
    items = await other.take(6)
    assert sorted(i.client_id for i in items) == sorted(i.client_id for i in taken)
    assert all(i.claimed for i in items)
    answers = await store.prepare(planned(items))
    held = {a.client_id: a.state for a in answers if a is not None}
    assert held == {i.client_id: TrackedState.UNKNOWN for i in taken[:3]}  # never resent
    assert sum(a is None for a in answers) == 3  # the three never written: sent now
    progress = await other.progress()
    assert progress.consumers == {"other": 6} and progress.waiting == 4


async def test_a_worker_keeps_what_it_touches(store: RedisStore) -> None:
    await WorkQueue(store).enqueue(campaign(4))
    idle = timedelta(milliseconds=500)
    mine = WorkQueue(store, consumer="busy", claim_idle=idle)
    other = WorkQueue(store, consumer="other", claim_idle=idle)
    items = await mine.take(4)
    await anyio.sleep(0.6)  # idle past claim_idle: any worker could take them now ...
    await mine.touch(items)  # ... but their holder says it is still on them
    assert await other.take(4) == []
    await anyio.sleep(0.6)  # no word from it since: taken over
    taken = await other.take(4)
    assert [i.client_id for i in taken] == [i.client_id for i in items]
    assert all(i.claimed for i in taken)
