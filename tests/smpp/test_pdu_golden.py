"""Golden vectors: every SMPP 3.4 PDU as hand-checked hex, one field per line.

Each vector is encoded from the PDU value and decoded back to it. Lengths were counted by hand
(header 16 + the body octets listed).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

import pytest

from smscenter.models import ExtraStatus, MessageFlags, MessageType
from smscenter.smpp.constants import CommandStatus, MessageState, Tag
from smscenter.smpp.pdu import (
    AlertNotification,
    BindReceiver,
    BindReceiverResp,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    BindTransmitterResp,
    CancelSm,
    CancelSmResp,
    DataSm,
    DataSmResp,
    DeliverSm,
    DeliverSmResp,
    DestAddress,
    DistributionList,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Outbind,
    Pdu,
    QuerySm,
    QuerySmResp,
    ReplaceSm,
    ReplaceSmResp,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
    UnsuccessSme,
    decode_pdu,
    encode,
)
from smscenter.smpp.tlv import Tlv, typed_value

BIND_TRANSMITTER = (
    "00000026"  # command_length 38 = 16 + 22
    "00000002"  # command_id bind_transmitter
    "00000000"  # command_status 0
    "00000001"  # sequence_number 1
    "61636d6500"  # system_id "acme\0"
    "73656372657400"  # password "secret\0"
    "4d434f4e3200"  # system_type "MCON2\0"
    "34"  # interface_version 0x34
    "01"  # addr_ton 1
    "01"  # addr_npi 1
    "00"  # address_range "\0"
)
BIND_RECEIVER = (
    "00000021"  # command_length 33 = 16 + 17
    "00000001"  # command_id bind_receiver
    "00000000"  # command_status 0
    "00000002"  # sequence_number 2
    "61636d6500"  # system_id "acme\0"
    "73656372657400"  # password "secret\0"
    "00"  # system_type ""
    "34"  # interface_version
    "00"  # addr_ton
    "00"  # addr_npi
    "00"  # address_range
)
BIND_TRANSCEIVER = (
    "0000002b"  # command_length 43 = 16 + 27
    "00000009"  # command_id bind_transceiver
    "00000000"  # command_status
    "00000003"  # sequence_number 3
    "61636d6500"  # system_id "acme\0"
    "73656372657400"  # password "secret\0"
    "49534f2c53494e474c4500"  # system_type "ISO,SINGLE\0" (seed 003 flags)
    "34"  # interface_version
    "00"  # addr_ton
    "00"  # addr_npi
    "00"  # address_range
)
BIND_TRANSMITTER_RESP = (
    "00000015"  # command_length 21
    "80000002"  # command_id bind_transmitter_resp
    "00000000"  # command_status ROK
    "00000001"  # sequence_number 1
    "534d534300"  # system_id "SMSC\0"
)
BIND_RECEIVER_RESP = (
    "0000001a"  # command_length 26 = 16 + 5 + 5
    "80000001"  # command_id bind_receiver_resp
    "00000000"  # command_status
    "00000002"  # sequence_number
    "534d534300"  # system_id "SMSC\0"
    "0210"  # TLV sc_interface_version
    "0001"  # length 1
    "34"  # SMPP 3.4
)
BIND_TRANSCEIVER_RESP = (
    "00000011"  # command_length 17
    "80000009"  # command_id bind_transceiver_resp
    "0000000e"  # command_status ESME_RINVPASWD
    "00000003"  # sequence_number
    "00"  # system_id ""
)
OUTBIND = (
    "00000018"  # command_length 24 = 16 + 5 + 3
    "0000000b"  # command_id outbind
    "00000000"  # command_status
    "00000004"  # sequence_number
    "736d736300"  # system_id "smsc\0"
    "707700"  # password "pw\0"
)
UNBIND = "00000010000000060000000000000007"  # length 16, unbind, status 0, seq 7
UNBIND_RESP = "00000010800000060000000000000007"  # unbind_resp to seq 7
ENQUIRE_LINK = "00000010000000150000000000000008"  # enquire_link, seq 8
ENQUIRE_LINK_RESP = "00000010800000150000000000000008"  # enquire_link_resp, seq 8
GENERIC_NACK = "00000010800000000000000300000009"  # generic_nack RINVCMDID, seq 9
SUBMIT_SM = (
    "00000044"  # command_length 68 = 16 + 52
    "00000004"  # command_id submit_sm
    "00000000"  # command_status
    "00000002"  # sequence_number 2
    "00"  # service_type ""
    "05"  # source_addr_ton alphanumeric (the provider's sample)
    "00"  # source_addr_npi
    "534d534300"  # source_addr "SMSC\0"
    "01"  # dest_addr_ton international
    "01"  # dest_addr_npi ISDN
    "373939393132333435363700"  # destination_addr "79991234567\0"
    "00"  # esm_class
    "00"  # protocol_id
    "00"  # priority_flag
    "00"  # schedule_delivery_time ""
    "30303030303130303030303030303052"
    "00"  # validity_period "000001000000000R\0" (1 day)
    "01"  # registered_delivery: SMSC receipt
    "00"  # replace_if_present_flag
    "08"  # data_coding UCS2
    "00"  # sm_default_msg_id
    "04"  # sm_length 4
    "00480069"  # short_message "Hi" in UTF-16BE
)
SUBMIT_SM_RESP = (
    "00000017"  # command_length 23
    "80000004"  # command_id submit_sm_resp
    "00000000"  # command_status
    "00000002"  # sequence_number 2
    "38353430313900"  # message_id "854019\0"
)
DELIVER_SM_RECEIPT = (
    "00000081"  # command_length 129 = 16 + 54 + 59
    "00000005"  # command_id deliver_sm
    "00000000"  # command_status
    "00000009"  # sequence_number 9
    "00"  # service_type
    "01"  # source_addr_ton
    "01"  # source_addr_npi
    "373939393132333435363700"  # source_addr "79991234567\0"
    "05"  # dest_addr_ton
    "00"  # dest_addr_npi
    "534d534300"  # destination_addr "SMSC\0"
    "04"  # esm_class: SMSC delivery receipt
    "00"  # protocol_id
    "00"  # priority_flag
    "00"  # schedule_delivery_time
    "00"  # validity_period
    "00"  # registered_delivery
    "00"  # replace_if_present_flag
    "00"  # data_coding
    "00"  # sm_default_msg_id
    "16"  # sm_length 22
    "69643a383534303139"  # "id:854019"
    "20"  # " "
    "737461743a44454c49565244"  # "stat:DELIVRD"
    "001e"
    "0007"
    "38353430313900"  # receipted_message_id "854019\0"
    "0427"
    "0001"
    "02"  # message_state DELIVERED
    "0423"
    "0003"
    "030000"  # network_error_code: GSM, 0
    "2000"
    "0004"
    "322e3500"  # provider cost "2.5\0"
    "2001"
    "0002"
    "0020"  # provider flag: SMS, paid from the second balance
    "2002"
    "0002"
    "0001"  # provider parts 1
    "2003"
    "0006"
    "323530303200"  # provider mcc+mnc "25002\0"
    "2004"
    "0002"
    "0002"  # provider extra status: read
)
DELIVER_SM_RESP = (
    "00000011"  # command_length 17
    "80000005"  # command_id deliver_sm_resp
    "00000000"  # command_status
    "00000009"  # sequence_number 9
    "00"  # message_id "" (unused)
)
DATA_SM = (
    "00000028"  # command_length 40 = 16 + 18 + 6
    "00000103"  # command_id data_sm
    "00000000"  # command_status
    "0000000a"  # sequence_number 10
    "00"  # service_type
    "01"  # source_addr_ton
    "01"  # source_addr_npi
    "3739393900"  # source_addr "7999\0"
    "01"  # dest_addr_ton
    "01"  # dest_addr_npi
    "3730303000"  # destination_addr "7000\0"
    "00"  # esm_class
    "01"  # registered_delivery
    "00"  # data_coding
    "0424"
    "0002"
    "6869"  # message_payload "hi"
)
DATA_SM_RESP = (
    "0000001a"  # command_length 26 = 16 + 3 + 7
    "80000103"  # command_id data_sm_resp
    "00000000"  # command_status
    "0000000a"  # sequence_number 10
    "6d3100"  # message_id "m1\0"
    "001d"
    "0003"
    "6f6b00"  # additional_status_info_text "ok\0"
)
QUERY_SM = (
    "0000001e"  # command_length 30 = 16 + 7 + 2 + 5
    "00000003"  # command_id query_sm
    "00000000"  # command_status
    "0000000b"  # sequence_number 11
    "38353430313900"  # message_id "854019\0"
    "05"  # source_addr_ton
    "00"  # source_addr_npi
    "534d534300"  # source_addr "SMSC\0"
)
QUERY_SM_RESP = (
    "0000001a"  # command_length 26 = 16 + 7 + 1 + 1 + 1
    "80000003"  # command_id query_sm_resp
    "00000000"  # command_status
    "0000000b"  # sequence_number 11
    "38353430313900"  # message_id "854019\0"
    "00"  # final_date ""
    "02"  # message_state DELIVERED
    "00"  # error_code
)
CANCEL_SM = (
    "00000026"  # command_length 38 = 16 + 22
    "00000008"  # command_id cancel_sm
    "00000000"  # command_status
    "0000000c"  # sequence_number 12
    "00"  # service_type
    "38353430313900"  # message_id "854019\0"
    "05"  # source_addr_ton
    "00"  # source_addr_npi
    "534d534300"  # source_addr "SMSC\0"
    "01"  # dest_addr_ton
    "01"  # dest_addr_npi
    "3739393900"  # destination_addr "7999\0"
)
CANCEL_SM_RESP = "0000001080000008000000000000000c"  # cancel_sm_resp, seq 12
REPLACE_SM = (
    "00000025"  # command_length 37 = 16 + 21
    "00000007"  # command_id replace_sm
    "00000000"  # command_status
    "0000000d"  # sequence_number 13
    "38353430313900"  # message_id "854019\0"
    "05"  # source_addr_ton
    "00"  # source_addr_npi
    "534d534300"  # source_addr "SMSC\0"
    "00"  # schedule_delivery_time
    "00"  # validity_period
    "01"  # registered_delivery
    "00"  # sm_default_msg_id
    "02"  # sm_length 2
    "6f6b"  # short_message "ok"
)
REPLACE_SM_RESP = "0000001080000007000000000000000d"  # replace_sm_resp, seq 13
SUBMIT_MULTI = (
    "00000036"  # command_length 54 = 16 + 38
    "00000021"  # command_id submit_multi
    "00000000"  # command_status
    "0000000e"  # sequence_number 14
    "00"  # service_type
    "05"  # source_addr_ton
    "00"  # source_addr_npi
    "534d534300"  # source_addr "SMSC\0"
    "02"  # number_of_dests 2
    "01"
    "01"
    "01"
    "3739393900"  # dest_flag SME, ton 1, npi 1, "7999\0"
    "02"
    "667269656e647300"  # dest_flag distribution list, dl_name "friends\0"
    "00"  # esm_class
    "00"  # protocol_id
    "00"  # priority_flag
    "00"  # schedule_delivery_time
    "00"  # validity_period
    "01"  # registered_delivery
    "00"  # replace_if_present_flag
    "00"  # data_coding
    "00"  # sm_default_msg_id
    "02"  # sm_length
    "6869"  # short_message "hi"
)
SUBMIT_MULTI_RESP = (
    "0000001f"  # command_length 31 = 16 + 15
    "80000021"  # command_id submit_multi_resp
    "00000000"  # command_status
    "0000000e"  # sequence_number 14
    "6d3100"  # message_id "m1\0"
    "01"  # no_unsuccess 1
    "01"
    "01"
    "3739393900"  # dest_addr_ton 1, dest_addr_npi 1, destination_addr "7999\0"
    "0000000b"  # error_status_code ESME_RINVDSTADR
)
ALERT_NOTIFICATION = (
    "00000023"  # command_length 35 = 16 + 14 + 5
    "00000102"  # command_id alert_notification
    "00000000"  # command_status
    "0000000f"  # sequence_number 15
    "01"  # source_addr_ton
    "01"  # source_addr_npi
    "3739393900"  # source_addr "7999\0"
    "05"  # esme_addr_ton
    "00"  # esme_addr_npi
    "534d534300"  # esme_addr "SMSC\0"
    "0422"
    "0001"
    "00"  # ms_availability_status: available
)

RECEIPT_TLVS = (
    Tlv(Tag.RECEIPTED_MESSAGE_ID, b"854019\0"),
    Tlv(Tag.MESSAGE_STATE, b"\x02"),
    Tlv(Tag.NETWORK_ERROR_CODE, b"\x03\x00\x00"),
    Tlv(Tag.COST, b"2.5\0"),
    Tlv(Tag.FLAG, b"\x00\x20"),
    Tlv(Tag.PARTS, b"\x00\x01"),
    Tlv(Tag.MCCMNC, b"25002\0"),
    Tlv(Tag.EXTRA_STATUS, b"\x00\x02"),
)

VECTORS: list[tuple[str, Pdu]] = [
    (
        BIND_TRANSMITTER,
        BindTransmitter(
            sequence_number=1,
            system_id="acme",
            password="secret",
            system_type="MCON2",
            addr_ton=1,
            addr_npi=1,
        ),
    ),
    (BIND_RECEIVER, BindReceiver(sequence_number=2, system_id="acme", password="secret")),
    (
        BIND_TRANSCEIVER,
        BindTransceiver(
            sequence_number=3, system_id="acme", password="secret", system_type="ISO,SINGLE"
        ),
    ),
    (BIND_TRANSMITTER_RESP, BindTransmitterResp(sequence_number=1, system_id="SMSC")),
    (
        BIND_RECEIVER_RESP,
        BindReceiverResp(
            sequence_number=2, system_id="SMSC", tlvs=(Tlv(Tag.SC_INTERFACE_VERSION, b"\x34"),)
        ),
    ),
    (
        BIND_TRANSCEIVER_RESP,
        BindTransceiverResp(sequence_number=3, command_status=CommandStatus.ESME_RINVPASWD),
    ),
    (OUTBIND, Outbind(sequence_number=4, system_id="smsc", password="pw")),
    (UNBIND, Unbind(sequence_number=7)),
    (UNBIND_RESP, UnbindResp(sequence_number=7)),
    (ENQUIRE_LINK, EnquireLink(sequence_number=8)),
    (ENQUIRE_LINK_RESP, EnquireLinkResp(sequence_number=8)),
    (GENERIC_NACK, GenericNack(sequence_number=9, command_status=CommandStatus.ESME_RINVCMDID)),
    (
        SUBMIT_SM,
        SubmitSm(
            sequence_number=2,
            source_addr_ton=5,
            source_addr="SMSC",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr="79991234567",
            validity_period="000001000000000R",
            registered_delivery=1,
            data_coding=8,
            short_message="Hi".encode("utf-16-be"),
        ),
    ),
    (SUBMIT_SM_RESP, SubmitSmResp(sequence_number=2, message_id="854019")),
    (
        DELIVER_SM_RECEIPT,
        DeliverSm(
            sequence_number=9,
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="79991234567",
            dest_addr_ton=5,
            destination_addr="SMSC",
            esm_class=4,
            short_message=b"id:854019 stat:DELIVRD",
            tlvs=RECEIPT_TLVS,
        ),
    ),
    (DELIVER_SM_RESP, DeliverSmResp(sequence_number=9)),
    (
        DATA_SM,
        DataSm(
            sequence_number=10,
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="7999",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr="7000",
            registered_delivery=1,
            tlvs=(Tlv(Tag.MESSAGE_PAYLOAD, b"hi"),),
        ),
    ),
    (
        DATA_SM_RESP,
        DataSmResp(
            sequence_number=10,
            message_id="m1",
            tlvs=(Tlv(Tag.ADDITIONAL_STATUS_INFO_TEXT, b"ok\0"),),
        ),
    ),
    (
        QUERY_SM,
        QuerySm(sequence_number=11, message_id="854019", source_addr_ton=5, source_addr="SMSC"),
    ),
    (
        QUERY_SM_RESP,
        QuerySmResp(sequence_number=11, message_id="854019", message_state=2),
    ),
    (
        CANCEL_SM,
        CancelSm(
            sequence_number=12,
            message_id="854019",
            source_addr_ton=5,
            source_addr="SMSC",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr="7999",
        ),
    ),
    (CANCEL_SM_RESP, CancelSmResp(sequence_number=12)),
    (
        REPLACE_SM,
        ReplaceSm(
            sequence_number=13,
            message_id="854019",
            source_addr_ton=5,
            source_addr="SMSC",
            registered_delivery=1,
            short_message=b"ok",
        ),
    ),
    (REPLACE_SM_RESP, ReplaceSmResp(sequence_number=13)),
    (
        SUBMIT_MULTI,
        SubmitMulti(
            sequence_number=14,
            source_addr_ton=5,
            source_addr="SMSC",
            dest_addresses=(
                DestAddress(dest_addr_ton=1, dest_addr_npi=1, destination_addr="7999"),
                DistributionList(dl_name="friends"),
            ),
            registered_delivery=1,
            short_message=b"hi",
        ),
    ),
    (
        SUBMIT_MULTI_RESP,
        SubmitMultiResp(
            sequence_number=14,
            message_id="m1",
            unsuccess_smes=(
                UnsuccessSme(
                    dest_addr_ton=1,
                    dest_addr_npi=1,
                    destination_addr="7999",
                    error_status_code=CommandStatus.ESME_RINVDSTADR,
                ),
            ),
        ),
    ),
    (
        ALERT_NOTIFICATION,
        AlertNotification(
            sequence_number=15,
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="7999",
            esme_addr_ton=5,
            esme_addr="SMSC",
            tlvs=(Tlv(Tag.MS_AVAILABILITY_STATUS, b"\x00"),),
        ),
    ),
]


@pytest.mark.parametrize(("hexdata", "pdu"), VECTORS, ids=lambda v: type(v).__name__)
def test_encode_matches_golden_hex(hexdata: str, pdu: Pdu) -> None:
    assert encode(pdu).hex() == hexdata
    assert pdu.encode() == bytes.fromhex(hexdata)


@pytest.mark.parametrize(("hexdata", "pdu"), VECTORS, ids=lambda v: type(v).__name__)
def test_decode_matches_golden_hex(hexdata: str, pdu: Pdu) -> None:
    decoded = decode_pdu(bytes.fromhex(hexdata))
    assert type(decoded) is type(pdu)
    assert decoded == pdu


def test_every_pdu_class_has_a_golden_vector() -> None:
    from smscenter.smpp.pdu import PDU_CLASSES

    assert {type(p) for _, p in VECTORS} == set(PDU_CLASSES.values())
    assert len(PDU_CLASSES) == 27


def test_receipt_tlvs_are_typed() -> None:
    pdu = decode_pdu(bytes.fromhex(DELIVER_SM_RECEIPT))
    assert isinstance(pdu, DeliverSm)
    assert pdu.receipted_message_id == "854019"
    assert pdu.message_state is MessageState.DELIVERED
    assert pdu.network_error_code == (3, 0)
    assert pdu.cost == Decimal("2.5")
    assert pdu.flags == 0x20  # a plain number: smscenter.models decodes it
    assert MessageFlags.from_int(pdu.flags).message_type is MessageType.SMS
    assert MessageFlags.from_int(pdu.flags).second_balance is True
    assert pdu.parts == 1
    assert pdu.mccmnc == "25002"
    assert pdu.extra_status == ExtraStatus.READ
    assert pdu.sm_length == 22
    assert [typed_value(*t) for t in pdu.tlvs] == [
        "854019",
        2,
        b"\x03\x00\x00",
        Decimal("2.5"),
        0x20,
        1,
        "25002",
        2,
    ]


def test_error_response_with_empty_body_decodes() -> None:
    # SMPP allows the body of an error response to be left out: submit_sm_resp, throttled.
    raw = bytes.fromhex("00000010800000040000005800000002")
    pdu = decode_pdu(raw)
    assert pdu == SubmitSmResp(sequence_number=2, command_status=CommandStatus.ESME_RTHROTTLED)
    raw = bytes.fromhex("00000010800000090000000d00000003")
    pdu = decode_pdu(raw)
    assert isinstance(pdu, BindTransceiverResp)
    assert pdu.command_status == CommandStatus.ESME_RBINDFAIL
    assert pdu.system_id == ""


def test_tlvs_on_responses_and_unknown_tags_are_kept() -> None:
    # submit_sm_resp with a 5.0-style TLV (0x0428) and a vendor tag: both survive, in order.
    raw = bytes.fromhex(
        "00000020"  # command_length 32 = 16 + 3 + 5 + 8
        "80000004"  # submit_sm_resp
        "00000000"  # ROK
        "00000005"  # seq 5
        "6d3100"  # message_id "m1\0"
        "0428"
        "0001"
        "01"  # unknown (5.0) tag
        "1401"
        "0004"
        "deadbeef"  # vendor tag
    )
    pdu = decode_pdu(raw)
    assert pdu.tlvs == (Tlv(0x0428, b"\x01"), Tlv(0x1401, b"\xde\xad\xbe\xef"))
    assert pdu.tlv_value(0x1401) == b"\xde\xad\xbe\xef"
    assert pdu.encode() == raw


def test_unknown_status_and_codes_stay_raw() -> None:
    raw = bytes.fromhex("0000001180000005000004010000000900")
    pdu = decode_pdu(raw)
    assert pdu.command_status == 0x401
    assert isinstance(pdu.command_status, CommandStatus)
    assert pdu.encode() == raw
    sm = DeliverSm(source_addr_ton=9, source_addr_npi=77, data_coding=0xF5)
    again = decode_pdu(sm.encode())
    assert isinstance(again, DeliverSm)
    assert (again.source_addr_ton, again.source_addr_npi, again.data_coding) == (9, 77, 0xF5)


def test_malformed_provider_tlvs_stay_raw() -> None:
    # A cost that is not a number and a 3-byte flag: the PDU decodes, the values stay bytes.
    pdu = DeliverSm(
        tlvs=(
            Tlv(Tag.COST, b"n/a\0"),
            Tlv(Tag.FLAG, b"\x00\x80\x00"),
            Tlv(Tag.EXTRA_STATUS, b"\x80"),
            Tlv(Tag.MCCMNC, b"\xff\xfe"),
        )
    )
    again = decode_pdu(pdu.encode())
    assert isinstance(again, DeliverSm)
    assert again.cost is None
    assert again.flags is None
    assert again.extra_status is None
    assert [Tlv(*t).typed() for t in again.tlvs[:3]] == [b"n/a\0", b"\x00\x80\x00", b"\x80"]
    assert again.mccmnc == "\xff\xfe"  # Latin-1 keeps every byte


def test_duplicate_tlvs_keep_wire_order() -> None:
    pdu = SubmitSm(tlvs=(Tlv(0x1500, b"a"), Tlv(0x1500, b"b")))
    again = decode_pdu(pdu.encode())
    assert again.tlv_all(0x1500) == (b"a", b"b")
    assert again.tlv(0x1500) == b"a"
    assert again.tlv(0x1501) is None


def test_tlv_of_builds_typed_values() -> None:
    assert Tlv.of(Tag.SAR_MSG_REF_NUM, 0x1234) == Tlv(0x020C, b"\x12\x34")
    assert Tlv.of(Tag.SAR_TOTAL_SEGMENTS, 3) == Tlv(0x020E, b"\x03")
    assert Tlv.of(Tag.RECEIPTED_MESSAGE_ID, "abc") == Tlv(0x001E, b"abc\0")
    assert Tlv.of(Tag.COST, Decimal("1.5")) == Tlv(0x2000, b"1.5000\0")
    assert Tlv.of(Tag.MESSAGE_PAYLOAD, b"\x00\x01") == Tlv(0x0424, b"\x00\x01")
    assert Tlv.of(0x1400, 7) == Tlv(0x1400, b"\x00\x00\x00\x07")
    with pytest.raises(ValueError, match="does not fit"):
        Tlv.of(Tag.SAR_TOTAL_SEGMENTS, 256)
    with pytest.raises(ValueError, match="limit is 65"):
        Tlv.of(Tag.RECEIPTED_MESSAGE_ID, "x" * 70)
    with pytest.raises(TypeError):
        Tlv.of(Tag.SAR_TOTAL_SEGMENTS, True)


def test_bind_repr_hides_the_password() -> None:
    for cls in (BindTransmitter, BindReceiver, BindTransceiver, Outbind):
        pdu = cls(system_id="acme", password="hunter2")
        assert "hunter2" not in repr(pdu)
        assert "acme" in repr(pdu)
        assert decode_pdu(pdu.encode()).password == "hunter2"  # type: ignore[attr-defined]


def test_derived_lengths() -> None:
    multi = decode_pdu(bytes.fromhex(SUBMIT_MULTI))
    assert isinstance(multi, SubmitMulti)
    assert multi.number_of_dests == 2
    assert multi.sm_length == 2
    resp = decode_pdu(bytes.fromhex(SUBMIT_MULTI_RESP))
    assert isinstance(resp, SubmitMultiResp)
    assert resp.no_unsuccess == 1
    bind_resp = decode_pdu(bytes.fromhex(BIND_RECEIVER_RESP))
    assert isinstance(bind_resp, BindReceiverResp)
    assert bind_resp.sc_interface_version == 0x34
    alert = decode_pdu(bytes.fromhex(ALERT_NOTIFICATION))
    assert isinstance(alert, AlertNotification)
    assert alert.ms_availability_status == 0
    assert SubmitSm.response_class is SubmitSmResp
    assert SubmitSmResp.is_response() and not SubmitSm.is_response()


def test_pdu_init_is_keyword_only_with_spec_defaults() -> None:
    with pytest.raises(TypeError):
        cast(Any, SubmitSm)("SMSC")
    with pytest.raises(TypeError):
        SubmitSm(bogus=1)  # type: ignore[call-arg]
    pdu = SubmitSm(source_addr="SMSC")
    assert (pdu.sequence_number, pdu.command_status, pdu.tlvs) == (0, 0, ())
    assert pdu.short_message == b"" and pdu.destination_addr == ""
    assert BindTransmitter().interface_version == 0x34
    with pytest.raises(AttributeError):
        pdu.source_addr = "x"  # type: ignore[misc]
    assert hash(pdu) == hash(SubmitSm(source_addr="SMSC"))
