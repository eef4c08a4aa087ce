"""What the SMPP codec raises: the public decode and encode errors, and the internal failure
that generated decoders raise (:mod:`smscenter.smpp._codec` turns it into a
:class:`PduDecodeError` that says where, once it knows the PDU's start and header).

Every message names the PDU and the field, so a peer's broken PDU or a caller's oversized
field can be found from the log line alone.
"""

from __future__ import annotations

from typing import Any

from smscenter.exceptions import LocalProtocolError, RemoteProtocolError

__all__ = (
    "DecodeFail",
    "PduDecodeError",
    "PduEncodeError",
    "no_nul",
    "sm_limit",
    "too_long",
    "truncated",
)


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


def too_long(name: str, field: str, limit: int, value: bytes) -> PduEncodeError:
    """The error for a C-string over its limit (or holding a NUL), naming the PDU and field."""
    if 0 in value:
        return PduEncodeError(
            f"{name}.{field} contains a NUL octet, which would end the C-string early",
            pdu=name,
            field=field,
            limit=limit,
        )
    return PduEncodeError(
        f"{name}.{field} is {len(value)} octets; the limit is {limit - 1} "
        f"({limit} with the terminating NUL)",
        pdu=name,
        field=field,
        limit=limit - 1,
    )


def sm_limit(cls: type[Any], length: int) -> PduEncodeError:
    return PduEncodeError(
        f"{cls.__name__}.short_message is {length} octets; the limit is 254 "
        "(use the message_payload TLV or split the text)",
        pdu=cls.__name__,
        field="short_message",
        limit=254,
    )
