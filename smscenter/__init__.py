"""smscenter: an async client SDK for the SMS Center messaging service (smsc.ru, smscentre.com).

One message model for every transport: a :class:`Message` goes out over HTTP (:class:`HTTPClient`)
or SMPP (:class:`SMPPPool`), and a :class:`SendResult`, :class:`DeliveryReport` or
:class:`IncomingMessage` comes back.

The top level holds what most code names: the clients, the message and the options it is built
from, the results, the status and error enums, the configuration and every exception. The
records of the HTTP API's other endpoints are in :mod:`smscenter.http`, the SMPP session and
its statistics in :mod:`smscenter.smpp`, and the simulator in :mod:`smscenter.testing`.
"""

from __future__ import annotations

import typing

from smscenter import _exports
from smscenter._version import __version__ as __version__
from smscenter.config import Credentials as Credentials
from smscenter.config import Limits as Limits
from smscenter.config import ReconcilePolicy as ReconcilePolicy
from smscenter.config import ReconnectPolicy as ReconnectPolicy
from smscenter.config import RetryPolicy as RetryPolicy
from smscenter.config import SMPPOptions as SMPPOptions
from smscenter.config import Timeouts as Timeouts
from smscenter.exceptions import APIError as APIError
from smscenter.exceptions import AuthenticationError as AuthenticationError
from smscenter.exceptions import BindTimeout as BindTimeout
from smscenter.exceptions import BlacklistedError as BlacklistedError
from smscenter.exceptions import ConnectError as ConnectError
from smscenter.exceptions import ConnectionLost as ConnectionLost
from smscenter.exceptions import ConnectTimeout as ConnectTimeout
from smscenter.exceptions import DuplicateRequestError as DuplicateRequestError
from smscenter.exceptions import InsufficientFundsError as InsufficientFundsError
from smscenter.exceptions import InvalidRecipientError as InvalidRecipientError
from smscenter.exceptions import InvalidTimeError as InvalidTimeError
from smscenter.exceptions import IPBlockedError as IPBlockedError
from smscenter.exceptions import LocalProtocolError as LocalProtocolError
from smscenter.exceptions import MalformedCallback as MalformedCallback
from smscenter.exceptions import MessageForbiddenError as MessageForbiddenError
from smscenter.exceptions import NotFoundError as NotFoundError
from smscenter.exceptions import OperationFailedError as OperationFailedError
from smscenter.exceptions import OperationTimeout as OperationTimeout
from smscenter.exceptions import ParameterError as ParameterError
from smscenter.exceptions import PoolTimeout as PoolTimeout
from smscenter.exceptions import ProtocolError as ProtocolError
from smscenter.exceptions import RateLimitError as RateLimitError
from smscenter.exceptions import RemoteProtocolError as RemoteProtocolError
from smscenter.exceptions import ResponseTimeout as ResponseTimeout
from smscenter.exceptions import SignatureMismatch as SignatureMismatch
from smscenter.exceptions import SMPPStatusError as SMPPStatusError
from smscenter.exceptions import SMSCenterError as SMSCenterError
from smscenter.exceptions import ThrottledError as ThrottledError
from smscenter.exceptions import TransportError as TransportError
from smscenter.exceptions import UndeliverableError as UndeliverableError
from smscenter.exceptions import UnknownOutcomeError as UnknownOutcomeError
from smscenter.exceptions import ValidationError as ValidationError
from smscenter.exceptions import VerificationCodeError as VerificationCodeError
from smscenter.exceptions import WebhookError as WebhookError
from smscenter.models import CallConfirmation as CallConfirmation
from smscenter.models import DeliveryError as DeliveryError
from smscenter.models import DeliveryReport as DeliveryReport
from smscenter.models import IncomingMessage as IncomingMessage
from smscenter.models import Message as Message
from smscenter.models import MessageKind as MessageKind
from smscenter.models import MessageStatus as MessageStatus
from smscenter.models import SendResult as SendResult
from smscenter.models import SendWindow as SendWindow
from smscenter.models import Transport as Transport
from smscenter.options import SendOptions as SendOptions

# The transports are loaded on first use: `import smscenter` (and the sans-IO SMPP core under it)
# stays free of httpx, anyio and sockets until an HTTPClient or SMPPPool is asked for. Each lazy
# name is also in the TYPE_CHECKING block below and in __all__; tests/test_public_api.py checks
# that the three agree.
_LAZY: dict[str, str] = {
    "HTTPClient": "smscenter.http",
    "SMPPPool": "smscenter.smpp",
    "SendOutcome": "smscenter.smpp",
}

if typing.TYPE_CHECKING:
    from smscenter.http import HTTPClient as HTTPClient
    from smscenter.smpp import SendOutcome as SendOutcome
    from smscenter.smpp import SMPPPool as SMPPPool

# Names that used to be here, and where they live now: they still resolve (with a
# DeprecationWarning) so older code keeps working, but are no longer listed.
_MOVED: dict[str, str] = {
    **dict.fromkeys(
        ("Balance", "CallToConfirm", "Contact", "ContactGroup", "Cost", "DownloadStatus",
         "DownloadTask", "Mailing", "MegafonAccount", "OperatorInfo", "OperatorPrice",
         "PriceList", "PriceZone", "ReceiveNumber", "SenderId", "StatisticsRow"),
        "smscenter.http",
    ),
    **dict.fromkeys(("QueryResult", "SMPPSession", "SMPPStatistics"), "smscenter.smpp"),
    **dict.fromkeys(
        ("Attachment", "CallInfo", "ExtraStatus", "HlrInfo", "MessageFlags", "MessageType",
         "RecipientResult", "TemplateKind", "Translit"),
        "smscenter.models",
    ),
    **dict.fromkeys(("CallSettings", "Spread", "ViberButton"), "smscenter.options"),
}  # fmt: skip


def __getattr__(name: str) -> object:
    return _exports.load(__name__, globals(), name, _LAZY, _MOVED)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = (
    "APIError", "AuthenticationError", "BindTimeout", "BlacklistedError",
    "CallConfirmation", "ConnectError", "ConnectTimeout", "ConnectionLost",
    "Credentials", "DeliveryError", "DeliveryReport", "DuplicateRequestError", "HTTPClient",
    "IPBlockedError", "IncomingMessage", "InsufficientFundsError", "InvalidRecipientError",
    "InvalidTimeError", "Limits", "LocalProtocolError", "MalformedCallback", "Message",
    "MessageForbiddenError", "MessageKind", "MessageStatus", "NotFoundError",
    "OperationFailedError", "OperationTimeout", "ParameterError", "PoolTimeout", "ProtocolError",
    "RateLimitError", "ReconcilePolicy", "ReconnectPolicy", "RemoteProtocolError",
    "ResponseTimeout", "RetryPolicy", "SMPPOptions", "SMPPPool", "SMPPStatusError",
    "SMSCenterError", "SendOptions", "SendOutcome", "SendResult", "SendWindow",
    "SignatureMismatch",
    "ThrottledError", "Timeouts", "Transport", "TransportError", "UndeliverableError",
    "UnknownOutcomeError", "ValidationError", "VerificationCodeError",
    "WebhookError", "__version__",
)  # fmt: skip

_exports.publish(__name__, globals(), (n for n in __all__ if n not in _LAZY and n[0] != "_"))
