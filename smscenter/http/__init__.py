"""The provider's HTTP API: :class:`HTTPClient` and the records its endpoints return.

``HTTPClient`` is also ``smscenter.HTTPClient``; the records (balance, prices, contacts,
mailings, statistics, ...) are named only here.

:mod:`smscenter.http._protocol` holds the sans-IO mapping (models to form fields, JSON to
models); :mod:`smscenter.http.client` does the I/O over httpx.
"""

from __future__ import annotations

from smscenter import _exports
from smscenter.http.client import HTTPClient as HTTPClient
from smscenter.http.client import map_httpx_error as map_httpx_error
from smscenter.http.records import BlacklistScope as BlacklistScope
from smscenter.http.records import CallToConfirm as CallToConfirm
from smscenter.http.records import Contact as Contact
from smscenter.http.records import ContactDetails as ContactDetails
from smscenter.http.records import ContactGroup as ContactGroup
from smscenter.http.records import DownloadStatus as DownloadStatus
from smscenter.http.records import DownloadTask as DownloadTask
from smscenter.http.records import GroupMove as GroupMove
from smscenter.http.records import Mailing as Mailing
from smscenter.http.records import MailingRepeat as MailingRepeat
from smscenter.http.records import MailingResend as MailingResend
from smscenter.http.records import MegafonAccount as MegafonAccount
from smscenter.http.records import MessageFormat as MessageFormat
from smscenter.http.records import OperatorInfo as OperatorInfo
from smscenter.http.records import OperatorPrice as OperatorPrice
from smscenter.http.records import PortedNumber as PortedNumber
from smscenter.http.records import PriceList as PriceList
from smscenter.http.records import PriceZone as PriceZone
from smscenter.http.records import ReceiveNumber as ReceiveNumber
from smscenter.http.records import SenderId as SenderId
from smscenter.http.records import SenderRegistration as SenderRegistration
from smscenter.http.records import ShortLink as ShortLink
from smscenter.http.records import StatisticsRow as StatisticsRow
from smscenter.http.records import SubClientType as SubClientType
from smscenter.http.records import Template as Template
from smscenter.models import Balance as Balance
from smscenter.models import Cost as Cost

__all__ = (
    "Balance",
    "BlacklistScope",
    "CallToConfirm",
    "Contact",
    "ContactDetails",
    "ContactGroup",
    "Cost",
    "DownloadStatus",
    "DownloadTask",
    "GroupMove",
    "HTTPClient",
    "Mailing",
    "MailingRepeat",
    "MailingResend",
    "MegafonAccount",
    "MessageFormat",
    "OperatorInfo",
    "OperatorPrice",
    "PortedNumber",
    "PriceList",
    "PriceZone",
    "ReceiveNumber",
    "SenderId",
    "SenderRegistration",
    "ShortLink",
    "StatisticsRow",
    "SubClientType",
    "Template",
    "map_httpx_error",
)

_exports.publish(__name__, globals(), __all__)
