"""Fixtures of the store conformance suite: one ``backend`` per store implementation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from smscenter.store import MessageStore
from tests.store._backends import BACKENDS, open_store


@attrs.frozen
class Backend:
    """Where a test's store lives; ``open()`` gives a new (unopened) store on the same data."""

    name: str
    location: str

    def open(self, **options: Any) -> MessageStore:
        return open_store(self.name, self.location, **options)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    name = request.param
    assert isinstance(name, str)
    if name == "redis":
        # A real redis-server (tests/redis_server.py), emptied for each test.
        url = request.getfixturevalue("redis_url")
        return Backend(name, f"{url}#conformance")
    return Backend(name, str(tmp_path / "store.sqlite3"))


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[MessageStore]:
    async with backend.open(poll_interval=0.05) as opened:
        yield opened
