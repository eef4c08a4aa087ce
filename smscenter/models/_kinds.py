"""What a message is: its kind when sent, its type when reported back, and the ``flag`` bits.

:class:`MessageKind` picks the send.php flag (or SMPP special text) a :class:`Message` goes out
with; :class:`MessageType` and :class:`MessageFlags` are what callbacks and SMPP TLV 0x2001 say
about a message afterwards (https://smscentre.com/api/http/, https://smscentre.com/api/smpp/).
"""

from __future__ import annotations

import enum

import attrs

from smscenter._provider import unknown_member
from smscenter.exceptions import ValidationError

__all__ = ("MessageFlags", "MessageKind", "MessageType", "TemplateKind", "Translit")


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


class Translit(enum.IntEnum):
    """send.php ``translit``: turn Cyrillic into Latin letters to fit more per SMS."""

    NONE = 0
    TRANSLIT = 1  #: "translit" style
    MPAHC = 2  #: "mpaHc" style (look-alike Latin letters)


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
