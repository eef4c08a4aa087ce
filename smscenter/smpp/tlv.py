"""SMPP TLVs (optional parameters, SMPP 3.4 §3.3 and §5.3): the pair type, typed values, and one
reader per tag that receipts and messages carry.

A PDU keeps its TLVs raw and in wire order, as ``(tag, value)`` pairs (:data:`TlvPair`; a
:class:`Tlv` is the same pair with names). Typed views:

- :func:`typed_value` / :meth:`Tlv.typed`: any tag in its spec type (``int``, ``str`` for
  C-strings, ``Decimal`` for the provider's cost); a value that does not have its tag's shape
  stays ``bytes``, never an error (a vendor's odd TLV must not lose a PDU).
- The readers (:func:`receipted_message_id`, :func:`message_state`, :func:`network_error_code`
  and the provider's :func:`cost`, :func:`flag`, :func:`parts`, :func:`mccmnc`,
  :func:`extra_status`, smscentre.com/api/smpp) take one raw value and return a plain value, or
  ``None`` when it is not in its documented shape. ``DeliverSm.cost`` and the receipt reader
  (:mod:`smscenter.smpp.receipts`) both read through them.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import NamedTuple, TypeVar

from smscenter.smpp.constants import MessageState, Tag

_T = TypeVar("_T")

__all__ = (
    "MessageTlvs",
    "Tlv",
    "TlvPair",
    "TlvValue",
    "cost",
    "cstring",
    "extra_status",
    "flag",
    "mccmnc",
    "message_state",
    "network_error_code",
    "parts",
    "receipted_message_id",
    "typed_value",
)

#: What a typed TLV value can be; anything that does not parse stays ``bytes``.
TlvValue = int | str | bytes | Decimal

#: One TLV as the PDUs hold it: a ``(tag, value)`` pair. Decoded PDUs carry plain tuples (a
#: named tuple costs three times as much to create, and a receipt has eight TLVs); a
#: :class:`Tlv` is the same pair with names, and either may be passed in.
TlvPair = tuple[int, bytes]

# Value types per tag (SMPP 3.4 §5.3.2; provider tags from smscentre.com/api/smpp). Integers
# list the sizes the spec allows: source_telematics_id is 2 octets in the 3.4 table but some
# stacks send 1.
INT_SIZES: dict[int, tuple[int, ...]] = {
    Tag.DEST_ADDR_SUBUNIT: (1,),
    Tag.DEST_NETWORK_TYPE: (1,),
    Tag.DEST_BEARER_TYPE: (1,),
    Tag.DEST_TELEMATICS_ID: (2,),
    Tag.SOURCE_ADDR_SUBUNIT: (1,),
    Tag.SOURCE_NETWORK_TYPE: (1,),
    Tag.SOURCE_BEARER_TYPE: (1,),
    Tag.SOURCE_TELEMATICS_ID: (2, 1),
    Tag.QOS_TIME_TO_LIVE: (4,),
    Tag.PAYLOAD_TYPE: (1,),
    Tag.MS_MSG_WAIT_FACILITIES: (1,),
    Tag.PRIVACY_INDICATOR: (1,),
    Tag.USER_MESSAGE_REFERENCE: (2,),
    Tag.USER_RESPONSE_CODE: (1,),
    Tag.SOURCE_PORT: (2,),
    Tag.DESTINATION_PORT: (2,),
    Tag.SAR_MSG_REF_NUM: (2,),
    Tag.LANGUAGE_INDICATOR: (1,),
    Tag.SAR_TOTAL_SEGMENTS: (1,),
    Tag.SAR_SEGMENT_SEQNUM: (1,),
    Tag.SC_INTERFACE_VERSION: (1,),
    Tag.CALLBACK_NUM_PRES_IND: (1,),
    Tag.NUMBER_OF_MESSAGES: (1,),
    Tag.DPF_RESULT: (1,),
    Tag.SET_DPF: (1,),
    Tag.MS_AVAILABILITY_STATUS: (1,),
    Tag.DELIVERY_FAILURE_REASON: (1,),
    Tag.MORE_MESSAGES_TO_SEND: (1,),
    Tag.MESSAGE_STATE: (1,),
    Tag.USSD_SERVICE_OP: (1,),
    Tag.DISPLAY_TIME: (1,),
    Tag.SMS_SIGNAL: (2,),
    Tag.MS_VALIDITY: (1,),
    Tag.ITS_REPLY_TYPE: (1,),
    Tag.ITS_SESSION_INFO: (2,),
    Tag.FLAG: (2,),
    Tag.PARTS: (2,),
    Tag.EXTRA_STATUS: (2,),
}
#: C-octet string tags (the value ends with a NUL).
CSTRING_TAGS = frozenset(
    {Tag.ADDITIONAL_STATUS_INFO_TEXT, Tag.RECEIPTED_MESSAGE_ID, Tag.MCCMNC, Tag.COST}
)
# Maximum value sizes, checked when a typed value is turned into a TLV.
_MAX_SIZES: dict[int, int] = {
    Tag.ADDITIONAL_STATUS_INFO_TEXT: 256,
    Tag.RECEIPTED_MESSAGE_ID: 65,
    Tag.SOURCE_SUBADDRESS: 23,
    Tag.DEST_SUBADDRESS: 23,
    Tag.CALLBACK_NUM_ATAG: 65,
    Tag.CALLBACK_NUM: 19,
    Tag.NETWORK_ERROR_CODE: 3,
    Tag.ALERT_ON_MESSAGE_DELIVERY: 0,
    Tag.MCCMNC: 6,
}
# (No limit for COST: smscentre.com/api/smpp says "max 6" yet shows the 7-character " n.nnnn".)


class Tlv(NamedTuple):
    """One optional parameter exactly as on the wire: ``tag`` and raw ``value`` bytes.

    Build typed ones with :meth:`of`; read them typed with :meth:`typed`.
    """

    tag: int
    value: bytes

    @classmethod
    def of(cls, tag: int, value: TlvValue) -> Tlv:
        """Build a TLV from a typed value, using the tag's type from the spec /
        smscentre.com/api/smpp.

        ``int`` is encoded in the tag's size (4 octets for unknown tags), ``str`` as a C-octet
        string for string tags (plain octets otherwise), :class:`~decimal.Decimal` as the
        provider's cost text, ``bytes`` as is.

        :raises ValueError: if the value does not fit the tag.
        """
        if isinstance(value, bool):
            raise TypeError("TLV values are int, str, bytes or Decimal, not bool")
        if isinstance(value, int):
            size = INT_SIZES.get(tag, (4,))[0]
            if not 0 <= value < 1 << (8 * size):
                raise ValueError(f"TLV 0x{tag:04X} value {value} does not fit in {size} octets")
            raw = value.to_bytes(size, "big")
        elif isinstance(value, Decimal):
            raw = f"{value:.4f}".encode("ascii") + b"\0"
        elif isinstance(value, str):
            raw = value.encode("latin-1")
            if tag in CSTRING_TAGS:
                raw += b"\0"
        else:
            raw = bytes(value)
        limit = _MAX_SIZES.get(tag)
        if limit is not None and len(raw) > limit:
            raise ValueError(f"TLV 0x{tag:04X} value is {len(raw)} octets, the limit is {limit}")
        return cls(tag, raw)

    def typed(self) -> TlvValue:
        """The value in its spec type (see :func:`typed_value`)."""
        return typed_value(self[0], self[1])


def typed_value(tag: int, value: bytes) -> TlvValue:
    """A TLV value in its spec type: ``int``, ``str`` (C-strings), ``Decimal`` (provider cost).

    A value that does not have its tag's shape (wrong size, not a number), and any unknown tag,
    comes back as the raw ``bytes``: never an error (a vendor's odd TLV must not lose a PDU).
    """
    sizes = INT_SIZES.get(tag)
    if sizes is not None:
        return int.from_bytes(value, "big") if len(value) in sizes else value
    if tag in CSTRING_TAGS:
        if tag == Tag.COST:
            number = cost(value)
            return value if number is None else number
        return cstring(value)
    return value


# --- one reader per tag ---------------------------------------------------------------------------


def cstring(value: bytes) -> str:
    """A C-string TLV value as text: up to the first NUL (some SMSCs leave the NUL out),
    decoded as Latin-1 so every byte survives."""
    nul = value.find(0)
    return (value if nul < 0 else value[:nul]).decode("latin-1")


def _u16(value: bytes) -> int | None:
    return (value[0] << 8) | value[1] if len(value) == 2 else None


def receipted_message_id(value: bytes) -> str:
    """TLV 0x001E (§5.3.2.12): the id of the message a receipt is about."""
    return cstring(value)


def message_state(value: bytes) -> int | None:
    """TLV 0x0427 (§5.3.2.35): the message's state (a ``MessageState`` value), one octet."""
    return value[0] if len(value) == 1 else None


def network_error_code(value: bytes) -> tuple[int, int] | None:
    """TLV 0x0423 (§5.3.2.31): ``(network type, error code)``: a type octet, then a 2-octet
    code. Some SMSCs write the code as ASCII digits instead (Kannel copes with both): those
    give network type 0."""
    if len(value) == 3 and not value.isdigit():
        return value[0], (value[1] << 8) | value[2]
    text = cstring(value)
    return (0, int(text)) if (text.isascii() and text.isdigit()) else None


def cost(value: bytes) -> Decimal | None:
    """Provider TLV 0x2000: the message's cost, a C-string ``" n.nnnn"`` (may start with a
    space; smscentre.com/api/smpp)."""
    try:
        return Decimal(cstring(value).strip())
    except InvalidOperation:
        return None


def flag(value: bytes) -> int | None:
    """Provider TLV 0x2001: the 2-octet flag (message type, second balance, template;
    ``smscenter.models.MessageFlags.from_int`` decodes it)."""
    return _u16(value)


def parts(value: bytes) -> int | None:
    """Provider TLV 0x2002: how many SMS parts the message took (2 octets)."""
    return _u16(value)


def mccmnc(value: bytes) -> str:
    """Provider TLV 0x2003: the subscriber's MCC+MNC digits, as written."""
    return cstring(value)


def extra_status(value: bytes) -> int | None:
    """Provider TLV 0x2004: additional status bits, 2 octets (2 read, 4 link clicked;
    ``smscenter.models.ExtraStatus``)."""
    return _u16(value)


# --- on the PDUs ----------------------------------------------------------------------------------


class MessageTlvs:
    """Typed accessors for the TLVs messages carry (standard and the provider's,
    smscentre.com/api/smpp), each through the tag's reader below; a mixin of the PDU classes
    that carry messages (``SubmitSm``, ``DeliverSm``, ``DataSm``, ``SubmitMulti``).

    Each returns None when the TLV is absent or not in its documented shape.
    """

    __slots__ = ()
    tlvs: tuple[TlvPair, ...]
    _tlv_int: Callable[[int, int], int | None]

    def _read(self, tag: int, reader: Callable[[bytes], _T]) -> _T | None:
        for t, v in self.tlvs:
            if t == tag:
                return reader(v)
        return None

    @property
    def receipted_message_id(self) -> str | None:
        """TLV 0x001E: the id of the message a receipt is about."""
        return self._read(Tag.RECEIPTED_MESSAGE_ID, receipted_message_id)

    @property
    def message_state(self) -> MessageState | None:
        """TLV 0x0427: the message's state, as reported in a receipt."""
        state = self._read(Tag.MESSAGE_STATE, message_state)
        return None if state is None else MessageState(state)

    @property
    def network_error_code(self) -> tuple[int, int] | None:
        """TLV 0x0423: (network type, error code); 3 octets, type then a 2-octet code."""
        return self._read(Tag.NETWORK_ERROR_CODE, network_error_code)

    @property
    def message_payload(self) -> bytes | None:
        """TLV 0x0424: the message body when it is too long for short_message."""
        return self._read(Tag.MESSAGE_PAYLOAD, bytes)

    @property
    def sar_msg_ref_num(self) -> int | None:
        """TLV 0x020C: concatenation reference of a segmented message."""
        return self._tlv_int(Tag.SAR_MSG_REF_NUM, 2)

    @property
    def sar_total_segments(self) -> int | None:
        """TLV 0x020E: how many segments the message has."""
        return self._tlv_int(Tag.SAR_TOTAL_SEGMENTS, 1)

    @property
    def sar_segment_seqnum(self) -> int | None:
        """TLV 0x020F: this segment's number, from 1."""
        return self._tlv_int(Tag.SAR_SEGMENT_SEQNUM, 1)

    @property
    def cost(self) -> Decimal | None:
        """Provider TLV 0x2000: the message's cost (a C-string " n.nnnn")."""
        return self._read(Tag.COST, cost)

    @property
    def flags(self) -> int | None:
        """Provider TLV 0x2001: the 2-byte flag (message type, second balance, template) as a
        number; ``smscenter.models.MessageFlags.from_int`` decodes it."""
        return self._read(Tag.FLAG, flag)

    @property
    def parts(self) -> int | None:
        """Provider TLV 0x2002: how many SMS parts the message took."""
        return self._read(Tag.PARTS, parts)

    @property
    def mccmnc(self) -> str | None:
        """Provider TLV 0x2003: the subscriber's MCC+MNC digits."""
        return self._read(Tag.MCCMNC, mccmnc)

    @property
    def extra_status(self) -> int | None:
        """Provider TLV 0x2004: additional status bits (2 read, 4 link clicked;
        ``smscenter.models.ExtraStatus``)."""
        return self._read(Tag.EXTRA_STATUS, extra_status)
