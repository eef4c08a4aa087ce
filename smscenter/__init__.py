"""smscenter: an async client SDK for the SMS Center messaging service (smsc.ru, smscentre.com).

One message model for every transport: a :class:`Message` goes out over HTTP (:class:`HTTPClient`)
or SMPP, and a :class:`SendResult`, :class:`DeliveryReport` or :class:`IncomingMessage` comes back.
"""

from __future__ import annotations

import importlib
import typing

from smscenter._version import __version__ as __version__
from smscenter.config import Credentials as Credentials
from smscenter.config import Limits as Limits
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
from smscenter.exceptions import Transport as Transport
from smscenter.exceptions import TransportError as TransportError
from smscenter.exceptions import UndeliverableError as UndeliverableError
from smscenter.exceptions import UnknownOutcomeError as UnknownOutcomeError
from smscenter.exceptions import ValidationError as ValidationError
from smscenter.exceptions import VerificationCodeError as VerificationCodeError
from smscenter.exceptions import WebhookError as WebhookError
from smscenter.models import Attachment as Attachment
from smscenter.models import Balance as Balance
from smscenter.models import CallConfirmation as CallConfirmation
from smscenter.models import CallInfo as CallInfo
from smscenter.models import Cost as Cost
from smscenter.models import DeliveryError as DeliveryError
from smscenter.models import DeliveryReport as DeliveryReport
from smscenter.models import ExtraStatus as ExtraStatus
from smscenter.models import HlrInfo as HlrInfo
from smscenter.models import IncomingMessage as IncomingMessage
from smscenter.models import Message as Message
from smscenter.models import MessageFlags as MessageFlags
from smscenter.models import MessageKind as MessageKind
from smscenter.models import MessageStatus as MessageStatus
from smscenter.models import MessageType as MessageType
from smscenter.models import RecipientResult as RecipientResult
from smscenter.models import SendResult as SendResult
from smscenter.models import SendWindow as SendWindow
from smscenter.models import TemplateKind as TemplateKind
from smscenter.models import Translit as Translit
from smscenter.options import CallSettings as CallSettings
from smscenter.options import SendOptions as SendOptions
from smscenter.options import Spread as Spread
from smscenter.options import ViberButton as ViberButton

# The transports are loaded on first use: `import smscenter` (and the sans-IO SMPP core under it)
# stays free of httpx, anyio and sockets until an HTTPClient or SMPPPool is asked for.
_LAZY: dict[str, str] = {
    "HTTPClient": "smscenter.http.client",
    "CallToConfirm": "smscenter.http.records",
    "Contact": "smscenter.http.records",
    "ContactGroup": "smscenter.http.records",
    "DownloadStatus": "smscenter.http.records",
    "DownloadTask": "smscenter.http.records",
    "Mailing": "smscenter.http.records",
    "MegafonAccount": "smscenter.http.records",
    "OperatorInfo": "smscenter.http.records",
    "OperatorPrice": "smscenter.http.records",
    "PriceList": "smscenter.http.records",
    "PriceZone": "smscenter.http.records",
    "ReceiveNumber": "smscenter.http.records",
    "SenderId": "smscenter.http.records",
    "StatisticsRow": "smscenter.http.records",
    "ReconcilePolicy": "smscenter.smpp.client.reconcile",
    "SMPPPool": "smscenter.smpp.client.pool",
    "QueryResult": "smscenter.smpp.client.results",
    "SendOutcome": "smscenter.smpp.client.results",
    "SMPPSession": "smscenter.smpp.client.session",
    "SMPPStatistics": "smscenter.smpp.client.results",
}

if typing.TYPE_CHECKING:
    from smscenter.http.client import HTTPClient as HTTPClient
    from smscenter.http.records import CallToConfirm as CallToConfirm
    from smscenter.http.records import Contact as Contact
    from smscenter.http.records import ContactGroup as ContactGroup
    from smscenter.http.records import DownloadStatus as DownloadStatus
    from smscenter.http.records import DownloadTask as DownloadTask
    from smscenter.http.records import Mailing as Mailing
    from smscenter.http.records import MegafonAccount as MegafonAccount
    from smscenter.http.records import OperatorInfo as OperatorInfo
    from smscenter.http.records import OperatorPrice as OperatorPrice
    from smscenter.http.records import PriceList as PriceList
    from smscenter.http.records import PriceZone as PriceZone
    from smscenter.http.records import ReceiveNumber as ReceiveNumber
    from smscenter.http.records import SenderId as SenderId
    from smscenter.http.records import StatisticsRow as StatisticsRow
    from smscenter.smpp.client.pool import SMPPPool as SMPPPool
    from smscenter.smpp.client.reconcile import ReconcilePolicy as ReconcilePolicy
    from smscenter.smpp.client.results import QueryResult as QueryResult
    from smscenter.smpp.client.results import SendOutcome as SendOutcome
    from smscenter.smpp.client.results import SMPPStatistics as SMPPStatistics
    from smscenter.smpp.client.session import SMPPSession as SMPPSession


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'smscenter' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = (
    "APIError", "Attachment", "AuthenticationError", "Balance", "BindTimeout", "BlacklistedError",
    "CallConfirmation", "CallInfo", "CallSettings", "CallToConfirm", "ConnectError",
    "ConnectTimeout", "ConnectionLost", "Contact", "ContactGroup", "Cost", "Credentials",
    "DeliveryError", "DeliveryReport", "DownloadStatus", "DownloadTask", "DuplicateRequestError",
    "ExtraStatus", "HTTPClient", "HlrInfo", "IPBlockedError", "IncomingMessage",
    "InsufficientFundsError", "InvalidRecipientError", "InvalidTimeError", "Limits",
    "LocalProtocolError", "Mailing", "MalformedCallback", "MegafonAccount", "Message",
    "MessageFlags", "MessageForbiddenError", "MessageKind", "MessageStatus", "MessageType",
    "NotFoundError", "OperationFailedError", "OperationTimeout", "OperatorInfo", "OperatorPrice",
    "ParameterError", "PoolTimeout", "PriceList", "PriceZone", "ProtocolError", "QueryResult",
    "RateLimitError", "ReceiveNumber", "RecipientResult", "ReconcilePolicy", "ReconnectPolicy",
    "RemoteProtocolError",
    "ResponseTimeout", "RetryPolicy", "SMPPOptions", "SMPPPool", "SMPPSession", "SMPPStatistics",
    "SMPPStatusError", "SMSCenterError", "SendOptions", "SendOutcome", "SendResult", "SendWindow",
    "SenderId", "SignatureMismatch", "Spread", "StatisticsRow", "TemplateKind", "ThrottledError",
    "Timeouts", "Translit", "Transport", "TransportError", "UndeliverableError",
    "UnknownOutcomeError", "ValidationError", "VerificationCodeError", "ViberButton",
    "WebhookError", "__version__",
)  # fmt: skip
