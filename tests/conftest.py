"""Shared fixtures. Every network test talks to 127.0.0.1 only."""

from __future__ import annotations

import pytest
from hypothesis import settings

# A real redis-server for the fleet and Redis store tests (fixtures redis_server, redis_url,
# own_redis_server).
pytest_plugins = ["tests.redis_server"]

# Property tests explore the same examples on every run: a CI run is never red by luck. (A
# developer can still search afresh: pytest --hypothesis-profile=explore.)
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("ci")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
