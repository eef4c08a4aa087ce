"""Fixtures of the fleet drills: the simulator on its own thread (real time, real sockets), a
campaign queued on a real redis-server, and worker processes (``smscenter worker``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

from smscenter import Message
from smscenter.fleet import WorkQueue
from smscenter.fleet._rate import burst_for
from smscenter.store import TrackedMessage
from smscenter.store.redis import RedisStore
from smscenter.testing import SMSCSimulator
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[2]
#: Seeds the simulator's delivery outcomes: a run is repeatable.
SEED = 5
TEXT = "Fleet "


@attrs.define
class Fleet:
    """The simulator on another thread, the Redis URL, and the worker processes."""

    sim: SMSCSimulator
    portal: BlockingPortal
    redis_url: str
    workers: list[subprocess.Popen[str]] = attrs.field(factory=list)

    @property
    def login(self) -> str:
        login = self.sim.smpp_credentials.login
        assert login is not None
        return login

    def call(self, func: Callable[..., Any], *args: Any) -> Any:
        """Run a plain function on the simulator's loop (its state is not thread-safe)."""
        return self.portal.call(func, *args)

    def enqueue(self, count: int) -> None:
        """Queue a campaign of ``count`` messages; each text names its client id, so the
        simulator's side can count what it accepted per client id."""

        async def run() -> None:
            async with RedisStore(self.redis_url, login=self.login) as store:
                messages = [
                    Message(to=f"+7999{i:07d}", text=f"{TEXT}{i}", client_id=f"f{i}")
                    for i in range(count)
                ]
                result = await WorkQueue(store).enqueue(messages)
                assert result.queued == count

        anyio.run(run, backend="asyncio")

    def start_worker(self, *args: str) -> subprocess.Popen[str]:
        """Start ``smscenter worker`` against the simulator and Redis."""
        creds = self.sim.smpp_credentials
        argv = [sys.executable, "-m", "smscenter", "--login", str(creds.login)]
        argv += ["--password", str(creds.password), "--smpp-host", self.sim.smpp_host]
        argv += ["--smpp-port", str(self.sim.smpp_port), "worker", "--redis", self.redis_url]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        child = subprocess.Popen(
            [*argv, *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.workers.append(child)
        return child

    def finish(self, child: subprocess.Popen[str], timeout: float = 120) -> dict[str, Any]:
        """Wait for a worker to exit by itself; its JSON counts."""
        try:
            out, err = child.communicate(timeout=timeout)
        finally:
            if child.poll() is None:
                child.kill()
                child.communicate()
        assert child.returncode == 0, err[-3000:]
        counts: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        return counts

    def accepted(self) -> int:
        """How many messages of the campaign the simulator has accepted so far."""
        return self.call(lambda: len(self.sim.state.messages))  # type: ignore[no-any-return]

    def accepts(self) -> Counter[str]:
        """Client id (from the text) -> how many times the simulator accepted it."""

        def collect() -> Counter[str]:
            return Counter(
                "f" + m.text[len(TEXT) :] for m in self.sim.sent if m.text.startswith(TEXT)
            )

        return self.call(collect)  # type: ignore[no-any-return]

    def max_binds(self) -> int:
        """The most binds of the login the simulator saw up at the same moment."""
        return self.call(lambda: self.sim.smpp.logins.max_binds[self.login])  # type: ignore[no-any-return]

    def set_account_rate(self, cap: float | None) -> None:
        """The account's rate at the simulator, parts per second (0x58 beyond it)."""

        def apply() -> None:
            self.sim.behaviour.smpp.throughput = cap  # type: ignore[attr-defined]

        self.call(apply)

    def set_response_delay(self, seconds: float) -> None:
        """Write every answer of the simulator this many seconds late (the link keeps reading)."""

        def apply() -> None:
            self.sim.behaviour.smpp.response_delay = seconds  # type: ignore[attr-defined]

        self.call(apply)

    def submits(self) -> int:
        """submit_sm the simulator has received so far."""
        return self.call(lambda: self.sim.smpp.counters.submits)  # type: ignore[no-any-return]

    def watch(self) -> dict[str, Any]:
        """What the simulator saw of the login: the most binds at once, submits, 0x58 answers,
        the most submits in any second (``peak``), and the seconds over the account's rate
        (``seconds_over``) and over it plus the fleet's burst (``seconds_over_burst``)."""

        def read() -> dict[str, Any]:
            logins = self.sim.smpp.logins
            cap = self.sim.behaviour.smpp.throughput  # type: ignore[attr-defined]
            arrivals = logins.arrivals(self.login)
            span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
            seen: dict[str, Any] = {
                "max_binds": logins.max_binds[self.login],
                "submits": logins.submits(self.login),
                "throttled": logins.throttled[self.login],
                "peak": logins.peak(self.login),
                "seconds": round(span, 2),
                "rate": round((len(arrivals) - 1) / span, 1) if span > 0 else 0.0,
            }
            if cap is not None:
                seen["seconds_over"] = logins.seconds_over(self.login, cap)
                seen["seconds_over_burst"] = logins.seconds_over(self.login, cap + burst_for(cap))
            return seen

        return self.call(read)  # type: ignore[no-any-return]

    def records(self) -> dict[str, TrackedMessage]:
        """Every record of the campaign, by client id."""

        async def read() -> dict[str, TrackedMessage]:
            async with RedisStore(self.redis_url, login=self.login) as store:
                return {r.client_id: r async for r in store.records()}

        return anyio.run(read, backend="asyncio")

    def redis_calls(self) -> Counter[str]:
        """Calls of each Redis command so far (those run inside scripts included)."""
        import redis

        with redis.Redis.from_url(self.redis_url) as client:
            stats = client.info("commandstats")
        return Counter({k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()})

    def remaining(self) -> int:
        async def read() -> int:
            async with RedisStore(self.redis_url, login=self.login) as store:
                return (await WorkQueue(store).progress()).remaining

        return anyio.run(read, backend="asyncio")


def _fleet(redis_url: str) -> Iterator[Fleet]:
    with ExitStack() as stack:
        portal = stack.enter_context(start_blocking_portal(backend="asyncio"))
        # Real time: receipts come on their own, a fraction of a second after each accept.
        sim = SMSCSimulator(seed=SEED, clock=time.time, balance=Decimal(10**9))
        behaviour = sim.behaviour
        behaviour.smpp.throughput = None  # type: ignore[attr-defined]
        behaviour.transmit_delay = 0.1
        behaviour.delivery_delay = 0.3
        # Every message differs (its client id is in the text); no duplicate refusals needed.
        behaviour.duplicate_window = 0
        stack.enter_context(portal.wrap_async_context_manager(sim))
        drill = Fleet(sim=sim, portal=portal, redis_url=redis_url)
        try:
            yield drill
        finally:
            for child in drill.workers:
                if child.poll() is None:
                    child.kill()
                    child.communicate()


@pytest.fixture
def fleet(redis_url: str) -> Iterator[Fleet]:
    """The drill on the session's redis-server."""
    yield from _fleet(redis_url)


@pytest.fixture
def fleet_own_redis(own_redis_server: RedisServer) -> Iterator[tuple[Fleet, RedisServer]]:
    """The drill on a redis-server of its own, to crash and restart."""
    for drill in _fleet(own_redis_server.url):
        yield drill, own_redis_server
