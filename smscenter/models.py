"""The one message model shared by every transport (HTTP, SMPP, SMTP, webhooks).

A :class:`Message` goes out; a :class:`SendResult`, :class:`DeliveryReport` or
:class:`IncomingMessage` comes back, whichever channel carried it. Status codes, error codes and
flag bits from all channels map onto the same enums here. Field names describe the concept
(``changed_at``, ``parts``), never a wire name (``last_timestamp``, ``sub``); each wire format is
mapped once, in a named constructor in its transport module.

Everything is a frozen, slotted attrs class validated at construction: invalid input raises
:class:`ValueError` before anything is sent. Money is :class:`~decimal.Decimal`; times are aware
:class:`~datetime.datetime` values.
"""

from __future__ import annotations

import enum
import re
import zlib
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Self

import attrs

from smscenter._fastinit import fast_init, positional
from smscenter._provider import COMMENT_SEPARATOR, Transport, unknown_member
from smscenter.exceptions import ValidationError
from smscenter.ids import canonical_message_id
from smscenter.options import OPTION_PARAMS, SendOptions

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

# --- limits from the provider's documents ------------------------------------------------------

#: send.php accepts at most 1000 characters in ``mes``.
MAX_TEXT_LENGTH = 1000
#: A client message id: an int 1..2147483647, or a string of up to 40 ``[A-Za-z0-9.-_]``.
MAX_CLIENT_ID = 2_147_483_647
_CLIENT_ID_RE = re.compile(r"[A-Za-z0-9._\-]{1,40}")
#: Phone numbers: international format, ``+`` optional; E.164 allows up to 15 digits.
_PHONE_RE = re.compile(r"\+?[0-9]{5,15}")
_PHONE_STRIP = str.maketrans("", "", " ()-.\t")
#: ``G<n>`` sends to a contact group (send.php ``phones``).
_GROUP_RE = re.compile(r"G[0-9]+")
_EMAIL_RE = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+")
#: Telegram recipients may be ``@nickname`` or ``#id`` as well as phones.
_TELEGRAM_RE = re.compile(r"@[A-Za-z0-9_]{3,64}|#[0-9]{1,20}")
#: Alphanumeric sender: up to 11 Latin letters/digits/space/some symbols; numeric: up to 15 digits.
_SENDER_ALNUM_RE = re.compile(r"[A-Za-z0-9 .\-_!&'\"+@#$%*(),:;/?=]{1,11}")
_SENDER_NUMERIC_RE = re.compile(r"\+?[0-9]{1,15}")
_VOICE_RE = re.compile(r"(?:m|m2|m3|m4|w|w2|w3|w4)(?:,[a-z]{2})?")
_BOT_RE = re.compile(r"@[A-Za-z0-9_]{3,64}|wa:\+?[0-9]{5,15}")
_HEX_RE = re.compile(r"(?:[0-9A-Fa-f]{2})*")


# --- enums --------------------------------------------------------------------------------------


class MessageKind(enum.Enum):
    """What kind of message a :class:`Message` is (send.php flags, SMPP special texts)."""

    # Members are singletons compared by identity, so the identity hash is a valid one; Enum's
    # own (a Python-level hash of the name) was a measurable cost where the SMPP pool hashes
    # every message's content to find its cached submit_sm template.
    __hash__ = object.__hash__

    SMS = "sms"
    FLASH = "flash"
    WAP_PUSH = "wap_push"
    HLR = "hlr"
    BINARY = "binary"
    BINARY_HEX = "binary_hex"
    PING = "ping"
    MMS = "mms"
    EMAIL = "email"
    CALL = "call"
    VIBER = "viber"
    SOCIAL = "social"
    TELEGRAM = "telegram"
    BOT = "bot"

    @property
    def library_format(self) -> int | None:
        """The official libraries' numeric ``format`` (also the SMTP body's format field).

        ``None`` for kinds that number does not cover (:attr:`BOT`).
        """
        return _LIBRARY_FORMAT.get(self)


_LIBRARY_FORMAT: dict[MessageKind, int] = {
    MessageKind.SMS: 0,
    MessageKind.FLASH: 1,
    MessageKind.WAP_PUSH: 2,
    MessageKind.HLR: 3,
    MessageKind.BINARY: 4,
    MessageKind.BINARY_HEX: 5,
    MessageKind.PING: 6,
    MessageKind.MMS: 7,
    MessageKind.EMAIL: 8,
    MessageKind.CALL: 9,
    MessageKind.VIBER: 10,
    MessageKind.SOCIAL: 11,
    MessageKind.TELEGRAM: 13,
}


class MessageType(enum.IntEnum):
    """The message type as reported back (callback ``type``, bits 0-3 of the ``flag`` value)."""

    SMS = 0
    FLASH = 1
    BINARY = 2
    WAP_PUSH = 3
    HLR = 4
    PING = 5
    MMS = 6
    CALL = 7
    EMAIL = 8
    VIBER = 10
    SOCIAL = 12

    @property
    def kind(self) -> MessageKind:
        """The :class:`MessageKind` this reported type corresponds to."""
        return _TYPE_TO_KIND[self]

    @classmethod
    def _missing_(cls, value: object) -> MessageType | None:
        member: MessageType | None = unknown_member(cls, value)
        return member


