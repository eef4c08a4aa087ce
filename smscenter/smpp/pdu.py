"""SMPP 3.4 PDUs: one frozen value class per PDU (SMPP 3.4 chapter 4).

Every PDU is a frozen attrs class whose fields carry the spec's names (``source_addr_ton``,
``destination_addr``, ``short_message``...). Each body field is declared once, in wire order,
with its wire kind (:func:`~smscenter.smpp._codec.u8`, ``cstr(limit)``, ``short_message()``);
``@codec`` generates the class's encoder and decoder from those declarations
(:mod:`smscenter.smpp._codec`).

- :meth:`Pdu.encode` / :func:`encode` checks field limits (``LocalProtocolError`` naming the
  field and its limit) and returns the PDU's bytes; :func:`decode_pdu` decodes one complete PDU
  (:class:`~smscenter.smpp.framer.PduFramer` takes bytes as they come off a socket). Decoding
  trusts nothing: every short or malformed input is a :class:`PduDecodeError` (a
  ``RemoteProtocolError``) that says what and where.
- C-octet strings are ``str`` (decoded as Latin-1, so every byte survives a round trip); integers
  are plain ``int`` (compare them with :class:`~smscenter.smpp.constants.TON`, ``NPI``,
  ``DataCoding``...; unknown values stay raw); ``short_message`` is ``bytes``.
- TLVs are kept raw and in wire order (duplicates too) as ``(tag, value)`` pairs; typed views
  come from :mod:`smscenter.smpp.tlv`, :meth:`Pdu.tlv_value` and the named properties
  (``receipted_message_id``, ``cost``, ``flags``...), which return plain values. A malformed
  vendor TLV value stays raw bytes instead of failing the PDU (a vendor's odd TLV must not lose
  the message).
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from smscenter.smpp._codec import (
    PDU_CLASSES,
    PduDecodeError,
    PduEncodeError,
    codec,
    cstr,
    decode_pdu,
    encode,
    listed,
    short_message,
    u8,
)
from smscenter.smpp._multi import (
    DestAddress,
    DistributionList,
    UnsuccessSme,
    decode_dests,
    decode_unsuccess,
    encode_dests,
    encode_unsuccess,
)
from smscenter.smpp.constants import CommandId, CommandStatus, Tag
from smscenter.smpp.tlv import MessageTlvs, TlvPair, TlvValue, typed_value

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
    "QuerySm",
    "QuerySmResp",
    "ReplaceSm",
    "ReplaceSmResp",
    "SubmitMulti",
    "SubmitMultiResp",
    "SubmitSm",
    "SubmitSmResp",
    "Unbind",
    "UnbindResp",
    "UnsuccessSme",
    "decode_pdu",
    "encode",
)


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


# --- the PDUs (SMPP 3.4 chapter 4) ----------------------------------------------------------------


@attrs.frozen(kw_only=True, slots=False)
class _BindResp(Pdu):
    system_id: str = cstr(16)

    @property
    def sc_interface_version(self) -> int | None:
        """TLV 0x0210: the SMPP version the SMSC supports."""
        return self._tlv_int(Tag.SC_INTERFACE_VERSION, 1)


@codec
@attrs.frozen(kw_only=True, slots=False)
class BindTransmitterResp(_BindResp):
    """bind_transmitter_resp (§4.1.2)."""

    command_id = CommandId.BIND_TRANSMITTER_RESP


@codec
@attrs.frozen(kw_only=True, slots=False)
class BindReceiverResp(_BindResp):
    """bind_receiver_resp (§4.1.4)."""

    command_id = CommandId.BIND_RECEIVER_RESP


@codec
@attrs.frozen(kw_only=True, slots=False)
class BindTransceiverResp(_BindResp):
    """bind_transceiver_resp (§4.1.6)."""

    command_id = CommandId.BIND_TRANSCEIVER_RESP


@attrs.frozen(kw_only=True, slots=False)
class _Bind(Pdu):
    system_id: str = cstr(16)
    #: Never shown in repr (a password never reaches a log).
    password: str = cstr(9, repr=False)
    system_type: str = cstr(13)
    interface_version: int = u8(0x34)
    addr_ton: int = u8()
    addr_npi: int = u8()
    address_range: str = cstr(41)


@codec
@attrs.frozen(kw_only=True, slots=False)
class BindTransmitter(_Bind):
    """bind_transmitter (§4.1.1): bind to submit messages."""

    command_id = CommandId.BIND_TRANSMITTER
    response_class = BindTransmitterResp


@codec
@attrs.frozen(kw_only=True, slots=False)
class BindReceiver(_Bind):
    """bind_receiver (§4.1.3): bind to receive deliver_sm."""

    command_id = CommandId.BIND_RECEIVER
    response_class = BindReceiverResp


@codec
@attrs.frozen(kw_only=True, slots=False)
class BindTransceiver(_Bind):
    """bind_transceiver (§4.1.5): both directions on one bind."""

    command_id = CommandId.BIND_TRANSCEIVER
    response_class = BindTransceiverResp


@codec
@attrs.frozen(kw_only=True, slots=False)
class Outbind(Pdu):
    """outbind (§4.1.7): the SMSC asks the ESME to bind (no response PDU)."""

    command_id = CommandId.OUTBIND
    system_id: str = cstr(16)
    password: str = cstr(9, repr=False)


@codec
@attrs.frozen(kw_only=True, slots=False)
class UnbindResp(Pdu):
    """unbind_resp (§4.2.2)."""

    command_id = CommandId.UNBIND_RESP


@codec
@attrs.frozen(kw_only=True, slots=False)
class Unbind(Pdu):
    """unbind (§4.2.1)."""

    command_id = CommandId.UNBIND
    response_class = UnbindResp


@codec
@attrs.frozen(kw_only=True, slots=False)
class GenericNack(Pdu):
    """generic_nack (§4.3.1): the answer to a PDU that could not be understood."""

    command_id = CommandId.GENERIC_NACK


@codec
@attrs.frozen(kw_only=True, slots=False)
class EnquireLinkResp(Pdu):
    """enquire_link_resp (§4.11.2)."""

    command_id = CommandId.ENQUIRE_LINK_RESP


@codec
@attrs.frozen(kw_only=True, slots=False)
class EnquireLink(Pdu):
    """enquire_link (§4.11.1): keepalive."""

    command_id = CommandId.ENQUIRE_LINK
    response_class = EnquireLinkResp


@codec
@attrs.frozen(kw_only=True, slots=False)
class SubmitSmResp(Pdu):
    """submit_sm_resp (§4.4.2): carries the SMSC's message_id."""

    command_id = CommandId.SUBMIT_SM_RESP
    message_id: str = cstr(65)


