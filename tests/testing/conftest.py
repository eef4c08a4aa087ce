"""Fixtures for the simulator's own tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from smscenter.testing import SMSCSimulator
from smscenter.testing.pytest_plugin import smsc_simulator as smsc_simulator


@pytest.fixture
async def sim() -> AsyncIterator[SMSCSimulator]:
    async with SMSCSimulator(seed=1) as simulator:
        yield simulator


@pytest.fixture
async def http(sim: SMSCSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.base_url, timeout=10) as client:
        yield client
