"""The base of every PDU class: the header fields, the TLVs and the TLV readers (SMPP 3.4 §3.2,
§3.3). The PDUs themselves are in :mod:`smscenter.smpp._pdu_link` and
:mod:`smscenter.smpp._pdu_message`; import all of them from :mod:`smscenter.smpp.pdu`.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from smscenter.smpp.constants import CommandId, CommandStatus
from smscenter.smpp.tlv import TlvPair, TlvValue, typed_value

__all__ = ("Pdu",)


@attrs.frozen(kw_only=True, slots=False)
class Pdu:
    """Base of every PDU: the header fields and the TLVs.

    PDUs are frozen but not slotted: a PDU is short-lived, and filling an instance dict in one
    step is what makes building and decoding them cheap (``smscenter._fastinit``).

    :ivar sequence_number: 1..0x7FFFFFFF (0 until a connection assigns one).
    :ivar command_status: 0 in requests; the outcome in responses. Unknown values stay raw.
    :ivar tlvs: optional parameters in wire order, as ``(tag, value)`` pairs
        (:class:`~smscenter.smpp.tlv.Tlv` instances are such pairs with names).
    """

    command_id: ClassVar[CommandId]
    #: The PDU class that answers this request (None for responses, outbind, alert_notification).
    response_class: ClassVar[type[Pdu] | None] = None

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
        """The typed value (:func:`~smscenter.smpp.tlv.typed_value`) of the first TLV with
        ``tag``, or None."""
        value = self.tlv(tag)
        return None if value is None else typed_value(tag, value)

    def _tlv_int(self, tag: int, size: int) -> int | None:
        value = self.tlv(tag)
        if value is None or len(value) != size:
            return None
        return int.from_bytes(value, "big")
