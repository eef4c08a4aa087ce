"""SMPP 3.4 for smscenter: the pool, its sessions and the types they take and give.

:class:`SMPPPool` (also ``smscenter.SMPPPool``) is the client most code wants. This package also
names what a closer look needs: one bind (:class:`SMPPSession`), its statistics and query
answers, the receipt stream, the bind's options (:class:`SystemType`, :class:`BindMode`,
:class:`SubmitOptions`), late answers and the SMPP status codes.

The sans-IO core (no sockets, no clock, no tasks) lives in :mod:`smscenter.smpp.constants`,
:mod:`smscenter.smpp.pdu` (PDUs, codec, framer), :mod:`smscenter.smpp.events` and
:mod:`smscenter.smpp.connection` (the session state machine for both ESME and SMSC roles).
Every name here loads on first use, so importing the core never pulls anyio.
"""

from __future__ import annotations

import typing

from smscenter import _exports

# name -> the module that defines it. Each is also in the TYPE_CHECKING block and in __all__;
# tests/test_public_api.py checks that the three agree.
_LAZY: dict[str, str] = {
    "BindMode": "smscenter.smpp.constants",
    "CommandStatus": "smscenter.smpp.constants",
    "LateAnswer": "smscenter._late",
    "LateAnswerHandler": "smscenter._late",
    "QueryResult": "smscenter.smpp.client.results",
    "ReceiptIdStyle": "smscenter.ids",
    "ReconcilePolicy": "smscenter.config",
    "ReconnectPolicy": "smscenter.config",
    "ReportStream": "smscenter.smpp.client.reports",
    "SMPPPool": "smscenter.smpp.client.pool",
    "SMPPSession": "smscenter.smpp.client.session",
    "SMPPStatistics": "smscenter.smpp.client.results",
    "SendOutcome": "smscenter.smpp.client.results",
    "SubmitOptions": "smscenter.smpp.submit",
    "SystemType": "smscenter.smpp.system_type",
}

if typing.TYPE_CHECKING:
    from smscenter._late import LateAnswer as LateAnswer
    from smscenter._late import LateAnswerHandler as LateAnswerHandler
    from smscenter.config import ReconcilePolicy as ReconcilePolicy
    from smscenter.config import ReconnectPolicy as ReconnectPolicy
    from smscenter.ids import ReceiptIdStyle as ReceiptIdStyle
    from smscenter.smpp.client.pool import SMPPPool as SMPPPool
    from smscenter.smpp.client.reports import ReportStream as ReportStream
    from smscenter.smpp.client.results import QueryResult as QueryResult
    from smscenter.smpp.client.results import SendOutcome as SendOutcome
    from smscenter.smpp.client.results import SMPPStatistics as SMPPStatistics
    from smscenter.smpp.client.session import SMPPSession as SMPPSession
    from smscenter.smpp.constants import BindMode as BindMode
    from smscenter.smpp.constants import CommandStatus as CommandStatus
    from smscenter.smpp.submit import SubmitOptions as SubmitOptions
    from smscenter.smpp.system_type import SystemType as SystemType


def __getattr__(name: str) -> object:
    return _exports.load(__name__, globals(), name, _LAZY)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = (
    "BindMode",
    "CommandStatus",
    "LateAnswer",
    "LateAnswerHandler",
    "QueryResult",
    "ReceiptIdStyle",
    "ReconcilePolicy",
    "ReconnectPolicy",
    "ReportStream",
    "SMPPPool",
    "SMPPSession",
    "SMPPStatistics",
    "SendOutcome",
    "SubmitOptions",
    "SystemType",
)
