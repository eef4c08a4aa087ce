"""SMPPPool against the embedded simulator's SMPP half (smscenter.testing.SMSCSimulator): the
provider's rules (MCON, throughput limit, receipts with TLVs) and faults; nothing may be lost."""

from __future__ import annotations

import collections
from collections.abc import AsyncIterator, Callable, Iterator

import anyio
import pytest

from smscenter import (
    DeliveryReport,
    IncomingMessage,
    Limits,
    Message,
    MessageStatus,
    SMPPPool,
    Timeouts,
    UnknownOutcomeError,
)
from smscenter.config import SMPPOptions
from smscenter.smpp.client.pool import ReconnectPolicy
from smscenter.testing import SMSCSimulator

FAST = ReconnectPolicy(initial=0.01, maximum=0.05, refused=0.05)


@pytest.fixture
async def sim() -> AsyncIterator[SMSCSimulator]:
    async with SMSCSimulator(seed=1, balance=100_000) as simulator:
        simulator.behaviour.smpp.throughput = None
        yield simulator


async def until(predicate: Callable[[], bool], limit: float = 10.0) -> None:
    with anyio.fail_after(limit):
        while not predicate():  # noqa: ASYNC110 - polling simulator state, bounded
            await anyio.sleep(0.005)


def pool(sim: SMSCSimulator, **kwargs: object) -> SMPPPool:
    kwargs.setdefault("limits", Limits(max_rate=None))
    kwargs.setdefault("reconnect", FAST)
    kwargs.setdefault("timeouts", Timeouts(5))
    return SMPPPool(sim.smpp_host, sim.smpp_port, sim.smpp_credentials, **kwargs)  # type: ignore[arg-type]


def messages(n: int, start: int = 0) -> Iterator[Message]:
    for i in range(start, start + n):
        yield Message(to=f"+7999{i:07d}", text=f"Sale {i}", sender="Shop")


async def test_send_and_receipt_through_the_stream(sim: SMSCSimulator) -> None:
    async with pool(sim) as p:
        result = await p.send(Message(to="+79991234567", text="Order shipped", sender="Shop"))
        sim.advance(10)
        async with p.reports() as stream:
            event = await stream.receive()
            assert isinstance(event, DeliveryReport)
            assert event.message_id == result.message_id
            assert event.status.is_final
            assert sim.smpp.counters.receipts_acked == 0  # not before the loop body is done
        await until(lambda: sim.smpp.counters.receipts_acked == 1)


async def test_incoming_message_through_the_stream(sim: SMSCSimulator) -> None:
    async with pool(sim) as p:
        sim.inject_incoming("+79990001122", "Yes, please")
        async with p.reports() as stream:
            event = await stream.receive()
    assert isinstance(event, IncomingMessage)
    assert event.text == "Yes, please"
    assert event.phone.endswith("79990001122")


async def test_mcon_binds_coexist(sim: SMSCSimulator) -> None:
    async with pool(sim, limits=Limits(max_rate=None, connections=3)) as p:
        await until(lambda: p.statistics().binds_up == 3)
        outcomes = [o async for o in p.send_many(messages(30))]
        assert all(o.ok for o in outcomes)
        assert len(sim.smpp.sessions("demo")) == 3
    assert sim.smpp.counters.kicked["demo"] == 0


async def test_query_sm(sim: SMSCSimulator) -> None:
    async with pool(sim) as p:
        result = await p.send(Message(to="+79991234567", text="query me", sender="Shop"))
        sim.advance(10)
        answer = await p.query(result.message_id, source_addr="Shop")
    assert answer.message_id == result.message_id
    assert answer.status in (MessageStatus.DELIVERED, MessageStatus.UNDELIVERABLE)


async def test_server_throttling_loses_nothing(sim: SMSCSimulator) -> None:
    # The simulator's bucket holds a second's worth (100) and refills at 100/s: a client that
    # sends faster than 100/s (any client, even on a loaded machine) is throttled.
    sim.behaviour.smpp.throughput = 100
    async with pool(
        sim, limits=Limits(max_rate=None, window=50), options=SMPPOptions(throttle_pause=0.01)
    ) as p:
        outcomes = [o async for o in p.send_many(messages(250))]
        stats = p.statistics()
    assert len(outcomes) == 250 and all(o.ok for o in outcomes)
    assert stats.throttled > 0
    assert stats.acknowledged == 250


async def test_bind_refused_for_a_while(sim: SMSCSimulator) -> None:
    sim.behaviour.smpp.refuse_binds = 3
    async with pool(sim) as p:
        assert (await p.send(Message(to="+79991234567", text="eventually"))).message_id
    assert sim.smpp.counters.bind_refusals["demo"] == 3


async def test_server_stops_answering(sim: SMSCSimulator) -> None:
    timeouts = Timeouts(5, response=0.3, bind=0.3, enquire_link=0.2)
    async with pool(sim, timeouts=timeouts) as p:
        assert (await p.send(Message(to="+79991234567", text="before"))).message_id
        sim.behaviour.smpp.stop_answering = True
        outcomes = [o async for o in p.send_many(messages(10))]
        assert all(isinstance(o.error, UnknownOutcomeError) for o in outcomes)
        # the unanswered probe declares the link dead (bounded), and the pool replaces it
        await until(lambda: p.statistics().binds_up == 0, limit=3)
        sim.behaviour.smpp.stop_answering = False
        await until(lambda: p.statistics().reconnects >= 1 and p.statistics().binds_up == 1)
        assert (await p.send(Message(to="+79991234567", text="after"))).message_id
        assert p.statistics().unknown == 10


async def test_every_bind_dropped_mid_send_many(sim: SMSCSimulator) -> None:
    sim.behaviour.smpp.drop_after_pdus = 700
    total = 5000
    async with pool(sim, limits=Limits(max_rate=None, connections=2, window=100)) as p:
        outcomes = [o async for o in p.send_many(messages(total))]
        stats = p.statistics()
    assert sorted(o.index for o in outcomes) == list(range(total))
    kinds = collections.Counter("ok" if o.ok else type(o.error).__name__ for o in outcomes)
    assert set(kinds) <= {"ok", "UnknownOutcomeError", "ConnectionLost"}
    assert kinds["UnknownOutcomeError"] == stats.unknown
    assert stats.reconnects >= 2
    # every accepted message really is on the server, with the id we were given
    held = {(str(m.id), m.phone) for m in sim.sent}
    accepted = {(o.message_id, o.recipient.lstrip("+")) for o in outcomes if o.ok}
    assert kinds["ok"] == len(accepted) and accepted <= held
