"""Issue 4's fault drills at full size, against the simulator: whatever the server does, every
message given to the pool ends with a message id or a definite error, and every id the pool
reports is a message the server really holds."""

from __future__ import annotations

import collections
from collections.abc import AsyncIterator, Iterator

import pytest

from smscenter import (
    ConnectionLost,
    Limits,
    Message,
    SendOutcome,
    SMPPPool,
    ThrottledError,
    Timeouts,
    UnknownOutcomeError,
)
from smscenter.config import SMPPOptions
from smscenter.smpp.client.pool import ReconnectPolicy
from smscenter.testing import SMSCSimulator

FAST = ReconnectPolicy(initial=0.01, maximum=0.05, refused=0.05)
TOTAL = 20_000


@pytest.fixture
async def sim() -> AsyncIterator[SMSCSimulator]:
    async with SMSCSimulator(seed=3, balance=1_000_000) as simulator:
        simulator.behaviour.smpp.throughput = None
        simulator.behaviour.duplicate_window = 0  # every message has its own text anyway
        yield simulator


def messages(n: int) -> Iterator[Message]:
    for i in range(n):
        yield Message(to=f"+7999{i:07d}", text=f"Offer {i}")


def check_accounted(outcomes: list[SendOutcome], sim: SMSCSimulator) -> collections.Counter[str]:
    """Every index exactly once; ids only for messages the server holds, under that id."""
    assert sorted(o.index for o in outcomes) == list(range(TOTAL))
    kinds = collections.Counter("ok" if o.ok else type(o.error).__name__ for o in outcomes)
    held = {(m.id, m.phone) for m in sim.sent}
    for outcome in outcomes:
        if outcome.ok:
            assert outcome.message_id is not None
            assert (int(outcome.message_id), outcome.recipient.lstrip("+")) in held
    return kinds


async def test_every_bind_dropped_in_the_middle_of_20000(sim: SMSCSimulator) -> None:
    # Each connection is cut after 3,000 PDUs, so both binds drop repeatedly mid-stream.
    sim.behaviour.smpp.drop_after_pdus = 3_000
    async with SMPPPool(
        sim.smpp_host,
        sim.smpp_port,
        sim.smpp_credentials,
        reconnect=FAST,
        timeouts=Timeouts(10),
        limits=Limits(max_rate=None, connections=2, window=200),
    ) as pool:
        outcomes = [o async for o in pool.send_many(messages(TOTAL))]
        stats = pool.statistics()
    kinds = check_accounted(outcomes, sim)
    assert set(kinds) <= {"ok", "UnknownOutcomeError", "ConnectionLost"}, kinds
    assert stats.reconnects >= 4 and sim.smpp.counters.drops >= 4
    # Only what was written and never answered is "unknown"; at most a window per drop.
    assert kinds["UnknownOutcomeError"] == stats.unknown
    assert kinds["UnknownOutcomeError"] <= 200 * sim.smpp.counters.drops
    assert kinds["ok"] >= TOTAL - 200 * sim.smpp.counters.drops
    unknown = [o for o in outcomes if isinstance(o.error, UnknownOutcomeError)]
    never_sent = [o for o in outcomes if isinstance(o.error, ConnectionLost)]
    assert len(unknown) + len(never_sent) + kinds["ok"] == TOTAL


async def test_half_of_all_submits_throttled(sim: SMSCSimulator) -> None:
    sim.behaviour.smpp.throttle_every = 2  # every second submit_sm answered ESME_RTHROTTLED
    async with SMPPPool(
        sim.smpp_host,
        sim.smpp_port,
        sim.smpp_credentials,
        reconnect=FAST,
        timeouts=Timeouts(30),
        limits=Limits(max_rate=None, window=200),
        options=SMPPOptions(throttle_pause=0.001, throttle_retries=50),
    ) as pool:
        outcomes = [o async for o in pool.send_many(messages(TOTAL))]
        stats = pool.statistics()
    kinds = check_accounted(outcomes, sim)
    # Throttling is retried, never turned into a loss: all 20,000 end with an id.
    assert kinds == {"ok": TOTAL}, kinds
    assert stats.throttled >= TOTAL // 2
    assert sim.smpp.counters.throttled >= TOTAL // 2
    assert len(sim.sent) == TOTAL
    assert not any(isinstance(o.error, ThrottledError) for o in outcomes)