@attrs.frozen(kw_only=True, slots=False)
class _ShortMessage(Pdu, MessageTlvs):
    service_type: str = cstr(6)
    source_addr_ton: int = u8()
    source_addr_npi: int = u8()
    source_addr: str = cstr(21)
    dest_addr_ton: int = u8()
    dest_addr_npi: int = u8()
    destination_addr: str = cstr(21)
    esm_class: int = u8()
    protocol_id: int = u8()
    priority_flag: int = u8()
    schedule_delivery_time: str = cstr(17)
    validity_period: str = cstr(17)
    registered_delivery: int = u8()
    replace_if_present_flag: int = u8()
    data_coding: int = u8()
    sm_default_msg_id: int = u8()
    short_message: bytes = short_message()

    @property
    def sm_length(self) -> int:
        """Octets in short_message (derived; written to the wire from it)."""
        return len(self.short_message)


@codec
@attrs.frozen(kw_only=True, slots=False)
class SubmitSm(_ShortMessage):
    """submit_sm (§4.4.1): send one short message (or one part of a long one)."""

    command_id = CommandId.SUBMIT_SM
    response_class = SubmitSmResp


@codec
@attrs.frozen(kw_only=True, slots=False)
class DeliverSmResp(Pdu):
    """deliver_sm_resp (§4.6.2); message_id is unused and normally empty."""

    command_id = CommandId.DELIVER_SM_RESP
    message_id: str = cstr(65)


@codec
@attrs.frozen(kw_only=True, slots=False)
class DeliverSm(_ShortMessage):
    """deliver_sm (§4.6.1): an incoming message or a delivery receipt."""

    command_id = CommandId.DELIVER_SM
    response_class = DeliverSmResp


@codec
@attrs.frozen(kw_only=True, slots=False)
class DataSmResp(Pdu):
    """data_sm_resp (§4.7.2)."""

    command_id = CommandId.DATA_SM_RESP
    message_id: str = cstr(65)


@codec
@attrs.frozen(kw_only=True, slots=False)
class DataSm(Pdu, MessageTlvs):
    """data_sm (§4.7.1): a message whose body travels in TLVs (message_payload)."""

    command_id = CommandId.DATA_SM
    response_class = DataSmResp
    service_type: str = cstr(6)
    source_addr_ton: int = u8()
    source_addr_npi: int = u8()
    source_addr: str = cstr(65)
    dest_addr_ton: int = u8()
    dest_addr_npi: int = u8()
    destination_addr: str = cstr(65)
    esm_class: int = u8()
    registered_delivery: int = u8()
    data_coding: int = u8()


@codec
@attrs.frozen(kw_only=True, slots=False)
class QuerySmResp(Pdu):
    """query_sm_resp (§4.8.2)."""

    command_id = CommandId.QUERY_SM_RESP
    message_id: str = cstr(65)
    final_date: str = cstr(17)
    message_state: int = u8()
    error_code: int = u8()