_TYPE_TO_KIND = {
    MessageType.SMS: MessageKind.SMS,
    MessageType.FLASH: MessageKind.FLASH,
    MessageType.BINARY: MessageKind.BINARY,
    MessageType.WAP_PUSH: MessageKind.WAP_PUSH,
    MessageType.HLR: MessageKind.HLR,
    MessageType.PING: MessageKind.PING,
    MessageType.MMS: MessageKind.MMS,
    MessageType.CALL: MessageKind.CALL,
    MessageType.EMAIL: MessageKind.EMAIL,
    MessageType.VIBER: MessageKind.VIBER,
    MessageType.SOCIAL: MessageKind.SOCIAL,
}


class TemplateKind(enum.IntEnum):
    """Bits 9-10 of the ``flag`` value: the kind of template a message matched."""

    SERVICE = 0
    TRANSACTIONAL = 1
    AUTHORIZATION = 2
    ADVERTISING = 3


class ExtraStatus(enum.IntFlag):
    """The provider's additional status (SMPP TLV 0x2004): read, link clicked."""

    NONE = 0
    READ = 2
    LINK_CLICKED = 4


class Translit(enum.IntEnum):
    """send.php ``translit``: turn Cyrillic into Latin letters to fit more per SMS."""

    NONE = 0
    TRANSLIT = 1  #: "translit" style
    MPAHC = 2  #: "mpaHc" style (look-alike Latin letters)


class MessageStatus(enum.Enum):
    """One status vocabulary for HTTP status codes, SMPP ``stat:`` words and ``message_state``.

    Build it with :meth:`from_code` (status.php / callback ``status``), :meth:`from_smpp_word`
    (receipt text ``stat:``) or :meth:`from_message_state` (SMPP TLV 0x0427). Values the provider
    may add later become :attr:`UNKNOWN`; the raw value stays on the report.
    """

    NOT_FOUND = "not_found"  #: HTTP -3: no such message
    STOPPED = "stopped"  #: HTTP -2: sending halted
    QUEUED = "queued"  #: HTTP -1: waiting to be sent (or scheduled); SMPP 5.0 SCHEDULED
    TRANSMITTED = "transmitted"  #: HTTP 0: handed to the operator; SMPP ENROUTE
    DELIVERED = "delivered"  #: HTTP 1; SMPP DELIVRD
    READ = "read"  #: HTTP 2: read (messengers)
    EXPIRED = "expired"  #: HTTP 3; SMPP EXPIRED
    LINK_CLICKED = "link_clicked"  #: HTTP 4: the shortened link was opened
    UNDELIVERABLE = "undeliverable"  #: HTTP 20; SMPP UNDELIV
    INVALID_NUMBER = "invalid_number"  #: HTTP 22
    PROHIBITED = "prohibited"  #: HTTP 23
    INSUFFICIENT_FUNDS = "insufficient_funds"  #: HTTP 24
    NUMBER_UNAVAILABLE = "number_unavailable"  #: HTTP 25
    DELETED = "deleted"  #: SMPP DELETED
    ACCEPTED = "accepted"  #: SMPP ACCEPTD
    REJECTED = "rejected"  #: SMPP REJECTD
    SKIPPED = "skipped"  #: SMPP 5.0 SKIPPED
    UNKNOWN = "unknown"  #: SMPP UNKNOWN, or a value we have no name for

    @property
    def code(self) -> int | None:
        """The status.php code, or ``None`` for states only SMPP names."""
        return _STATUS_TO_CODE.get(self)

    @property
    def smpp_word(self) -> str:
        """The 7-letter ``stat:`` word an SMSC writes in a receipt for this status."""
        return _STATUS_TO_WORD[self]

    @property
    def message_state(self) -> int:
        """The SMPP 3.4 ``message_state`` value (TLV 0x0427) for this status."""
        return _STATUS_TO_STATE[self]

    @property
    def is_final(self) -> bool:
        """True when the status will not change again (no further report is expected).

        :attr:`DELIVERED` counts as final although a messenger may still report it as read.
        """
        return self in _FINAL

    @property
    def is_delivered(self) -> bool:
        """True for delivered, read and link-clicked."""
        return self in (MessageStatus.DELIVERED, MessageStatus.READ, MessageStatus.LINK_CLICKED)

    @property
    def is_failure(self) -> bool:
        """True for final statuses that mean the message did not reach the recipient."""
        return self.is_final and not self.is_delivered and self is not MessageStatus.ACCEPTED

    @classmethod
    def from_code(cls, code: int) -> MessageStatus:
        """Map a status.php / callback ``status`` code; unknown codes give :attr:`UNKNOWN`."""
        return _CODE_TO_STATUS.get(code, cls.UNKNOWN)

    @classmethod
    def from_smpp_word(cls, word: str) -> MessageStatus:
        """Map a receipt ``stat:`` word, case-insensitively; unknown words give :attr:`UNKNOWN`."""
        return _WORD_TO_STATUS.get(word.strip().upper(), cls.UNKNOWN)

    @classmethod
    def from_message_state(cls, state: int) -> MessageStatus:
        """Map an SMPP ``message_state`` (TLV 0x0427) value."""
        return _STATE_TO_STATUS.get(state, cls.UNKNOWN)


