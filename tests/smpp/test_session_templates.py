"""The submit template cache gives byte for byte what build_submit_sm builds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from smscenter import Message, MessageKind
from smscenter.smpp._templates import SubmitBuilder
from smscenter.smpp.outgoing import SubmitOptions, build_submit_sm

CASES = [
    Message(to="+79991234567", text="Your code is 4242"),
    Message(to="+79991234567", text="Привет", sender="Shop", report=False),
    Message(to="+79991234567", text="Flash!", kind=MessageKind.FLASH, sender="79001112233"),
    Message(to="+79991234567", text="later", validity=timedelta(hours=2), comment="batch 7"),
    Message(
        to="user@example.com", text="Hi", kind=MessageKind.EMAIL, subject="s", sender="a@b.example"
    ),
]


@pytest.mark.parametrize("message", CASES, ids=range(len(CASES)))
@pytest.mark.parametrize("iso", [False, True])
def test_template_copy_equals_a_fresh_build(message: Message, iso: bool) -> None:
    options = SubmitOptions(iso=iso)
    builder = SubmitBuilder(options)
    first = builder.build(message, message.to[0])
    builder.build(message, message.to[0])  # a content seen twice becomes a template
    other_to = "+79990000001" if message.kind is not MessageKind.EMAIL else "other@example.com"
    other = Message(**{**_fields(message), "to": other_to, "client_id": 77})
    copied = builder.build(other, other.to[0])
    fresh = build_submit_sm(other, other.to[0], options=options)
    assert [p.encode() for p in copied] == [p.encode() for p in fresh]
    assert copied[0] == fresh[0]
    assert [p.encode() for p in first] == [
        p.encode() for p in build_submit_sm(message, message.to[0], options=options)
    ]


def test_a_different_content_is_not_taken_from_the_cache() -> None:
    builder = SubmitBuilder(SubmitOptions())
    a = builder.build(Message(to="+79991234567", text="one"), "+79991234567")
    b = builder.build(Message(to="+79991234567", text="two"), "+79991234567")
    c = builder.build(Message(to="+79991234567", text="two", sender="Shop"), "+79991234567")
    assert a[0].short_message != b[0].short_message
    assert c[0].source_addr == "Shop" and b[0].source_addr == ""


def test_long_messages_get_fresh_references() -> None:
    builder = SubmitBuilder(SubmitOptions())
    message = Message(to="+79991234567", text="z" * 400)
    first = builder.build(message, "+79991234567")
    second = builder.build(message, "+79991234567")
    assert len(first) == 3
    assert first[0].short_message[3] != second[0].short_message[3]


def test_bad_recipient_still_refused_on_a_cache_hit() -> None:
    builder = SubmitBuilder(SubmitOptions())
    builder.build(Message(to="+79991234567", text="x"), "+79991234567")
    with pytest.raises(ValueError):
        builder.build(Message(to="G12", text="x"), "G12")


def _fields(message: Message) -> dict[str, object]:
    import attrs

    return {f.name: getattr(message, f.name) for f in attrs.fields(Message)}


@pytest.mark.parametrize("message", CASES, ids=range(len(CASES)))
def test_template_copy_wire_bytes_equal_the_encoder(message: Message) -> None:
    # A cached copy carries its body pre-encoded (Pdu._encode_seq): byte for byte the encoder's.
    builder = SubmitBuilder(SubmitOptions())
    builder.build(message, message.to[0])
    builder.build(message, message.to[0])
    other_to = "+79990000001" if message.kind is not MessageKind.EMAIL else "other@example.com"
    other = Message(**{**_fields(message), "to": other_to})
    (copied,) = builder.build(other, other_to)
    (fresh,) = build_submit_sm(other, other_to, options=SubmitOptions())
    expected = fresh.encode()
    assert "_body" in vars(copied)  # the fast path was taken
    for seq in (1, 0x7FFFFFFF):
        wire = copied._encode_seq(seq)
        assert wire == expected[:12] + seq.to_bytes(4, "big") + expected[16:]
        assert wire == fresh._encode_seq(seq)


def test_template_copy_with_an_address_the_encoder_refuses_still_raises() -> None:
    from smscenter.exceptions import LocalProtocolError
    from smscenter.smpp._templates import _with_destination

    builder = SubmitBuilder(SubmitOptions())
    builder.build(Message(to="+79991234567", text="x"), "+79991234567")
    (template,) = builder.build(Message(to="+79991234567", text="x"), "+79991234567")
    wire = builder._templates[next(iter(builder._templates))][1]
    assert wire is not None
    for bad in ("x" * 30, "адрес"):
        copy = _with_destination(template, bad, 5, 0, wire)
        with pytest.raises(LocalProtocolError):
            copy._encode_seq(1)


RECIPIENTS = ["+79990000001", "79990000002", "+" + "9" * 20, "9" * 20, "+" + "9" * 21, "G12",
              "+7999000000١", "other@example.com", "@nick"]  # fmt: skip


@pytest.mark.parametrize("message", CASES, ids=range(len(CASES)))
@pytest.mark.parametrize("recipient", RECIPIENTS)
@pytest.mark.parametrize("options", [SubmitOptions(), SubmitOptions(iso=True, dest_ton=2)])
def test_build_wire_is_the_encoders_body_or_the_same_refusal(
    message: Message, recipient: str, options: SubmitOptions
) -> None:
    # build_wire (the pool's bulk path) gives the encoded body of exactly the PDU build_submit_sm
    # builds, for a cache hit to a number; the PDUs themselves otherwise; the same ValueError
    # for a recipient SMPP cannot take.
    builder = SubmitBuilder(options)
    builder.build(message, message.to[0])
    builder.build(message, message.to[0])  # the content is cached from here on
    try:
        message = Message(**{**_fields(message), "to": recipient})
    except ValueError:
        return  # no Message carries this recipient: it cannot reach the builder
    try:
        fresh = build_submit_sm(message, recipient, options=options)
    except ValueError as exc:
        with pytest.raises(ValueError, match=str(exc)[:20]):
            builder.build_wire(message, recipient)
        return
    wire = builder.build_wire(message, recipient)
    assert len(wire) == len(fresh) == 1
    plain_number = recipient.lstrip("+").isdigit() and recipient.lstrip("+").isascii()
    if plain_number and len(recipient.lstrip("+")) <= 20:
        assert isinstance(wire[0], bytes)  # the bulk form
        assert wire[0] == fresh[0].encode()[16:]
    else:
        assert not isinstance(wire[0], bytes)
        assert wire[0] == fresh[0]


def test_build_wire_of_a_long_message_is_its_parts() -> None:
    builder = SubmitBuilder(SubmitOptions())
    message = Message(to="+79991234567", text="x" * 400)
    parts = builder.build_wire(message, "+79991234567")
    assert len(parts) == 3 and not any(isinstance(p, bytes) for p in parts)


def test_build_wire_with_a_ton_the_encoder_refuses_keeps_the_pdu() -> None:
    from smscenter.exceptions import LocalProtocolError

    builder = SubmitBuilder(SubmitOptions(dest_ton=300))
    message = Message(to="+79991234567", text="x")
    builder.build(message, "+79991234567")
    builder.build(message, "+79991234567")
    (part,) = builder.build_wire(message, "+79991234567")
    assert not isinstance(part, bytes)
    with pytest.raises(LocalProtocolError):
        part.encode()  # refused when sent, as any PDU with that TON is


def test_a_template_is_made_on_the_second_sight_of_a_content() -> None:
    # Distinct texts (one-time codes) never pay for a template; a repeated content gets one.
    builder = SubmitBuilder(SubmitOptions())
    codes = [Message(to="+79991234567", text=f"Your code is {n:04d}") for n in range(300)]
    for message in codes:
        (part,) = builder.build_wire(message, "+79991234567")
        assert not isinstance(part, bytes)
    assert not builder._templates and len(builder._seen) <= 256
    mailing = [Message(to=f"+7999123456{n}", text="Sale today") for n in range(3)]
    forms = [type(builder.build_wire(m, m.to[0])[0]) for m in mailing]
    assert forms[0] is not bytes and forms[1] is not bytes and forms[2] is bytes
