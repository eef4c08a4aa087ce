"""The fleet rate's local credit on a real redis-server: a busy worker ramps up its asks and
asks for the next grant before the credit runs out (its binds do not stop for a round trip to
Redis), and a worker the fleet's rate holds back asks only when it must.

The binds' clock is a stand-in that does not move (``now``): one pass of the pump at one
instant, so the tests depend on no timing; grants come from Redis for real."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

import anyio
import pytest

from smscenter.fleet import Fleet
from smscenter.fleet._rate import PREFETCH_FROM, RAMP, START_MAX, FleetRate
from smscenter.smpp.client._ratelimit import RateLimiter


class _Binds:
    """What the pool gives FleetRate: a wake-up for the binds."""

    def __init__(self) -> None:
        self.event = anyio.Event()

    def wake(self) -> None:
        self.event.set()

    async def woken(self) -> None:
        with anyio.fail_after(10):
            await self.event.wait()
        self.event = anyio.Event()


@contextlib.asynccontextmanager
async def _running(
    redis_url: str,
    fleet_rate: float,
    *,
    burst: int | None = None,
    backlog: Callable[[], int] | None = None,
    login: str = "acme",
) -> AsyncIterator[tuple[FleetRate, _Binds, Fleet]]:
    """A fleet rate on a real redis-server with its loop running (as a pool runs it)."""
    binds = _Binds()
    async with Fleet(redis_url, login=login, rate=fleet_rate, burst=burst) as fleet:
        rate = fleet.send_rate(RateLimiter(None), binds.wake, backlog)
        async with anyio.create_task_group() as tg:
            tg.start_soon(rate.run)
            yield rate, binds, fleet
            rate.close()


@pytest.fixture
async def busy(redis_url: str) -> AsyncIterator[tuple[FleetRate, _Binds, Fleet]]:
    async with _running(redis_url, 1_000_000) as running:
        yield running


async def _ramp_to(rate: FleetRate, binds: _Binds, now: float, credit: int) -> int:
    """Spend every part granted until one grant brings ``credit`` parts; the round trips."""
    trips = 0
    while trips < 20:
        while rate.take(1, now) == 0.0:
            pass
        trips += 1
        await binds.woken()
        if rate._credit >= credit:
            return trips
    raise AssertionError(f"still {rate._credit} parts granted at a time after 20 round trips")


async def test_a_busy_worker_doubles_its_asks_instead_of_one_part_a_round_trip(
    busy: tuple[FleetRate, _Binds, Fleet],
) -> None:
    rate, binds, _ = busy
    # 1, 1, 2, 4, ... 64 parts: about eight round trips, not one per part for a tenth of a
    # second (on a loaded machine a round trip can take milliseconds).
    assert await _ramp_to(rate, binds, anyio.current_time(), 64) <= 9


async def test_a_busy_worker_asks_for_the_next_grant_at_half_spent(
    busy: tuple[FleetRate, _Binds, Fleet],
) -> None:
    rate, binds, fleet = busy
    now = anyio.current_time()
    await _ramp_to(rate, binds, now, 2 * PREFETCH_FROM)
    granted = rate._credit
    grants = rate.grants
    # Spend half of a whole grant: the next is asked for, and never a wait for the binds.
    for _ in range(granted - granted // 2):
        assert rate.take(1, now) == 0.0
    left = rate._credit
    await binds.woken()  # the next grant arrived while the rest was still there
    assert rate.grants == grants + 1 and rate._credit > left > 0
    assert rate.denials == 0 and fleet.round_trips == rate.grants


async def test_a_worker_held_back_by_the_fleet_rate_asks_only_when_out_of_credit(
    redis_url: str,
) -> None:
    # 200/s with a burst of 20: a worker that spent more than the burst asks for all of it.
    # Then the fleet is at its rate, where an early ask would only be refused: a round trip for
    # nothing.
    async with _running(redis_url, 200, burst=20) as (rate, binds, fleet):
        now = anyio.current_time()
        rate._spent = 64  # as if 64 went out just now: the next ask is for the burst
        assert rate.take(1, now) > 0
        await binds.woken()
        assert rate._credit == 20 and rate.grants == 1
        for _ in range(15):
            assert rate.take(1, now) == 0.0
        assert rate._demand == 0 and fleet.round_trips == 1


async def test_the_pools_limiter_counts_every_part_sent_before_a_throttle_cuts_from_it(
    busy: tuple[FleetRate, _Binds, Fleet],
) -> None:
    # The pool's own limiter (no rate of its own) counts what went out once per pass of the
    # pump; a 0x58 must see all of it, the last pass too, to cut from the rate really sent.
    rate, binds, _ = busy
    local = rate._local
    assert isinstance(local, RateLimiter)
    now = anyio.current_time()
    await _ramp_to(rate, binds, now, 64)
    sent = 0
    for at in (now + 0.001, now + 0.002):  # two passes of the pump
        for _ in range(20):
            assert rate.take(1, at) == 0.0
            sent += 1
    assert rate.throttled(now + 0.002) > 0
    # The clock stood still within a tenth of a second: every part spent is in ``_spent``.
    assert rate._spent_before == 0 and rate._spent > sent
    assert local._sent_sum == rate._spent


async def test_near_the_fleets_rate_a_worker_asks_for_what_it_spent_before_not_more(
    redis_url: str,
) -> None:
    # Parts granted and not yet sent, held by every worker at once, are what a late send (a
    # busy machine) could add to one second at the SMSC: near the fleet's rate the asks stop
    # doubling and stay at what was spent in the last whole tenth of a second.
    async with _running(redis_url, 200, burst=20) as (rate, binds, fleet):
        now = anyio.current_time()
        credits = []
        for _ in range(6):  # 1, 1, 2, 4, 8, then 16 asked: a part of it granted
            while rate.take(1, now) == 0.0:
                pass
            await binds.woken()
            credits.append(rate._credit)
        assert credits[:5] == [1, 1, 2, 4, 8] and credits[5] < 16
        with anyio.fail_after(10):  # the rest of the 16 comes at the fleet's rate
            while rate._demand:  # noqa: ASYNC110 - bounded
                await anyio.sleep(0.01)
        await anyio.sleep(0.15)  # the fleet's burst fills up again
        binds.event = anyio.Event()
        while rate.take(1, now) == 0.0:
            pass
        await binds.woken()
        # The burst (20) would have fit; what was spent in the last whole window (none:
        # the clock of these binds stands still) is asked for: one part.
        assert rate._credit == 1


async def test_a_worker_with_a_backlog_starts_at_a_busy_grant_and_ramps_fourfold(
    redis_url: str,
) -> None:
    # A worker with many messages waiting and no cap near (the burst holds two busy grants)
    # asks for START_MAX parts at once, then for RAMP times what it spent: 1024, 3072, 12288
    # (grants that double from one part need a dozen round trips to get there, each an fsync
    # on a Redis with `appendfsync always`: milliseconds).
    async with _running(redis_url, 1_000_000, backlog=lambda: 40_000) as (rate, binds, fleet):
        now = anyio.current_time()
        credits = []
        for _ in range(3):
            while rate.take(1, now) == 0.0:
                pass
            await binds.woken()
            credits.append(rate._credit)
        assert credits == [START_MAX, START_MAX * RAMP, 4 * START_MAX * RAMP]
        assert rate.denials == 0 and fleet.round_trips == 3


async def test_a_small_backlog_or_burst_starts_smaller(redis_url: str) -> None:
    # Three messages waiting: three parts first (one taken, two queued). A burst of 40 (a cap
    # of 400/s): half of it, 20, a busy grant the burst holds twice; then fourfold.
    for fleet_rate, backlog, first in ((1_000_000, 2, 3), (400, 40_000, 20)):
        async with _running(
            redis_url, fleet_rate, backlog=lambda b=backlog: b, login=f"acme{fleet_rate}"
        ) as (rate, binds, fleet):
            assert rate.take(1, anyio.current_time()) > 0
            await binds.woken()
            assert rate._credit == first


async def test_with_a_small_burst_a_backlog_changes_nothing(redis_url: str) -> None:
    # A burst of 30 (a cap of 300/s) cannot hold two busy grants: a worker asks as it did,
    # one part first, doubling (the capped rows of the benchmark keep their behaviour).
    async with _running(redis_url, 300, backlog=lambda: 40_000) as (rate, binds, fleet):
        now = anyio.current_time()
        credits = []
        for _ in range(4):
            while rate.take(1, now) == 0.0:
                pass
            await binds.woken()
            credits.append(rate._credit)
        assert credits == [1, 1, 2, 4]


async def test_a_busy_worker_tops_its_credit_up_to_a_tenth_of_a_seconds_spend(
    busy: tuple[FleetRate, _Binds, Fleet],
) -> None:
    # At half spent, the next ask is what it spends in CREDIT_LIFE less what it still holds:
    # credit beyond that would be dropped unspent when the life ends, and the binds would then
    # stop for a round trip (every few grants, at full speed, before).
    rate, binds, _ = busy
    now = anyio.current_time()
    await _ramp_to(rate, binds, now, 2 * PREFETCH_FROM)
    rate._spent_before, rate._spent = 2_000, 0  # a tenth of a second at 20,000 parts/s
    rate._window_end = now + 0.05
    rate._credit, rate._refill_at = 600, 300
    while not rate._demand:
        assert rate.take(1, now + 0.01) == 0.0
    left = rate._credit
    assert left == 600 // 2 and rate._demand == 2_000 - left
    await binds.woken()
    # Topped up to the spend of one CREDIT_LIFE, not that on top of what was left; the next ask
    # at half of it.
    assert rate._credit == 2_000 and rate._refill_at == 1_000
