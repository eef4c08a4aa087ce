"""The one reader of a short message's user data and concatenation facts
(smpp/reassembly.split_user_data), used by the client's incoming messages and by the
simulator's submits alike."""

from __future__ import annotations

from smscenter.smpp.constants import Tag
from smscenter.smpp.incoming import incoming_from_deliver_sm
from smscenter.smpp.pdu import DeliverSm, SubmitSm
from smscenter.smpp.reassembly import Concatenation, Reassembler, split_user_data
from smscenter.smpp.text import concat_udh

UDHI = 0x40
SAR = (
    (Tag.SAR_MSG_REF_NUM, (0x1234).to_bytes(2, "big")),
    (Tag.SAR_TOTAL_SEGMENTS, b"\x02"),
    (Tag.SAR_SEGMENT_SEQNUM, b"\x01"),
)


def test_a_udh_part() -> None:
    pdu = SubmitSm(esm_class=UDHI, short_message=concat_udh(7, 3, 2) + b"abc")
    assert split_user_data(pdu) == (b"abc", Concatenation(7, 3, 2))


def test_a_16_bit_reference() -> None:
    udh = bytes((6, 8, 4, 0x01, 0x02, 2, 2))
    pdu = DeliverSm(esm_class=UDHI, short_message=udh + b"xy")
    assert split_user_data(pdu) == (b"xy", Concatenation(0x0102, 2, 2))


def test_sar_tlvs_and_message_payload() -> None:
    pdu = DeliverSm(tlvs=((Tag.MESSAGE_PAYLOAD, b"long body"), *SAR))
    assert split_user_data(pdu) == (b"long body", Concatenation(0x1234, 2, 1))


def test_a_message_of_its_own() -> None:
    assert split_user_data(DeliverSm(short_message=b"hi")) == (b"hi", None)
    # SAR TLVs that name part 0 are no concatenation.
    zero = DeliverSm(short_message=b"hi", tlvs=(*SAR[:2], (Tag.SAR_SEGMENT_SEQNUM, b"\x00")))
    assert split_user_data(zero) == (b"hi", None)


def test_a_udh_without_a_concatenation_element_falls_back_to_the_sar_tlvs() -> None:
    # A UDH carrying only another element (here a port address, IEI 0x05): the SAR TLVs say
    # which part it is, and the client joins the parts.
    udh = bytes((6, 5, 4, 0x0B, 0x84, 0x23, 0xF0))
    first = DeliverSm(source_addr="7999", esm_class=UDHI, short_message=udh + b"Hel", tlvs=SAR)
    second = DeliverSm(
        source_addr="7999",
        esm_class=UDHI,
        short_message=udh + b"lo",
        tlvs=(*SAR[:2], (Tag.SAR_SEGMENT_SEQNUM, b"\x02")),
    )
    assert split_user_data(first) == (b"Hel", Concatenation(0x1234, 2, 1))
    reassembler = Reassembler()
    assert incoming_from_deliver_sm(first, reassembler=reassembler) is None
    message = incoming_from_deliver_sm(second, reassembler=reassembler)
    assert message is not None and message.text == "Hello"
