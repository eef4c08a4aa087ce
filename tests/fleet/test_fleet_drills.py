"""Fleet drills inside one process, each pool with a Fleet of its own (to Redis they are two
workers): a throttling answer pauses every worker, and the rate counts message parts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from smscenter import Limits, Message, SMPPPool, Timeouts
from smscenter.fleet import Fleet
from smscenter.smpp import SMPPSession
from smscenter.smpp.client.pool import ReconnectPolicy
from smscenter.testing import SMSCSimulator

FAST = ReconnectPolicy(initial=0.01, maximum=0.05, refused=0.05)


@pytest.fixture
async def sim() -> AsyncIterator[SMSCSimulator]:
    async with SMSCSimulator(seed=1, balance=1_000_000) as simulator:
        simulator.behaviour.duplicate_window = 0
        yield simulator


def pool(sim: SMSCSimulator, fleet: Fleet) -> SMPPPool:
    return SMPPPool(
        sim.smpp_host,
        sim.smpp_port,
        sim.smpp_credentials,
        limits=Limits(max_rate=None),
        reconnect=FAST,
        timeouts=Timeouts(5, pool=60, unbind=1.0),
        fleet=fleet,
    )


async def send_all(p: SMPPPool, messages: list[Message], errors: list[BaseException]) -> None:
    async for outcome in p.send_many(messages):
        if outcome.error is not None:
            errors.append(outcome.error)


async def test_one_workers_throttle_answer_pauses_every_worker(
    sim: SMSCSimulator, redis_url: str
) -> None:
    # The SMSC throttles the 20th submit, on whichever bind sent it: that one 0x58 must stop
    # both workers for the fleet's pause, not just the bind that got it.
    sim.behaviour.smpp.throughput = None
    sim.behaviour.smpp.throttle_every = 20
    login = sim.login
    watch = sim.smpp.logins
    errors: list[BaseException] = []
    one = Fleet(redis_url, login=login, rate=40, burst=4, mcon=2, throttle_pause=1.0)
    two = Fleet(redis_url, login=login, rate=40, burst=4, mcon=2, throttle_pause=1.0)
    async with (
        one,
        two,
        pool(sim, one) as a,
        pool(sim, two) as b,
        anyio.create_task_group() as tg,
    ):
        for n, p in enumerate((a, b)):
            batch = [Message(to=f"+7999{n}{i:06d}", text=f"{n}:{i}") for i in range(40)]
            tg.start_soon(send_all, p, batch, errors)
        with anyio.fail_after(20):
            while not watch.throttled[login]:  # noqa: ASYNC110 - bounded by fail_after
                await anyio.sleep(0.01)
        sim.behaviour.smpp.throttle_every = None  # one is enough
        first = watch.throttled_at[login][0]
        assert len(watch.connections) == 2  # two workers sending
    arrivals = watch.arrivals(login)
    # Parts already on their way (and grants of 0.1 s) may land just after; then nothing from
    # either worker until the pause ends.
    assert [t for t in arrivals if first + 0.3 < t < first + 0.9] == []
    assert any(t > first + 0.9 for t in arrivals)  # and they went on
    assert sim.smpp.counters.accepted + len(errors) == 80


async def test_the_rate_counts_message_parts(sim: SMSCSimulator, redis_url: str) -> None:
    # The fleet's 24 parts/s sends three-part messages at 8 messages/s, and the SMSC (30
    # parts/s) never throttles; counted per message it would send 24 messages (72 parts) a
    # second.
    sim.behaviour.smpp.throughput = 30
    login = sim.login
    text = "x" * 400  # three GSM parts
    async with Fleet(redis_url, login=login, rate=24, burst=3) as fleet, pool(sim, fleet) as p:
        errors: list[BaseException] = []
        await send_all(p, [Message(to=f"+7999{i:07d}", text=text) for i in range(20)], errors)
    watch = sim.smpp.logins
    assert errors == []
    assert watch.submits(login) == 60
    assert watch.throttled[login] == 0
    assert watch.peak(login) <= 30
    arrivals = watch.arrivals(login)
    assert arrivals[-1] - arrivals[0] >= (60 - 3) / 24 - 0.2  # paced by parts, not messages


async def test_a_bind_past_its_lease_stop_time_writes_nothing_even_before_it_is_told(
    sim: SMSCSimulator,
) -> None:
    # A worker waking from a freeze: its lease's stop time has passed, and the lease task has
    # not run yet. The write path itself checks the time, so the message waits unwritten.
    sim.behaviour.smpp.throughput = None
    stop_at = [0.0]  # long past
    async with SMPPSession(sim.smpp_host, sim.smpp_port, sim.smpp_credentials) as session:
        session.hold_until(lambda: stop_at[0])
        result: list[object] = []

        async def send() -> None:
            result.append(await session.send(Message(to="+79990000001", text="hi")))

        async with anyio.create_task_group() as tg:
            tg.start_soon(send)
            await anyio.sleep(0.3)
            assert sim.smpp.counters.submits == 0 and result == []
            stop_at[0] = float("inf")  # renewed: it may write again
            session.wake()
    assert sim.smpp.counters.submits == 1 and len(result) == 1
