"""With a store, send_many's messages are claimed shortly before the binds write them (about
three windows per bind ahead), not as far as send_many reads ahead: a crash leaves few records
claimed and unanswered, and a claim that fails stops send_many without sending any of it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest
from _store_watch import Watched

from smscenter import Limits, Message, Timeouts
from smscenter.smpp.client.pool import SMPPPool
from smscenter.store import StoreError, TrackedState
from smscenter.store.sqlite import SQLiteStore
from smscenter.testing import SMSCSimulator

WINDOW = 5


@pytest.fixture
async def sim() -> AsyncIterator[SMSCSimulator]:
    async with SMSCSimulator(seed=3, balance=100_000) as simulator:
        simulator.behaviour.smpp.throughput = None
        yield simulator


def pool(sim: SMSCSimulator, store: object) -> SMPPPool:
    return SMPPPool(
        sim.smpp_host,
        sim.smpp_port,
        sim.smpp_credentials,
        limits=Limits(max_rate=None, window=WINDOW),
        timeouts=Timeouts(5, unbind=0.2),
        store=store,  # type: ignore[arg-type]
    )


def messages(n: int) -> Iterator[Message]:
    for i in range(n):
        yield Message(to=f"+7999{i:07d}", text=f"Sale {i}", client_id=f"c{i}")


async def test_no_more_than_three_windows_are_claimed_ahead(
    sim: SMSCSimulator, tmp_path: Path
) -> None:
    async with SQLiteStore(tmp_path / "s.db") as store:
        watched = Watched(store)
        async with pool(sim, watched) as p, anyio.create_task_group() as tg:
            sim.behaviour.smpp.stop_answering = True  # the window fills and stays full

            async def consume() -> None:
                async for _ in p.send_many(messages(300), read_ahead=200):
                    pass

            tg.start_soon(consume)
            with anyio.fail_after(10):
                while p.statistics().in_flight < WINDOW:  # noqa: ASYNC110 - bounded poll
                    await anyio.sleep(0.005)
            for _ in range(20):  # the claim task has every chance to claim more
                await anyio.lowlevel.checkpoint()
            # 200 read ahead; claimed: the window in flight and two more windows queued.
            assert sum(map(len, watched.prepares)) == 3 * WINDOW
            assert (await store.counts()) == {TrackedState.SENDING: 3 * WINDOW}
            tg.cancel_scope.cancel()
        counts = await store.counts()
    # Left early: the queued ones were never written (safe to send), those in flight are
    # unknown; the 185 read and never claimed have no record.
    assert counts == {TrackedState.FAILED: 2 * WINDOW, TrackedState.UNKNOWN: WINDOW}


async def test_a_claim_that_fails_stops_send_many_and_sends_none_of_it(
    sim: SMSCSimulator, tmp_path: Path
) -> None:
    async with SQLiteStore(tmp_path / "s.db") as store:
        watched = Watched(store)

        def fail_the_next(_: object) -> None:
            watched.fail_prepare = -1  # every claim after this first one fails

        watched.on_prepare = fail_the_next
        async with pool(sim, watched) as p:
            outcomes = []
            with pytest.raises(StoreError, match="disk is full"):
                async for outcome in p.send_many(messages(100)):
                    outcomes.append(outcome)
        counts = await store.counts()
    claimed = 3 * WINDOW  # the first claim only
    assert sim.smpp.counters.submits <= claimed
    assert all(o.ok for o in outcomes)
    assert sum(counts.values()) == claimed
    assert TrackedState.SENDING not in counts
