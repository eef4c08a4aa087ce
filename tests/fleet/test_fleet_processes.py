"""Several worker processes (real subprocesses) on one login through one real redis-server,
asserted on the simulator's side: the account's rate, binds at once, Redis restarted mid-run,
a worker whose wall clock is an hour off."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
import pytest
import redis

from smscenter.testing import SMSCSimulator
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[2]
CAP = 30  # the account's rate at the SMSC (the provider's default)


@pytest.fixture
async def sim() -> AsyncIterator[SMSCSimulator]:
    async with SMSCSimulator(seed=1, balance=1_000_000) as simulator:
        simulator.behaviour.smpp.throughput = CAP
        yield simulator


async def until(predicate: Callable[[], bool], limit: float = 30.0) -> None:
    with anyio.fail_after(limit):
        while not predicate():  # noqa: ASYNC110 - polling simulator state, bounded
            await anyio.sleep(0.01)


async def run_workers(
    sim: SMSCSimulator, redis_url: str, workers: list[list[str]], during: Callable[[], object]
) -> list[dict[str, object]]:
    """Start one process per argument list, run ``during`` (a coroutine function) meanwhile,
    and return each worker's summary."""
    login, password = sim.smpp_credentials.login, sim.smpp_credentials.password
    assert login is not None and password is not None
    base = [sys.executable, "-m", "tests.fleet._worker", redis_url, sim.smpp_host]
    base += [str(sim.smpp_port), login, password]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    outputs: list[dict[str, object]] = []

    async def one(extra: list[str]) -> None:
        result = await anyio.run_process([*base, *extra], env=env, cwd=ROOT, check=False)
        assert result.returncode == 0, result.stderr.decode()[-3000:]
        outputs.append(json.loads(result.stdout.decode().strip().splitlines()[-1]))

    with anyio.fail_after(50):
        async with anyio.create_task_group() as tg:
            for extra in workers:
                tg.start_soon(one, extra)
            await during()  # type: ignore[misc]
    return outputs


async def nothing() -> None:
    return None


async def test_three_processes_share_the_rate_and_the_binds_even_with_skewed_clocks(
    sim: SMSCSimulator, redis_url: str
) -> None:
    # Fleet: 25 parts/s, burst 3 (under the account's 30 with room for jitter, as the docs
    # advise), 2 bind slots for 3 workers; two of them run an hour ahead and an hour behind on
    # the wall clock.
    fleet = ["--rate", "25", "--burst", "3"]
    workers = [
        ["--name", "w1", "--count", "30", *fleet],
        ["--name", "w2", "--count", "30", "--skew", "3600", *fleet],
        ["--name", "w3", "--count", "30", "--skew", "-3600", *fleet],
    ]
    started = time.monotonic()
    outputs = await run_workers(sim, redis_url, workers, nothing)
    login = sim.login
    assert sorted(o["accepted"] for o in outputs) == [30, 30, 30]
    assert all(o["errors"] == [] for o in outputs)
    watch = sim.smpp.logins
    assert watch.throttled[login] == 0  # the SMSC never had to throttle
    assert watch.submits(login) == 90 == sim.smpp.counters.accepted
    assert watch.peak(login) <= CAP  # in any one second
    assert watch.seconds_over(login, CAP) == 0
    assert watch.max_binds[login] == 2  # at most the fleet's MCONn, at any moment
    assert sim.smpp.counters.bind_refusals[login] == 0
    # 90 parts at 25/s (plus the burst): not faster.
    arrivals = watch.arrivals(login)
    assert arrivals[-1] - arrivals[0] >= (90 - 3) / 25 - 0.1
    assert time.monotonic() - started < 45


