"""Fleet on a real redis-server: the GCRA on the server's clock, the shared pause, slot leases
(expiry, renewal, loss), and the hooks in SMPPPool and HTTPClient, asserted on the simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import anyio
import pytest

from smscenter import HTTPClient, Limits, Message, SMPPPool, Timeouts
from smscenter.fleet import Fleet
from smscenter.fleet._rate import GCRA_SCRIPT
from smscenter.smpp.client.pool import ReconnectPolicy
from smscenter.testing import SMSCSimulator
from tests.redis_server import RedisServer

FAST = ReconnectPolicy(initial=0.01, maximum=0.05, refused=0.05)


@pytest.fixture
async def sim() -> AsyncIterator[SMSCSimulator]:
    async with SMSCSimulator(seed=1, balance=1_000_000) as simulator:
        simulator.behaviour.smpp.throughput = None
        simulator.behaviour.duplicate_window = 0
        yield simulator


async def until(predicate: Callable[[], bool], limit: float = 10.0) -> None:
    with anyio.fail_after(limit):
        while not predicate():  # noqa: ASYNC110 - polling simulator state, bounded
            await anyio.sleep(0.005)


def pool(sim: SMSCSimulator, fleet: Fleet, **kwargs: object) -> SMPPPool:
    kwargs.setdefault("limits", Limits(max_rate=None))
    kwargs.setdefault("reconnect", FAST)
    kwargs.setdefault("timeouts", Timeouts(5, unbind=1.0))
    return SMPPPool(sim.smpp_host, sim.smpp_port, sim.smpp_credentials, fleet=fleet, **kwargs)  # type: ignore[arg-type]


def message(i: int) -> Message:
    return Message(to=f"+7999{i:07d}", text=f"Sale {i}", sender="Shop")


# --- the rate on the server's clock -----------------------------------------------------------


async def test_gcra_grants_rate_plus_burst_per_second_on_the_server_clock(redis_url: str) -> None:
    async with Fleet(redis_url, login="acme", rate=50, burst=5) as fleet:
        keys = [fleet.keys.rate, fleet.keys.pause]
        args = [f"{1e6 / 50:.3f}", f"{4 * 1e6 / 50:.0f}", 1, 1]
        granted = 0
        with anyio.move_on_after(1.0):
            while True:
                ok, wait = await fleet.script("gcra", GCRA_SCRIPT, keys, args)
                if ok:
                    granted += 1
                else:
                    assert 0 < wait <= 20_000  # relative, in us: never a timestamp
                    await anyio.sleep(wait / 1e6)
        # One second at 50/s after an idle spell: at most the burst of 5 plus 50 (+1 at the
        # edge); a busy machine may ask less often, never get more.
        assert 30 <= granted <= 56


async def test_a_long_message_goes_whole_and_its_debt_delays_the_next(redis_url: str) -> None:
    async with Fleet(redis_url, login="acme", rate=10, burst=1) as fleet:
        keys = [fleet.keys.rate, fleet.keys.pause]
        args = [f"{1e5:.3f}", "0"]
        assert (await fleet.script("gcra", GCRA_SCRIPT, keys, [*args, 5, 5]))[0] == 5
        ok, wait = await fleet.script("gcra", GCRA_SCRIPT, keys, [*args, 1, 1])
        assert ok == 0 and 250_000 < wait <= 500_000  # five parts at 10/s: half a second


async def test_one_round_trip_grants_many_parts_but_never_past_the_burst(redis_url: str) -> None:
    # A busy worker asks for many messages' worth at once: it gets what fits in the burst now
    # (never more, so the fleet stays under rate + burst), then what the rate frees.
    async with Fleet(redis_url, login="acme", rate=50, burst=5) as fleet:
        keys = [fleet.keys.rate, fleet.keys.pause]
        args = [f"{1e6 / 50:.3f}", f"{4 * 1e6 / 50:.0f}"]
        granted, _ = await fleet.script("gcra", GCRA_SCRIPT, keys, [*args, 100, 1])
        assert granted == 5
        granted, wait = await fleet.script("gcra", GCRA_SCRIPT, keys, [*args, 100, 1])
        assert granted == 0 and 0 < wait <= 20_000
        # A message needing 3 parts waits until 3 fit, not 1.
        await anyio.sleep(wait / 1e6)
        granted, wait = await fleet.script("gcra", GCRA_SCRIPT, keys, [*args, 3, 3])
        assert granted == 0 and 20_000 < wait <= 60_000
        await anyio.sleep(wait / 1e6)
        granted, _ = await fleet.script("gcra", GCRA_SCRIPT, keys, [*args, 3, 3])
        assert granted == 3


async def test_the_shared_pause_stops_every_worker(redis_url: str) -> None:
    async with Fleet(redis_url, login="acme") as one, Fleet(redis_url, login="acme") as two:
        await one.pause(0.5)
        await one.pause(5.0)  # a pause running already is not stretched
        left = await two.paused_for()
        assert 0.1 < left <= 0.5
        keys = [two.keys.rate, two.keys.pause]
        ok, wait = await two.script("gcra", GCRA_SCRIPT, keys, ["33333", "0", 1, 1])
        assert ok == 0 and 100_000 < wait <= 500_000


# --- leases -------------------------------------------------------------------------------------


async def test_at_most_n_bind_leases_and_a_dead_holders_slot_frees_after_its_ttl(
    redis_url: str,
) -> None:
    async with (
        Fleet(redis_url, login="acme", mcon=2, lease_ttl=0.5) as a,
        Fleet(redis_url, login="acme", mcon=2, lease_ttl=10) as b,
    ):
        first = await a.bind_slots.try_acquire()
        second = await b.bind_slots.try_acquire()
        assert first is not None and second is not None
        assert {first.slot, second.slot} == {1, 2}
        assert await b.bind_slots.try_acquire() is None  # the third waits
        # Nobody renews `first` (its holder "died"): after the ttl the slot is free again.
        with anyio.fail_after(3):
            third = await b.bind_slots.acquire()
        assert third.slot == first.slot
        await second.release()
        await third.release()


async def test_a_kept_lease_outlives_its_ttl_and_a_lost_one_says_so(redis_url: str) -> None:
    async with Fleet(redis_url, login="acme", lease_ttl=1.0, lease_margin=0.25) as fleet:
        lease = await fleet.bind_slots.try_acquire()
        assert lease is not None
        async with anyio.create_task_group() as tg:
            tg.start_soon(lease.keep)
            await anyio.sleep(2.5)  # 2.5 ttls
            assert not lease.lost.is_set() and lease.renewals >= 3
            await fleet.client.delete(lease.name)  # expired and gone, as after a long stall
            with anyio.fail_after(1):
                await lease.lost.wait()
        assert "taken" in lease.why or "removed" in lease.why


async def test_a_lease_that_cannot_be_renewed_is_given_up_before_it_expires(
    own_redis_server: RedisServer,
) -> None:
    async with Fleet(own_redis_server.url, login="acme", lease_ttl=1.0, lease_margin=0.3) as fleet:
        lease = await fleet.bind_slots.try_acquire()
        assert lease is not None
        with own_redis_server.client() as client:
            expires_at = anyio.current_time() + client.pttl(lease.name) / 1000
        own_redis_server.stop()
        async with anyio.create_task_group() as tg:
            tg.start_soon(lease.keep)
            with anyio.fail_after(2):
                await lease.lost.wait()
        # Given up at its stop time (the margin before the end, on the local clock); the slack
        # is for a busy machine.
        assert anyio.current_time() <= expires_at - 0.1


# --- wired into the transports ---------------------------------------------------------------


async def test_pool_binds_declare_the_fleets_mcon_and_hold_a_slot_each(
    sim: SMSCSimulator, redis_url: str
) -> None:
    async with Fleet(redis_url, login=sim.login, mcon=3, rate=1000) as fleet:
        async with pool(sim, fleet, limits=Limits(connections=2, max_rate=None)) as p:
            await until(lambda: len(sim.smpp.sessions(sim.login)) == 2)
            assert {s.system_type.connections for s in sim.smpp.sessions()} == {3}
            held = list(await fleet.client.keys("smsc:*:bind:*"))
            assert len(held) == 2
            await p.send(message(1))
        assert await fleet.client.keys("smsc:*:bind:*") == []  # released after the unbind


async def test_a_pool_whose_slots_are_all_held_waits_then_binds(
    sim: SMSCSimulator, redis_url: str
) -> None:
    async with Fleet(redis_url, login=sim.login, mcon=1, rate=1000, lease_ttl=5) as fleet:
        release = anyio.Event()

        async def first_worker() -> None:
            async with pool(sim, fleet) as first:
                await first.send(message(1))
                await release.wait()

        async with anyio.create_task_group() as tg:
            tg.start_soon(first_worker)
            await until(lambda: sim.smpp.counters.accepted == 1)
            async with pool(sim, fleet) as second:  # enters: its bind waits for the slot
                assert second.statistics().binds_up == 0
                assert sim.smpp.logins.max_binds[sim.login] == 1
                release.set()
                await until(lambda: second.statistics().binds_up == 1)
                await second.send(message(2))
        assert sim.smpp.logins.max_binds[sim.login] == 1
        assert sim.smpp.counters.bind_refusals[sim.login] == 0


async def test_a_lost_lease_stops_sending_on_the_bind_then_unbinds(
    sim: SMSCSimulator, redis_url: str
) -> None:
    async with Fleet(
        redis_url, login=sim.login, rate=200, lease_ttl=3.0, lease_margin=1.0
    ) as fleet:
        async with pool(sim, fleet) as p:
            await until(lambda: p.statistics().binds_up == 1)
            key = (await fleet.client.keys("smsc:*:bind:*"))[0]
            outcomes = []

            async def send_all() -> None:
                async for outcome in p.send_many(message(i) for i in range(600)):
                    outcomes.append(outcome)

            async with anyio.create_task_group() as tg:
                tg.start_soon(send_all)
                await until(lambda: len(outcomes) >= 50)
                await fleet.client.set(key, "someone else")  # the lease is taken away
                lost_at = anyio.current_time()
                await until(lambda: sim.smpp.logins.connections[0].unbind_at is not None)
                first = sim.smpp.logins.connections[0]
                await fleet.client.delete(key)  # "someone else" leaves: the pool binds again
                await until(lambda: len(sim.smpp.logins.connections) >= 2, 5)
        assert first.unbind_at is not None and first.last_submit_at is not None
        assert first.last_submit_at <= first.unbind_at  # stopped sending, then unbound
        # Renewed every 0.75 s: the first renewal after the loss fails, and the bind is gone
        # before the lease (3 s from its last renewal) could have expired.
        assert first.unbind_at - lost_at < 3.0
        assert sim.smpp.logins.max_binds[sim.login] == 1
        assert all(o.error is None for o in outcomes) and len(outcomes) == 600


async def test_http_clients_of_a_fleet_stay_under_the_providers_concurrency(
    sim: SMSCSimulator, redis_url: str
) -> None:
    # Slow answers: the 36 requests overlap even when a busy machine starts them slowly.
    sim.behaviour.latency = 0.3
    fleets = [Fleet(redis_url, login=sim.login, http_concurrency=14) for _ in range(3)]
    async with fleets[0] as f0, fleets[1] as f1, fleets[2] as f2:
        clients = [
            HTTPClient(sim.credentials, base_url=sim.base_url, fleet=f) for f in (f0, f1, f2)
        ]
        async with clients[0], clients[1], clients[2], anyio.create_task_group() as tg:
            for n, client in enumerate(clients):
                for i in range(12):
                    if i % 2:
                        tg.start_soon(client.balance)
                    else:
                        tg.start_soon(client.send, message(n * 100 + i))
    assert sim.max_concurrent(sim.login) <= 14
    assert sim.max_concurrent(sim.login) >= 10  # the slots were used, not serialised
    assert sim.stats.refused_concurrency[sim.login] == 0
