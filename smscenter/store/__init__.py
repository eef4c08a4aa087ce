"""Delivery tracking that survives restarts: a message store.

Give a store to a transport (``SMPPPool(..., store=store)``, ``HTTPClient(..., store=store)``,
the FastAPI callback router's ``store=``) and every message with a
:attr:`~smscenter.Message.client_id` is recorded before it goes out, settled when its answer
comes, and moved on by its delivery reports, in a file (or server) that outlives the process.

- :class:`MessageStore`: the protocol every backend implements (and its durability contract).
- :class:`SQLiteStore`: the embedded default (one file, WAL).
- :class:`TrackedMessage` / :class:`TrackedState`: what a store hands back.
"""

from __future__ import annotations

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

__all__ = (
    "MessageStore",
    "NotTrackedError",
    "PlannedSend",
    "ReportEntry",
    "Settlement",
    "StoreError",
    "TrackedMessage",
    "TrackedState",
    "store_key",
)
