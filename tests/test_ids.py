"""The canonical message id rule (smscenter.ids) and its use on every model."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscenter import DeliveryReport, IncomingMessage, MessageStatus, SendResult
from smscenter.ids import ReceiptIdStyle, canonical_message_id, receipt_text_id


@pytest.mark.parametrize(
    ("spellings", "canonical"),
    [
        (("10a", "10A", "010a", "0010A", " 10a "), "10A"),
        (("000a01", "A01", "a01", "0A01"), "A01"),
        (("00042", "42", "042"), "42"),
        (("0", "000", "00"), "0"),
        (("f" * 64, "F" * 64), "F" * 64),
        (("0" * 60 + "abcd", "ABCD"), "ABCD"),
    ],
)
def test_spellings_of_one_number_give_one_id(spellings: tuple[str, ...], canonical: str) -> None:
    assert {canonical_message_id(s) for s in spellings} == {canonical}


@pytest.mark.parametrize(
    "opaque",
    [
        "aB3",  # mixed-case hex letters: the case may be the id's own
        "0aB3",
        "msg-0001",  # other characters: kept exactly, zeros included
        "Zx9",
        "550e8400-e29b-41d4-a716-446655440000",
        "ид42",
    ],
)
def test_opaque_ids_are_kept_as_written(opaque: str) -> None:
    assert canonical_message_id(opaque) == opaque
    assert canonical_message_id(f" {opaque} ") == opaque


def test_no_base_conversion() -> None:
    assert canonical_message_id("266") != canonical_message_id("10A")


@given(
    st.integers(min_value=0, max_value=16**64 - 1), st.integers(min_value=0, max_value=16**64 - 1)
)
def test_different_numbers_never_become_equal(a: int, b: int) -> None:
    for fmt in ("x", "X", "d"):
        ca, cb = canonical_message_id(format(a, fmt)), canonical_message_id(format(b, fmt))
        assert (ca == cb) == (a == b)
        # and zero padding or case does not change it
        assert canonical_message_id(format(a, "0" + str(64) + fmt)) == ca


@given(st.text(max_size=70))
def test_idempotent(value: str) -> None:
    once = canonical_message_id(value)
    assert canonical_message_id(once) == once


def test_receipt_text_id_styles() -> None:
    assert receipt_text_id("266", ReceiptIdStyle.DECIMAL_TEXT) == "10A"
    assert receipt_text_id("10a", ReceiptIdStyle.DECIMAL_TEXT) is None
    assert receipt_text_id("010a", ReceiptIdStyle.HEX_TEXT) == "266"
    assert receipt_text_id("x1", ReceiptIdStyle.HEX_TEXT) is None
    assert receipt_text_id("0010a", ReceiptIdStyle.SAME) == "10A"


def test_models_carry_the_canonical_id_and_keep_the_wire_one() -> None:
    result = SendResult(message_id="000a01", part_ids=("000a01", "0a02"))
    assert (result.message_id, result.raw_message_id, result.part_ids) == (
        "A01",
        "000a01",
        ("A01", "A02"),
    )
    report = DeliveryReport(message_id="a01", status=MessageStatus.DELIVERED)
    assert report.message_id == result.message_id and report.raw_message_id == "a01"
    incoming = IncomingMessage(phone="7999", text="ok", message_id="07", reply_to_id="000a01")
    assert incoming.reply_to_id == result.message_id and incoming.raw_reply_to_id == "000a01"
    assert incoming.message_id == "7" and incoming.raw_message_id == "07"
    # Given explicitly, the wire value is kept as given.
    assert SendResult(message_id="A01", raw_message_id="a01").raw_message_id == "a01"


def test_event_key_is_the_same_for_one_event_on_every_channel() -> None:
    when = datetime(2026, 1, 1, 12, 0, 7, tzinfo=UTC)
    smpp = DeliveryReport(
        message_id="0a01", status=MessageStatus.UNDELIVERABLE, raw_status="UNDELIV",
        phone="+79991234567", changed_at=when.replace(second=0),
    )  # fmt: skip
    http = DeliveryReport(
        message_id="A01", status=MessageStatus.INVALID_NUMBER, raw_status="22",
        phone="79991234567", changed_at=when,
    )  # fmt: skip
    assert smpp.event_key == http.event_key == "report:A01:79991234567:undeliverable"
    # Different events of one message keep different keys.
    read = DeliveryReport(message_id="A01", status=MessageStatus.READ, phone="79991234567")
    delivered = DeliveryReport(
        message_id="A01", status=MessageStatus.DELIVERED, phone="79991234567"
    )
    assert len({read.event_key, delivered.event_key, http.event_key}) == 3
