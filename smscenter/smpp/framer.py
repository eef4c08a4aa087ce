"""The framer: turns the bytes read from a socket into PDUs, and takes accepted
``submit_sm_resp`` on the way without decoding them.

It owns the decoding state of one stream: the partial PDU waiting for more bytes, and a bounded
cache of decoded TLV tails (the TLVs after a receipt's first one repeat byte for byte across a
bulk send's receipts; ``smscenter.smpp._codec.decode_tlvs``).
"""

from __future__ import annotations

from smscenter._cache import BoundedCache
from smscenter.smpp._codec import DECODERS, HEADER, STATUS_MAP, cstr_limit, decode_at
from smscenter.smpp._codec_errors import DecodeFail, PduDecodeError
from smscenter.smpp.constants import (
    DEFAULT_MAX_PDU_LENGTH,
    HEADER_LENGTH,
    CommandId,
    CommandStatus,
)
from smscenter.smpp.pdu import Pdu, SubmitSmResp
from smscenter.smpp.tlv import TlvPair

__all__ = ("PduFramer",)

_SUBMIT_SM_RESP = int(CommandId.SUBMIT_SM_RESP)
# An accepted submit_sm_resp's length: the header and a message_id of 1 octet up to its
# C-string limit, NUL included (SMPP 3.4 §4.4.2).
_SHORTEST_ACCEPTED = HEADER_LENGTH + 2
_LONGEST_ACCEPTED = HEADER_LENGTH + cstr_limit(SubmitSmResp, "message_id")


class PduFramer:
    """Turns a byte stream into PDUs: partial PDUs are buffered, many may arrive at once.

    Use :meth:`feed` with each chunk read from the socket, then call :meth:`next_pdu` until it
    returns None. A ``command_length`` below 16 or above ``max_length`` is refused as soon as
    the header is in (before buffering the body) with a *fatal* :class:`PduDecodeError`: the
    stream cannot be resynchronised. A malformed body inside a well-framed PDU raises a
    non-fatal one; that PDU has been consumed and the next call carries on with the next PDU.

    :param max_length: the largest command_length accepted.
    """

    __slots__ = ("_broken", "_buf", "_data", "_need", "_pos", "_tlv_tails", "max_length")

    def __init__(self, max_length: int = DEFAULT_MAX_PDU_LENGTH) -> None:
        if max_length < HEADER_LENGTH:
            raise ValueError("max_length must be at least 16")
        self.max_length = max_length
        self._data = b""  # the chunk being parsed
        self._pos = 0
        self._buf = bytearray()  # an incomplete PDU waiting for more bytes
        self._need = 0  # how many bytes _buf must hold before parsing can resume
        self._broken: PduDecodeError | None = None
        self._tlv_tails: BoundedCache[bytes, tuple[TlvPair, ...]] = BoundedCache(512)

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

    def next_pdu(self, accepted: list[tuple[int, str]] | None = None) -> Pdu | None:
        """The next complete PDU, or None when more bytes are needed.

        With ``accepted`` (the ESME's read), every successful ``submit_sm_resp`` met on the
        way is not decoded: ``(sequence_number, message_id)`` is appended to ``accepted`` and
        the scan goes on. Such a response is status 0 with a body of exactly one non-empty
        C-octet string within message_id's limit (SMPP 3.4 §4.4.2); anything else (an error
        status, TLVs, an empty id) is decoded and returned like any PDU. Why: bulk sending
        reads back one such response per message, often between receipts; taking them in
        this one loop costs a fraction of a PDU each.

        :raises RemoteProtocolError: (:class:`PduDecodeError`) see the class docstring; what
            was appended to ``accepted`` before it stays appended.
        """
        if self._broken is not None:
            raise self._broken
        data = self._data
        pos = self._pos
        size = len(data)
        unpack = HEADER.unpack_from
        while True:
            avail = size - pos
            if avail < HEADER_LENGTH:
                if avail:
                    self._stash(data, pos, HEADER_LENGTH)
                else:
                    self._pos = pos
                return None
            length, command_id, status, seq = unpack(data, pos)
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
            if (
                command_id == _SUBMIT_SM_RESP
                and accepted is not None
                and not status
                # An empty id (body of just the NUL) is no acceptance: decoded as a PDU.
                and _SHORTEST_ACCEPTED <= length <= _LONGEST_ACCEPTED
                and data.find(0, pos + HEADER_LENGTH, end) == end - 1
            ):
                accepted.append((seq, data[pos + HEADER_LENGTH : end - 1].decode("latin-1")))
                pos = end
                continue
            self._pos = end
            # The common case inline (one header unpack per PDU); errors take decode_at's path.
            decoder = DECODERS.get(command_id)
            st = STATUS_MAP.get(status)
            if decoder is not None and st is not None:
                try:
                    return decoder(data, pos + HEADER_LENGTH, end, seq, st, self._tlv_tails)
                except DecodeFail:
                    pass
            return decode_at(data, pos, end, self._tlv_tails)

    def _stash(self, data: bytes, pos: int, need: int) -> None:
        self._buf += memoryview(data)[pos:]
        self._need = need
        self._data = b""
        self._pos = 0
