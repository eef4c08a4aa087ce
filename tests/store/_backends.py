"""The store backends the conformance suite runs against, by name.

A test process and its child processes open the same store from a (name, location) pair: a
file path for SQLite (a server address and a key prefix for server backends, once they come).
"""

from __future__ import annotations

from typing import Any

from smscenter.store import MessageStore, SQLiteStore

BACKENDS = ("sqlite",)


def open_store(name: str, location: str, **options: Any) -> MessageStore:
    """A store (not opened yet: use ``async with``) of backend ``name`` at ``location``.

    ``poll_interval`` is passed to backends that poll for other processes' changes.
    """
    if name == "sqlite":
        return SQLiteStore(location, **options)
    raise ValueError(f"no store backend {name!r}")
