"""Message -> submit_sm: every MessageKind, options, times, refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smscenter.models import Attachment, Message, MessageKind, SendWindow
from smscenter.options import SendOptions
from smscenter.smpp.constants import NPI, TON
from smscenter.smpp.pdu import SubmitSm, decode_pdu
from smscenter.smpp.provider_text import ProviderText, parse_provider_text, provider_text
from smscenter.smpp.reassembly import Fragment, Reassembler
from smscenter.smpp.submit import SubmitOptions, build_submit_sm
from smscenter.smpp.text import decode_text, parse_udh
from smscenter.smpp.times import absolute_time, relative_time

PHONE = "+79991234567"


def on_the_wire(pdus: tuple[SubmitSm, ...]) -> str:
    """What the SMSC reads: every PDU through the real codec, parts joined via their UDH."""
    r = Reassembler()
    texts = []
    for pdu in pdus:
        decoded = decode_pdu(pdu.encode())
        assert isinstance(decoded, SubmitSm)
        assert decoded == pdu
        # unpacked GSM: 160 septets, or a 6-octet UDH + 153 septets; the SMSC packs them to 140
        limit = 160 if decoded.data_coding in (0, 0x10) else 140
        assert len(decoded.short_message) <= limit
        if decoded.esm_class & 0x40:
            udh, body = parse_udh(decoded.short_message)
            assert udh.is_concatenated
            assert udh.reference is not None and udh.total and udh.seq
            frag = Fragment(
                source=decoded.source_addr,
                destination=decoded.destination_addr,
                reference=udh.reference,
                total=udh.total,
                seq=udh.seq,
                payload=body,
                data_coding=decoded.data_coding,
            )
            done = r.add(frag, 0.0)
            if done is not None:
                texts.append(done.text)
        else:
            texts.append(decode_text(decoded.short_message, decoded.data_coding))
    assert len(texts) == 1
    return texts[0]


# --- every kind -----------------------------------------------------------------------------------

KIND_CASES = [
    (Message(to=PHONE, text="Hello"), "Hello", 0),
    (Message(to=PHONE, text="Привет"), "Привет", 8),
    (Message(to=PHONE, text="Alarm", kind=MessageKind.FLASH), "Alarm", 0x10),
    (Message(to=PHONE, text="Тревога", kind=MessageKind.FLASH), "Тревога", 0x18),
    (Message(to=PHONE, kind=MessageKind.HLR), "__HLR__", 0),
    (Message(to=PHONE, kind=MessageKind.PING), "__PING__", 0),
    (
        Message(
            to="user@example.com",
            text="Body",
            kind=MessageKind.EMAIL,
            subject="Subj",
            sender="me@example.com",
        ),
        "__MAIL__: Body\nsubj:Subj",
        0,
    ),
    (
        Message(to=PHONE, text="Your code 1234", kind=MessageKind.CALL, voice="w2"),
        "__CALL__: Your code 1234\nvoice:w2",
        0,
    ),
    (Message(to=PHONE, text="Hi", kind=MessageKind.CALL), "__CALL__: Hi", 0),
    (Message(to=PHONE, text="Скидки", kind=MessageKind.VIBER), "__VIBER__: Скидки", 8),
    (Message(to=PHONE, text="Hello", kind=MessageKind.SOCIAL), "__SOC__: Hello", 0),
    (Message(to=PHONE, text="123456", kind=MessageKind.TELEGRAM), "__TGM__: 123456", 0),
    (
        Message(to=PHONE, text="Hi", kind=MessageKind.BOT, bot="@shop_bot"),
        "__BOT__: Hi\nbot:@shop_bot",
        0,
    ),
    (
        Message(to=PHONE, text="Hi", comment="campaign 7"),
        "Hi\n~~~\ncampaign 7",
        0,
    ),
    (
        Message(to=PHONE, text="Hi", kind=MessageKind.CALL, voice="m", comment="param"),
        "__CALL__: Hi\nvoice:m\n~~~\nparam",
        0,
    ),
]


@pytest.mark.parametrize(("message", "wire", "data_coding"), KIND_CASES)
def test_every_text_kind(message: Message, wire: str, data_coding: int) -> None:
    assert provider_text(message) == wire
    pdus = build_submit_sm(message)
    assert len(pdus) == 1
    assert pdus[0].data_coding == data_coding
    assert pdus[0].registered_delivery == 1
    assert pdus[0].sequence_number == 0
    assert on_the_wire(pdus) == wire


def test_binary_kinds() -> None:
    data = bytes(range(256)) + bytes(range(44))
    pdus = build_submit_sm(Message.binary(PHONE, data))
    assert len(pdus) == 3
    assert all(p.data_coding == 4 and p.esm_class == 0x40 for p in pdus)
    assert b"".join(parse_udh(p.short_message)[1] for p in pdus) == data
    assert all(len(parse_udh(p.short_message)[1]) <= 134 for p in pdus)
    raw = build_submit_sm(Message(to=PHONE, text="\x00\x01\xff", kind=MessageKind.BINARY))
    assert raw[0].short_message == b"\x00\x01\xff" and raw[0].esm_class == 0
    with pytest.raises(ValueError, match="one byte per character"):
        build_submit_sm(Message(to=PHONE, text="Ж", kind=MessageKind.BINARY))
    udh_data = bytes.fromhex("0605040b8423f0") + b"wap"
    own = build_submit_sm(
        Message.binary(PHONE, udh_data), options=SubmitOptions(binary_has_udh=True)
    )
    assert (own[0].esm_class, own[0].short_message) == (0x40, udh_data)


@pytest.mark.parametrize(
    ("message", "match"),
    [
        (Message(to=PHONE, text="pic", kind=MessageKind.MMS, subject="s"), "MMS"),
        (Message(to=PHONE, text="http://x.ru\nTitle", kind=MessageKind.WAP_PUSH), "WAP-push"),
        (
            Message(
                to=PHONE,
                text="t",
                kind=MessageKind.VIBER,
                attachments=(Attachment("a.png", b"x"),),  # type: ignore[arg-type]
            ),
            "attachments",
        ),
        (Message(to=PHONE, text="t", translit=True), "translit"),
        (Message(to=PHONE, text="t", tinyurl=True), "tinyurl"),
        (Message(to=PHONE, text="t", extra={"nl": "1"}), "extra HTTP parameters"),
        (
            Message(to=PHONE, text="t", options=SendOptions(partner_id=7)),
            "HTTP-only options",
        ),
        (Message(to=PHONE, text="t", send_at=SendWindow(9, 18)), "SendWindow"),
        (Message(to="G15", text="t"), "contact group"),
        (Message(to=PHONE, kind=MessageKind.HLR, comment="c"), "comment"),
        (Message(to=[PHONE, "+79990000000"], text="t"), "2 recipients"),
        (
            Message(
                to="a.very.long.address@example.com",
                text="b",
                kind=MessageKind.EMAIL,
                subject="s",
                sender="me@example.com",
            ),
            "destination_addr",
        ),
    ],
)
def test_what_smpp_cannot_carry_is_refused(message: Message, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build_submit_sm(message)


def test_recipient_choice() -> None:
    message = Message(to=[PHONE, "+7 (999) 000-00-00"], text="t")
    assert build_submit_sm(message, "+79990000000")[0].destination_addr == "79990000000"
    assert build_submit_sm(message, "+7 999 000 00 00")[0].destination_addr == "79990000000"
    with pytest.raises(ValueError, match="not one of"):
        build_submit_sm(message, "+71111111111")


# --- addressing and options -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sender", "addr", "ton", "npi"),
    [
        (None, "", TON.UNKNOWN, NPI.UNKNOWN),
        (".", "", TON.UNKNOWN, NPI.UNKNOWN),
        ("MyShop", "MyShop", TON.ALPHANUMERIC, NPI.UNKNOWN),
        ("+79001112233", "79001112233", TON.INTERNATIONAL, NPI.ISDN),
    ],
)
def test_source_address(sender: str | None, addr: str, ton: int, npi: int) -> None:
    pdu = build_submit_sm(Message(to=PHONE, text="t", sender=sender))[0]
    assert (pdu.source_addr, pdu.source_addr_ton, pdu.source_addr_npi) == (addr, ton, npi)
    assert (pdu.destination_addr, pdu.dest_addr_ton, pdu.dest_addr_npi) == ("79991234567", 1, 1)


def test_options_override() -> None:
    options = SubmitOptions(
        source_ton=5, source_npi=1, dest_ton=2, dest_npi=8, service_type="CMT", priority=3
    )
    pdu = build_submit_sm(
        Message(to=PHONE, text="t", sender="Shop", report=False), options=options
    )[0]
    assert (pdu.source_addr_ton, pdu.source_addr_npi, pdu.dest_addr_ton, pdu.dest_addr_npi) == (
        5,
        1,
        2,
        8,
    )
    assert (pdu.service_type, pdu.priority_flag, pdu.registered_delivery) == ("CMT", 3, 0)
    with pytest.raises(ValueError):
        SubmitOptions(priority=4)


def test_iso_mode_uses_latin1() -> None:
    iso = SubmitOptions(iso=True)
    assert build_submit_sm(Message(to=PHONE, text="café"), options=iso)[0].data_coding == 4
    assert build_submit_sm(Message(to=PHONE, text="café"), options=iso)[0].short_message == (
        b"caf\xe9"
    )
    assert build_submit_sm(Message(to=PHONE, text="€"), options=iso)[0].data_coding == 8
    assert build_submit_sm(Message(to=PHONE, text="café"))[0].data_coding == 0  # é is GSM
    assert build_submit_sm(Message(to=PHONE, text="naïve"))[0].data_coding == 8
    flash = Message(to=PHONE, text="x", kind=MessageKind.FLASH)
    assert build_submit_sm(flash, options=iso)[0].data_coding == 0x14


def test_telegram_nick_and_email_addresses() -> None:
    tg = build_submit_sm(Message(to="@somebody", text="1234", kind=MessageKind.TELEGRAM))[0]
    assert (tg.destination_addr, tg.dest_addr_ton) == ("@somebody", TON.ALPHANUMERIC)
    mail = build_submit_sm(
        Message(to="a@b.ru", text="x", kind=MessageKind.EMAIL, subject="s", sender="me@b.ru")
    )[0]
    assert (mail.destination_addr, mail.source_addr) == ("a@b.ru", "me@b.ru")


# --- long texts -----------------------------------------------------------------------------------


def test_long_text_parts_and_reference() -> None:
    message = Message(to=PHONE, text="a" * 400)
    pdus = build_submit_sm(message, reference=0x1FF)
    assert [len(p.short_message) for p in pdus] == [159, 159, 100]
    assert [p.short_message[:6].hex() for p in pdus] == [
        "050003ff0301",
        "050003ff0302",
        "050003ff0303",
    ]
    assert all(p.esm_class == 0x40 for p in pdus)
    # a derived reference is stable for the same message and recipient
    assert (
        build_submit_sm(message)[0].short_message[3] == build_submit_sm(message)[0].short_message[3]
    )
    assert on_the_wire(pdus) == "a" * 400


def test_max_parts_cuts_the_text_not_the_comment() -> None:
    message = Message(to=PHONE, text="b" * 500, max_parts=2, comment="note")
    wire = on_the_wire(build_submit_sm(message))
    assert wire == "b" * 306 + "\n~~~\nnote"
    one = Message(to=PHONE, text="Ж" * 100, max_parts=1)
    assert on_the_wire(build_submit_sm(one)) == "Ж" * 70


@settings(max_examples=40, deadline=None)
@given(
    text=st.text(
        alphabet=st.one_of(
            st.sampled_from("aZ0 {}[]~€^|\\Жя😀é"),
            st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
        ),
        min_size=1,
        max_size=900,
    ),
    iso=st.booleans(),
)
def test_any_text_survives_the_wire(text: str, iso: bool) -> None:
    message = Message(to=PHONE, text=text)
    pdus = build_submit_sm(message, options=SubmitOptions(iso=iso))
    assert on_the_wire(pdus) == text
    assert len({p.data_coding for p in pdus}) == 1


# --- times ----------------------------------------------------------------------------------------


def test_validity_and_schedule() -> None:
    msk = timezone(timedelta(hours=3))
    message = Message(
        to=PHONE,
        text="t",
        validity=timedelta(hours=24),
        send_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=msk),
    )
    pdu = build_submit_sm(message)[0]
    assert pdu.validity_period == "000001000000000R"
    assert pdu.schedule_delivery_time == "260102000405000+"
    relative = build_submit_sm(Message(to=PHONE, text="t", send_at=timedelta(minutes=90)))[0]
    assert relative.schedule_delivery_time == "000000013000000R"
    naive = build_submit_sm(Message(to=PHONE, text="t", send_at=datetime(2026, 1, 2, 3, 4)))[0]
    assert naive.schedule_delivery_time == "260102000400000+"  # naive = the account's Moscow time


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(minutes=1), "000000000100000R"),
        (timedelta(hours=23, minutes=59), "000000235900000R"),
        (timedelta(days=99), "000099000000000R"),
        (timedelta(days=366), "010001000000000R"),
    ],
)
def test_relative_time(delta: timedelta, expected: str) -> None:
    assert relative_time(delta) == expected


def test_time_errors_and_absolute() -> None:
    with pytest.raises(ValueError):
        relative_time(timedelta(seconds=-1))
    assert absolute_time(datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)) == "261231235959000+"
    assert len(absolute_time(datetime(2026, 1, 1, tzinfo=UTC))) == 16


def test_only_submit_builds_submit_sm_from_a_message() -> None:
    """The mapping Message -> submit_sm is written once (style.md: one named constructor)."""
    import re
    from pathlib import Path

    import smscenter

    root = Path(smscenter.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        if path.name in ("submit.py", "pdu.py"):
            continue
        source = path.read_text(encoding="utf-8")
        if "SubmitSm(" in source and re.search(r"\bimport\b[^\n]*\bMessage\b", source):
            offenders.append(str(path.relative_to(root)))
    assert offenders == []


@pytest.mark.parametrize(("message", "wire", "data_coding"), KIND_CASES)
def test_parse_provider_text_inverts_provider_text(
    message: Message, wire: str, data_coding: int
) -> None:
    parsed = parse_provider_text(wire)
    kind = MessageKind.SMS if message.kind is MessageKind.FLASH else message.kind
    assert parsed.kind is kind
    assert parsed.comment == message.comment
    assert parsed.text == ("" if kind in (MessageKind.HLR, MessageKind.PING) else message.text)
    assert parsed.subject == message.subject
    assert parsed.voice == message.voice
    assert parsed.bot == message.bot


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("plain", ProviderText(kind=MessageKind.SMS, text="plain")),
        ("__MAIL__: no subject", ProviderText(kind=MessageKind.EMAIL, text="no subject")),
        (
            "__MAIL__: a\nsubj:x\nsubj:y",
            ProviderText(kind=MessageKind.EMAIL, text="a\nsubj:x", subject="y"),
        ),
        ("__HLR__\n~~~\nnote", ProviderText(kind=MessageKind.HLR, text="", comment="note")),
        ("__hlr__", ProviderText(kind=MessageKind.SMS, text="__hlr__")),
        ("", ProviderText(kind=MessageKind.SMS, text="")),
    ],
)
def test_parse_provider_text_edges(wire: str, expected: ProviderText) -> None:
    assert parse_provider_text(wire) == expected


def test_recipient_check_on_long_recipient_lists() -> None:
    # Lists of 16 and more are checked through a cached set: same answers as the tuple.
    message = Message(to=[f"+7999{i:07d}" for i in range(40)], text="Hi")
    options = SubmitOptions()
    for recipient in (message.to[0], message.to[39], "+7 999 000 00 17"):
        (pdu,) = build_submit_sm(message, recipient, options=options)
        assert pdu.destination_addr.lstrip("+") in {r.lstrip("+") for r in message.to}
    other = Message(to=[f"+7998{i:07d}" for i in range(40)], text="Hi")
    with pytest.raises(ValueError, match="not one of the message's recipients"):
        build_submit_sm(other, message.to[0], options=options)
    (pdu,) = build_submit_sm(other, other.to[5], options=options)
    assert pdu.destination_addr.endswith("79980000005")
