"""The framer: turns the bytes read from a socket into PDUs, and scans runs of accepted
``submit_sm_resp`` without decoding them.

It owns the decoding state of one stream: the partial PDU waiting for more bytes, and a bounded
cache of decoded TLV tails (the TLVs after a receipt's first one repeat byte for byte across a
bulk send's receipts; ``smscenter.smpp._codec.decode_tlvs``).
"""

from __future__ import annotations

from smscenter._cache import BoundedCache
from smscenter.smpp._codec import DECODERS, HEADER, STATUS_MAP, decode_at
from smscenter.smpp._codec_errors import DecodeFail, PduDecodeError
from smscenter.smpp.constants import DEFAULT_MAX_PDU_LENGTH, HEADER_LENGTH, CommandStatus
from smscenter.smpp.pdu import Pdu
from smscenter.smpp.tlv import TlvPair

__all__ = ("PduFramer",)


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
        decoder = DECODERS.get(command_id)
        st = STATUS_MAP.get(status)
        if decoder is not None and st is not None:
            try:
                return decoder(data, pos + HEADER_LENGTH, end, seq, st, self._tlv_tails)
            except DecodeFail:
                pass
        return decode_at(data, pos, end, self._tlv_tails)

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
