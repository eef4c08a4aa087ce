"""An opt-in pytest plugin with an ``smsc_simulator`` fixture.

Enable it in your ``conftest.py``::

    pytest_plugins = ["smscenter.testing.pytest_plugin"]

The fixture is async and yields a running :class:`~smscenter.testing.SMSCSimulator`, fresh for
every test. It needs an async test runner on asyncio: anyio's pytest plugin (asyncio backend)
or pytest-asyncio (``asyncio_mode = "auto"``, since the fixture is a plain ``pytest.fixture``).
pytest-asyncio runs a fixture's setup and teardown in different tasks; the simulator is
therefore owned by a task of its own (:func:`~smscenter.testing.simulator_in_task`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from smscenter.testing._hosted import simulator_in_task
from smscenter.testing.simulator import SMSCSimulator

__all__ = ("smsc_simulator",)


@pytest.fixture
async def smsc_simulator() -> AsyncIterator[SMSCSimulator]:
    """A running simulator on 127.0.0.1 with a default account (``sim.credentials``)."""
    async with simulator_in_task() as sim:
        yield sim
