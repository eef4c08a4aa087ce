"""Delivery tracking that survives restarts: a message store.

Give a store to a transport (``SMPPPool(..., store=store)``, ``HTTPClient(..., store=store)``,
the FastAPI callback router's ``store=``) and every message with a
:attr:`~smscenter.Message.client_id` is recorded before it goes out, settled when its answer
comes, and moved on by its delivery reports, in a file (or server) that outlives the process.

- :class:`MessageStore`: the protocol every backend implements (and its durability contract).
- :class:`SQLiteStore`: the embedded default (one file, WAL).
- :class:`RedisStore`: one store for a fleet of workers on a Redis server (the ``redis`` extra;
  loaded on first use).
- :class:`TrackedMessage` / :class:`TrackedState`: what a store hands back.
"""

from __future__ import annotations

import typing

from smscenter import _exports
from smscenter.store._model import (
    NotTrackedError,
    PlannedSend,
    ReportEntry,
    Settlement,
    StoreError,
    TrackedMessage,
    TrackedState,
    store_key,
)
from smscenter.store._protocol import MessageStore

# Backends with an optional dependency load on first use (``import smscenter.store`` needs none).
_LAZY = {"RedisStore": "smscenter.store.redis"}

if typing.TYPE_CHECKING:
    from smscenter.store.redis import RedisStore as RedisStore


def __getattr__(name: str) -> object:
    return _exports.load(__name__, globals(), name, _LAZY)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = (
    "MessageStore",
    "NotTrackedError",
    "PlannedSend",
    "RedisStore",
    "ReportEntry",
    "Settlement",
    "StoreError",
    "TrackedMessage",
    "TrackedState",
    "store_key",
)
