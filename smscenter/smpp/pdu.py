"""SMPP 3.4 PDUs: one frozen value class per PDU (SMPP 3.4 chapter 4).

Every PDU is a frozen attrs class whose fields carry the spec's names (``source_addr_ton``,
``destination_addr``, ``short_message``...). Each body field is declared once, in wire order,
with its wire kind (:func:`~smscenter.smpp._codec.u8`, ``cstr(limit)``, ``short_message()``);
``@codec`` generates the class's encoder and decoder from those declarations
(:mod:`smscenter.smpp._codec`). Import every PDU from here; they are written, by concept, in
``_pdu_base`` (:class:`Pdu`), ``_pdu_link`` (bind, outbind, unbind, generic_nack, enquire_link)
and ``_pdu_message`` (submit_sm, deliver_sm, data_sm, query, cancel and replace, submit_multi,
alert_notification).

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

from smscenter.smpp._codec import PDU_CLASSES, PduDecodeError, PduEncodeError, decode_pdu, encode
from smscenter.smpp._multi import DestAddress, DistributionList, UnsuccessSme
from smscenter.smpp._pdu_base import Pdu

# Each class registers with the codec as it is defined: the link PDUs first, then the message
# ones, so PDU_CLASSES follows the spec's chapter 4.
from smscenter.smpp._pdu_link import (
    BindReceiver,
    BindReceiverResp,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    BindTransmitterResp,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Outbind,
    Unbind,
    UnbindResp,
)
from smscenter.smpp._pdu_message import (
    AlertNotification,
    CancelSm,
    CancelSmResp,
    DataSm,
    DataSmResp,
    DeliverSm,
    DeliverSmResp,
    QuerySm,
    QuerySmResp,
    ReplaceSm,
    ReplaceSmResp,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
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
