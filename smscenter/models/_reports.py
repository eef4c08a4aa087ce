"""What comes back: the result of a send, delivery reports, incoming messages and call
confirmations, with the details a report may carry (:class:`HlrInfo`, :class:`CallInfo`).

Each class is the same whichever channel (HTTP, SMPP, callback) carried the answer; each wire
format is mapped once, in a named constructor in its transport module.
"""

from __future__ import annotations

import zlib
from datetime import datetime
from decimal import Decimal

import attrs

from smscenter._fastinit import fast_init, positional
from smscenter._provider import Transport
from smscenter.exceptions import ValidationError
from smscenter.ids import canonical_message_id
from smscenter.models._kinds import MessageFlags, MessageType
from smscenter.models._status import _WORD_TO_STATUS, DeliveryError, ExtraStatus, MessageStatus

__all__ = (
    "Balance",
    "CallConfirmation",
    "CallInfo",
    "Cost",
    "DeliveryReport",
    "HlrInfo",
    "IncomingMessage",
    "RecipientResult",
    "SendResult",
    "client_id_of",
)


@attrs.frozen(kw_only=True)
class HlrInfo:
    """The result of an HLR lookup: where the subscriber's SIM is registered and roaming."""

    imsi: str | None = None
    msc: str | None = None  #: the serving switch's number
    mcc: str | None = None
    mnc: str | None = None
    country: str | None = None
    operator: str | None = None
    roaming_country: str | None = None
    roaming_operator: str | None = None

    @property
    def is_roaming(self) -> bool:
        """True when the subscriber is in a foreign network."""
        return bool(self.roaming_country or self.roaming_operator)


@attrs.frozen(kw_only=True)
class CallInfo:
    """Voice-call details a status callback may carry."""

    dtmf: str | None = None  #: keys pressed while listening
    menu_keys: str | None = None  #: keys pressed in the voice menu (``callmenu``)
    call_seconds: int | None = None  #: ``calltime``
    ring_seconds: int | None = None  #: ``ringtime``: how long until the callee picked up


# --- what comes back ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class RecipientResult:
    """Per-recipient detail of a send (send.php ``op=1``/``err=1``)."""

    phone: str
    status: MessageStatus | None = None
    error: DeliveryError | None = None
    cost: Decimal | None = None
    mcc: str | None = None
    mnc: str | None = None


@fast_init
@attrs.frozen(kw_only=True)
class SendResult:
    """The provider accepted a message.

    :ivar message_id: the provider's id (for SMPP, the first part's id), in the canonical form
        of :func:`~smscenter.ids.canonical_message_id`: equal to the ``message_id`` of the
        message's :class:`DeliveryReport` whatever the channel or the SMSC's id style. ``None``
        only when :attr:`confirmed_by_duplicate` is set and the SMSC's refusal did not say the
        id: accepted, id unknown.
    :ivar parts: how many SMS parts were billed (for calls: seconds).
    :ivar cost: total cost when the provider reported it.
    :ivar balance: the balance after the send, when reported.
    :ivar recipients: per-recipient details when asked for.
    :ivar part_ids: every part's id, canonical (SMPP; equal to ``(message_id,)`` over HTTP).
    :ivar client_id: the :attr:`Message.client_id` it was sent with.
    :ivar confirmed_by_status: True when the send's answer was lost on the wire and the client
        established by a status lookup that the first attempt was accepted.
    :ivar raw_message_id: :attr:`message_id` exactly as the wire carried it (for logs and
        support tickets).
    :ivar transport: the channel it was sent through.
    :ivar confirmed_by_duplicate: (SMPP, :class:`~smscenter.ReconcilePolicy`)
        True when the answer was lost with a dropped bind and a resend within the provider's
        duplicate window was refused as a duplicate: the first attempt went out.
    """

    message_id: str | None
    parts: int = 1
    cost: Decimal | None = None
    balance: Decimal | None = None
    recipients: tuple[RecipientResult, ...] = ()
    part_ids: tuple[str, ...] = ()
    client_id: int | str | None = None
    confirmed_by_status: bool = False
    transport: Transport = Transport.HTTP
    raw_message_id: str = ""
    confirmed_by_duplicate: bool = False

    def __attrs_post_init__(self) -> None:
        raw = self.message_id
        if raw is None:  # accepted, id unknown (confirmed_by_duplicate)
            ids = tuple(map(canonical_message_id, self.part_ids))
            if ids != self.part_ids:
                object.__setattr__(self, "part_ids", ids)
            return
        message_id = canonical_message_id(raw)
        if not self.raw_message_id:
            object.__setattr__(self, "raw_message_id", raw)
        if message_id != raw:
            object.__setattr__(self, "message_id", message_id)
        if not self.part_ids:
            object.__setattr__(self, "part_ids", (message_id,))
        else:
            ids = tuple(map(canonical_message_id, self.part_ids))
            if ids != self.part_ids:
                object.__setattr__(self, "part_ids", ids)