async def test_redis_restarted_mid_run_workers_pause_and_resume(
    sim: SMSCSimulator, own_redis_server: RedisServer
) -> None:
    login = sim.login
    watch = sim.smpp.logins
    outage: list[float] = []

    async def crash_redis_mid_run() -> None:
        await until(lambda: watch.submits(login) >= 30)
        with own_redis_server.client() as client:
            leases_before = sorted(client.keys("smsc:*:bind:*"))
        outage.append(time.monotonic())
        own_redis_server.stop(crash=True)  # SIGKILL: only the AOF survives
        await anyio.sleep(1.5)
        outage.append(time.monotonic())
        own_redis_server.start()
        with own_redis_server.client() as client:
            assert sorted(client.keys("smsc:*:bind:*")) == leases_before  # AOF kept them

    workers = [["--name", f"r{n}", "--count", "45"] for n in (1, 2)]  # 25/s, burst 3
    outputs = await run_workers(sim, own_redis_server.url, workers, crash_redis_mid_run)
    assert sorted(o["accepted"] for o in outputs) == [45, 45]
    assert all(o["errors"] == [] for o in outputs)
    assert watch.throttled[login] == 0
    assert sim.smpp.counters.accepted == 90 == watch.submits(login)  # nothing lost or doubled
    # While Redis was down no rate could be granted: nothing reached the SMSC (bar the parts
    # granted just before, spent within the credit's life).
    down, up = outage
    during = [t for t in watch.arrivals(login) if down + 0.2 < t < up]
    assert during == []
    assert sum(1 for t in watch.arrivals(login) if t > up) >= 20  # and they resumed
    assert watch.max_binds[login] <= 2
    assert watch.throttled[login] == 0


async def test_a_worker_frozen_past_its_lease_sends_nothing_on_waking_then_unbinds(
    sim: SMSCSimulator, redis_url: str, tmp_path: Path
) -> None:
    # SIGSTOP the bind's holder for longer than its lease: another worker leases the slot (its
    # bind is refused by the SMSC's MCON1 while the frozen one is still bound); on SIGCONT the
    # frozen worker writes nothing more on that bind, unbinds, and the other binds.
    login, password = sim.smpp_credentials.login, sim.smpp_credentials.password
    assert login is not None and password is not None
    watch = sim.smpp.logins
    base = [sys.executable, "-m", "tests.fleet._worker", redis_url, sim.smpp_host]
    base += [str(sim.smpp_port), login, password, "--mcon", "1", "--rate", "10"]
    base += ["--lease-ttl", "2", "--margin", "0.8", "--unbind", "0.5"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    logs = [(tmp_path / f"{name}.err").open("wb") for name in ("a", "b")]
    with anyio.fail_after(50):
        a = await anyio.open_process(
            [*base, "--name", "a", "--count", "40"], env=env, cwd=ROOT, stderr=logs[0]
        )
        await until(lambda: watch.submits(login) >= 8)
        a.send_signal(signal.SIGSTOP)
        stopped = time.monotonic()
        b = await anyio.open_process(
            [*base, "--name", "b", "--count", "10"], env=env, cwd=ROOT, stderr=logs[1]
        )
        with redis.Redis.from_url(redis_url) as client:
            await until(
                lambda: str(b.pid).encode() in (client.get(f"smsc:{{{login}}}:bind:1") or b"")
            )
        await anyio.sleep(0.3)  # b tries to bind: the SMSC still has a's bind
        resumed = time.monotonic()
        a.send_signal(signal.SIGCONT)
        outputs = []
        for process in (a, b):
            assert await process.wait() == 0
            assert process.stdout is not None
            outputs.append(json.loads(b"".join([c async for c in process.stdout]).decode()))
    for log in logs:
        log.close()
    assert resumed - stopped >= 2.0  # longer than the lease
    assert [o["accepted"] for o in outputs] == [40, 10]
    assert all(o["errors"] == [] for o in outputs)
    frozen = watch.connections[0]
    assert frozen.last_submit_at is not None and frozen.last_submit_at < stopped
    assert frozen.unbind_at is not None and frozen.unbind_at > resumed  # it said goodbye
    assert watch.max_binds[login] == 1
    assert sim.smpp.counters.accepted == 50 == watch.submits(login)
