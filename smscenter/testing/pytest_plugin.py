"""An opt-in pytest plugin with an ``smsc_simulator`` fixture.

Enable it in your ``conftest.py``::

    pytest_plugins = ["smscenter.testing.pytest_plugin"]

The fixture is async (it needs an async test runner such as anyio's pytest plugin, on the
asyncio backend) and yields a running :class:`~smscenter.testing.SMSCSimulator`, fresh for
every test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from smscenter.testing.simulator import SMSCSimulator

__all__ = ("smsc_simulator",)


@pytest.fixture
async def smsc_simulator() -> AsyncIterator[SMSCSimulator]:
    """A running simulator on 127.0.0.1 with a default account (``sim.credentials``)."""
    async with SMSCSimulator() as sim:
        yield sim