_CODE_TO_STATUS: dict[int, MessageStatus] = {
    -3: MessageStatus.NOT_FOUND,
    -2: MessageStatus.STOPPED,
    -1: MessageStatus.QUEUED,
    0: MessageStatus.TRANSMITTED,
    1: MessageStatus.DELIVERED,
    2: MessageStatus.READ,
    3: MessageStatus.EXPIRED,
    4: MessageStatus.LINK_CLICKED,
    20: MessageStatus.UNDELIVERABLE,
    22: MessageStatus.INVALID_NUMBER,
    23: MessageStatus.PROHIBITED,
    24: MessageStatus.INSUFFICIENT_FUNDS,
    25: MessageStatus.NUMBER_UNAVAILABLE,
}
_STATUS_TO_CODE = {status: code for code, status in _CODE_TO_STATUS.items()}

# The provider's own statuses that SMPP has no word for are reported as the nearest SMPP state:
# every "could not deliver" flavour is UNDELIV, a halted send is DELETED.
_STATUS_TO_WORD: dict[MessageStatus, str] = {
    MessageStatus.NOT_FOUND: "UNKNOWN",
    MessageStatus.STOPPED: "DELETED",
    MessageStatus.QUEUED: "ENROUTE",
    MessageStatus.TRANSMITTED: "ENROUTE",
    MessageStatus.DELIVERED: "DELIVRD",
    MessageStatus.READ: "DELIVRD",
    MessageStatus.EXPIRED: "EXPIRED",
    MessageStatus.LINK_CLICKED: "DELIVRD",
    MessageStatus.UNDELIVERABLE: "UNDELIV",
    MessageStatus.INVALID_NUMBER: "UNDELIV",
    MessageStatus.PROHIBITED: "REJECTD",
    MessageStatus.INSUFFICIENT_FUNDS: "UNDELIV",
    MessageStatus.NUMBER_UNAVAILABLE: "UNDELIV",
    MessageStatus.DELETED: "DELETED",
    MessageStatus.ACCEPTED: "ACCEPTD",
    MessageStatus.REJECTED: "REJECTD",
    MessageStatus.SKIPPED: "SKIPPED",
    MessageStatus.UNKNOWN: "UNKNOWN",
}
_WORD_TO_STATUS: dict[str, MessageStatus] = {
    "ENROUTE": MessageStatus.TRANSMITTED,
    "DELIVRD": MessageStatus.DELIVERED,
    "DELIVERED": MessageStatus.DELIVERED,
    "EXPIRED": MessageStatus.EXPIRED,
    "DELETED": MessageStatus.DELETED,
    "UNDELIV": MessageStatus.UNDELIVERABLE,
    "UNDELIVERABLE": MessageStatus.UNDELIVERABLE,
    "ACCEPTD": MessageStatus.ACCEPTED,
    "ACCEPTED": MessageStatus.ACCEPTED,
    "UNKNOWN": MessageStatus.UNKNOWN,
    "REJECTD": MessageStatus.REJECTED,
    "REJECTED": MessageStatus.REJECTED,
    "SCHEDULED": MessageStatus.QUEUED,
    "SKIPPED": MessageStatus.SKIPPED,
    # Kannel's buffered states.
    "ACKED": MessageStatus.TRANSMITTED,
    "BUFFRED": MessageStatus.TRANSMITTED,
    "BUFFERD": MessageStatus.TRANSMITTED,
}
_STATE_TO_STATUS: dict[int, MessageStatus] = {
    0: MessageStatus.QUEUED,
    1: MessageStatus.TRANSMITTED,
    2: MessageStatus.DELIVERED,
    3: MessageStatus.EXPIRED,
    4: MessageStatus.DELETED,
    5: MessageStatus.UNDELIVERABLE,
    6: MessageStatus.ACCEPTED,
    7: MessageStatus.UNKNOWN,
    8: MessageStatus.REJECTED,
    9: MessageStatus.SKIPPED,
}
_WORD_TO_STATE = {"ENROUTE": 1, "DELIVRD": 2, "EXPIRED": 3, "DELETED": 4, "UNDELIV": 5,
                  "ACCEPTD": 6, "UNKNOWN": 7, "REJECTD": 8, "SKIPPED": 9}  # fmt: skip
