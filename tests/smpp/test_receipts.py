"""Receipts: seed 003's texts verbatim, the variants of smpp-notes §4.4, TLVs, incoming messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smscenter._provider import MOSCOW, Transport
from smscenter.models import (
    DeliveryError,
    DeliveryReport,
    ExtraStatus,
    HlrInfo,
    MessageStatus,
    MessageType,
    TemplateKind,
)
from smscenter.smpp.constants import Tag
from smscenter.smpp.incoming import incoming_from_deliver_sm, incoming_from_expired
from smscenter.smpp.pdu import DeliverSm, decode_pdu
from smscenter.smpp.reassembly import Reassembler
from smscenter.smpp.receipts import (
    ReceiptText,
    is_receipt,
    normalize_message_id,
    parse_receipt_date,
    parse_receipt_text,
    render_receipt_text,
    report_from_deliver_sm,
)
from smscenter.smpp.text import TextEncoding, concat_udh, split_text
from smscenter.smpp.tlv import Tlv

MSK = timezone(timedelta(hours=3))
SEED_RECEIPT = (
    "id:854019 sub:001 dlvrd:001 submit date:1108202241 done date:1108202241 stat:DELIVRD err:000"
)
SEED_HLR = (
    "id:855469 stat:DELIVRD err:000 imsi:250023012345678 msc:79232510066 mcc:250 mnc:02 "
    "cn:Russian+Federation net:MegaFON+open+Joint+Stock+Company rcn: rnet:"
)
SEED_DATE = datetime(2011, 8, 20, 22, 41, tzinfo=MSK)


# --- the text -------------------------------------------------------------------------------------

RECEIPT_TABLE: list[tuple[str, str, ReceiptText]] = [
    (
        "seed 003 example, verbatim",
        SEED_RECEIPT,
        ReceiptText(
            message_id="854019", parts=1, delivered_parts=1, submitted_at=SEED_DATE,
            done_at=SEED_DATE, stat="DELIVRD", error=0,
        ),
    ),
    (
        "with text",
        SEED_RECEIPT + " text:Hello world",
        ReceiptText(
            message_id="854019", parts=1, delivered_parts=1, submitted_at=SEED_DATE,
            done_at=SEED_DATE, stat="DELIVRD", error=0, text="Hello world",
        ),
    ),
    (
        "fields in another order, lower-case stat",
        "stat:undeliv err:013 id:42 done date:1108202245 sub:002 dlvrd:000 submit date:1108202241",
        ReceiptText(
            message_id="42", parts=2, delivered_parts=0, submitted_at=SEED_DATE,
            done_at=datetime(2011, 8, 20, 22, 45, tzinfo=MSK), stat="undeliv", error=13,
        ),
    ),
    (
        "sub and dlvrd missing (a vendor format that crashed jsmpp #62)",
        "id:7 submit date:1108202241 done date:1108202241 stat:EXPIRED err:000",
        ReceiptText(
            message_id="7", submitted_at=SEED_DATE, done_at=SEED_DATE, stat="EXPIRED", error=0
        ),
    ),
    (
        "12-digit dates (with seconds)",
        "id:7 sub:001 dlvrd:001 submit date:110820224105 done date:110820224159 stat:DELIVRD "
        "err:0",
        ReceiptText(
            message_id="7", parts=1, delivered_parts=1,
            submitted_at=datetime(2011, 8, 20, 22, 41, 5, tzinfo=MSK),
            done_at=datetime(2011, 8, 20, 22, 41, 59, tzinfo=MSK), stat="DELIVRD", error=0,
        ),
    ),
    (
        "14-digit dates (4-digit year)",
        "id:7 sub:001 dlvrd:001 submit date:20240131235958 done date:20240201000001 "
        "stat:DELIVRD err:000",
        ReceiptText(
            message_id="7", parts=1, delivered_parts=1,
            submitted_at=datetime(2024, 1, 31, 23, 59, 58, tzinfo=MSK),
            done_at=datetime(2024, 2, 1, 0, 0, 1, tzinfo=MSK), stat="DELIVRD", error=0,
        ),
    ),
    (
        "hex id and hex err",
        "id:0A1b2C3d sub:001 dlvrd:000 submit date:1108202241 done date:1108202241 "
        "stat:REJECTD err:0B",
        ReceiptText(
            message_id="0A1b2C3d", parts=1, delivered_parts=0, submitted_at=SEED_DATE,
            done_at=SEED_DATE, stat="REJECTD", error=11,
        ),
    ),
    (
        "Text: capitalised, containing keys, colons and spaces; always last",
        "id:9 stat:DELIVRD Text:code id:5 err:1 done date:x",
        ReceiptText(message_id="9", stat="DELIVRD", text="code id:5 err:1 done date:x"),
    ),
    (
        "empty text",
        SEED_RECEIPT + " text:",
        ReceiptText(
            message_id="854019", parts=1, delivered_parts=1, submitted_at=SEED_DATE,
            done_at=SEED_DATE, stat="DELIVRD", error=0, text="",
        ),
    ),
    (
        "upper-case keys, extra spaces, underscored date keys",
        "ID:77  SUB:001 DLVRD:001  SUBMIT_DATE:1108202241 DONE_DATE:1108202241 STAT:DELIVRD "
        "ERR:000",
        ReceiptText(
            message_id="77", parts=1, delivered_parts=1, submitted_at=SEED_DATE,
            done_at=SEED_DATE, stat="DELIVRD", error=0,
        ),
    ),
    (
        "impossible dates and odd lengths are absent, not errors",
        "id:1 submit date:1113202241 done date:11082022 stat:DELIVRD err:xyz",
        ReceiptText(message_id="1", stat="DELIVRD"),
    ),
    ("garbage", "this is not a receipt at all", ReceiptText()),
    ("empty", "", ReceiptText()),
    (
        "seed 003 HLR example, verbatim",
        SEED_HLR,
        ReceiptText(
            message_id="855469", stat="DELIVRD", error=0,
            hlr=HlrInfo(
                imsi="250023012345678", msc="79232510066", mcc="250", mnc="02",
                country="Russian Federation", operator="MegaFON open Joint Stock Company",
            ),
        ),
    ),
    (
        "HLR in roaming, names urlencoded",
        "id:1 stat:DELIVRD err:000 imsi:250023012345678 msc:4915 mcc:250 mnc:02 "
        "cn:Russian+Federation net:MegaFon rcn:Germany rnet:T-Mobile%20Deutschland",
        ReceiptText(
            message_id="1", stat="DELIVRD", error=0,
            hlr=HlrInfo(
                imsi="250023012345678", msc="4915", mcc="250", mnc="02",
                country="Russian Federation", operator="MegaFon", roaming_country="Germany",
                roaming_operator="T-Mobile Deutschland",
            ),
        ),
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"), [row[1:] for row in RECEIPT_TABLE], ids=[row[0] for row in RECEIPT_TABLE]
)
def test_parse_receipt_text(text: str, expected: ReceiptText) -> None:
    assert parse_receipt_text(text) == expected


def test_seed_date_reads_year_month_day_in_moscow_time() -> None:
    parsed = parse_receipt_text(SEED_RECEIPT).submitted_at
    assert parsed == datetime(2011, 8, 20, 19, 41, tzinfo=UTC)
    assert parsed is not None and parsed.utcoffset() == timedelta(hours=3)
    assert MOSCOW.utcoffset(None) == timedelta(hours=3)


def test_time_zone_is_a_parameter() -> None:
    other = timezone(timedelta(hours=5))
    parsed = parse_receipt_text(SEED_RECEIPT, tz=other)
    assert parsed.done_at == datetime(2011, 8, 20, 22, 41, tzinfo=other)
    assert parse_receipt_date("1108202241", UTC) == datetime(2011, 8, 20, 22, 41, tzinfo=UTC)
    # the cache must not hand one zone's answer to another
    assert parse_receipt_text(SEED_RECEIPT).done_at == SEED_DATE


@pytest.mark.parametrize(
    ("raw", "hex_ids", "expected"),
    [
        ("854019", False, "854019"),
        ("0000854019", False, "854019"),
        (" 854019 ", False, "854019"),
        ("0a1b2c", False, "A1B2C"),
        ("000", False, "0"),
        ("", False, ""),
        ("D0813", True, "854035"),
        ("0D0813", True, "854035"),
        ("not-hex", True, "not-hex"),
    ],
)
def test_normalize_message_id(raw: str, hex_ids: bool, expected: str) -> None:
    assert normalize_message_id(raw, hex_ids=hex_ids) == expected


# --- deliver_sm -> DeliveryReport -----------------------------------------------------------------


def receipt_pdu(
    text: str | bytes = SEED_RECEIPT,
    *tlvs: Tlv,
    esm_class: int = 0x04,
    data_coding: int = 0,
) -> DeliverSm:
    body = text.encode("latin-1") if isinstance(text, str) else text
    pdu = DeliverSm(
        sequence_number=9,
        source_addr="79991234567",
        destination_addr="MyShop",
        esm_class=esm_class,
        data_coding=data_coding,
        short_message=body,
        tlvs=tlvs,
    )
    # every receipt goes through the real codec, as it would off the wire
    decoded = decode_pdu(pdu.encode())
    assert isinstance(decoded, DeliverSm)
    return decoded


PROVIDER_TLVS = (
    Tlv.of(Tag.RECEIPTED_MESSAGE_ID, "854019"),
    Tlv.of(Tag.MESSAGE_STATE, 2),
    Tlv(Tag.NETWORK_ERROR_CODE, b"\x03\x00\x00"),
    Tlv(Tag.COST, b" 1.50\x00"),
    Tlv.of(Tag.FLAG, 0x0321),  # flash, second balance, template, transactional
    Tlv.of(Tag.PARTS, 2),
    Tlv.of(Tag.MCCMNC, "25002"),
    Tlv.of(Tag.EXTRA_STATUS, 0),
)


def test_seed_receipt_with_all_tlvs() -> None:
    report = report_from_deliver_sm(receipt_pdu(SEED_RECEIPT, *PROVIDER_TLVS))
    assert report == DeliveryReport(
        message_id="854019",
        status=MessageStatus.DELIVERED,
        raw_status="DELIVRD",
        phone="79991234567",
        sender="MyShop",
        error=DeliveryError.NO_ERROR,
        changed_at=SEED_DATE,
        submitted_at=SEED_DATE,
        parts=2,  # the TLV wins over sub:001
        delivered_parts=1,
        cost=Decimal("1.50"),
        mcc="250",
        mnc="02",
        flags=report.flags,
        extra_status=ExtraStatus.NONE,
        transport=Transport.SMPP,
    )
    assert report.flags is not None
    assert report.message_type is MessageType.FLASH
    assert report.flags.second_balance and report.flags.template
    assert report.flags.template_kind is TemplateKind.TRANSACTIONAL
    assert report.is_final


def test_text_only_receipt() -> None:
    report = report_from_deliver_sm(receipt_pdu(SEED_RECEIPT + " text:Hi there"))
    assert (report.message_id, report.status, report.error, report.parts) == (
        "854019",
        MessageStatus.DELIVERED,
        DeliveryError.NO_ERROR,
        1,
    )
    assert report.text == "Hi there"
    assert report.cost is None and report.flags is None and report.mcc is None


def test_tlvs_win_over_text() -> None:
    report = report_from_deliver_sm(
        receipt_pdu(
            SEED_RECEIPT,
            Tlv.of(Tag.RECEIPTED_MESSAGE_ID, "000999"),
            Tlv.of(Tag.MESSAGE_STATE, 5),
            Tlv(Tag.NETWORK_ERROR_CODE, b"\x03\x00\x0d"),
        )
    )
    assert report.message_id == "999"
    assert report.status is MessageStatus.UNDELIVERABLE
    assert report.raw_status == "DELIVRD"  # the wire word is kept as written
    assert report.error is DeliveryError.SUBSCRIBER_BLOCKED


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (b"\x03\x00\x0b", DeliveryError.SERVICE_NOT_AVAILABLE),
        (b"011", DeliveryError.SERVICE_NOT_AVAILABLE),  # three ASCII digits (Kannel copes too)
        (b"\x03\x00\xfe", DeliveryError.UNREGISTERED_SENDER),
        (b"\x03\x03\xe7", DeliveryError(999)),  # unknown codes are kept
        (b"\x03\x00", DeliveryError.NO_ERROR),  # malformed: falls back to the text's err:000
    ],
)
def test_network_error_code(value: bytes, error: DeliveryError) -> None:
    report = report_from_deliver_sm(receipt_pdu(SEED_RECEIPT, Tlv(Tag.NETWORK_ERROR_CODE, value)))
    assert report.error == error


def test_tlv_only_receipt_without_text() -> None:
    report = report_from_deliver_sm(
        receipt_pdu(b"", Tlv.of(Tag.RECEIPTED_MESSAGE_ID, "77"), Tlv.of(Tag.MESSAGE_STATE, 3))
    )
    assert (report.message_id, report.status, report.raw_status) == (
        "77",
        MessageStatus.EXPIRED,
        "3",
    )
    assert report.changed_at is None


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        (2, MessageStatus.READ),
        (4, MessageStatus.LINK_CLICKED),
        (6, MessageStatus.LINK_CLICKED),
        (0, MessageStatus.DELIVERED),
    ],
)
def test_extra_status_upgrades_delivered(extra: int, status: MessageStatus) -> None:
    report = report_from_deliver_sm(receipt_pdu(SEED_RECEIPT, Tlv.of(Tag.EXTRA_STATUS, extra)))
    assert report.status is status
    assert report.extra_status == ExtraStatus(extra)


@pytest.mark.parametrize(
    ("tlvs", "check"),
    [
        ((Tlv(Tag.COST, b"abc\x00"),), lambda r: r.cost is None),
        ((Tlv(Tag.COST, b"12.3456"),), lambda r: r.cost == Decimal("12.3456")),  # no NUL
        ((Tlv(Tag.FLAG, b"\x01"),), lambda r: r.flags is None),  # wrong size: ignored
        ((Tlv(Tag.PARTS, b"\x00\x03"),), lambda r: r.parts == 3),
        ((Tlv(Tag.MCCMNC, b"401770\x00"),), lambda r: (r.mcc, r.mnc) == ("401", "770")),
        ((Tlv(Tag.MCCMNC, b"\x00"),), lambda r: (r.mcc, r.mnc) == (None, None)),
        ((Tlv(Tag.MESSAGE_STATE, b"\x02\x00"),), lambda r: r.status is MessageStatus.DELIVERED),
        ((Tlv(0x2FFF, b"vendor"),), lambda r: r.status is MessageStatus.DELIVERED),
    ],
)
def test_odd_tlvs_are_never_fatal(tlvs: tuple[Tlv, ...], check: object) -> None:
    report = report_from_deliver_sm(receipt_pdu(SEED_RECEIPT, *tlvs))
    assert callable(check) and check(report)


def test_hlr_receipt_over_deliver_sm() -> None:
    report = report_from_deliver_sm(receipt_pdu(SEED_HLR, Tlv.of(Tag.FLAG, 4)))
    assert report.message_id == "855469"
    assert report.status is MessageStatus.DELIVERED
    assert report.message_type is MessageType.HLR
    assert report.hlr is not None
    assert report.hlr.imsi == "250023012345678"
    assert report.hlr.operator == "MegaFON open Joint Stock Company"
    assert not report.hlr.is_roaming
    assert (report.mcc, report.mnc) == ("250", "02")


def test_receipt_in_message_payload_and_ucs2() -> None:
    report = report_from_deliver_sm(
        receipt_pdu(b"", Tlv(Tag.MESSAGE_PAYLOAD, SEED_RECEIPT.encode("ascii")))
    )
    assert report.message_id == "854019" and report.changed_at == SEED_DATE
    report = report_from_deliver_sm(
        receipt_pdu((SEED_RECEIPT + " text:Привет").encode("utf-16-be"), data_coding=8)
    )
    assert report.text == "Привет"


def test_hex_ids_option() -> None:
    pdu = receipt_pdu(SEED_RECEIPT.replace("854019", "0D0813"))
    assert report_from_deliver_sm(pdu).message_id == "D0813"
    assert report_from_deliver_sm(pdu, hex_ids=True).message_id == "854035"


def test_garbage_receipt_is_unknown_not_an_error() -> None:
    report = report_from_deliver_sm(receipt_pdu(b"\xff\x00garbage:"))
    assert report.status is MessageStatus.UNKNOWN
    assert report.message_id == ""


@pytest.mark.parametrize(
    ("esm_class", "tlvs", "expected"),
    [
        (0x04, (), True),
        (0x20, (), True),  # intermediate notification
        (0x44, (), True),  # with UDHI set as well
        (0x00, (), False),
        (0x40, (), False),
        (0x08, (), False),  # SME delivery ack: not the SMSC's receipt
        (0x00, (Tlv.of(Tag.RECEIPTED_MESSAGE_ID, "1"),), True),
    ],
)
def test_is_receipt(esm_class: int, tlvs: tuple[Tlv, ...], expected: bool) -> None:
    assert is_receipt(receipt_pdu(SEED_RECEIPT, *tlvs, esm_class=esm_class)) is expected


def test_render_receipt_text_round_trips() -> None:
    report = report_from_deliver_sm(receipt_pdu(SEED_RECEIPT + " text:" + "x" * 30))
    text = render_receipt_text(report)
    assert text == SEED_RECEIPT + " text:" + "x" * 20
    again = report_from_deliver_sm(receipt_pdu(text))
    assert (again.message_id, again.status, again.changed_at, again.parts) == (
        report.message_id,
        report.status,
        report.changed_at,
        report.parts,
    )


# --- incoming messages ----------------------------------------------------------------------------


def mo_pdu(body: bytes, *tlvs: Tlv, esm_class: int = 0, data_coding: int = 0) -> DeliverSm:
    pdu = DeliverSm(
        source_addr="79991234567",
        destination_addr="7555",
        esm_class=esm_class,
        data_coding=data_coding,
        short_message=body,
        tlvs=tlvs,
    )
    decoded = decode_pdu(pdu.encode())
    assert isinstance(decoded, DeliverSm)
    assert not is_receipt(decoded)
    return decoded


@pytest.mark.parametrize(
    ("body", "dc", "text"),
    [
        (b"Hello \x1b\x65", 0, "Hello €"),
        ("Привет".encode("utf-16-be"), 8, "Привет"),
        (b"caf\xe9", 3, "café"),
        (b"caf\xe9", 4, "café"),
    ],
)
def test_incoming_single(body: bytes, dc: int, text: str) -> None:
    msg = incoming_from_deliver_sm(mo_pdu(body, data_coding=dc))
    assert msg is not None
    assert (msg.phone, msg.to, msg.text, msg.transport) == (
        "79991234567",
        "7555",
        text,
        Transport.SMPP,
    )


def test_incoming_multipart_udh_out_of_order() -> None:
    text = "Длинное сообщение 😀 " * 10
    parts = split_text(text, TextEncoding.UCS2)
    pdus = [
        mo_pdu(concat_udh(200, len(parts), i) + p, esm_class=0x40, data_coding=8)
        for i, p in enumerate(parts, 1)
    ]
    r = Reassembler()
    out = [incoming_from_deliver_sm(p, reassembler=r, now=0.0) for p in reversed(pdus)]
    assert out[:-1] == [None] * (len(pdus) - 1)
    assert out[-1] is not None and out[-1].text == text
    # without a reassembler, a part is its own message (UDH stripped)
    alone = incoming_from_deliver_sm(pdus[0])
    assert alone is not None and text.startswith(alone.text)


def test_incoming_multipart_sar_and_16bit_udh() -> None:
    text = "x" * 200 + "{end}"
    parts = split_text(text, TextEncoding.GSM)
    r = Reassembler()
    sar = [
        mo_pdu(
            p,
            Tlv.of(Tag.SAR_MSG_REF_NUM, 0x1234),
            Tlv.of(Tag.SAR_TOTAL_SEGMENTS, len(parts)),
            Tlv.of(Tag.SAR_SEGMENT_SEQNUM, i),
        )
        for i, p in enumerate(parts, 1)
    ]
    assert incoming_from_deliver_sm(sar[1], reassembler=r) is None
    msg = incoming_from_deliver_sm(sar[0], reassembler=r)
    assert msg is not None and msg.text == text
    udh16 = [
        mo_pdu(bytes((6, 8, 4, 0xAB, 0xCD, len(parts), i)) + p, esm_class=0x40)
        for i, p in enumerate(parts, 1)
    ]
    assert incoming_from_deliver_sm(udh16[1], reassembler=r) is None
    assert incoming_from_deliver_sm(udh16[1], reassembler=r) is None  # duplicate
    msg = incoming_from_deliver_sm(udh16[0], reassembler=r)
    assert msg is not None and msg.text == text


def test_incoming_message_payload_and_expired_partial() -> None:
    msg = incoming_from_deliver_sm(mo_pdu(b"", Tlv(Tag.MESSAGE_PAYLOAD, b"long body")))
    assert msg is not None and msg.text == "long body"
    r = Reassembler(timeout=10)
    parts = split_text("y" * 400, TextEncoding.GSM)
    first = mo_pdu(concat_udh(5, len(parts), 1) + parts[0], esm_class=0x40)
    assert incoming_from_deliver_sm(first, reassembler=r, now=100.0) is None
    (expired,) = r.expire(now=110.0)
    partial = incoming_from_expired(expired)
    assert partial.text == "y" * 153 and partial.phone == "79991234567"
    assert expired.missing == (2, 3)


def test_impossible_part_number_is_delivered_not_lost() -> None:
    r = Reassembler()
    pdu = mo_pdu(bytes((5, 0, 3, 1, 2, 7)) + b"lonely", esm_class=0x40)
    msg = incoming_from_deliver_sm(pdu, reassembler=r)
    assert msg is not None and msg.text == "lonely"
    assert r.pending == 0


_KEYS = ["id:", "sub:", "dlvrd:", "submit date:", "done date:", "stat:", "err:", "text:", "Text:"]
_KEYS += ["imsi:", "mcc:", "mnc:", "cn:", "net:", "rcn:", "rnet:", " ", "0", "1108202241", "%"]


@settings(max_examples=150, deadline=None)
@given(
    text=st.one_of(
        st.text(max_size=200),
        st.lists(st.sampled_from(_KEYS) | st.text(max_size=8), max_size=25).map("".join),
    )
)
def test_receipt_text_never_raises(text: str) -> None:
    parsed = parse_receipt_text(text)
    assert isinstance(parsed, ReceiptText)
    if parsed.done_at is not None:
        assert parsed.done_at.tzinfo is not None


@settings(max_examples=150, deadline=None)
@given(
    body=st.binary(max_size=254),
    esm_class=st.integers(0, 255),
    data_coding=st.integers(0, 255),
    tlvs=st.lists(
        st.builds(
            Tlv,
            st.sampled_from([0x001E, 0x0423, 0x0424, 0x0427, 0x020C, 0x020E, 0x020F])
            | st.integers(0x2000, 0x2004),
            st.binary(max_size=8),
        ),
        max_size=8,
    ),
)
def test_deliver_sm_never_raises(
    body: bytes, esm_class: int, data_coding: int, tlvs: list[Tlv]
) -> None:
    pdu = DeliverSm(
        source_addr="1", esm_class=esm_class, data_coding=data_coding, short_message=body,
        tlvs=tuple(tlvs),
    )  # fmt: skip
    report = report_from_deliver_sm(pdu)
    assert isinstance(report, DeliveryReport)
    msg = incoming_from_deliver_sm(pdu, reassembler=Reassembler())
    assert msg is None or isinstance(msg.text, str)


def test_non_ascii_digits_are_not_numbers() -> None:
    # str.isdigit() accepts '¹' and '٣', which int() refuses: such fields are kept as unknown.
    parsed = parse_receipt_text("id:1 sub:¹ dlvrd:٣ submit date:¹¹¹¹¹¹¹¹¹¹ stat:DELIVRD err:²")
    assert parsed.message_id == "1"
    assert parsed.parts is None and parsed.delivered_parts is None
    assert parsed.submitted_at is None and parsed.error is None
    pdu = DeliverSm(
        esm_class=0x04,
        short_message=b"id:5 stat:DELIVRD err:000",
        tlvs=(Tlv(Tag.NETWORK_ERROR_CODE, "¹".encode() + b"\x00"),),
    )
    assert report_from_deliver_sm(pdu).message_id == "5"
