"""Test helpers: an embedded SMS Center simulator.

:class:`SMSCSimulator` serves the provider's HTTP API on 127.0.0.1 with the provider's
behaviour (auth, errors, billing, statuses that move over simulated time, duplicate refusal,
the concurrency limit) and knobs for faults, and SMPP 3.4 (the SMSC side, sharing the same
state: binds, MCON, receipts, throttling, incoming messages; see :class:`SMPPBehaviour`).
Needs the ``testing`` extra (starlette, uvicorn, python-multipart). A pytest fixture is in
:mod:`smscenter.testing.pytest_plugin`.
"""

from __future__ import annotations

import warnings

from smscenter import _exports
from smscenter.testing._hosted import simulator_in_task as simulator_in_task
from smscenter.testing._http_app import RequestRecord as RequestRecord
from smscenter.testing._http_app import RequestStats as RequestStats
from smscenter.testing._http_app import SimulatorApp as SimulatorApp
from smscenter.testing._smpp_server import SMPPBehaviour as SMPPBehaviour
from smscenter.testing._smpp_server import SMPPCounters as SMPPCounters
from smscenter.testing._smpp_server import SMPPServer as SMPPServer
from smscenter.testing._smpp_server import SMPPSessionInfo as SMPPSessionInfo
from smscenter.testing._state import Account as Account
from smscenter.testing._state import Behaviour as Behaviour
from smscenter.testing._state import HlrResult as HlrResult
from smscenter.testing._state import IncomingRecord as IncomingRecord
from smscenter.testing._state import ManualClock as ManualClock
from smscenter.testing._state import SendRequest as SendRequest
from smscenter.testing._state import SentMessage as SentMessage
from smscenter.testing._state import SimDownloadTask as SimDownloadTask
from smscenter.testing._state import SimError as SimError
from smscenter.testing._state import SimulatorState as SimulatorState
from smscenter.testing._state import StatusChange as StatusChange
from smscenter.testing._state import count_parts as count_parts
from smscenter.testing.simulator import SMSCSimulator as SMSCSimulator

__all__ = (
    "Account",
    "Behaviour",
    "HlrResult",
    "IncomingRecord",
    "ManualClock",
    "RequestRecord",
    "RequestStats",
    "SMPPBehaviour",
    "SMPPCounters",
    "SMPPServer",
    "SMPPSessionInfo",
    "SMSCSimulator",
    "SendRequest",
    "SentMessage",
    "SimDownloadTask",
    "SimError",
    "SimulatorApp",
    "SimulatorState",
    "StatusChange",
    "count_parts",
    "simulator_in_task",
)

_exports.publish(__name__, globals(), __all__)

# The simulator's stored download task was called DownloadTask, the name of the HTTP client's
# record (smscenter.http.DownloadTask); the old spelling still resolves, with a warning.
_RENAMED = {"DownloadTask": "SimDownloadTask"}


def __getattr__(name: str) -> object:
    new = _RENAMED.get(name)
    if new is None:
        raise AttributeError(f"module 'smscenter.testing' has no attribute {name!r}")
    warnings.warn(
        f"smscenter.testing.{name} is now smscenter.testing.{new} "
        f"(smscenter.http.{name} is the HTTP client's record)",
        DeprecationWarning,
        stacklevel=2,
    )
    return globals()[new]