_STATUS_TO_STATE = {status: _WORD_TO_STATE[word] for status, word in _STATUS_TO_WORD.items()}
_FINAL = frozenset(
    {
        MessageStatus.STOPPED,
        MessageStatus.DELIVERED,
        MessageStatus.READ,
        MessageStatus.EXPIRED,
        MessageStatus.LINK_CLICKED,
        MessageStatus.UNDELIVERABLE,
        MessageStatus.INVALID_NUMBER,
        MessageStatus.PROHIBITED,
        MessageStatus.INSUFFICIENT_FUNDS,
        MessageStatus.NUMBER_UNAVAILABLE,
        MessageStatus.DELETED,
        MessageStatus.ACCEPTED,
        MessageStatus.REJECTED,
        MessageStatus.SKIPPED,
    }
)


class DeliveryError(enum.IntEnum):
    """The ``err`` code of a status or receipt (the table on smscentre.com/api/smpp, SMS, HLR and
    e-mail).

    Codes with no name here are kept as ``DeliveryError.UNKNOWN_<n>`` pseudo-members.
    """

    NO_ERROR = 0
    SUBSCRIBER_NOT_FOUND = 1  #: number (or e-mail recipient) does not exist
    MAILBOX_FULL = 2  #: e-mail: recipient's server refused (mailbox full)
    MAIL_SERVER_NOT_FOUND = 3  #: e-mail: recipient's domain not found
    MAILBOX_LOCKED = 4  #: e-mail: mailbox blocked
    SUBSCRIBER_OFFLINE = 6
    SERVICE_NOT_AVAILABLE = 11  #: SMS not available (roaming, landline, no service)
    HANDSET_ERROR = 12  #: phone or SIM error
    SUBSCRIBER_BLOCKED = 13
    SERVICE_NOT_SUPPORTED = 21  #: the device does not support this service
    VIRTUAL_SENDING = 200  #: test mode: not really sent, not charged
    SIM_REPLACED = 219  #: SIM recently replaced, alpha senders blocked for 24 hours
    OPERATOR_QUEUE_OVERFLOW = 220  #: retried by the provider
    INSUFFICIENT_FUNDS = 224
    NO_ANSWER = 237  #: call: the callee did not pick up
    NO_TEMPLATE = 238  #: text does not match a required template
    FORBIDDEN_IP = 239
    LINE_BUSY = 240  #: call: busy or rejected
    CONVERSION_ERROR = 241  #: audio conversion failed, or not all SMS parts transmitted
    ANSWERING_MACHINE = 242
    NO_CONTRACT = 243  #: mass or advertising traffic without a contract
    MAILING_PROHIBITED = 244  #: mass mailing prohibited or forbidden link
    STATUS_NOT_RECEIVED = 245  #: no status from the operator within a day
    TIME_LIMIT = 246  #: outside the account's allowed sending hours
    DAILY_LIMIT_EXCEEDED = 247
    NO_ROUTE = 248
    INVALID_NUMBER_FORMAT = 249
    NUMBER_FORBIDDEN = 250  #: forbidden by the account's settings
    PER_NUMBER_LIMIT_EXCEEDED = 251  #: also >50 messages to one number less than 30 s apart
    NUMBER_NOT_PERMITTED = 252  #: e.g. the provider's own numbers; e-mail: blacklisted
    SPAM_FILTER = 253
    UNREGISTERED_SENDER = 254
    REJECTED_BY_OPERATOR = 255

    @classmethod
    def _missing_(cls, value: object) -> DeliveryError | None:
        member: DeliveryError | None = unknown_member(cls, value)
        return member

    @property
    def is_known(self) -> bool:
        """False for a code the provider's table does not list."""
        return not self.name.startswith("UNKNOWN_")


# --- small values ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class MessageFlags:
    """The provider's 2-byte ``flag`` value (callback ``flag``, SMPP TLV 0x2001), decoded.

    Bits 0-3: message type; bit 5: paid from the second balance; bit 8: template message;
    bits 9-10: template kind.
    """

    message_type: MessageType
    second_balance: bool = False
    template: bool = False
    template_kind: TemplateKind = TemplateKind.SERVICE
    raw: int = 0

    @classmethod
    def from_int(cls, value: int) -> MessageFlags:
        """Decode a flag value; bits this model has no name for stay visible in :attr:`raw`."""
        if not 0 <= value <= 0xFFFF:
            raise ValidationError(f"flag must fit in 2 bytes, got {value}")
        return cls(
            message_type=MessageType(value & 0x0F),
            second_balance=bool(value & 0x20),
            template=bool(value & 0x100),
            template_kind=TemplateKind((value >> 9) & 0x3),
            raw=value,
        )

    def to_int(self) -> int:
        """Encode back to the 2-byte value (bits outside the named ones come from :attr:`raw`)."""
        named = 0x0F | 0x20 | 0x100 | 0x600
        value = self.raw & ~named & 0xFFFF
        value |= int(self.message_type) & 0x0F
        value |= 0x20 if self.second_balance else 0
        value |= 0x100 if self.template else 0
        value |= int(self.template_kind) << 9
        return value


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


