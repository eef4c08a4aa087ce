"""Settlements the store refused are kept in memory and tried again (``_settle_hold.py``): the
send's answer is not lost to a store that fails for a moment, its caller hears of it once it is
recorded, and only a store that stays down through the pool's close leaves it ``sending``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from _store_watch import Watched

from smscenter import Limits, Message, Timeouts
from smscenter.config import ReconnectPolicy
from smscenter.smpp.client._settle_hold import HeldSettlements
from smscenter.smpp.client.pool import SMPPPool
from smscenter.store import StoreError, TrackedState
from smscenter.store.sqlite import SQLiteStore
from smscenter.testing import SMSCSimulator

FAST = ReconnectPolicy(initial=0.01, maximum=0.05, refused=0.05)


@pytest.fixture
async def sim() -> AsyncIterator[SMSCSimulator]:
    async with SMSCSimulator(seed=1, balance=100_000) as simulator:
        simulator.behaviour.smpp.throughput = None
        yield simulator


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    async with SQLiteStore(tmp_path / "messages.db") as opened:
        yield opened


def pool(sim: SMSCSimulator, store: object) -> SMPPPool:
    return SMPPPool(
        sim.smpp_host,
        sim.smpp_port,
        sim.smpp_credentials,
        store=store,  # type: ignore[arg-type]
        limits=Limits(max_rate=None, window=50),
        reconnect=FAST,
        timeouts=Timeouts(5),
    )


async def test_a_settlement_the_store_refused_is_kept_and_recorded_later(
    sim: SMSCSimulator, store: SQLiteStore
) -> None:
    watched = Watched(store)
    watched.fail_settle = 3  # the store fails three times in a row, then takes it
    async with pool(sim, watched) as p:
        with anyio.fail_after(10):
            result = await p.send(Message(to="+79990000001", text="x", client_id="one"))
        assert p.statistics().store_errors == 3
        # Recorded as the SMSC answered (not left 'sending', to read 'unknown' later).
        record = await store.get("one")
        assert record.state is TrackedState.ACCEPTED
        assert record.message_id == result.message_id
    assert sim.smpp.counters.submits == 1  # tried again in the store, never on the wire


async def test_send_many_yields_held_outcomes_once_recorded(
    sim: SMSCSimulator, store: SQLiteStore
) -> None:
    watched = Watched(store)
    watched.fail_settle = 2
    n = 200
    messages = [Message(to=f"+7999{i:07d}", text=f"Sale {i}", client_id=f"c{i}") for i in range(n)]
    async with pool(sim, watched) as p:
        with anyio.fail_after(20):
            outcomes = [o async for o in p.send_many(messages)]
    assert len(outcomes) == n and all(o.ok for o in outcomes)
    assert sim.smpp.counters.submits == n
    counts = await store.counts()
    assert counts == {TrackedState.ACCEPTED: n}
    # Yielded only once recorded: every client id is among the settled ones.
    assert watched.settled == {f"c{i}" for i in range(n)}


async def test_a_store_still_down_when_the_pool_closes_gives_them_up(
    sim: SMSCSimulator, store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(HeldSettlements, "PATIENCE", 0.3)
    watched = Watched(store)
    watched.fail_settle = -1  # never again
    errors: list[BaseException] = []

    async def one(p: SMPPPool) -> None:
        try:
            await p.send(Message(to="+79990000001", text="x", client_id="one"))
        except StoreError as exc:
            errors.append(exc)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg, pool(sim, watched) as p:
            tg.start_soon(one, p)
            while p.statistics().store_errors < 2:  # noqa: ASYNC110 - bounded by fail_after
                await anyio.sleep(0.01)
            assert not errors  # kept, tried again, its caller still waits
    # The pool closed with the store still failing: a last try, then it was given up.
    assert len(errors) == 1 and "accepted as" in str(errors[0])
    # Left 'sending': it may have gone out (it did), so it reads 'unknown' once this sender
    # stops, and is never resent blindly.
    assert (await store.get("one")).state in (TrackedState.SENDING, TrackedState.UNKNOWN)
    assert sim.smpp.counters.submits == 1


def test_held_settlements_wait_longer_after_each_failure_up_to_the_cap() -> None:
    now = [0.0]
    held = HeldSettlements(capacity=3, clock=lambda: now[0])
    assert not held and held.release(["a"]) == ["a"]  # nothing held: settled at once
    assert held.keep(["a", "b", "c", "d"]) == 3  # bounded: "d" does not fit
    assert held.since == 0.0 and held.delay() == pytest.approx(0.1)
    assert held.release(["e"]) == ["e"] and len(held) == 3  # not due, no room: "e" goes on
    now[0] = 0.1
    assert held.release(["f"]) == ["a", "b", "c", "f"]
    pauses = []
    for _ in range(8):  # fails again each time: 0.2, 0.4, ... up to 5 s
        assert held.keep(["a"]) == 1
        pauses.append(round(held.delay(), 3))
        now[0] += held.delay()
        assert held.due() and held.release([]) == ["a"]
    assert pauses == [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0]
    held.recorded()  # the store took a batch: the next failure starts again from 0.1 s
    assert held.since is None
    held.keep(["a"])
    assert held.delay() == pytest.approx(0.1)


def test_held_settlements_are_given_up_after_the_store_failed_for_long() -> None:
    # A store that keeps failing (a full disk) is given up while the pool still runs: the
    # callers then get its error rather than wait forever.
    now = [0.0]
    held = HeldSettlements(capacity=10, clock=lambda: now[0])
    assert held.keep(["a", "b"]) == 2
    now[0] = HeldSettlements.GIVE_UP - 0.01
    assert held.release([]) == ["a", "b"] and held.keep(["a", "b"]) == 2  # still trying
    now[0] += held.delay()  # the next try falls due past GIVE_UP
    assert held.release(["c"]) == ["a", "b", "c"]
    assert held.keep(["a", "b", "c"]) == 0 and not held  # given up: all end with the error
    held.recorded()  # the store is back: a later failure is held again
    assert held.keep(["d"]) == 1