@codec
@attrs.frozen(kw_only=True, slots=False)
class QuerySm(Pdu):
    """query_sm (§4.8.1): ask for a message's state."""

    command_id = CommandId.QUERY_SM
    response_class = QuerySmResp
    message_id: str = cstr(65)
    source_addr_ton: int = u8()
    source_addr_npi: int = u8()
    source_addr: str = cstr(21)


@codec
@attrs.frozen(kw_only=True, slots=False)
class CancelSmResp(Pdu):
    """cancel_sm_resp (§4.9.2)."""

    command_id = CommandId.CANCEL_SM_RESP


@codec
@attrs.frozen(kw_only=True, slots=False)
class CancelSm(Pdu):
    """cancel_sm (§4.9.1): cancel a message not yet delivered."""

    command_id = CommandId.CANCEL_SM
    response_class = CancelSmResp
    service_type: str = cstr(6)
    message_id: str = cstr(65)
    source_addr_ton: int = u8()
    source_addr_npi: int = u8()
    source_addr: str = cstr(21)
    dest_addr_ton: int = u8()
    dest_addr_npi: int = u8()
    destination_addr: str = cstr(21)


@codec
@attrs.frozen(kw_only=True, slots=False)
class ReplaceSmResp(Pdu):
    """replace_sm_resp (§4.10.2)."""

    command_id = CommandId.REPLACE_SM_RESP


@codec
@attrs.frozen(kw_only=True, slots=False)
class ReplaceSm(Pdu):
    """replace_sm (§4.10.1): replace a message not yet delivered."""

    command_id = CommandId.REPLACE_SM
    response_class = ReplaceSmResp
    message_id: str = cstr(65)
    source_addr_ton: int = u8()
    source_addr_npi: int = u8()
    source_addr: str = cstr(21)
    schedule_delivery_time: str = cstr(17)
    validity_period: str = cstr(17)
    registered_delivery: int = u8()
    sm_default_msg_id: int = u8()
    short_message: bytes = short_message()

    @property
    def sm_length(self) -> int:
        """Octets in short_message (derived)."""
        return len(self.short_message)


@codec
@attrs.frozen(kw_only=True, slots=False)
class SubmitMultiResp(Pdu):
    """submit_multi_resp (§4.5.2): message_id plus the destinations that were refused."""

    command_id = CommandId.SUBMIT_MULTI_RESP
    message_id: str = cstr(65)
    unsuccess_smes: tuple[UnsuccessSme, ...] = listed(decode_unsuccess, encode_unsuccess)

    @property
    def no_unsuccess(self) -> int:
        """How many destinations were refused (derived)."""
        return len(self.unsuccess_smes)


@codec
@attrs.frozen(kw_only=True, slots=False)
class SubmitMulti(Pdu, MessageTlvs):
    """submit_multi (§4.5.1): one message to up to 254 destinations.

    (The provider does not implement it yet, smscentre.com/api/smpp; the codec is complete for other
    SMSCs and for the simulator.)
    """

    command_id = CommandId.SUBMIT_MULTI
    response_class = SubmitMultiResp
    service_type: str = cstr(6)
    source_addr_ton: int = u8()
    source_addr_npi: int = u8()
    source_addr: str = cstr(21)
    dest_addresses: tuple[DestAddress | DistributionList, ...] = listed(decode_dests, encode_dests)
    esm_class: int = u8()
    protocol_id: int = u8()
    priority_flag: int = u8()
    schedule_delivery_time: str = cstr(17)
    validity_period: str = cstr(17)
    registered_delivery: int = u8()
    replace_if_present_flag: int = u8()
    data_coding: int = u8()
    sm_default_msg_id: int = u8()
    short_message: bytes = short_message()

    @property
    def number_of_dests(self) -> int:
        """How many destinations (derived)."""
        return len(self.dest_addresses)

    @property
    def sm_length(self) -> int:
        """Octets in short_message (derived)."""
        return len(self.short_message)


@codec
@attrs.frozen(kw_only=True, slots=False)
class AlertNotification(Pdu):
    """alert_notification (§4.12.1): an MS became available (no response PDU)."""

    command_id = CommandId.ALERT_NOTIFICATION
    source_addr_ton: int = u8()
    source_addr_npi: int = u8()
    source_addr: str = cstr(65)
    esme_addr_ton: int = u8()
    esme_addr_npi: int = u8()
    esme_addr: str = cstr(65)

    @property
    def ms_availability_status(self) -> int | None:
        """TLV 0x0422: 0 available, 1 denied, 2 unavailable."""
        return self._tlv_int(Tag.MS_AVAILABILITY_STATUS, 1)