@attrs.frozen
class SendWindow:
    """Send only between two hours of the day (send.php ``time=h1-h2``).

    Before ``start_hour`` the message waits until it; inside the window it goes now; after
    ``end_hour`` it goes the next day at ``start_hour`` (night-time protection).
    """

    start_hour: int = attrs.field(validator=[attrs.validators.ge(0), attrs.validators.le(24)])
    end_hour: int = attrs.field(validator=[attrs.validators.ge(0), attrs.validators.le(24)])

    def __attrs_post_init__(self) -> None:
        if self.start_hour >= self.end_hour:
            raise ValidationError(
                f"SendWindow start_hour ({self.start_hour}) must be before "
                f"end_hour ({self.end_hour})"
            )


@attrs.frozen
class Attachment:
    """A file sent with an MMS, e-mail, Viber message or voice call (multipart upload)."""

    filename: str = attrs.field(validator=attrs.validators.min_len(1))
    content: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    content_type: str = "application/octet-stream"


# --- the outgoing message ---------------------------------------------------------------------

_KINDS_WITH_TEXT_OPTIONAL = frozenset({MessageKind.HLR, MessageKind.PING})
_KINDS_WITH_SUBJECT = frozenset({MessageKind.MMS, MessageKind.EMAIL})
_KINDS_WITH_ATTACHMENTS = frozenset(
    {MessageKind.MMS, MessageKind.EMAIL, MessageKind.VIBER, MessageKind.CALL}
)
_KINDS_WITH_MAX_PARTS = frozenset({MessageKind.SMS, MessageKind.FLASH})
_KINDS_WITH_TRANSLIT = frozenset({MessageKind.SMS, MessageKind.FLASH, MessageKind.WAP_PUSH})
_KINDS_WITH_TINYURL = frozenset(
    {MessageKind.SMS, MessageKind.FLASH, MessageKind.VIBER, MessageKind.SOCIAL, MessageKind.BOT}
)

ScheduledTime = datetime | timedelta | SendWindow
_SMS = MessageKind.SMS
_NO_TRANSLIT = Translit.NONE


