"""Closing a pool from a cancelled scope (a caller's deadline, Ctrl-C) is prompt: the tasks that
would read the unbind answer are gone, so nothing may wait out ``Timeouts.unbind``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from smscenter import Limits, Message, SMPPPool, Timeouts
from smscenter.testing import SMSCSimulator


@pytest.fixture
async def sim() -> AsyncIterator[SMSCSimulator]:
    async with SMSCSimulator(seed=5) as simulator:
        simulator.behaviour.smpp.throughput = None
        yield simulator


async def test_close_inside_a_cancelled_scope_is_prompt(sim: SMSCSimulator) -> None:
    started = anyio.current_time()
    with anyio.move_on_after(0.5) as scope:
        async with SMPPPool(
            sim.smpp_host,
            sim.smpp_port,
            sim.smpp_credentials,
            timeouts=Timeouts(10, unbind=8),
            limits=Limits(max_rate=None, connections=2),
        ) as pool:
            result = await pool.send(Message(to="+79991234567", text="before the deadline"))
            await anyio.sleep(30)  # the deadline cancels this
    elapsed = anyio.current_time() - started
    assert scope.cancelled_caught
    assert result.message_id
    assert elapsed < 3.0, f"closing took {elapsed:.1f} s (waited out the unbind timeout?)"
    # The SMSC was told goodbye (unbind) or at least saw the connections end.
    with anyio.fail_after(5):
        while sim.smpp.sessions("demo"):  # noqa: ASYNC110 - bounded poll of simulator state
            await anyio.sleep(0.01)
