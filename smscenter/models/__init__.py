"""The one message model shared by every transport (HTTP, SMPP, SMTP, webhooks).

A :class:`Message` goes out; a :class:`SendResult`, :class:`DeliveryReport` or
:class:`IncomingMessage` comes back, whichever channel carried it. Status codes, error codes and
flag bits from all channels map onto the same enums here. Field names describe the concept
(``changed_at``, ``parts``), never a wire name (``last_timestamp``, ``sub``); each wire format is
mapped once, in a named constructor in its transport module.

Everything is a frozen, slotted attrs class validated at construction: invalid input raises
:class:`ValueError` before anything is sent. Money is :class:`~decimal.Decimal`; times are aware
:class:`~datetime.datetime` values.

The names live in four private modules, one concept each: ``_kinds`` (what a message is: kind,
reported type, ``flag`` bits), ``_status`` (what happened: status, delivery error, extra
status), ``_message`` (the outgoing :class:`Message` and its validation) and ``_reports`` (what
comes back: results, reports, incoming messages). Import them from here.
"""

from __future__ import annotations

from smscenter import _exports
from smscenter._provider import Transport as Transport
from smscenter.models._kinds import MessageFlags as MessageFlags
from smscenter.models._kinds import MessageKind as MessageKind
from smscenter.models._kinds import MessageType as MessageType
from smscenter.models._kinds import TemplateKind as TemplateKind
from smscenter.models._kinds import Translit as Translit
from smscenter.models._message import MAX_CLIENT_ID as MAX_CLIENT_ID
from smscenter.models._message import MAX_TEXT_LENGTH as MAX_TEXT_LENGTH
from smscenter.models._message import Message as Message
from smscenter.models._message import ScheduledTime as ScheduledTime
from smscenter.models._reports import Balance as Balance
from smscenter.models._reports import CallConfirmation as CallConfirmation
from smscenter.models._reports import CallInfo as CallInfo
from smscenter.models._reports import Cost as Cost
from smscenter.models._reports import DeliveryReport as DeliveryReport
from smscenter.models._reports import HlrInfo as HlrInfo
from smscenter.models._reports import IncomingMessage as IncomingMessage
from smscenter.models._reports import RecipientResult as RecipientResult
from smscenter.models._reports import SendResult as SendResult
from smscenter.models._reports import _make_send_result as _make_send_result
from smscenter.models._reports import _make_smpp_result as _make_smpp_result
from smscenter.models._reports import client_id_of as client_id_of
from smscenter.models._status import DeliveryError as DeliveryError
from smscenter.models._status import ExtraStatus as ExtraStatus
from smscenter.models._status import MessageStatus as MessageStatus
from smscenter.models._values import Attachment as Attachment
from smscenter.models._values import SendWindow as SendWindow

__all__ = (
    "Attachment",
    "Balance",
    "CallConfirmation",
    "CallInfo",
    "Cost",
    "DeliveryError",
    "DeliveryReport",
    "ExtraStatus",
    "HlrInfo",
    "IncomingMessage",
    "Message",
    "MessageFlags",
    "MessageKind",
    "MessageStatus",
    "MessageType",
    "RecipientResult",
    "SendResult",
    "SendWindow",
    "TemplateKind",
    "Translit",
    "Transport",
)

# Reprs, docs and pickles name this package, not the private module a class is written in (the
# top-level package and smscenter.http then claim the names they export, as before the split).
_OWN = [name for name in __all__ if globals()[name].__module__.startswith(__name__)]
_exports.publish(__name__, globals(), [*_OWN, "client_id_of"])
