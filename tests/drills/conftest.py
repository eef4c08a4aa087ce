"""Fixtures of the drills: the simulator on its own thread (real time, real sockets), the
campaign process, and readers of both sides (the store file, the simulator's accepted
messages).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

from smscenter.ids import canonical_message_id
from smscenter.store import SQLiteStore, TrackedMessage
from smscenter.testing import SMSCSimulator

ROOT = Path(__file__).resolve().parents[2]
COUNT = 5000
#: Seeds the drills' random choices (where to kill) and the simulator: a run is repeatable.
SEED = 11


@attrs.define
class Drill:
    """The simulator on another thread, and the campaign's settings."""

    sim: SMSCSimulator
    portal: BlockingPortal
    store: Path

    def call(self, func: Callable[..., Any], *args: Any) -> Any:
        """Run a plain function on the simulator's loop (its state is not thread-safe)."""
        return self.portal.call(func, *args)

    def config(self, **extra: Any) -> dict[str, Any]:
        creds = self.sim.smpp_credentials
        return {
            "host": self.sim.smpp_host,
            "port": self.sim.smpp_port,
            "login": creds.login,
            "password": creds.password,
            "store": str(self.store),
            "count": COUNT,
            "window": 50,
            "rate": None,
            "wait": 20,
            **extra,
        }

    def start(self, **extra: Any) -> subprocess.Popen[str]:
        """Start the campaign process (``tests/drills/_campaign.py``)."""
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        return subprocess.Popen(
            [sys.executable, "-m", "tests.drills._campaign", json.dumps(self.config(**extra))],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, **extra: Any) -> dict[str, Any]:
        """Run the campaign process to its end; its JSON summary."""
        child = self.start(**extra)
        try:
            out, err = child.communicate(timeout=120)
        finally:
            if child.poll() is None:
                child.kill()
                child.communicate()
        assert child.returncode == 0, err[-3000:]
        summary: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        return summary

    def accepted_count(self) -> int:
        """How many messages the simulator has accepted so far."""
        return self.call(lambda: len(self.sim.sent))  # type: ignore[no-any-return]

    def accepts(self) -> dict[str, list[str]]:
        """Client id (from the text) -> the ids the simulator accepted it under, in order."""

        def collect() -> dict[str, list[str]]:
            out: dict[str, list[str]] = {}
            for message in self.sim.sent:
                if message.text.startswith("Drill "):
                    cid = message.text.split()[-1]
                    out.setdefault(cid, []).append(canonical_message_id(str(message.id)))
            return out

        return self.call(collect)  # type: ignore[no-any-return]

    def records(self) -> dict[str, TrackedMessage]:
        """Every record of the store, with its report history, by client id."""

        async def read() -> dict[str, TrackedMessage]:
            async with SQLiteStore(self.store) as store:
                ids = [r.client_id async for r in store.records()]
                return {cid: await store.get(cid) for cid in ids}

        return anyio.run(read, backend="asyncio")

    def kill_when_accepted(self, child: subprocess.Popen[str], accepted: int) -> float:
        """SIGKILL the campaign once the simulator has accepted ``accepted`` messages; the
        moment of the kill (``time.time()``)."""
        deadline = time.monotonic() + 60
        try:
            while self.accepted_count() < accepted:
                assert child.poll() is None, child.communicate()[1][-3000:]
                assert time.monotonic() < deadline, "the campaign did not get going"
                time.sleep(0.005)
            child.kill()
            killed_at = time.time()
        finally:
            if child.poll() is None:
                child.kill()
            child.communicate(timeout=30)
        return killed_at


@pytest.fixture
def drill(tmp_path: Path) -> Iterator[Drill]:
    with ExitStack() as stack:
        portal = stack.enter_context(start_blocking_portal(backend="asyncio"))
        # Real time: receipts come on their own, a fraction of a second after each accept.
        sim = SMSCSimulator(seed=SEED, clock=time.time, balance=Decimal(10**9))
        behaviour = sim.behaviour
        behaviour.smpp.throughput = None  # type: ignore[attr-defined]
        behaviour.transmit_delay = 0.1
        behaviour.delivery_delay = 0.4
        # The provider refuses an identical resend within a minute; off, so that a resend the
        # caller asked for is accepted and counted (the drills check it was asked for).
        behaviour.duplicate_window = 0
        stack.enter_context(portal.wrap_async_context_manager(sim))
        yield Drill(sim=sim, portal=portal, store=tmp_path / "campaign.smsc.db")
