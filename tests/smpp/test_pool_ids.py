"""Every receipt matches its send by ``message_id``, against SMSCs with odd id styles.

Real sockets on 127.0.0.1: the quirky SMSC of ``_quirky_ids_smsc`` answers ``submit_sm`` with
ids in one style and sends an immediate receipt whose TLV and text write the id in others.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import anyio
import pytest
from _quirky_ids_smsc import STYLES, QuirkyIdSMSC

from smscenter import Credentials, DeliveryReport, Limits, Message, Timeouts
from smscenter.config import SMPPOptions
from smscenter.ids import ReceiptIdStyle, canonical_message_id
from smscenter.smpp.client.pool import ReconnectPolicy, SMPPPool

CREDS = Credentials("acme", "secret")
N = 40


@pytest.fixture
async def smsc() -> AsyncIterator[QuirkyIdSMSC]:
    async with QuirkyIdSMSC() as server:
        yield server


def pool(smsc: QuirkyIdSMSC, **kwargs: object) -> SMPPPool:
    return SMPPPool(
        "127.0.0.1",
        smsc.port,
        CREDS,
        limits=Limits(max_rate=None),
        reconnect=ReconnectPolicy(initial=0.01, maximum=0.05, refused=0.05),
        timeouts=Timeouts(5),
        **kwargs,  # type: ignore[arg-type]
    )


async def send_and_collect(p: SMPPPool, n: int = N) -> tuple[dict[str, str], list[DeliveryReport]]:
    """Send ``n`` messages (one per recipient) and read ``n`` receipts: returns
    ``{recipient: send_result.message_id}`` and the reports."""
    sent: dict[str, str] = {}
    async for outcome in p.send_many(Message(to=f"7999{i:07d}", text="hi") for i in range(n)):
        assert outcome.result is not None, outcome.error
        sent[outcome.recipient] = outcome.result.message_id
    reports: list[DeliveryReport] = []
    with anyio.fail_after(10):
        async with p.reports() as stream:
            async for event in stream:
                assert isinstance(event, DeliveryReport)
                reports.append(event)
                if len(reports) == n:
                    break
    return sent, reports


def assert_all_match(sent: dict[str, str], reports: list[DeliveryReport]) -> None:
    mismatched = [
        (r.phone, sent.get(r.phone or ""), r.message_id)
        for r in reports
        if sent.get(r.phone or "") != r.message_id
    ]
    assert not mismatched, f"{len(mismatched)} of {len(reports)} do not match: {mismatched[:3]}"


# --- item 1: one canonical id, whatever the SMSC's id style ------------------------------------


# (submit_sm_resp style, TLV style or None, text style): same base, different spelling.
SAME_BASE = [
    ("hex-lower", "hex-upper", "hex-upper"),
    ("hex-lower", None, "hex-upper"),
    ("hex-lower-padded", "hex-upper", "hex-upper"),
    ("hex-lower-padded", None, "hex-upper"),
    ("hex-upper", "hex-lower-padded", "hex-lower"),
    ("hex-upper-padded", None, "hex-lower"),
    ("decimal", "decimal", "decimal-padded"),
    ("decimal-padded", None, "decimal"),
    ("decimal-padded", "decimal", "decimal"),
    ("hex-long", "hex-upper", "hex-upper"),
    ("hex-long", None, "hex-upper"),
    ("decimal-long", None, "decimal"),
]


@pytest.mark.parametrize(("resp", "tlv", "text"), SAME_BASE)
async def test_every_receipt_matches_its_send(
    smsc: QuirkyIdSMSC, resp: str, tlv: str | None, text: str
) -> None:
    smsc.resp, smsc.tlv, smsc.text = STYLES[resp], STYLES[tlv] if tlv else None, STYLES[text]
    async with pool(smsc) as p:
        sent, reports = await send_and_collect(p)
    assert_all_match(sent, reports)
    # The wire spelling stays on the report, for logs and support tickets.
    number_of = {canonical_message_id(wire): n for wire, n in smsc.numbers.items()}
    wire_style = STYLES[tlv] if tlv else STYLES[text]
    for report in reports:
        assert report.raw_message_id == wire_style(number_of[report.message_id])


async def test_send_result_keeps_the_wire_id(smsc: QuirkyIdSMSC) -> None:
    smsc.resp = STYLES["hex-lower-padded"]
    smsc.receipts = False
    async with pool(smsc) as p:
        result = await p.send(Message(to="79991234567", text="hi"))
        query = await p.query(result.raw_message_id)
    assert result.raw_message_id == "0000000a01"
    assert result.message_id == "A01" == result.part_ids[0]
    # The fake SMSC echoes the id asked about: query_sm_resp carries it as written.
    assert query.message_id == "A01" and query.raw_message_id == "0000000a01"


async def test_a_single_send_matches_its_receipt(smsc: QuirkyIdSMSC) -> None:
    smsc.resp, smsc.tlv, smsc.text = STYLES["hex-lower"], None, STYLES["hex-upper-padded"]
    async with pool(smsc) as p:
        result = await p.send(Message(to="79991234567", text="hi"))
        with anyio.fail_after(5):
            async with p.reports() as stream:
                report = await stream.receive()
    assert isinstance(report, DeliveryReport)
    assert result.message_id == report.message_id == "A01"
    assert (result.raw_message_id, report.raw_message_id) == ("a01", "0000000A01")


# --- item 2: the receipt text writes the id in the other base ----------------------------------


OTHER_BASE = [
    # submit_sm_resp in hex, text in decimal; and the reverse.
    ("hex-lower", "decimal", ReceiptIdStyle.DECIMAL_TEXT),
    ("hex-upper-padded", "decimal", ReceiptIdStyle.DECIMAL_TEXT),
    ("decimal", "hex-upper", ReceiptIdStyle.HEX_TEXT),
    ("decimal-padded", "hex-lower", ReceiptIdStyle.HEX_TEXT),
]


@pytest.mark.parametrize(("resp", "text", "style"), OTHER_BASE)
async def test_other_base_with_the_explicit_option(
    smsc: QuirkyIdSMSC, resp: str, text: str, style: ReceiptIdStyle
) -> None:
    smsc.resp, smsc.tlv, smsc.text = STYLES[resp], None, STYLES[text]
    async with pool(smsc, options=SMPPOptions(receipt_ids=style.value)) as p:
        assert p.receipt_id_style is style
        sent, reports = await send_and_collect(p)
    assert_all_match(sent, reports)


@pytest.mark.parametrize(("resp", "text", "style"), OTHER_BASE)
async def test_other_base_detected_from_the_ids_sent(
    smsc: QuirkyIdSMSC,
    resp: str,
    text: str,
    style: ReceiptIdStyle,
    caplog: pytest.LogCaptureFixture,
) -> None:
    smsc.resp, smsc.tlv, smsc.text = STYLES[resp], None, STYLES[text]
    async with pool(smsc) as p:
        assert p.receipt_id_style is ReceiptIdStyle.AUTO
        sent, reports = await send_and_collect(p)
        assert p.receipt_id_style is style  # settled, and no longer remembering ids
    assert_all_match(sent, reports)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize(("resp", "text", "style"), OTHER_BASE)
async def test_other_base_detected_from_receipts_with_the_tlv(
    smsc: QuirkyIdSMSC, resp: str, text: str, style: ReceiptIdStyle
) -> None:
    # The first receipts carry the TLV (and so show how the text writes ids), later ones not.
    smsc.resp, smsc.tlv, smsc.text = STYLES[resp], STYLES[resp], STYLES[text]
    smsc.tlv_for = lambda n: n < 5
    async with pool(smsc) as p:
        sent, reports = await send_and_collect(p, 8)
        assert p.receipt_id_style is style
        # Receipts for ids this pool never saw (a restart, another process) still match:
        # the style is known now.
        smsc.tlv_for = lambda n: False
        sent2, reports2 = await send_and_collect(p, 8)
    assert_all_match(sent, reports)
    assert_all_match(sent2, reports2)


async def test_an_unmatchable_receipt_is_not_silent(
    smsc: QuirkyIdSMSC, caplog: pytest.LogCaptureFixture
) -> None:
    # The text's id is no id this pool was given, in any base: read as written, and said so.
    smsc.resp, smsc.tlv, smsc.text = STYLES["decimal"], None, lambda n: f"X{n}"
    with caplog.at_level(logging.WARNING, logger="smscenter.smpp.client.pool"):
        async with pool(smsc) as p:
            sent, reports = await send_and_collect(p, 3)
    assert [r.message_id for r in reports] == [f"X{n}" for n in range(0xA01, 0xA04)]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "receipt_ids" in warnings[0] and "X2561" in warnings[0]


async def test_the_option_is_checked(smsc: QuirkyIdSMSC) -> None:
    with pytest.raises(ValueError, match="ReceiptIdStyle"):
        pool(smsc, options=SMPPOptions(receipt_ids="octal"))
