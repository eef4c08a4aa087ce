"""Fixtures for the HTTP client tests: the embedded simulator on 127.0.0.1 and a client on it."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from smscenter import HTTPClient, RetryPolicy
from smscenter.testing.simulator import SMSCSimulator

#: No pauses between attempts: failover tests stay fast and deterministic.
FAST_RETRY = RetryPolicy(attempts=3, backoff=0.0, jitter=0.0)


def dead_base_url() -> str:
    """A base URL on 127.0.0.1 whose port refuses connections (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
async def sim() -> AsyncIterator[SMSCSimulator]:
    async with SMSCSimulator() as simulator:
        yield simulator


@pytest.fixture
async def client(sim: SMSCSimulator) -> AsyncIterator[HTTPClient]:
    async with HTTPClient(sim.credentials, base_url=sim.base_url, retry=FAST_RETRY) as api:
        yield api
