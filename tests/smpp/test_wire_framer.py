"""The framer and malformed input: every error is a typed RemoteProtocolError saying where."""

from __future__ import annotations

import pytest

from smscenter.exceptions import RemoteProtocolError
from smscenter.smpp.constants import CommandStatus
from smscenter.smpp.framer import PduFramer
from smscenter.smpp.pdu import (
    DeliverSm,
    EnquireLink,
    Pdu,
    PduDecodeError,
    SubmitMulti,
    SubmitSm,
    SubmitSmResp,
    decode_pdu,
)
from smscenter.smpp.tlv import Tlv

SUBMIT = SubmitSm(
    sequence_number=3, source_addr="SMSC", destination_addr="79991234567", short_message=b"hello"
)
RESP = SubmitSmResp(sequence_number=3, message_id="42")


def _drain(framer: PduFramer) -> list[Pdu]:
    out: list[Pdu] = []
    while (pdu := framer.next_pdu()) is not None:
        out.append(pdu)
    return out


def test_many_pdus_in_one_chunk() -> None:
    framer = PduFramer()
    framer.feed(SUBMIT.encode() + RESP.encode() + EnquireLink(sequence_number=4).encode())
    assert _drain(framer) == [SUBMIT, RESP, EnquireLink(sequence_number=4)]
    assert framer.buffered == 0


def test_byte_by_byte() -> None:
    framer = PduFramer()
    stream = SUBMIT.encode() + RESP.encode()
    got: list[object] = []
    for i in range(len(stream)):
        framer.feed(stream[i : i + 1])
        got.extend(_drain(framer))
    assert got == [SUBMIT, RESP]
    assert framer.buffered == 0


@pytest.mark.parametrize("cut", [1, 7, 15, 16, 17, 30])
def test_split_anywhere(cut: int) -> None:
    stream = SUBMIT.encode() + RESP.encode()
    framer = PduFramer()
    framer.feed(stream[:cut])
    first = _drain(framer)
    assert framer.buffered == cut - sum(len(p.encode()) for p in first)
    framer.feed(stream[cut:])
    assert first + _drain(framer) == [SUBMIT, RESP]


def test_feeding_before_draining_keeps_everything() -> None:
    framer = PduFramer()
    framer.feed(SUBMIT.encode())
    framer.feed(RESP.encode())
    assert _drain(framer) == [SUBMIT, RESP]


@pytest.mark.parametrize("length", [0, 15, 70_001, 0xFFFFFFFF])
def test_bad_command_length_is_fatal_before_buffering(length: int) -> None:
    framer = PduFramer(max_length=70_000)
    header = length.to_bytes(4, "big") + bytes.fromhex("000000040000000000000007")
    framer.feed(header)
    with pytest.raises(PduDecodeError) as info:
        framer.next_pdu()
    err = info.value
    assert err.fatal
    assert err.field == "command_length"
    assert err.sequence_number == 7
    assert err.status == CommandStatus.ESME_RINVCMDLEN
    assert str(length) in str(err)
    assert framer.buffered == 0  # nothing of the announced body was kept
    with pytest.raises(PduDecodeError):
        framer.next_pdu()  # stays broken: the stream cannot be trusted any more


def _errors_for(raw: bytes) -> PduDecodeError:
    with pytest.raises(PduDecodeError) as info:
        decode_pdu(raw)
    assert isinstance(info.value, RemoteProtocolError)
    return info.value


def test_truncated_field() -> None:
    # submit_sm whose body stops right after source_addr: the ton/npi pair is missing.
    body = b"\0" + b"\x05\x00" + b"SMSC\0"
    raw = (16 + len(body)).to_bytes(4, "big") + bytes.fromhex("000000040000000000000005")
    err = _errors_for(raw + body)
    assert err.field == "dest_addr_ton"
    assert err.offset == 16 + len(body)
    assert err.command_id == 4 and err.sequence_number == 5
    assert not err.fatal
    assert "SubmitSm" in str(err) and "dest_addr_ton" in str(err)


def test_cstring_without_nul() -> None:
    raw = bytes.fromhex("00000014800000040000000000000002") + b"4242"
    err = _errors_for(raw)
    assert err.field == "message_id"
    assert "NUL" in str(err)
    assert err.offset == 16


def test_short_message_longer_than_body() -> None:
    raw = bytearray(SUBMIT.encode())
    sm_length_at = len(raw) - len(b"hello") - 1
    raw[sm_length_at] = 200
    err = _errors_for(bytes(raw))
    assert err.field == "short_message"


def test_tlv_overrunning_the_body() -> None:
    raw = bytearray(DeliverSm(tlvs=(Tlv(0x0424, b"abc"),)).encode())
    raw[-5] = 0x10  # TLV length 0x0003 -> 0x1003
    err = _errors_for(bytes(raw))
    assert err.field == "tlv"
    assert "overruns" in str(err)
    assert err.status == CommandStatus.ESME_RINVOPTPARSTREAM
    assert err.offset == len(raw) - 7


def test_truncated_tlv_header() -> None:
    raw = DeliverSm().encode() + b"\x04\x24\x00"
    raw = len(raw).to_bytes(4, "big") + raw[4:]
    err = _errors_for(raw)
    assert err.field == "tlv"
    assert "truncated TLV header" in str(err)


def test_unknown_command_id_keeps_sync() -> None:
    unknown = bytes.fromhex("00000010000102000000000000000009")
    framer = PduFramer()
    framer.feed(unknown + RESP.encode())
    with pytest.raises(PduDecodeError) as info:
        framer.next_pdu()
    assert info.value.status == CommandStatus.ESME_RINVCMDID
    assert not info.value.fatal
    assert info.value.sequence_number == 9
    assert framer.next_pdu() == RESP  # the next PDU is intact


def test_malformed_body_keeps_sync() -> None:
    bad = bytes.fromhex("00000014800000040000000000000002") + b"4242"
    framer = PduFramer()
    framer.feed(bad + RESP.encode())
    with pytest.raises(PduDecodeError):
        framer.next_pdu()
    assert framer.next_pdu() == RESP


def test_bad_dest_flag_in_submit_multi() -> None:
    raw = bytearray(SubmitMulti(dest_addresses=()).encode())
    # number_of_dests 0 -> 1 with dest_flag 9 (replacing esm_class).
    at = 16 + 1 + 2 + 1
    raw[at] = 1
    raw[at + 1] = 9
    err = _errors_for(bytes(raw))
    assert err.field == "dest_flag"
    assert err.status == CommandStatus.ESME_RINVDESTFLAG


def test_decode_pdu_length_mismatch() -> None:
    with pytest.raises(PduDecodeError, match="shorter than the 16-byte header"):
        decode_pdu(b"\x00\x00")
    with pytest.raises(PduDecodeError, match="does not match"):
        decode_pdu(RESP.encode() + b"\0")


def test_max_length_must_hold_a_header() -> None:
    with pytest.raises(ValueError):
        PduFramer(max_length=10)
