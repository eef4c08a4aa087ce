"""The store backends the conformance suite runs against, by name.

A test process and its child processes open the same store from a (name, location) pair: a
file path for SQLite; for Redis, the server's URL and the login that names the keys, as
``redis://127.0.0.1:<port>/0#<login>`` (a real redis-server: the ``redis_url`` fixture).
"""

from __future__ import annotations

from typing import Any

from smscenter.store import MessageStore, RedisStore, SQLiteStore

BACKENDS = ("sqlite", "redis")


def open_store(name: str, location: str, **options: Any) -> MessageStore:
    """A store (not opened yet: use ``async with``) of backend ``name`` at ``location``.

    ``poll_interval`` is passed to backends that poll for other processes' changes.
    """
    if name == "sqlite":
        return SQLiteStore(location, **options)
    if name == "redis":
        url, login = location.rsplit("#", 1)
        return RedisStore(url, login=login, **options)
    raise ValueError(f"no store backend {name!r}")
