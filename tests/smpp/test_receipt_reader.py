"""ReceiptReader: a stream of receipts read with what they share remembered gives, receipt by
receipt, exactly the report of a fresh reading; its memory is bounded and its own."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smscenter.ids import ReceiptIdStyle
from smscenter.models import MessageStatus
from smscenter.smpp.constants import Tag
from smscenter.smpp.framer import PduFramer
from smscenter.smpp.pdu import DeliverSm
from smscenter.smpp.receipts import ReceiptReader, report_from_deliver_sm
from smscenter.smpp.tlv import Tlv

_TAILS = (
    " sub:001 dlvrd:001 submit date:1108202241 done date:1108202241 stat:DELIVRD err:000",
    " sub:002 dlvrd:000 submit date:1108202241 done date:1108202242 stat:UNDELIV err:00d",
    " stat:DELIVRD err:000 imsi:250023012345678 mcc:250 mnc:02 cn:Russia net:MegaFON",  # HLR
    " sub:001 dlvrd:001 submit date:2508201530 done date:2508201531 stat:EXPIRED err:0x1F",
)
_SHARED_TLVS = (
    (),
    (Tlv.of(Tag.MESSAGE_STATE, 2), Tlv(Tag.NETWORK_ERROR_CODE, b"\x03\x00\x00")),
    (Tlv.of(Tag.COST, " 1.5"), Tlv.of(Tag.FLAG, 0x20), Tlv.of(Tag.MCCMNC, "25002")),
    (Tlv.of(Tag.EXTRA_STATUS, 4), Tlv.of(Tag.PARTS, 3)),
)
_IDS = st.sampled_from(["854019", "0D0813", "00077", "abc-1", "1000000000", ""])
_EXCERPTS = st.sampled_from([None, " text:Hi", " Text:Your code is 0042", " text: text:x", ""])


@st.composite
def _receipt(draw: st.DrawFn) -> DeliverSm:
    text_id = draw(_IDS)
    tail = draw(st.sampled_from(_TAILS))
    excerpt = draw(_EXCERPTS)
    shared = draw(st.sampled_from(_SHARED_TLVS))
    tlvs: tuple[Tlv, ...] = shared
    where = draw(st.sampled_from(["first", "none", "last", "twice"]))
    tlv_id = Tlv.of(Tag.RECEIPTED_MESSAGE_ID, draw(_IDS))
    if where == "first":
        tlvs = (tlv_id, *shared)
    elif where == "last":
        tlvs = (*shared, tlv_id)
    elif where == "twice":  # a repeated tag: the last one wins
        tlvs = (tlv_id, *shared, Tlv.of(Tag.RECEIPTED_MESSAGE_ID, draw(_IDS)))
    text = f"id:{text_id}{tail}{excerpt or ''}"
    ucs2 = draw(st.booleans())
    return DeliverSm(
        source_addr=draw(st.sampled_from(["79991234567", "79160000001", ""])),
        destination_addr=draw(st.sampled_from(["MyShop", "SMSC", ""])),
        esm_class=0x04,
        data_coding=8 if ucs2 else 0,
        short_message=text.encode("utf-16-be" if ucs2 else "latin-1"),
        tlvs=tlvs,
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(_receipt(), min_size=1, max_size=30),
    st.sampled_from(list(ReceiptIdStyle)),
    st.booleans(),
)
def test_a_reader_reports_each_receipt_as_a_fresh_reading_would(
    pdus: list[DeliverSm], text_ids: ReceiptIdStyle, hex_ids: bool
) -> None:
    reader = ReceiptReader(hex_ids=hex_ids)
    for pdu in pdus * 2:  # the second round reads from what the first remembered
        expected = report_from_deliver_sm(pdu, hex_ids=hex_ids, text_ids=text_ids)
        assert reader.report(pdu, text_ids=text_ids) == expected


def test_receipts_sharing_a_tail_differ_in_id_phone_sender_and_excerpt() -> None:
    reader = ReceiptReader()
    tail = _TAILS[0]
    reports = [
        reader.report(
            DeliverSm(
                source_addr=f"7999000000{n}",
                destination_addr=f"Shop{n}",
                esm_class=0x04,
                short_message=f"id:{1000 + n}{tail} text:code {n}".encode("latin-1"),
                tlvs=(Tlv.of(Tag.RECEIPTED_MESSAGE_ID, str(1000 + n)), *_SHARED_TLVS[2]),
            )
        )
        for n in range(5)
    ]
    assert [(r.message_id, r.phone, r.sender, r.text) for r in reports] == [
        (str(1000 + n), f"7999000000{n}", f"Shop{n}", f"code {n}") for n in range(5)
    ]
    assert {r.status for r in reports} == {MessageStatus.DELIVERED}
    assert len({(r.cost, r.flags, r.mcc, r.changed_at) for r in reports}) == 1


def test_the_reader_memory_is_bounded_and_its_own() -> None:
    first, second = ReceiptReader(), ReceiptReader()
    for n in range(3000):  # a distinct tail each: every one a miss
        pdu = DeliverSm(
            esm_class=0x04,
            short_message=f"id:{n} sub:001 dlvrd:001 stat:DELIVRD err:{n % 1000:03d}".encode(),
        )
        first.report(pdu)
    assert 0 < len(first._shared) <= first._shared.maxsize
    assert len(second._shared) == 0  # nothing is shared between readers


def test_the_framer_tlv_tail_cache_is_bounded_and_its_own() -> None:
    framer, other = PduFramer(), PduFramer()
    for n in range(2000):
        pdu = DeliverSm(
            esm_class=0x04,
            tlvs=(Tlv.of(Tag.RECEIPTED_MESSAGE_ID, str(n)), Tlv.of(Tag.PARTS, n % 65536)),
        )
        framer.feed(pdu.encode())
        got = framer.next_pdu()
        assert got == pdu
    assert 0 < len(framer._tlv_tails) <= framer._tlv_tails.maxsize
    assert len(other._tlv_tails) == 0


@pytest.mark.parametrize(
    ("text_ids", "from_text", "from_tlv"),
    [
        (ReceiptIdStyle.AUTO, "1234", "1234"),
        (ReceiptIdStyle.SAME, "1234", "1234"),
        (ReceiptIdStyle.DECIMAL_TEXT, "4D2", "1234"),  # the text's decimal is the sent hex id
        (ReceiptIdStyle.HEX_TEXT, "4660", "1234"),  # the TLV is always as submit_sm_resp gave
    ],
)
def test_the_text_id_style_applies_to_the_text_only(
    text_ids: ReceiptIdStyle, from_text: str, from_tlv: str
) -> None:
    text = b"id:1234 sub:001 dlvrd:001 stat:DELIVRD err:000"
    bare = DeliverSm(esm_class=0x04, short_message=text)
    tagged = DeliverSm(
        esm_class=0x04, short_message=text, tlvs=(Tlv.of(Tag.RECEIPTED_MESSAGE_ID, "1234"),)
    )
    reader = ReceiptReader()
    for _ in range(2):  # a miss, then a hit
        assert reader.report(bare, text_ids=text_ids).message_id == from_text
        assert reader.report(tagged, text_ids=text_ids).message_id == from_tlv
    assert report_from_deliver_sm(bare, text_ids=text_ids).message_id == from_text
