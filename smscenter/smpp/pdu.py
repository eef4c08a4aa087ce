"""SMPP 3.4 PDUs: frozen values, their encoding and decoding, and the framer.

Every PDU of SMPP 3.4 is a frozen attrs class whose fields carry the spec's names
(``source_addr_ton``, ``destination_addr``, ``short_message``...). A class declares its body once,
as a layout of (field, kind) pairs; from it an encoder and a decoder are generated when the module
is imported, so a decode is a handful of ``struct.unpack_from`` / ``bytes.find`` calls with no
per-field dispatch in Python (why pure Python is fast here: docs/performance.md).

- :func:`encode` / :meth:`Pdu.encode` checks field limits (``LocalProtocolError`` naming the field
  and its limit) and returns the PDU's bytes.
- :func:`decode_pdu` decodes one complete PDU; :class:`PduFramer` takes bytes as they come off a
  socket. Decoding trusts nothing: every short or malformed input is a
  :class:`PduDecodeError` (a ``RemoteProtocolError``) that says what and where.
- C-octet strings are ``str`` (decoded as Latin-1, so every byte survives a round trip); integers
  are plain ``int`` (compare them with :class:`~smscenter.smpp.constants.TON`, ``NPI``,
  ``DataCoding``...; unknown values stay raw); ``short_message`` is ``bytes``.
- TLVs are kept raw and in wire order (duplicates too) as ``(tag, value)`` pairs; typed views
  come from :func:`typed_value`, :meth:`Pdu.tlv_value` and the named properties
  (``receipted_message_id``, ``cost``, ``flags``...). A malformed vendor TLV value stays raw
  bytes instead of failing the PDU (a vendor's odd TLV must not lose the message).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, NamedTuple, TypeVar

import attrs

from smscenter._fastinit import define, fast_init
from smscenter.models import ExtraStatus, MessageFlags
from smscenter.smpp._wire import (
    HEADER,
    TLV_HEADER,
    U32,
    DecodeFail,
    PduDecodeError,
    PduEncodeError,
    encode_tlvs,
    no_nul,
    truncated,
)
from smscenter.smpp.constants import (
    DEFAULT_MAX_PDU_LENGTH,
    HEADER_LENGTH,
    CommandId,
    CommandStatus,
    MessageState,
    Tag,
)

__all__ = (
    "PDU_CLASSES",
    "AlertNotification",
    "BindReceiver",
    "BindReceiverResp",
    "BindTransceiver",
    "BindTransceiverResp",
    "BindTransmitter",
    "BindTransmitterResp",
    "CancelSm",
    "CancelSmResp",
    "DataSm",
    "DataSmResp",
    "DeliverSm",
    "DeliverSmResp",
    "DestAddress",
    "DistributionList",
    "EnquireLink",
    "EnquireLinkResp",
    "GenericNack",
    "Outbind",
    "Pdu",
    "PduDecodeError",
    "PduEncodeError",
    "PduFramer",
    "QuerySm",
    "QuerySmResp",
    "ReplaceSm",
    "ReplaceSmResp",
    "SubmitMulti",
    "SubmitMultiResp",
    "SubmitSm",
    "SubmitSmResp",
    "Tlv",
    "TlvPair",
    "TlvValue",
    "Unbind",
    "UnbindResp",
    "UnsuccessSme",
    "decode_pdu",
    "encode",
    "typed_value",
)

# --- TLVs -----------------------------------------------------------------------------------------

#: What a typed TLV value can be; anything that does not parse stays ``bytes``.
TlvValue = int | str | bytes | Decimal

# Value types per tag (SMPP 3.4 §5.3.2; provider tags from smscentre.com/api/smpp). Integers
# list the sizes the spec allows: source_telematics_id is 2 octets in the 3.4 table but some
# stacks send 1.
_INT_SIZES: dict[int, tuple[int, ...]] = {
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
# C-octet strings (value ends with a NUL).
_CSTRING_TAGS = frozenset(
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


def _cstring_text(value: bytes) -> str:
    # Lenient: some SMSCs omit the NUL inside a TLV; take everything up to the first NUL.
    nul = value.find(0)
    return (value if nul < 0 else value[:nul]).decode("latin-1")


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
            size = _INT_SIZES.get(tag, (4,))[0]
            if not 0 <= value < 1 << (8 * size):
                raise ValueError(f"TLV 0x{tag:04X} value {value} does not fit in {size} octets")
            raw = value.to_bytes(size, "big")
        elif isinstance(value, Decimal):
            raw = f"{value:.4f}".encode("ascii") + b"\0"
        elif isinstance(value, str):
            raw = value.encode("latin-1")
            if tag in _CSTRING_TAGS:
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


#: One TLV as the PDUs hold it: a ``(tag, value)`` pair. Decoded PDUs carry plain tuples (a
#: named tuple costs three times as much to create, and a receipt has eight TLVs); a
#: :class:`Tlv` is the same pair with names, and either may be passed in.
TlvPair = tuple[int, bytes]


def typed_value(tag: int, value: bytes) -> TlvValue:
    """A TLV value in its spec type: ``int``, ``str`` (C-strings), ``Decimal`` (provider cost).

    A value that does not have its tag's shape (wrong size, not a number), and any unknown tag,
    comes back as the raw ``bytes``: never an error (a vendor's odd TLV must not lose a PDU).
    """
    sizes = _INT_SIZES.get(tag)
    if sizes is not None:
        return int.from_bytes(value, "big") if len(value) in sizes else value
    if tag in _CSTRING_TAGS:
        text = _cstring_text(value)  # Latin-1 decodes every byte
        if tag == Tag.COST:
            # smscentre.com/api/smpp: cost is " n.nnnn" (a C-string, may carry a leading space).
            try:
                return Decimal(text.strip())
            except InvalidOperation:
                return value
        return text
    return value


def _first(tlvs: tuple[TlvPair, ...], tag: int) -> bytes | None:
    for t, v in tlvs:
        if t == tag:
            return v
    return None


# --- PDU base -----------------------------------------------------------------------------------

_STATUS_MAP: dict[int, CommandStatus] = dict(CommandStatus._value2member_map_)


def _status(value: int) -> CommandStatus:
    member = _STATUS_MAP.get(value)
    return member if member is not None else CommandStatus(value)


@attrs.frozen(kw_only=True, slots=False)
class Pdu:
    """Base of every PDU: the header fields and the TLVs.

    PDUs are frozen but not slotted: a PDU is short-lived, and filling an instance dict in one
    step is what makes building and decoding them cheap (see ``_gen_codec``).

    :ivar sequence_number: 1..0x7FFFFFFF (0 until a connection assigns one).
    :ivar command_status: 0 in requests; the outcome in responses. Unknown values stay raw.
    :ivar tlvs: optional parameters in wire order, as ``(tag, value)`` pairs (:class:`Tlv`
        instances are such pairs with names).
    """

    command_id: ClassVar[CommandId]
    #: The PDU class that answers this request (None for responses, outbind, alert_notification).
    response_class: ClassVar[type[Pdu] | None] = None
    _layout: ClassVar[tuple[tuple[str, str, int], ...]] = ()

    sequence_number: int = 0
    command_status: int = CommandStatus.ESME_ROK
    tlvs: tuple[TlvPair, ...] = ()

    @classmethod
    def is_response(cls) -> bool:
        """True for responses and generic_nack."""
        return bool(cls.command_id & 0x80000000)

    def _encoder(self) -> bytes:  # replaced per class by the generated encoder
        raise NotImplementedError

    def encode(self) -> bytes:
        """The PDU's bytes, header included.

        :raises LocalProtocolError: (:class:`PduEncodeError`) a field is over its limit or of the
            wrong type; the message names the PDU, the field and the limit.
        """
        return self._encoder()

    def _encode_seq(self, sequence_number: int) -> bytes:
        """The PDU's bytes with ``sequence_number`` in the header, whatever its own field says
        (the connection numbers every request it sends).

        A submit_sm copied from a cached template (``smpp._templates``) carries its body
        already encoded, byte for byte what the encoder would write, in ``__dict__["_body"]``
        (outside the attrs fields: equality, repr and ``evolve`` never see it). Then only the
        header is packed: the encoder was a good part of each bulk message's CPU.
        """
        body: bytes | None = self.__dict__.get("_body")
        if body is not None:
            return (
                HEADER.pack(
                    HEADER_LENGTH + len(body),
                    self.command_id,
                    self.command_status,
                    sequence_number,
                )
                + body
            )
        data = self._encoder()
        if self.sequence_number != sequence_number:
            data = data[:12] + U32.pack(sequence_number) + data[16:]
        return data

    def tlv(self, tag: int) -> bytes | None:
        """The raw value of the first TLV with ``tag``, or None."""
        for t, v in self.tlvs:
            if t == tag:
                return v
        return None

    def tlv_all(self, tag: int) -> tuple[bytes, ...]:
        """Raw values of every TLV with ``tag``, in wire order."""
        return tuple(v for t, v in self.tlvs if t == tag)

    def tlv_value(self, tag: int) -> TlvValue | None:
        """The typed value (:func:`typed_value`) of the first TLV with ``tag``, or None."""
        for t, v in self.tlvs:
            if t == tag:
                return typed_value(t, v)
        return None

    def _tlv_int(self, tag: int, size: int) -> int | None:
        value = _first(self.tlvs, tag)
        if value is None or len(value) != size:
            return None
        return int.from_bytes(value, "big")

    def _tlv_text(self, tag: int) -> str | None:
        value = _first(self.tlvs, tag)
        return None if value is None else _cstring_text(value)


class _MessageTlvs:
    """Typed accessors for the TLVs messages carry (standard and the provider's,
    smscentre.com/api/smpp).

    Each returns None when the TLV is absent or not in its documented shape.
    """

    __slots__ = ()
    tlvs: tuple[TlvPair, ...]
    _tlv_int: Callable[[int, int], int | None]
    _tlv_text: Callable[[int], str | None]

    @property
    def receipted_message_id(self) -> str | None:
        """TLV 0x001E: the id of the message a receipt is about."""
        return self._tlv_text(Tag.RECEIPTED_MESSAGE_ID)

    @property
    def message_state(self) -> MessageState | None:
        """TLV 0x0427: the message's state, as reported in a receipt."""
        value = self._tlv_int(Tag.MESSAGE_STATE, 1)
        return None if value is None else MessageState(value)

    @property
    def network_error_code(self) -> tuple[int, int] | None:
        """TLV 0x0423: (network type, error code); 3 octets, type then a 2-octet code."""
        value = _first(self.tlvs, Tag.NETWORK_ERROR_CODE)
        if value is None or len(value) != 3:
            return None
        return value[0], (value[1] << 8) | value[2]

    @property
    def message_payload(self) -> bytes | None:
        """TLV 0x0424: the message body when it is too long for short_message."""
        return _first(self.tlvs, Tag.MESSAGE_PAYLOAD)

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
        value = _first(self.tlvs, Tag.COST)
        if value is None:
            return None
        try:
            return Decimal(_cstring_text(value).strip())
        except InvalidOperation:
            return None

    @property
    def flags(self) -> MessageFlags | None:
        """Provider TLV 0x2001: the decoded 2-byte flag (type, second balance, template)."""
        value = self._tlv_int(Tag.FLAG, 2)
        return None if value is None else MessageFlags.from_int(value)

    @property
    def parts(self) -> int | None:
        """Provider TLV 0x2002: how many SMS parts the message took."""
        return self._tlv_int(Tag.PARTS, 2)

    @property
    def mccmnc(self) -> str | None:
        """Provider TLV 0x2003: the subscriber's MCC+MNC digits."""
        return self._tlv_text(Tag.MCCMNC)

    @property
    def extra_status(self) -> ExtraStatus | None:
        """Provider TLV 0x2004: additional status (read, link clicked)."""
        value = self._tlv_int(Tag.EXTRA_STATUS, 2)
        return None if value is None else ExtraStatus(value)


# --- code generation ------------------------------------------------------------------------------
#
# Layout kinds: "B"/"H"/"I" unsigned ints of 1/2/4 octets; "c" a C-octet string whose limit
# (third item) counts the NUL; "sm" sm_length + short_message; "dests" number_of_dests +
# dest_address list (submit_multi); "unsucc" no_unsuccess + unsuccess_sme list.

_P = TypeVar("_P", bound=type[Pdu])

#: command_id -> PDU class, filled by :func:`_codec`.
PDU_CLASSES: dict[int, type[Pdu]] = {}
_DECODERS: dict[int, Callable[..., Pdu]] = {}
_NUL = b"\0"


def _too_long(cls: type[Pdu], field: str, limit: int, value: bytes) -> PduEncodeError:
    if 0 in value:
        return PduEncodeError(
            f"{cls.__name__}.{field} contains a NUL octet, which would end the C-string early",
            pdu=cls.__name__,
            field=field,
            limit=limit,
        )
    return PduEncodeError(
        f"{cls.__name__}.{field} is {len(value)} octets; the limit is {limit - 1} "
        f"({limit} with the terminating NUL)",
        pdu=cls.__name__,
        field=field,
        limit=limit - 1,
    )


def _diagnose(pdu: Pdu, exc: Exception) -> PduEncodeError:
    # Slow path after a failed encode: find the field that broke it and say so.
    name = type(pdu).__name__
    checks: list[tuple[str, str, int]] = [
        ("sequence_number", "I", 0),
        ("command_status", "I", 0),
        *type(pdu)._layout,
    ]
    for field, kind, _limit in checks:
        value = getattr(pdu, field)
        if kind in "BHI":
            bits = {"B": 8, "H": 16, "I": 32}[kind]
            if isinstance(value, bool) or not isinstance(value, int):
                return PduEncodeError(
                    f"{name}.{field} must be an int, got {type(value).__name__}",
                    pdu=name,
                    field=field,
                )
            if not 0 <= value < 1 << bits:
                return PduEncodeError(
                    f"{name}.{field} = {value} does not fit in {bits // 8} octet(s) "
                    f"(0..{(1 << bits) - 1})",
                    pdu=name,
                    field=field,
                    limit=(1 << bits) - 1,
                )
        elif kind == "c":
            if not isinstance(value, str):
                return PduEncodeError(
                    f"{name}.{field} must be a str, got {type(value).__name__}",
                    pdu=name,
                    field=field,
                )
            try:
                value.encode("latin-1")
            except UnicodeEncodeError:
                return PduEncodeError(
                    f"{name}.{field} has characters outside Latin-1: {value!r}",
                    pdu=name,
                    field=field,
                )
        elif kind == "sm" and not isinstance(value, bytes | bytearray):
            return PduEncodeError(
                f"{name}.short_message must be bytes, got {type(value).__name__}",
                pdu=name,
                field=field,
            )
    return PduEncodeError(f"{name} could not be encoded: {exc}", pdu=name, field="?")


_STRUCTS: dict[str, struct.Struct] = {}


def _struct_name(fmt: str) -> str:
    name = f"_S_{fmt}"
    _STRUCTS.setdefault(name, struct.Struct(">" + fmt))
    return name


def _gen_codec(cls: type[Pdu]) -> None:
    layout = cls._layout
    dec = ["def decode(d, p, end, seq, st):"]
    if cls.is_response() and layout:
        # SMPP allows an error response without a body (e.g. a refused bind_resp).
        dec.append("    if p == end and st:")
        dec.append("        return CLS(sequence_number=seq, command_status=st)")
    enc_pre: list[str] = []
    enc_parts: list[str] = []
    group: list[tuple[str, str]] = []
    names: list[str] = []

    def flush() -> None:
        if not group:
            return
        fmt = "".join(k for _, k in group)
        size = struct.calcsize(">" + fmt)
        sname = _struct_name(fmt)
        fields = [f for f, _ in group]
        dec.append(f"    if p + {size} > end: raise _trunc({fields[0]!r}, p)")
        if fmt == "B":
            dec.append(f"    {fields[0]} = d[p]")
        else:
            dec.append(f"    {', '.join(fields)}, = {sname}.unpack_from(d, p)")
        dec.append(f"    p += {size}")
        enc_parts.append(f"{sname}.pack({', '.join('self.' + f for f in fields)})")
        group.clear()

    for i, (field, kind, limit) in enumerate(layout):
        names.append(field)
        if kind in "BHI":
            group.append((field, kind))
            continue
        if kind == "sm":
            group.append(("len(short_message)", "B"))
            fields = [f for f, _ in group]
            fmt = "".join(k for _, k in group)
            size = struct.calcsize(">" + fmt)
            sname = _struct_name(fmt)
            dec.append(f"    if p + {size} > end: raise _trunc({fields[0]!r}, p)")
            unpacked = [*fields[:-1], "n"]
            if fmt == "B":
                dec.append("    n = d[p]")
            else:
                dec.append(f"    {', '.join(unpacked)}, = {sname}.unpack_from(d, p)")
            dec.append(f"    p += {size}")
            dec.append("    if p + n > end: raise _trunc('short_message', p)")
            dec.append("    short_message = d[p:p + n]")
            dec.append("    p += n")
            enc_pre.append("    short_message = self.short_message")
            enc_pre.append(
                "    if len(short_message) > 254: raise _sm_limit(CLS, len(short_message))"
            )
            packed = ", ".join([*("self." + f for f in fields[:-1]), "len(short_message)"])
            enc_parts.append(f"{sname}.pack({packed})")
            enc_parts.append("short_message")
            group.clear()
            continue
        flush()
        if kind == "c":
            dec.append("    i = d.find(0, p, end)")
            dec.append(f"    if i < 0: raise _nonul({field!r}, p)")
            # Most optional C-strings are empty: skip the slice and decode for those.
            dec.append(f"    {field} = d[p:i].decode('latin-1') if i != p else ''")
            dec.append("    p = i + 1")
            var = f"b{i}"
            enc_pre.append(f"    {var} = self.{field}.encode('latin-1')")
            enc_pre.append(
                f"    if len({var}) >= {limit} or 0 in {var}: "
                f"raise _too_long(CLS, {field!r}, {limit}, {var})"
            )
            enc_parts.append(var)
            enc_parts.append("_NUL")
        elif kind == "dests":
            dec.append(f"    {field}, p = _dec_dests(d, p, end)")
            enc_parts.append(f"_enc_dests(CLS, self.{field})")
        elif kind == "unsucc":
            dec.append(f"    {field}, p = _dec_unsucc(d, p, end)")
            enc_parts.append(f"_enc_unsucc(CLS, self.{field})")
        else:  # pragma: no cover - layouts are static
            raise AssertionError(kind)
    flush()
    dec.append("    tlvs = _dec_tlvs(d, p, end) if p < end else ()")
    # Build the instance without the generated __init__: one __dict__ assignment instead of a
    # setattr per field (half the cost for a deliver_sm); every field is set, so the value is
    # complete.
    fields = [f.name for f in attrs.fields(cls)]
    if set(fields) != {"sequence_number", "command_status", "tlvs", *names}:  # pragma: no cover
        raise AssertionError(f"{cls.__name__}: layout does not cover the fields")
    local = {"sequence_number": "seq", "command_status": "st", "tlvs": "tlvs"}
    dec.append("    o = _new(CLS)")
    items = ", ".join(f"{field!r}: {local.get(field, field)}" for field in fields)
    dec.append(f"    _osa(o, '__dict__', {{{items}}})")
    dec.append("    return o")

    enc = ["def encode(self):", "    try:", *("    " + line for line in enc_pre)]
    body = f"b''.join(({', '.join(enc_parts)},))" if enc_parts else "b''"
    enc.append(f"        body = {body}")
    enc.append("        if self.tlvs: body += _enc_tlvs(self.tlvs, NAME)")
    enc.append(
        f"        return _HDR.pack({HEADER_LENGTH} + len(body), {int(cls.command_id)}, "
        "self.command_status, self.sequence_number) + body"
    )
    enc.append("    except (UnicodeEncodeError, struct.error, AttributeError, TypeError) as exc:")
    enc.append("        raise _diagnose(self, exc) from None")

    namespace: dict[str, Any] = {
        **_STRUCTS,
        "CLS": cls,
        "NAME": cls.__name__,
        "_HDR": HEADER,
        "_NUL": _NUL,
        "_trunc": truncated,
        "_nonul": no_nul,
        "_too_long": _too_long,
        "_sm_limit": _sm_limit,
        "_diagnose": _diagnose,
        "_dec_tlvs": _decode_tlvs,
        "_enc_tlvs": encode_tlvs,
        "_dec_dests": _decode_dests,
        "_enc_dests": _encode_dests,
        "_dec_unsucc": _decode_unsuccess,
        "_enc_unsucc": _encode_unsuccess,
        "struct": struct,
        "_new": object.__new__,
        "_osa": object.__setattr__,
    }
    _DECODERS[int(cls.command_id)] = define("\n".join(dec), namespace, "decode")
    cls._encoder = define("\n".join(enc), namespace, "encode")  # type: ignore[method-assign]
    fast_init(cls)


def _sm_limit(cls: type[Pdu], length: int) -> PduEncodeError:
    return PduEncodeError(
        f"{cls.__name__}.short_message is {length} octets; the limit is 254 "
        "(use the message_payload TLV or split the text)",
        pdu=cls.__name__,
        field="short_message",
        limit=254,
    )


# The TLVs after the first one repeat byte for byte across a bulk send's receipts (state, error,
# the provider's cost/flags/parts/MCC+MNC, smscentre.com/api/smpp) while the first
# (receipted_message_id) differs, so their decoded pairs are cached by their raw bytes: values are
# immutable bytes.
_TLV_TAILS: dict[bytes, tuple[TlvPair, ...]] = {}
_TLV_TAILS_MAX = 512


def _decode_tlvs(data: bytes, pos: int, end: int) -> tuple[TlvPair, ...]:
    unpack = TLV_HEADER.unpack_from
    tail_key: bytes | None = None
    if end - pos > 8:
        tag, length = unpack(data, pos)
        start = pos + 4
        nxt = start + length
        if nxt + 4 <= end:
            tail_key = data[nxt:end]
            cached = _TLV_TAILS.get(tail_key)
            if cached is not None:
                return ((tag, data[start:nxt]), *cached)
    out: list[TlvPair] = []
    append = out.append
    try:
        while pos < end:
            # No separate "is the 4-byte header in?" test: a header past the end makes the
            # value start past the end too, which the one check below catches.
            tag, length = unpack(data, pos)
            start = pos + 4
            pos = start + length
            if pos > end:
                break
            append((tag, data[start:pos]))
        else:
            if tail_key is not None:
                if len(_TLV_TAILS) >= _TLV_TAILS_MAX:
                    _TLV_TAILS.clear()
                _TLV_TAILS[tail_key] = tuple(out[1:])
            return tuple(out)
    except struct.error:  # the header ran past the end of the chunk itself
        start = pos + 4
    if start > end:
        # ESME_RINVOPTPARSTREAM: the optional-parameter stream is broken.
        raise DecodeFail("tlv", start - 4, "truncated TLV header", 0xC0)
    raise DecodeFail("tlv", start - 4, f"TLV 0x{tag:04X} length {length} overruns the body", 0xC0)


def _codec(cls: _P) -> _P:
    """Register a PDU class and generate its encoder and decoder from ``_layout``."""
    _gen_codec(cls)
    PDU_CLASSES[int(cls.command_id)] = cls
    return cls


# --- submit_multi lists ---------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class DestAddress:
    """A submit_multi destination that is an SME address (dest_flag 1)."""

    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""


@attrs.frozen(kw_only=True)
class DistributionList:
    """A submit_multi destination that is a distribution list name (dest_flag 2)."""

    dl_name: str = ""


@attrs.frozen(kw_only=True)
class UnsuccessSme:
    """A submit_multi_resp entry for a destination the SMSC refused."""

    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    error_status_code: int = CommandStatus.ESME_ROK


def _read_cstr(d: bytes, p: int, end: int, field: str) -> tuple[str, int]:
    i = d.find(0, p, end)
    if i < 0:
        raise no_nul(field, p)
    return d[p:i].decode("latin-1"), i + 1


def _decode_dests(
    d: bytes, p: int, end: int
) -> tuple[tuple[DestAddress | DistributionList, ...], int]:
    if p >= end:
        raise truncated("number_of_dests", p)
    count = d[p]
    p += 1
    out: list[DestAddress | DistributionList] = []
    for _ in range(count):
        if p >= end:
            raise truncated("dest_flag", p)
        flag = d[p]
        p += 1
        if flag == 1:
            if p + 2 > end:
                raise truncated("dest_addr_ton", p)
            ton, npi = d[p], d[p + 1]
            addr, p = _read_cstr(d, p + 2, end, "destination_addr")
            out.append(DestAddress(dest_addr_ton=ton, dest_addr_npi=npi, destination_addr=addr))
        elif flag == 2:
            name, p = _read_cstr(d, p, end, "dl_name")
            out.append(DistributionList(dl_name=name))
        else:
            raise DecodeFail("dest_flag", p - 1, f"unknown dest_flag {flag}", 0x40)
    return tuple(out), p


def _enc_cstr(cls: type[Pdu], field: str, value: str, limit: int) -> bytes:
    raw = value.encode("latin-1")
    if len(raw) >= limit or 0 in raw:
        raise _too_long(cls, field, limit, raw)
    return raw + _NUL


def _encode_dests(cls: type[Pdu], dests: tuple[DestAddress | DistributionList, ...]) -> bytes:
    if len(dests) > 254:
        raise PduEncodeError(
            f"{cls.__name__}.dest_addresses has {len(dests)} entries; the limit is 254",
            pdu=cls.__name__,
            field="dest_addresses",
            limit=254,
        )
    parts = [bytes((len(dests),))]
    for dest in dests:
        if isinstance(dest, DestAddress):
            parts.append(bytes((1, dest.dest_addr_ton, dest.dest_addr_npi)))
            parts.append(_enc_cstr(cls, "destination_addr", dest.destination_addr, 21))
        else:
            parts.append(b"\x02")
            parts.append(_enc_cstr(cls, "dl_name", dest.dl_name, 21))
    return b"".join(parts)


_UNSUCC_TAIL = struct.Struct(">I")


def _decode_unsuccess(d: bytes, p: int, end: int) -> tuple[tuple[UnsuccessSme, ...], int]:
    if p >= end:
        raise truncated("no_unsuccess", p)
    count = d[p]
    p += 1
    out: list[UnsuccessSme] = []
    for _ in range(count):
        if p + 2 > end:
            raise truncated("dest_addr_ton", p)
        ton, npi = d[p], d[p + 1]
        addr, p = _read_cstr(d, p + 2, end, "destination_addr")
        if p + 4 > end:
            raise truncated("error_status_code", p)
        (code,) = _UNSUCC_TAIL.unpack_from(d, p)
        p += 4
        out.append(
            UnsuccessSme(
                dest_addr_ton=ton,
                dest_addr_npi=npi,
                destination_addr=addr,
                error_status_code=_status(code),
            )
        )
    return tuple(out), p


def _encode_unsuccess(cls: type[Pdu], items: tuple[UnsuccessSme, ...]) -> bytes:
    if len(items) > 255:
        raise PduEncodeError(
            f"{cls.__name__}.unsuccess_smes has {len(items)} entries; the limit is 255",
            pdu=cls.__name__,
            field="unsuccess_smes",
            limit=255,
        )
    parts = [bytes((len(items),))]
    for item in items:
        parts.append(bytes((item.dest_addr_ton, item.dest_addr_npi)))
        parts.append(_enc_cstr(cls, "destination_addr", item.destination_addr, 21))
        parts.append(_UNSUCC_TAIL.pack(item.error_status_code))
    return b"".join(parts)


# --- the PDUs (SMPP 3.4 chapter 4) ----------------------------------------------------------------

_BIND_LAYOUT = (
    ("system_id", "c", 16),
    ("password", "c", 9),
    ("system_type", "c", 13),
    ("interface_version", "B", 0),
    ("addr_ton", "B", 0),
    ("addr_npi", "B", 0),
    ("address_range", "c", 41),
)


@attrs.frozen(kw_only=True, slots=False)
class _BindResp(Pdu):
    system_id: str = ""

    _layout = (("system_id", "c", 16),)

    @property
    def sc_interface_version(self) -> int | None:
        """TLV 0x0210: the SMPP version the SMSC supports."""
        return self._tlv_int(Tag.SC_INTERFACE_VERSION, 1)


@_codec
@attrs.frozen(kw_only=True, slots=False)
class BindTransmitterResp(_BindResp):
    """bind_transmitter_resp (§4.1.2)."""

    command_id = CommandId.BIND_TRANSMITTER_RESP


@_codec
@attrs.frozen(kw_only=True, slots=False)
class BindReceiverResp(_BindResp):
    """bind_receiver_resp (§4.1.4)."""

    command_id = CommandId.BIND_RECEIVER_RESP


@_codec
@attrs.frozen(kw_only=True, slots=False)
class BindTransceiverResp(_BindResp):
    """bind_transceiver_resp (§4.1.6)."""

    command_id = CommandId.BIND_TRANSCEIVER_RESP


@attrs.frozen(kw_only=True, slots=False)
class _Bind(Pdu):
    system_id: str = ""
    #: Never shown in repr (a password never reaches a log).
    password: str = attrs.field(default="", repr=False)
    system_type: str = ""
    interface_version: int = 0x34
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""

    _layout = _BIND_LAYOUT


@_codec
@attrs.frozen(kw_only=True, slots=False)
class BindTransmitter(_Bind):
    """bind_transmitter (§4.1.1): bind to submit messages."""

    command_id = CommandId.BIND_TRANSMITTER
    response_class = BindTransmitterResp


@_codec
@attrs.frozen(kw_only=True, slots=False)
class BindReceiver(_Bind):
    """bind_receiver (§4.1.3): bind to receive deliver_sm."""

    command_id = CommandId.BIND_RECEIVER
    response_class = BindReceiverResp


@_codec
@attrs.frozen(kw_only=True, slots=False)
class BindTransceiver(_Bind):
    """bind_transceiver (§4.1.5): both directions on one bind."""

    command_id = CommandId.BIND_TRANSCEIVER
    response_class = BindTransceiverResp


@_codec
@attrs.frozen(kw_only=True, slots=False)
class Outbind(Pdu):
    """outbind (§4.1.7): the SMSC asks the ESME to bind (no response PDU)."""

    command_id = CommandId.OUTBIND
    system_id: str = ""
    password: str = attrs.field(default="", repr=False)

    _layout = (("system_id", "c", 16), ("password", "c", 9))


@_codec
@attrs.frozen(kw_only=True, slots=False)
class UnbindResp(Pdu):
    """unbind_resp (§4.2.2)."""

    command_id = CommandId.UNBIND_RESP


@_codec
@attrs.frozen(kw_only=True, slots=False)
class Unbind(Pdu):
    """unbind (§4.2.1)."""

    command_id = CommandId.UNBIND
    response_class = UnbindResp


@_codec
@attrs.frozen(kw_only=True, slots=False)
class GenericNack(Pdu):
    """generic_nack (§4.3.1): the answer to a PDU that could not be understood."""

    command_id = CommandId.GENERIC_NACK


@_codec
@attrs.frozen(kw_only=True, slots=False)
class EnquireLinkResp(Pdu):
    """enquire_link_resp (§4.11.2)."""

    command_id = CommandId.ENQUIRE_LINK_RESP


@_codec
@attrs.frozen(kw_only=True, slots=False)
class EnquireLink(Pdu):
    """enquire_link (§4.11.1): keepalive."""

    command_id = CommandId.ENQUIRE_LINK
    response_class = EnquireLinkResp


@_codec
@attrs.frozen(kw_only=True, slots=False)
class SubmitSmResp(Pdu):
    """submit_sm_resp (§4.4.2): carries the SMSC's message_id."""

    command_id = CommandId.SUBMIT_SM_RESP
    message_id: str = ""

    _layout = (("message_id", "c", 65),)


_SM_LAYOUT = (
    ("service_type", "c", 6),
    ("source_addr_ton", "B", 0),
    ("source_addr_npi", "B", 0),
    ("source_addr", "c", 21),
    ("dest_addr_ton", "B", 0),
    ("dest_addr_npi", "B", 0),
    ("destination_addr", "c", 21),
    ("esm_class", "B", 0),
    ("protocol_id", "B", 0),
    ("priority_flag", "B", 0),
    ("schedule_delivery_time", "c", 17),
    ("validity_period", "c", 17),
    ("registered_delivery", "B", 0),
    ("replace_if_present_flag", "B", 0),
    ("data_coding", "B", 0),
    ("sm_default_msg_id", "B", 0),
    ("short_message", "sm", 254),
)


@attrs.frozen(kw_only=True, slots=False)
class _ShortMessage(Pdu, _MessageTlvs):
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""

    _layout = _SM_LAYOUT

    @property
    def sm_length(self) -> int:
        """Octets in short_message (derived; written to the wire from it)."""
        return len(self.short_message)


@_codec
@attrs.frozen(kw_only=True, slots=False)
class SubmitSm(_ShortMessage):
    """submit_sm (§4.4.1): send one short message (or one part of a long one)."""

    command_id = CommandId.SUBMIT_SM
    response_class = SubmitSmResp


@_codec
@attrs.frozen(kw_only=True, slots=False)
class DeliverSmResp(Pdu):
    """deliver_sm_resp (§4.6.2); message_id is unused and normally empty."""

    command_id = CommandId.DELIVER_SM_RESP
    message_id: str = ""

    _layout = (("message_id", "c", 65),)


@_codec
@attrs.frozen(kw_only=True, slots=False)
class DeliverSm(_ShortMessage):
    """deliver_sm (§4.6.1): an incoming message or a delivery receipt."""

    command_id = CommandId.DELIVER_SM
    response_class = DeliverSmResp


@_codec
@attrs.frozen(kw_only=True, slots=False)
class DataSmResp(Pdu):
    """data_sm_resp (§4.7.2)."""

    command_id = CommandId.DATA_SM_RESP
    message_id: str = ""

    _layout = (("message_id", "c", 65),)


@_codec
@attrs.frozen(kw_only=True, slots=False)
class DataSm(Pdu, _MessageTlvs):
    """data_sm (§4.7.1): a message whose body travels in TLVs (message_payload)."""

    command_id = CommandId.DATA_SM
    response_class = DataSmResp
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    registered_delivery: int = 0
    data_coding: int = 0

    _layout = (
        ("service_type", "c", 6),
        ("source_addr_ton", "B", 0),
        ("source_addr_npi", "B", 0),
        ("source_addr", "c", 65),
        ("dest_addr_ton", "B", 0),
        ("dest_addr_npi", "B", 0),
        ("destination_addr", "c", 65),
        ("esm_class", "B", 0),
        ("registered_delivery", "B", 0),
        ("data_coding", "B", 0),
    )


@_codec
@attrs.frozen(kw_only=True, slots=False)
class QuerySmResp(Pdu):
    """query_sm_resp (§4.8.2)."""

    command_id = CommandId.QUERY_SM_RESP
    message_id: str = ""
    final_date: str = ""
    message_state: int = 0
    error_code: int = 0

    _layout = (
        ("message_id", "c", 65),
        ("final_date", "c", 17),
        ("message_state", "B", 0),
        ("error_code", "B", 0),
    )


@_codec
@attrs.frozen(kw_only=True, slots=False)
class QuerySm(Pdu):
    """query_sm (§4.8.1): ask for a message's state."""

    command_id = CommandId.QUERY_SM
    response_class = QuerySmResp
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""

    _layout = (
        ("message_id", "c", 65),
        ("source_addr_ton", "B", 0),
        ("source_addr_npi", "B", 0),
        ("source_addr", "c", 21),
    )


@_codec
@attrs.frozen(kw_only=True, slots=False)
class CancelSmResp(Pdu):
    """cancel_sm_resp (§4.9.2)."""

    command_id = CommandId.CANCEL_SM_RESP


@_codec
@attrs.frozen(kw_only=True, slots=False)
class CancelSm(Pdu):
    """cancel_sm (§4.9.1): cancel a message not yet delivered."""

    command_id = CommandId.CANCEL_SM
    response_class = CancelSmResp
    service_type: str = ""
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""

    _layout = (
        ("service_type", "c", 6),
        ("message_id", "c", 65),
        ("source_addr_ton", "B", 0),
        ("source_addr_npi", "B", 0),
        ("source_addr", "c", 21),
        ("dest_addr_ton", "B", 0),
        ("dest_addr_npi", "B", 0),
        ("destination_addr", "c", 21),
    )


@_codec
@attrs.frozen(kw_only=True, slots=False)
class ReplaceSmResp(Pdu):
    """replace_sm_resp (§4.10.2)."""

    command_id = CommandId.REPLACE_SM_RESP


@_codec
@attrs.frozen(kw_only=True, slots=False)
class ReplaceSm(Pdu):
    """replace_sm (§4.10.1): replace a message not yet delivered."""

    command_id = CommandId.REPLACE_SM
    response_class = ReplaceSmResp
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""

    _layout = (
        ("message_id", "c", 65),
        ("source_addr_ton", "B", 0),
        ("source_addr_npi", "B", 0),
        ("source_addr", "c", 21),
        ("schedule_delivery_time", "c", 17),
        ("validity_period", "c", 17),
        ("registered_delivery", "B", 0),
        ("sm_default_msg_id", "B", 0),
        ("short_message", "sm", 254),
    )

    @property
    def sm_length(self) -> int:
        """Octets in short_message (derived)."""
        return len(self.short_message)


@_codec
@attrs.frozen(kw_only=True, slots=False)
class SubmitMultiResp(Pdu):
    """submit_multi_resp (§4.5.2): message_id plus the destinations that were refused."""

    command_id = CommandId.SUBMIT_MULTI_RESP
    message_id: str = ""
    unsuccess_smes: tuple[UnsuccessSme, ...] = ()

    _layout = (("message_id", "c", 65), ("unsuccess_smes", "unsucc", 0))

    @property
    def no_unsuccess(self) -> int:
        """How many destinations were refused (derived)."""
        return len(self.unsuccess_smes)


@_codec
@attrs.frozen(kw_only=True, slots=False)
class SubmitMulti(Pdu, _MessageTlvs):
    """submit_multi (§4.5.1): one message to up to 254 destinations.

    (The provider does not implement it yet, smscentre.com/api/smpp; the codec is complete for other
    SMSCs and for the simulator.)
    """

    command_id = CommandId.SUBMIT_MULTI
    response_class = SubmitMultiResp
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addresses: tuple[DestAddress | DistributionList, ...] = ()
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""

    _layout = (
        ("service_type", "c", 6),
        ("source_addr_ton", "B", 0),
        ("source_addr_npi", "B", 0),
        ("source_addr", "c", 21),
        ("dest_addresses", "dests", 0),
        ("esm_class", "B", 0),
        ("protocol_id", "B", 0),
        ("priority_flag", "B", 0),
        ("schedule_delivery_time", "c", 17),
        ("validity_period", "c", 17),
        ("registered_delivery", "B", 0),
        ("replace_if_present_flag", "B", 0),
        ("data_coding", "B", 0),
        ("sm_default_msg_id", "B", 0),
        ("short_message", "sm", 254),
    )

    @property
    def number_of_dests(self) -> int:
        """How many destinations (derived)."""
        return len(self.dest_addresses)

    @property
    def sm_length(self) -> int:
        """Octets in short_message (derived)."""
        return len(self.short_message)


@_codec
@attrs.frozen(kw_only=True, slots=False)
class AlertNotification(Pdu):
    """alert_notification (§4.12.1): an MS became available (no response PDU)."""

    command_id = CommandId.ALERT_NOTIFICATION
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    esme_addr_ton: int = 0
    esme_addr_npi: int = 0
    esme_addr: str = ""

    _layout = (
        ("source_addr_ton", "B", 0),
        ("source_addr_npi", "B", 0),
        ("source_addr", "c", 65),
        ("esme_addr_ton", "B", 0),
        ("esme_addr_npi", "B", 0),
        ("esme_addr", "c", 65),
    )

    @property
    def ms_availability_status(self) -> int | None:
        """TLV 0x0422: 0 available, 1 denied, 2 unavailable."""
        return self._tlv_int(Tag.MS_AVAILABILITY_STATUS, 1)


# --- entry points -------------------------------------------------------------------------------


def encode(pdu: Pdu) -> bytes:
    """Encode ``pdu`` to bytes (same as :meth:`Pdu.encode`).

    :raises LocalProtocolError: a field is over its limit or of the wrong type.
    """
    return pdu._encoder()


def _decode_at(data: bytes, start: int, end: int) -> Pdu:
    # data[start:end] is one whole PDU whose command_length has been checked.
    _, command_id, status, seq = HEADER.unpack_from(data, start)
    decoder = _DECODERS.get(command_id)
    if decoder is None:
        raise PduDecodeError(
            f"unknown command_id 0x{command_id:08X} (sequence {seq})",
            offset=4,
            command_id=command_id,
            sequence_number=seq,
            field="command_id",
            status=CommandStatus.ESME_RINVCMDID,
        )
    st = _STATUS_MAP.get(status)
    if st is None:
        st = CommandStatus(status)
    try:
        return decoder(data, start + HEADER_LENGTH, end, seq, st)
    except DecodeFail as fail:
        name = PDU_CLASSES[command_id].__name__
        raise PduDecodeError(
            f"{name} (sequence {seq}): {fail.what} at byte {fail.pos - start}",
            offset=fail.pos - start,
            command_id=command_id,
            sequence_number=seq,
            field=fail.field,
            status=fail.status,
        ) from None


def decode_pdu(data: bytes) -> Pdu:
    """Decode exactly one complete PDU.

    :raises RemoteProtocolError: (:class:`PduDecodeError`) the bytes are not one valid PDU.
    """
    if type(data) is not bytes:
        data = bytes(data)
    size = len(data)
    if size < HEADER_LENGTH:
        raise PduDecodeError(
            f"PDU of {size} bytes is shorter than the 16-byte header",
            offset=0,
            field="command_length",
            fatal=True,
        )
    length, command_id, status, seq = HEADER.unpack_from(data)
    if length != size:
        raise PduDecodeError(
            f"command_length {length} does not match the {size} bytes given",
            offset=0,
            field="command_length",
            fatal=True,
        )
    decoder = _DECODERS.get(command_id)
    st = _STATUS_MAP.get(status)
    if decoder is not None and st is not None:
        try:
            return decoder(data, HEADER_LENGTH, length, seq, st)
        except DecodeFail:
            pass
    return _decode_at(data, 0, length)  # the slow path raises the detailed error


class PduFramer:
    """Turns a byte stream into PDUs: partial PDUs are buffered, many may arrive at once.

    Use :meth:`feed` with each chunk read from the socket, then call :meth:`next_pdu` until it
    returns None. A ``command_length`` below 16 or above ``max_length`` is refused as soon as
    the header is in (before buffering the body) with a *fatal* :class:`PduDecodeError`: the
    stream cannot be resynchronised. A malformed body inside a well-framed PDU raises a
    non-fatal one; that PDU has been consumed and the next call carries on with the next PDU.

    :param max_length: the largest command_length accepted.
    """

    __slots__ = ("_broken", "_buf", "_data", "_need", "_pos", "max_length")

    def __init__(self, max_length: int = DEFAULT_MAX_PDU_LENGTH) -> None:
        if max_length < HEADER_LENGTH:
            raise ValueError("max_length must be at least 16")
        self.max_length = max_length
        self._data = b""  # the chunk being parsed
        self._pos = 0
        self._buf = bytearray()  # an incomplete PDU waiting for more bytes
        self._need = 0  # how many bytes _buf must hold before parsing can resume
        self._broken: PduDecodeError | None = None

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as a PDU (a partial PDU at EOF is an error)."""
        return len(self._buf) + len(self._data) - self._pos

    def feed(self, data: bytes) -> None:
        """Add bytes from the wire."""
        if self._buf:
            self._buf += data
            if len(self._buf) >= self._need:
                self._data = bytes(self._buf)
                self._pos = 0
                self._buf.clear()
        elif self._pos < len(self._data):
            self._data = self._data[self._pos :] + bytes(data)
            self._pos = 0
        else:
            self._data = bytes(data)
            self._pos = 0

    def next_pdu(self) -> Pdu | None:
        """The next complete PDU, or None when more bytes are needed.

        :raises RemoteProtocolError: (:class:`PduDecodeError`) see the class docstring.
        """
        if self._broken is not None:
            raise self._broken
        data = self._data
        pos = self._pos
        avail = len(data) - pos
        if avail < HEADER_LENGTH:
            if avail:
                self._stash(data, pos, HEADER_LENGTH)
            return None
        length, command_id, status, seq = HEADER.unpack_from(data, pos)
        if length < HEADER_LENGTH or length > self.max_length:
            self._broken = PduDecodeError(
                f"command_length {length} is outside 16..{self.max_length} "
                f"(command_id 0x{command_id:08X}, sequence {seq}); the stream is out of sync",
                offset=0,
                command_id=command_id,
                sequence_number=seq,
                field="command_length",
                fatal=True,
                status=CommandStatus.ESME_RINVCMDLEN,
            )
            self._data = b""
            self._pos = 0
            raise self._broken
        if avail < length:
            self._stash(data, pos, length)
            return None
        end = pos + length
        self._pos = end
        # The common case inline (one header unpack per PDU); errors take _decode_at's path.
        decoder = _DECODERS.get(command_id)
        st = _STATUS_MAP.get(status)
        if decoder is not None and st is not None:
            try:
                return decoder(data, pos + HEADER_LENGTH, end, seq, st)
            except DecodeFail:
                pass
        return _decode_at(data, pos, end)

    def take_accepted(self, command_id: int, limit: int, out: list[tuple[int, str]]) -> int:
        """Consume the run of complete PDUs at the head of the stream that are ``command_id``
        with status 0 and a body of exactly one non-empty C-octet string of at most ``limit``
        octets (NUL included): a successful ``submit_sm_resp`` is nothing else. Append
        ``(sequence_number, text)`` for each to ``out``; return how many were taken.

        Why: bulk sending reads back one such response per message. Reading them here, in one
        loop, costs a fraction of decoding each into a PDU; anything else (another PDU, an
        error status, TLVs, an incomplete PDU) stops the run and is left for :meth:`next_pdu`.
        """
        if self._broken is not None:
            return 0
        data = self._data
        pos = self._pos
        end_all = len(data)
        before = len(out)
        unpack = HEADER.unpack_from
        find = data.find
        append = out.append
        maximum = HEADER_LENGTH + limit
        while end_all - pos >= HEADER_LENGTH:
            length, cid, status, seq = unpack(data, pos)
            end = pos + length
            if (
                cid != command_id
                or status
                # An empty id (body of just the NUL) is no acceptance: left for next_pdu.
                or length <= HEADER_LENGTH + 1
                or length > maximum
                or end > end_all
                or find(0, pos + HEADER_LENGTH, end) != end - 1
            ):
                break
            append((seq, data[pos + HEADER_LENGTH : end - 1].decode("latin-1")))
            pos = end
        self._pos = pos
        return len(out) - before

    def _stash(self, data: bytes, pos: int, need: int) -> None:
        self._buf += memoryview(data)[pos:]
        self._need = need
        self._data = b""
        self._pos = 0
