"""The suite's redis-server: real, on loopback, durable across a crash, empty for each test."""

from __future__ import annotations

import pytest

from tests.redis_server import RedisServer


def test_the_session_server_starts_empty_for_each_test(
    redis_server: RedisServer, redis_url: str
) -> None:
    with redis_server.client() as client:
        assert client.dbsize() == 0
        client.set("left-behind", "1")
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("appendfsync") == {"appendfsync": "always"}
        assert client.config_get("bind")["bind"] == "127.0.0.1"


def test_the_next_test_sees_nothing_of_the_last(redis_server: RedisServer, redis_url: str) -> None:
    with redis_server.client() as client:
        assert client.get("left-behind") is None


@pytest.mark.parametrize("crash", [False, True], ids=["sigterm", "sigkill"])
def test_a_restart_keeps_what_was_written_aof(own_redis_server: RedisServer, crash: bool) -> None:
    server = own_redis_server
    with server.client() as client:
        client.set("kept", "yes")
        client.set("short", "1", px=60_000)
    server.restart(crash=crash)
    with server.client() as client:
        assert client.get("kept") == b"yes"
        assert 0 < client.pttl("short") <= 60_000
    server.stop()
    assert not server.running
