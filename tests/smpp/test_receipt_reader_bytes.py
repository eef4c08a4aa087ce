"""ReceiptReader reads the usual receipt on its bytes (short_message in a one-octet coding): any
text, any TLV order, gives what a fresh reading gives, receipt after receipt; and odd receipts
from an SMSC on a real socket reach the application matched to their sends."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest
from _odd_receipts_smsc import EXCERPT, KINDS, OddReceiptSMSC
from hypothesis import given, settings
from hypothesis import strategies as st

from smscenter import Credentials, DeliveryReport, Limits, Message, Timeouts
from smscenter.ids import ReceiptIdStyle
from smscenter.models import MessageStatus
from smscenter.smpp.client.pool import ReconnectPolicy, SMPPPool
from smscenter.smpp.constants import Tag
from smscenter.smpp.framer import PduFramer
from smscenter.smpp.pdu import DeliverSm
from smscenter.smpp.receipts import ReceiptReader, report_from_deliver_sm

# Pieces of receipt texts, odd ones included: Latin-1 letters and digits ("\xb2" is a digit to
# str.isdigit), no space after the id, a lone "id:", "text:" without its space, NUL octets.
_IDS = st.sampled_from(["854019", "0D0813", "\xb2\xb3", "12 ", "", "7" * 64, "id:5"])
_TAILS = st.sampled_from(
    [
        " sub:001 dlvrd:001 submit date:1108202241 done date:1108202241 stat:DELIVRD err:000",
        " stat:UNDELIV err:00d",
        "",
        " Stat:delivrd Err:000 caf\xe9",
        " sub:1\x00 stat:DELIVRD",
    ]
)
_EXCERPTS = st.sampled_from(["", " text:", " text:\xe9t\xe9", " Text:id:9 text:x", "text:x"])
_TLVS = st.lists(
    st.sampled_from(
        [
            (Tag.RECEIPTED_MESSAGE_ID, b"854019\0"),
            (Tag.RECEIPTED_MESSAGE_ID, b"\0"),
            (Tag.RECEIPTED_MESSAGE_ID, b"0d0813"),  # no NUL
            (Tag.MESSAGE_STATE, b"\x05"),
            (Tag.NETWORK_ERROR_CODE, b"\x03\x00\x0b"),
            (Tag.COST, b" 2.5000\0"),
            (Tag.EXTRA_STATUS, b"\x00\x04"),
            (0x2005, b"\x80\xff"),
        ]
    ),
    max_size=5,
)


@st.composite
def _receipt(draw: st.DrawFn) -> bytes:
    prefix = draw(st.sampled_from(["id:", "ID:", "", "id"]))
    text = f"{prefix}{draw(_IDS)}{draw(_TAILS)}{draw(_EXCERPTS)}".encode("latin-1")
    pdu = DeliverSm(
        sequence_number=draw(st.integers(1, 1000)),
        source_addr=draw(st.sampled_from(["79991234567", ""])),
        destination_addr=draw(st.sampled_from(["Shop", ""])),
        esm_class=0x04,
        data_coding=draw(st.sampled_from([0, 3, 4, 0xF0])),
        short_message=text,
        tlvs=tuple(draw(_TLVS)),
    )
    return pdu.encode()


@settings(max_examples=150, deadline=None)
@given(st.lists(_receipt(), min_size=1, max_size=20), st.sampled_from(list(ReceiptIdStyle)))
def test_the_byte_reading_is_a_fresh_reading(
    receipts: list[bytes], text_ids: ReceiptIdStyle
) -> None:
    # Decoded by one framer, as a session decodes them (its TLV cache shares the pairs).
    framer = PduFramer()
    framer.feed(b"".join(receipts * 2))
    reader = ReceiptReader()
    while (pdu := framer.next_pdu()) is not None:
        assert isinstance(pdu, DeliverSm)
        assert reader.report(pdu, text_ids=text_ids) == report_from_deliver_sm(
            pdu, text_ids=text_ids
        )


def test_a_hit_gives_each_receipt_its_own_latin1_excerpt_and_id() -> None:
    reader = ReceiptReader()
    tail = " sub:001 dlvrd:001 stat:DELIVRD err:000"
    reports = [
        reader.report(
            DeliverSm(esm_class=0x04, short_message=f"id:{n}{tail} text:{ex}".encode("latin-1"))
        )
        for n, ex in ((100, "\xe9"), (101, "\xbd"), (102, ""))
    ]
    assert len(reader._shared) == 1  # one tail: two hits
    assert [(r.message_id, r.text) for r in reports] == [
        ("100", "\xe9"),
        ("101", "\xbd"),
        ("102", ""),
    ]


# --- on a real socket, through the pool ----------------------------------------------------------

N = 24


@pytest.fixture
async def smsc() -> AsyncIterator[OddReceiptSMSC]:
    async with OddReceiptSMSC() as server:
        yield server


async def test_odd_receipts_reach_the_application_matched_to_their_sends(
    smsc: OddReceiptSMSC,
) -> None:
    pool = SMPPPool(
        "127.0.0.1",
        smsc.port,
        Credentials("acme", "secret"),
        limits=Limits(max_rate=None),
        reconnect=ReconnectPolicy(initial=0.01, maximum=0.05, refused=0.05),
        timeouts=Timeouts(5),
    )
    sent: dict[str, str] = {}
    reports: list[DeliveryReport] = []
    async with pool:
        messages = (Message(to=f"7999{i:07d}", text=f"Your code is {i:06d}") for i in range(N))
        async for outcome in pool.send_many(messages):
            assert outcome.result is not None, outcome.error
            sent[outcome.recipient] = outcome.result.message_id
        with anyio.fail_after(10):
            async with pool.reports() as stream:
                async for event in stream:
                    assert isinstance(event, DeliveryReport)
                    reports.append(event)
                    if len(reports) == N:
                        break
    assert {r.phone: r.message_id for r in reports} == sent
    assert {r.status for r in reports} == {MessageStatus.DELIVERED}
    by_kind = {kind: [r for r in reports if smsc.kinds[r.phone or ""] == kind] for kind in KINDS}
    assert all(len(group) == N // len(KINDS) for group in by_kind.values())
    assert {r.text for r in by_kind["latin-1 excerpt"]} == {EXCERPT}
    assert all(r.changed_at is not None for r in reports)