def _to_recipients(value: str | Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        if "," not in value and ";" not in value:
            # The common case, one recipient: skip the split (bulk senders build millions).
            value = value.strip()
            return (value,) if value else ()
        parts: list[Any] = re.split(r"[,;]", value)
    else:
        parts = list(value)
    out: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise TypeError(f"recipients must be strings, got {type(part).__name__}")
        part = part.strip()
        if part:
            out.append(part)
    return tuple(out)


def _to_extra(
    value: Mapping[str, object] | Iterable[tuple[str, object]] | None,
) -> tuple[tuple[str, str], ...]:
    if not value:
        return ()
    items = value.items() if isinstance(value, Mapping) else value
    out = []
    for key, val in items:
        if not isinstance(key, str) or not key:
            raise ValidationError(f"extra parameter names must be non-empty strings, got {key!r}")
        out.append((key, str(val)))
    return tuple(sorted(out))


def _to_attachments(value: Iterable[Attachment]) -> tuple[Attachment, ...]:
    out = tuple(value)
    for item in out:
        if not isinstance(item, Attachment):
            raise TypeError(f"attachments must be Attachment values, got {type(item).__name__}")
    return out


def _to_translit(value: Translit | int | bool) -> Translit:
    if value.__class__ is Translit:
        return value
    if isinstance(value, bool):
        return Translit.TRANSLIT if value else Translit.NONE
    return Translit(value)


def _is_phone(value: str) -> bool:
    """``_PHONE_RE.fullmatch(value)`` without the regex engine. ``str.isdecimal`` alone takes
    any Unicode digit (Arabic-Indic, fullwidth, Devanagari...): a phone is ASCII digits only."""
    digits = value[1:] if value[:1] == "+" else value
    return 5 <= len(digits) <= 15 and digits.isdecimal() and digits.isascii()


def _normalize_phone(raw: str) -> str | None:
    candidate = raw.translate(_PHONE_STRIP)
    return candidate if _PHONE_RE.fullmatch(candidate) else None


# Parameters the model owns: passing them through ``extra`` would bypass validation.
_RESERVED_EXTRA = frozenset(
    {
        "login", "psw", "apikey", "phones", "mes", "id", "sender", "translit", "time", "tz",
        "valid", "maxsms", "subj", "voice", "bot", "fmt", "charset", "list", "cost", "flash",
        "push", "hlr", "bin", "ping", "mms", "mail", "call", "viber", "soc", "tg", "tinyurl",
    }
) | frozenset(OPTION_PARAMS)  # fmt: skip


@fast_init
@attrs.frozen(kw_only=True)
class Message:
    """One message to send, to one or many recipients, over any transport.

    :param to: recipients: a phone (``"+79991234567"``, spaces/dashes/brackets allowed), a
        comma/semicolon separated list, or an iterable; ``G<n>`` for a contact group; e-mail
        addresses for :attr:`MessageKind.EMAIL`; ``@nick``/``#id`` also for Telegram.
    :param text: the text (at most 1000 characters). May be empty for HLR and ping.
    :param kind: the :class:`MessageKind`, SMS by default.
    :param sender: registered sender name (<= 11 Latin characters, or <= 15 digits); an e-mail
        address for e-mail. ``None`` uses the account's default sender.
    :param translit: transliterate Cyrillic (``True``/``False`` or a :class:`Translit`).
    :param send_at: schedule: an aware :class:`~datetime.datetime` (exact instant), a naive one
        (the account's own time zone), a :class:`~datetime.timedelta` from now (whole minutes),
        or a :class:`SendWindow` of hours. ``None`` sends now.
    :param validity: how long the operator keeps trying, 1 minute to 24 hours.
    :param client_id: your own id: an int 1..2147483647 or a string of up to 40
        ``[A-Za-z0-9._-]``. Used to find a message again, and by the HTTP client to avoid
        double sends on retry.
    :param comment: a note kept in the provider's history, never sent (the ``\\n~~~\\n`` suffix).
    :param max_parts: the most SMS parts a long text may take (longer text is cut to fit).
    :param subject: subject of an MMS or e-mail (required for e-mail).
    :param voice: voice for a call: ``m``, ``m2``..``m4``, ``w``..``w4``, optionally ``,en`` etc.
    :param bot: the chat bot for :attr:`MessageKind.BOT`: ``@name_bot`` or ``wa:<number>``.
    :param tinyurl: shorten links so clicks are tracked (status "link clicked").
    :param report: ask for a delivery report on the channel that sent the message (SMPP
        ``registered_delivery``); over HTTP reports go to the account's callback.
    :param attachments: files for MMS, e-mail, Viber or call (sent as multipart).
    :param options: HTTP-only send.php options, typed (:class:`~smscenter.options.SendOptions`:
        spreading a mailing, captcha, file URL, call settings, Viber button...). SMPP and SMTP
        refuse a message that has them.
    :param extra: further send.php parameters the model has no field for. Parameters it does
        have a field for are refused here, so they cannot bypass validation.
    :raises ~smscenter.exceptions.ValidationError: (a :class:`ValueError`) for any invalid
        field, with a message saying which and why.
    """

    to: tuple[str, ...] = attrs.field(converter=_to_recipients)
    text: str = ""
    kind: MessageKind = MessageKind.SMS
    sender: str | None = None
    translit: Translit = attrs.field(default=Translit.NONE, converter=_to_translit)
    send_at: ScheduledTime | None = None
    validity: timedelta | None = None
    client_id: int | str | None = None
    comment: str | None = None
    max_parts: int | None = None
    subject: str | None = None
    voice: str | None = None
    bot: str | None = None
    tinyurl: bool = False
    report: bool = True
    attachments: tuple[Attachment, ...] = attrs.field(default=(), converter=_to_attachments)
    options: SendOptions | None = None
    extra: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_to_extra)

    def __attrs_post_init__(self) -> None:
        to, text = self.to, self.text
        if (
            # The bulk sender's message, checked in one expression (no helper calls): a plain
            # SMS to one normalized phone with a text and nothing kind-specific. The checks
            # below would pass it too; anything else goes through them.
            self.kind is _SMS
            and type(text) is str
            and 0 < len(text) <= MAX_TEXT_LENGTH
            and "~~~" not in text
            and len(to) == 1
            # _is_phone(to[0]), inline
            and 5 <= len(digits := to[0][1:] if to[0][:1] == "+" else to[0]) <= 15
            and digits.isdecimal()
            and digits.isascii()
            and self.comment is None
            and self.send_at is None
            and self.validity is None
            and self.client_id is None
            and self.subject is None
            and self.voice is None
            and self.bot is None
            and self.max_parts is None
            and self.translit is _NO_TRANSLIT
            and not self.tinyurl
            and not self.attachments
            and self.options is None
            and not self.extra
        ):
            if self.sender is not None:
                self._check_sender()
            return
        self._check_all()

    def _check_all(self) -> None:
        if not isinstance(self.kind, MessageKind):
            raise TypeError(f"kind must be a MessageKind, got {self.kind!r}")
        if not isinstance(self.text, str):
            raise TypeError(f"text must be a str, got {type(self.text).__name__}")
        self._check_recipients()
        self._check_text()
        if self.sender is not None:
            self._check_sender()
        if self.send_at is not None or self.validity is not None:
            self._check_schedule()
        if self.client_id is not None:
            self._check_client_id()
        # Most messages are plain SMS with no kind-specific fields: skip the per-field checks.
        if (
            self.kind is not MessageKind.SMS
            or self.subject is not None
            or self.voice is not None
            or self.bot is not None
            or self.attachments
            or self.max_parts is not None
            or self.translit is not Translit.NONE
            or self.tinyurl
        ):
            self._check_kind_fields()
        if self.options is not None:
            self._check_options()
        if self.extra:
            self._check_extra()

    def _check_extra(self) -> None:
        bad = sorted(key for key, _ in self.extra if key in _RESERVED_EXTRA)
        typed = [key for key in bad if key in OPTION_PARAMS]
        if typed:
            raise ValidationError(
                "; ".join(f"extra parameter {key!r}: use {OPTION_PARAMS[key]}" for key in typed)
            )
        if bad:
            raise ValidationError(
                f"extra parameters {bad} have their own Message fields; set those instead"
            )

    def _check_options(self) -> None:
        options, kind = self.options, self.kind
        if not isinstance(options, SendOptions):
            raise TypeError(f"options must be a SendOptions, got {type(options).__name__}")

        def refuse(field: str) -> None:
            raise ValidationError(f"options.{field} is not allowed for a {kind.value} message")

        if options.call is not None and kind is not MessageKind.CALL:
            refuse("call")
        if options.viber_button is not None:
            if kind is not MessageKind.VIBER:
                refuse("viber_button")
            if len(self.full_text) + 1 + len(options.viber_button.macro) > MAX_TEXT_LENGTH:
                raise ValidationError(
                    f"text with the Viber button macro exceeds {MAX_TEXT_LENGTH} characters"
                )
        if options.reverify_days is not None and kind is not MessageKind.BOT:
            refuse("reverify_days")
        if options.file_url is not None and kind not in _KINDS_WITH_ATTACHMENTS:
            refuse("file_url")

    # -- validation helpers ------------------------------------------------------------------

    def _check_recipients(self) -> None:
        if not self.to:
            raise ValidationError("a message needs at least one recipient")
        if (
            len(self.to) == 1
            and self.kind is not MessageKind.EMAIL
            and _PHONE_RE.fullmatch(self.to[0])
        ):
            return  # already a normalized phone: the bulk fast path
        normalized: list[str] = []
        for recipient in self.to:
            if self.kind is MessageKind.EMAIL:
                if not _EMAIL_RE.fullmatch(recipient):
                    raise ValidationError(f"not an e-mail address: {recipient!r}")
                normalized.append(recipient)
                continue
            if _GROUP_RE.fullmatch(recipient):
                normalized.append(recipient)
                continue
            if self.kind is MessageKind.TELEGRAM and _TELEGRAM_RE.fullmatch(recipient):
                normalized.append(recipient)
                continue
            phone = _normalize_phone(recipient)
            if phone is None:
                raise ValidationError(
                    f"not a phone number: {recipient!r} (international format, 5 to 15 digits, "
                    "optional leading +)"
                )
            normalized.append(phone)
        # Compared as normalized, without the "+": "+79991234567" and "7 999 123-45-67" are one
        # phone, and listing it twice would send (and bill) two SMS to it.
        if len({r.removeprefix("+") for r in normalized}) != len(normalized):
            raise ValidationError("the same recipient is listed twice")
        object.__setattr__(self, "to", tuple(normalized))

    def _check_text(self) -> None:
        if not self.text and self.kind not in _KINDS_WITH_TEXT_OPTIONAL:
            raise ValidationError(f"a {self.kind.value} message needs a text")
        if "~~~" in self.text and COMMENT_SEPARATOR in self.text:
            raise ValidationError(
                "the text contains the comment separator '\\n~~~\\n'; use comment="
            )
        total = len(self.text) + (len(COMMENT_SEPARATOR) + len(self.comment) if self.comment else 0)
        if total > MAX_TEXT_LENGTH:
            raise ValidationError(
                f"text is {total} characters (with comment); the provider takes at most "
                f"{MAX_TEXT_LENGTH}"
            )
        if self.kind is MessageKind.TELEGRAM and not re.fullmatch(r"[0-9]{4,8}", self.text):
            raise ValidationError("a Telegram code must be 4 to 8 digits")
        if self.kind is MessageKind.BINARY_HEX and not _HEX_RE.fullmatch(self.text):
            raise ValidationError("binary_hex text must be an even number of hex digits")
        if self.kind is MessageKind.BINARY and max(self.text, default="\0") > "\xff":
            raise ValidationError(
                "a binary text holds one byte per character (U+0000..U+00FF); use "
                "Message.binary(to, data) for raw bytes"
            )
        if self.kind is MessageKind.WAP_PUSH and "\n" not in self.text:
            raise ValidationError("a WAP-push text is '<link>\\n<title>'")

    def _check_sender(self) -> None:
        if self.sender is None:
            return
        if self.kind is MessageKind.EMAIL:
            if not _EMAIL_RE.fullmatch(self.sender):
                raise ValidationError(f"an e-mail sender must be an address, got {self.sender!r}")
            return
        if self.sender in ("", "."):
            return  # the provider's way of asking for no default sender
        if _SENDER_NUMERIC_RE.fullmatch(self.sender):
            return
        if len(self.sender) > 11:
            raise ValidationError(
                f"sender {self.sender!r} is {len(self.sender)} characters; an alphanumeric "
                "sender takes at most 11 (a numeric one at most 15 digits)"
            )
        if not _SENDER_ALNUM_RE.fullmatch(self.sender):
            raise ValidationError(
                f"sender {self.sender!r} must use Latin letters, digits and spaces"
            )

    def _check_schedule(self) -> None:
        when = self.send_at
        if when is not None and not isinstance(when, datetime | timedelta | SendWindow):
            raise TypeError("send_at must be a datetime, a timedelta or a SendWindow")
        if isinstance(when, timedelta) and (
            when < timedelta(0) or when.total_seconds() % 60 or when > timedelta(days=366)
        ):
            raise ValidationError("a relative send_at must be whole minutes, 0 to 366 days")
        if self.validity is not None:
            if not isinstance(self.validity, timedelta):
                raise TypeError("validity must be a timedelta")
            if not timedelta(minutes=1) <= self.validity <= timedelta(hours=24) or (
                self.validity.total_seconds() % 60
            ):
                raise ValidationError("validity must be whole minutes from 1 minute to 24 hours")

    def _check_client_id(self) -> None:
        cid = self.client_id
        if cid is None:
            return
        if isinstance(cid, bool) or not isinstance(cid, int | str):
            raise TypeError("client_id must be an int or a str")
        if isinstance(cid, int) and not 1 <= cid <= MAX_CLIENT_ID:
            raise ValidationError(f"client_id must be 1..{MAX_CLIENT_ID}, got {cid}")
        if isinstance(cid, str) and not _CLIENT_ID_RE.fullmatch(cid):
            raise ValidationError(
                "a string client_id is 1 to 40 characters of letters, digits, '.', '-' and '_'"
            )

    def _check_kind_fields(self) -> None:
        kind = self.kind

        def refuse(field: str) -> None:
            raise ValidationError(f"{field} is not allowed for a {kind.value} message")

        if self.subject is not None and kind not in _KINDS_WITH_SUBJECT:
            refuse("subject")
        if kind is MessageKind.EMAIL and not self.subject:
            raise ValidationError("an e-mail message needs a subject")
        if kind is MessageKind.EMAIL and not self.sender:
            raise ValidationError("an e-mail message needs a sender address")
        if self.voice is not None:
            if kind is not MessageKind.CALL:
                refuse("voice")
            if not _VOICE_RE.fullmatch(self.voice):
                raise ValidationError(
                    f"voice must be m, m2-m4, w or w2-w4 (optionally ',en'), got {self.voice!r}"
                )
        if kind is MessageKind.BOT:
            if not self.bot or not _BOT_RE.fullmatch(self.bot):
                raise ValidationError("a bot message needs bot='@name_bot' or bot='wa:<number>'")
        elif self.bot is not None:
            refuse("bot")
        if self.attachments and kind not in _KINDS_WITH_ATTACHMENTS:
            refuse("attachments")
        if self.max_parts is not None:
            if kind not in _KINDS_WITH_MAX_PARTS:
                refuse("max_parts")
            if isinstance(self.max_parts, bool) or not 1 <= self.max_parts <= 255:
                raise ValidationError("max_parts must be 1..255")
        if self.translit is not Translit.NONE and kind not in _KINDS_WITH_TRANSLIT:
            refuse("translit")
        if self.tinyurl and kind not in _KINDS_WITH_TINYURL:
            refuse("tinyurl")

    # -- derived -----------------------------------------------------------------------------

    @property
    def full_text(self) -> str:
        """The text as the provider receives it: with the ``\\n~~~\\n<comment>`` suffix."""
        if self.comment:
            return f"{self.text}{COMMENT_SEPARATOR}{self.comment}"
        return self.text

    def for_recipient(self, recipient: str, text: str | None = None) -> Self:
        """A copy addressed to one recipient (and optionally with its own text)."""
        changes: dict[str, Any] = {"to": recipient}
        if text is not None:
            changes["text"] = text
        return attrs.evolve(self, **changes)

    @classmethod
    def binary(cls, to: str | Iterable[str], data: bytes, **options: Any) -> Message:
        """A binary SMS carrying raw bytes (sent hex-encoded)."""
        return cls(to=to, text=data.hex().upper(), kind=MessageKind.BINARY_HEX, **options)


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
        return f"report:{self.message_id}:{_key_recipient(self.phone)}:{_key_status(self.status)}"


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


def _key_recipient(phone: str | None) -> str:
    if not phone:
        return ""
    phone = phone.strip()
    return phone.lower() if "@" in phone else phone.lstrip("+")


# What an SMPP receipt can say about a status (its stat: word), except that the provider's
# read / link-clicked extra status (TLV 0x2004) tells those two apart there too.
_KEY_STATUS: dict[MessageStatus, str] = {
    status: str(
        status.value
        if status in (MessageStatus.READ, MessageStatus.LINK_CLICKED)
        else _WORD_TO_STATUS.get(status.smpp_word, MessageStatus.UNKNOWN).value
    )
    for status in MessageStatus
}


def _key_status(status: MessageStatus) -> str:
    return _KEY_STATUS[status]


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