@attrs.frozen(kw_only=True)
class Cost:
    """The price of a message, asked without sending (send.php ``cost=1``)."""

    cost: Decimal
    parts: int
    recipients: tuple[RecipientResult, ...] = ()


@attrs.frozen(kw_only=True)
class Balance:
    """The account balance."""

    balance: Decimal
    currency: str | None = None
    credit: Decimal | None = None


# Not slotted: an SMPP pool makes one per receipt, and a dict class can be rebuilt from the
# fields receipts share with one dict copy (smscenter.smpp.receipts.ReceiptReader), where a
# slotted one costs a descriptor call per field.
@fast_init
@attrs.frozen(kw_only=True, slots=False)
class DeliveryReport:
    """What happened to a sent message: one class whether it came from HTTP status, an SMPP
    ``deliver_sm`` receipt, or a callback.

    :ivar message_id: the provider's message id, canonical
        (:func:`~smscenter.ids.canonical_message_id`): equal to the
        :attr:`SendResult.message_id` of the send it reports on.
    :ivar raw_message_id: the id exactly as the wire carried it (SMPP: the
        ``receipted_message_id`` TLV, else the receipt text's ``id:``).
    :ivar client_id: your :attr:`Message.client_id`, where the provider gives it back.
    :ivar phone: the recipient (phone or e-mail).
    :ivar status: the unified status; :attr:`raw_status` keeps the wire value.
    :ivar error: the delivery error code (``NO_ERROR`` when none).
    :ivar changed_at: when the status last changed (aware).
    :ivar submitted_at: when the message was sent.
    :ivar parts: SMS parts (for calls: seconds).
    :ivar delivered_parts: parts delivered (SMPP ``dlvrd``).
    :ivar cost: the message's cost.
    :ivar mcc: mobile country code; :ivar mnc: mobile network code.
    :ivar flags: the decoded ``flag`` bits (type, second balance, template).
    :ivar extra_status: read / link clicked (SMPP TLV 0x2004).
    :ivar hlr: the HLR lookup result, for HLR messages.
    :ivar operator_error: the operator's own extra error (callback ``syserr``).
    :ivar text: the message text (or its start, from a receipt).
    """

    message_id: str
    status: MessageStatus
    raw_status: str = ""
    phone: str | None = None
    error: DeliveryError = DeliveryError.NO_ERROR
    changed_at: datetime | None = None
    submitted_at: datetime | None = None
    parts: int | None = None
    delivered_parts: int | None = None
    cost: Decimal | None = None
    mcc: str | None = None
    mnc: str | None = None
    flags: MessageFlags | None = None
    message_type: MessageType | None = None
    extra_status: ExtraStatus | None = None
    hlr: HlrInfo | None = None
    call: CallInfo | None = None
    operator_error: str | None = None
    sender: str | None = None
    text: str | None = None
    comment: str | None = None
    status_text: str | None = None  #: the provider's localized status name
    country: str | None = None
    operator: str | None = None
    region: str | None = None
    client_id: str | None = None
    transport: Transport = Transport.HTTP
    raw_message_id: str = ""

    def __attrs_post_init__(self) -> None:
        raw = self.message_id
        if not self.raw_message_id:
            object.__setattr__(self, "raw_message_id", raw)
        # The provider's decimal ids are canonical already: skip the call (one per receipt).
        if not (raw.isdigit() and raw.isascii() and raw[0] != "0"):
            message_id = canonical_message_id(raw)
            if message_id != raw:
                object.__setattr__(self, "message_id", message_id)
        for name in ("changed_at", "submitted_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValidationError(f"DeliveryReport.{name} must be timezone-aware")
        if self.message_type is None and self.flags is not None:
            object.__setattr__(self, "message_type", self.flags.message_type)

    @property
    def is_final(self) -> bool:
        """True when no further report is expected for this message."""
        return self.status.is_final

    @property
    def event_key(self) -> str:
        """A stable key for dropping duplicate deliveries of the same report, the same over
        every channel (an SMPP receipt, an HTTP status lookup and a callback about one event
        give one key): ``report:<canonical message id>:<recipient>:<status>``.

        The recipient is written without ``+`` (e-mail addresses in lower case); the status is
        the :class:`MessageStatus` as SMPP can tell it (the provider's failure flavours that an
        SMPP receipt can only call ``UNDELIV`` count as :attr:`MessageStatus.UNDELIVERABLE`,
        ``queued`` counts as ``transmitted``), so read and link-clicked stay distinct events.
        The change time is left out: channels write it with different precision.
        """
        # The status is looked up by its value (an Enum member's hash is a Python call): this
        # runs once per receipt a store records.
        phone = self.phone
        if phone:
            phone = phone.strip()
            phone = phone.lower() if "@" in phone else phone.lstrip("+")
        else:
            phone = ""
        return f"report:{self.message_id}:{phone}:{_KEY_STATUS[self.status._value_]}"


def client_id_of(message_id: str | None) -> str | None:
    """The :attr:`Message.client_id` a report's id shows, or ``None``.

    send.php's ``id`` parameter (https://smscentre.com/api/http/) makes the client's id the
    message's id: status lookups and callbacks then name the message by it. The provider's own
    ids are decimal numbers, so an id with anything else in it can only be the client's; a
    numeric one cannot be told apart and gives ``None``.
    """
    if not message_id or (message_id.isdigit() and message_id.isascii()):
        return None
    return message_id


_INCOMING_IDS = (("message_id", "raw_message_id"), ("reply_to_id", "raw_reply_to_id"))


# What an SMPP receipt can say about a status (its stat: word), except that the provider's
# read / link-clicked extra status (TLV 0x2004) tells those two apart there too. Keyed by the
# status's value.
_KEY_STATUS: dict[str, str] = {
    status.value: str(
        status.value
        if status in (MessageStatus.READ, MessageStatus.LINK_CLICKED)
        else _WORD_TO_STATUS.get(status.smpp_word, MessageStatus.UNKNOWN).value
    )
    for status in MessageStatus
}


@fast_init
@attrs.frozen(kw_only=True)
class IncomingMessage:
    """A message a subscriber sent to you (mobile-originated), from any channel.

    :ivar message_id: the provider's id of the incoming message (absent over SMPP), canonical
        (:func:`~smscenter.ids.canonical_message_id`).
    :ivar phone: who sent it.
    :ivar text: what they wrote (multi-part messages arrive joined).
    :ivar to: the number they wrote to (your dedicated number or sender).
    :ivar reply_to_id: the id of your message they answered, when known; canonical, so it
        equals that message's :attr:`SendResult.message_id`.
    :ivar raw_message_id: / :ivar raw_reply_to_id: the two ids exactly as the wire carried them.
    :ivar smsc: the operator's SMS centre it came through.
    :ivar sent_at: when the subscriber sent it; :ivar received_at: when the provider got it.
    """

    phone: str
    text: str
    message_id: str | None = None
    to: str | None = None
    reply_to_id: str | None = None
    smsc: str | None = None
    sent_at: datetime | None = None
    received_at: datetime | None = None
    transport: Transport = Transport.HTTP
    raw_message_id: str | None = None
    raw_reply_to_id: str | None = None

    def __attrs_post_init__(self) -> None:
        for name, raw_name in _INCOMING_IDS:
            raw = getattr(self, name)
            if raw is None:
                continue
            if getattr(self, raw_name) is None:
                object.__setattr__(self, raw_name, raw)
            object.__setattr__(self, name, canonical_message_id(raw) or None)
        for name in ("sent_at", "received_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValidationError(f"IncomingMessage.{name} must be timezone-aware")

    @property
    def event_key(self) -> str:
        """A stable key for dropping duplicate deliveries of the same incoming message."""
        if self.message_id:
            return f"incoming:{self.message_id}"
        when = int(self.received_at.timestamp()) if self.received_at else ""
        return f"incoming:{self.phone}:{self.to or ''}:{when}:{zlib.crc32(self.text.encode()):08x}"


@attrs.frozen(kw_only=True)
class CallConfirmation:
    """A subscriber called to confirm their number (wait_call service callback)."""

    phone: str
    called_at: datetime
    transport: Transport = Transport.WEBHOOK

    @property
    def event_key(self) -> str:
        """A stable key for dropping duplicate deliveries of the same event."""
        return f"call:{self.phone}:{int(self.called_at.timestamp())}"


# --- private constructors for the SMPP hot paths (smscenter._fastinit) ---------------------------

#: ``_make_send_result(message_id, parts, cost, balance, recipients, part_ids, client_id,
#: confirmed_by_status, transport, raw_message_id, confirmed_by_duplicate)``: a positional
#: constructor (:func:`~smscenter._fastinit.positional`), one per message the SMPP pool sends.
_make_send_result = positional(SendResult)
#: The same without ``__attrs_post_init__``: for a result whose ids are given already canonical
#: (the caller applies :func:`canonical_message_id`) with ``part_ids`` filled in.
_make_smpp_result = positional(SendResult, post_init=False)
