"""Low-level SMPP wire pieces: precompiled structs, C-octet strings, TLV lists, decode errors.

Everything here works on ``bytes`` plus offsets (no copies of the chunk a PDU came in) and turns
every way the input can be short or malformed into :class:`PduDecodeError`, never an
``IndexError`` or ``struct.error``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from smscenter.exceptions import LocalProtocolError, RemoteProtocolError

__all__ = (
    "HEADER",
    "PduDecodeError",
    "PduEncodeError",
)

#: command_length, command_id, command_status, sequence_number: 4 x u32 big-endian (§3.2).
HEADER = struct.Struct(">IIII")
#: TLV header: tag u16, length u16 (§3.3).
TLV_HEADER = struct.Struct(">HH")
U8 = struct.Struct(">B")
U16 = struct.Struct(">H")
U32 = struct.Struct(">I")


class PduDecodeError(RemoteProtocolError):
    """The peer sent bytes that are not a valid PDU; says what and where.

    :ivar offset: byte offset of the problem, counted from the start of the PDU.
    :ivar command_id: the PDU's command_id, when the header could be read.
    :ivar sequence_number: the PDU's sequence_number, when the header could be read.
    :ivar field: the field being read (``"command_length"``, ``"destination_addr"``, ``"tlv"``).
    :ivar fatal: True when framing is lost (a bad command_length): nothing after it can be
        trusted and the connection must close. False when only this PDU was skipped.
    :ivar status: the ``command_status`` to answer with (in a generic_nack or the response).
    """

    def __init__(
        self,
        message: str,
        *,
        offset: int = 0,
        command_id: int | None = None,
        sequence_number: int | None = None,
        field: str | None = None,
        fatal: bool = False,
        status: int = 0x02,
    ) -> None:
        super().__init__(message)
        self.offset = offset
        self.command_id = command_id
        self.sequence_number = sequence_number
        self.field = field
        self.fatal = fatal
        self.status = status


class PduEncodeError(LocalProtocolError):
    """A PDU could not be encoded: a field is over its limit or has the wrong type.

    :ivar pdu: the PDU class name; :ivar field: the field; :ivar limit: its limit, when one.
    """

    def __init__(self, message: str, *, pdu: str, field: str, limit: int | None = None) -> None:
        super().__init__(message)
        self.pdu = pdu
        self.field = field
        self.limit = limit


class DecodeFail(Exception):
    """Internal: raised by generated decoders, turned into :class:`PduDecodeError` by the caller
    (which knows the PDU start, command_id and sequence_number)."""

    def __init__(self, field: str, pos: int, what: str, status: int = 0x02) -> None:
        super().__init__(what)
        self.field = field
        self.pos = pos
        self.what = what
        self.status = status


def truncated(field: str, pos: int) -> DecodeFail:
    return DecodeFail(field, pos, f"truncated {field}")


def no_nul(field: str, pos: int) -> DecodeFail:
    return DecodeFail(field, pos, f"C-string {field} has no terminating NUL")


def encode_tlvs(tlvs: Iterable[tuple[int, bytes]], pdu: str) -> bytes:
    """Encode TLVs in order; a value over 65535 octets or a tag out of range is a local error."""
    parts: list[bytes] = []
    pack = TLV_HEADER.pack
    for tlv in tlvs:
        tag, value = tlv
        if not isinstance(value, bytes | bytearray | memoryview):
            raise PduEncodeError(
                f"{pdu}: TLV 0x{tag:04X} value must be bytes, got {type(value).__name__}",
                pdu=pdu,
                field="tlvs",
            )
        if len(value) > 0xFFFF:
            raise PduEncodeError(
                f"{pdu}: TLV 0x{tag:04X} value is {len(value)} octets, the limit is 65535",
                pdu=pdu,
                field="tlvs",
                limit=0xFFFF,
            )
        if not 0 <= tag <= 0xFFFF:
            raise PduEncodeError(
                f"{pdu}: TLV tag {tag} does not fit in 2 octets", pdu=pdu, field="tlvs"
            )
        parts.append(pack(tag, len(value)))
        parts.append(bytes(value))
    return b"".join(parts)
