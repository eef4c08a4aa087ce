"""The PDUs that carry, query and change messages: submit_sm (§4.4), submit_multi (§4.5),
deliver_sm (§4.6), data_sm (§4.7), query_sm (§4.8), cancel_sm (§4.9), replace_sm (§4.10) with
their responses, and alert_notification (§4.12).

Import them from :mod:`smscenter.smpp.pdu`. Importing this module registers each class with the
codec (:func:`~smscenter.smpp._codec.codec`).
"""

from __future__ import annotations

import attrs

from smscenter.smpp._codec import codec, cstr, listed, short_message, u8
from smscenter.smpp._multi import (
    DestAddress,
    DistributionList,
    UnsuccessSme,
    decode_dests,
    decode_unsuccess,
    encode_dests,
    encode_unsuccess,
)
from smscenter.smpp._pdu_base import Pdu
from smscenter.smpp.constants import CommandId, Tag
from smscenter.smpp.tlv import MessageTlvs

__all__ = (
    "AlertNotification",
    "CancelSm",
    "CancelSmResp",
    "DataSm",
    "DataSmResp",
    "DeliverSm",
    "DeliverSmResp",
    "QuerySm",
    "QuerySmResp",
    "ReplaceSm",
    "ReplaceSmResp",
    "SubmitMulti",
    "SubmitMultiResp",
    "SubmitSm",
    "SubmitSmResp",
)


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
