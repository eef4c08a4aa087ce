"""Run a simulator in a task of its own, so it can be started and stopped from different tasks.

anyio's task groups (the simulator holds one for its servers) must be exited in the task that
entered them. pytest-asyncio runs an async generator fixture's setup and its teardown in two
different tasks, so ``async with SMSCSimulator()`` around a fixture's ``yield`` fails at
teardown with "Attempted to exit cancel scope in a different task". Here the simulator is
entered and exited by one host task; the caller only waits for it to start and tells it to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from smscenter.testing.simulator import SMSCSimulator

__all__ = ("simulator_in_task",)


@contextlib.asynccontextmanager
async def simulator_in_task(**options: Any) -> AsyncIterator[SMSCSimulator]:
    """A running :class:`SMSCSimulator` (built with ``options``) owned by a task of its own.

    Use it where the block may be left in another task than the one that entered it, e.g. in
    your own async fixture under pytest-asyncio::

        @pytest_asyncio.fixture
        async def sim():
            async with simulator_in_task(smpp=False) as simulator:
                yield simulator

    Works under anyio's pytest plugin (asyncio backend) too. Needs asyncio, like the simulator.

    :raises RuntimeError: not on asyncio.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError("the simulator runs uvicorn, which needs the asyncio backend") from None
    ready: asyncio.Future[SMSCSimulator] = loop.create_future()
    stop = asyncio.Event()

    async def host() -> None:
        async with SMSCSimulator(**options) as sim:
            ready.set_result(sim)
            await stop.wait()

    task = loop.create_task(host(), name="smscenter-simulator")
    first: set[asyncio.Future[Any]] = {task, ready}
    try:
        await asyncio.wait(first, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:  # cancelled while starting: do not leave the host behind
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        raise
    if not ready.done():
        task.result()  # the start-up error
        raise RuntimeError("the simulator stopped before it started")  # pragma: no cover
    try:
        yield ready.result()
    finally:
        stop.set()
        await task
