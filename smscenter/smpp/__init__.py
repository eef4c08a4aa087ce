"""SMPP 3.4 for smscenter.

Two floors:

- the sans-IO protocol core (no sockets, no clock, no tasks) in this package's modules:
  :mod:`~smscenter.smpp.constants`, :mod:`~smscenter.smpp.pdu` (PDUs, codec, framer),
  :mod:`~smscenter.smpp.events`, :mod:`~smscenter.smpp.connection` (the session state machine
  for both ESME and SMSC roles), text, receipts, reassembly, statuses;
- the anyio client in :mod:`smscenter.smpp.client`: :class:`SMPPPool`, :class:`SMPPSession` and
  their values. Its names are exported here, loaded on first use, so that importing the core
  never pulls in anyio.
"""

from __future__ import annotations

import importlib
import typing

# name -> the module defining it (the client is loaded lazily: see the docstring).
_CLIENT: dict[str, str] = {
    "LateAnswer": "smscenter.smpp.client.overdue",
    "QueryResult": "smscenter.smpp.client.results",
    "ReconcilePolicy": "smscenter.smpp.client.reconcile",
    "ReconnectPolicy": "smscenter.config",
    "ReportStream": "smscenter.smpp.client.reports",
    "SMPPPool": "smscenter.smpp.client.pool",
    "SMPPSession": "smscenter.smpp.client.session",
    "SMPPStatistics": "smscenter.smpp.client.results",
    "SendOutcome": "smscenter.smpp.client.results",
}

if typing.TYPE_CHECKING:
    from smscenter.config import ReconnectPolicy as ReconnectPolicy
    from smscenter.smpp.client.overdue import LateAnswer as LateAnswer
    from smscenter.smpp.client.pool import SMPPPool as SMPPPool
    from smscenter.smpp.client.reconcile import ReconcilePolicy as ReconcilePolicy
    from smscenter.smpp.client.reports import ReportStream as ReportStream
    from smscenter.smpp.client.results import QueryResult as QueryResult
    from smscenter.smpp.client.results import SendOutcome as SendOutcome
    from smscenter.smpp.client.results import SMPPStatistics as SMPPStatistics
    from smscenter.smpp.client.session import SMPPSession as SMPPSession


def __getattr__(name: str) -> object:
    module = _CLIENT.get(name)
    if module is None:
        raise AttributeError(f"module 'smscenter.smpp' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_CLIENT))


__all__ = (
    "LateAnswer",
    "QueryResult",
    "ReconcilePolicy",
    "ReconnectPolicy",
    "ReportStream",
    "SMPPPool",
    "SMPPSession",
    "SMPPStatistics",
    "SendOutcome",
)
