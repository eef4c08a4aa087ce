"""What happened to a message: one status vocabulary for every channel, the delivery error
codes, and the read / link-clicked extra status.

HTTP status codes, SMPP ``stat:`` words and SMPP ``message_state`` values all map onto
:class:`MessageStatus`; the ``err`` codes of the provider's table onto :class:`DeliveryError`.
"""

from __future__ import annotations

import enum

from smscenter._provider import unknown_member

__all__ = ("DeliveryError", "ExtraStatus", "MessageStatus")


class ExtraStatus(enum.IntFlag):
    """The provider's additional status (SMPP TLV 0x2004): read, link clicked."""

    NONE = 0
    READ = 2
    LINK_CLICKED = 4


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
