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
from smscenter.store._model import NotTrackedError as NotTrackedError
from smscenter.store._model import PlannedSend as PlannedSend
from smscenter.store._model import ReportEntry as ReportEntry
from smscenter.store._model import Settlement as Settlement
from smscenter.store._model import StoreError as StoreError
from smscenter.store._model import TrackedMessage as TrackedMessage
from smscenter.store._model import TrackedState as TrackedState
from smscenter.store._model import store_key as store_key
from smscenter.store._protocol import MessageStore as MessageStore

# The backends load on first use: `import smscenter.store` (the transports import it for the
# protocol and the values) pulls neither aiosqlite nor redis, nor asyncio.
_LAZY: dict[str, str] = {
    "RedisStore": "smscenter.store.redis",
    "SQLiteStore": "smscenter.store.sqlite",
}

if typing.TYPE_CHECKING:
    from smscenter.store.redis import RedisStore as RedisStore
    from smscenter.store.sqlite import SQLiteStore as SQLiteStore


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
    "SQLiteStore",
    "Settlement",
    "StoreError",
    "TrackedMessage",
    "TrackedState",
    "store_key",
)

_exports.publish(__name__, globals(), (n for n in __all__ if n not in _LAZY and n[0] != "_"))
