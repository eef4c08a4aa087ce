"""SubmitBuilder gives, byte for byte, the bodies of build_submit_sm's PDUs (or its error)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smscenter import Message, MessageKind
from smscenter.exceptions import LocalProtocolError
from smscenter.smpp.constants import HEADER_LENGTH
from smscenter.smpp.submit import (
    SHAPE_FIELDS,
    SubmitBuilder,
    SubmitOptions,
    _shape_key,
    build_submit_sm,
)

K = MessageKind
PHONE = "+79991234567"


def expected_bodies(
    builder: SubmitBuilder, message: Message, recipient: str
) -> list[bytes] | Exception:
    """What build_submit_sm encodes (with the reference the builder will take), or its error."""
    reference = (builder._reference + 1) & 0xFF
    try:
        pdus = build_submit_sm(message, recipient, options=builder.options, reference=reference)
        return [pdu.encode()[HEADER_LENGTH:] for pdu in pdus]
    except (ValueError, LocalProtocolError) as exc:
        return exc


def check(builder: SubmitBuilder, message: Message, recipient: str) -> tuple[bytes, ...] | None:
    expected = expected_bodies(builder, message, recipient)
    if isinstance(expected, Exception):
        with pytest.raises(type(expected)) as info:
            builder.build(message, recipient)
        assert str(info.value) == str(expected)
        return None
    bodies = builder.build(message, recipient)
    assert type(bodies) is tuple and all(type(b) is bytes for b in bodies)
    assert list(bodies) == expected
    return bodies


# --- property: random shapes, texts, recipients and options ---------------------------------------

CHARS = (
    list("abcXYZ0189 .,!?:;'\"#%&()*+-/<=>@$_\n\r")
    + list("^{}\\[]~|€\x0c")  # GSM extension: two septets
    + list("`\x01\x1b")  # ASCII outside the alphabet
    + list("éüñ£ÄΔΩß")  # GSM, not ASCII
    + list("привет Ёж")  # UCS-2
    + list("ÿ¡×")  # Latin-1, not GSM
    + ["😀", "\ud800"]  # a surrogate pair, a lone surrogate (no encoding carries it)
)
short_texts = st.text(st.sampled_from(CHARS), min_size=1, max_size=40)
long_texts = st.text(st.sampled_from(CHARS), min_size=60, max_size=400)
ascii_texts = st.text(st.sampled_from(CHARS[:36]), min_size=150, max_size=170)
texts = st.one_of(short_texts, short_texts, long_texts, ascii_texts)
PHONES = ["+79991234567", "79991234568", "+7 999 123-45-69", "7(999)1234570", "+" + "7" * 15]
EMAILS = ["a@b.ru", "я@я.рф", "verylongaddress12345@example.com"]

options_st = st.builds(
    SubmitOptions,
    iso=st.booleans(),
    source_ton=st.sampled_from([None, None, 5, 300]),
    source_npi=st.sampled_from([None, None, 0]),
    dest_ton=st.sampled_from([1, 1, 0, 2, 300]),
    dest_npi=st.sampled_from([1, 1, 0, 256]),
    service_type=st.sampled_from(["", "CMT", "toolong"]),
    priority=st.integers(0, 3),
    binary_has_udh=st.booleans(),
)


@st.composite
def shapes(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(
            [K.SMS, K.SMS, K.SMS, K.FLASH, K.VIBER, K.SOCIAL, K.CALL, K.BOT, K.EMAIL, K.HLR,
             K.PING, K.TELEGRAM, K.BINARY, K.BINARY_HEX, K.MMS]
        )
    )  # fmt: skip
    fields: dict[str, Any] = {"kind": kind}
    fields["sender"] = draw(st.sampled_from([None, None, "Shop", "+79001112233", "."]))
    fields["comment"] = draw(st.sampled_from([None, None, "note", "примечание"]))
    fields["validity"] = draw(st.sampled_from([None, timedelta(hours=2), timedelta(minutes=1)]))
    fields["send_at"] = draw(
        st.sampled_from(
            [None, None, timedelta(minutes=5), datetime(2027, 1, 2, 3, 4, tzinfo=UTC),
             datetime(2027, 1, 2, 3, 4)]
        )
    )  # fmt: skip
    fields["max_parts"] = draw(st.sampled_from([None, None, None, 1, 2]))
    fields["report"] = draw(st.booleans())
    if kind is K.EMAIL:
        fields["subject"] = draw(st.sampled_from(["Hi", "Тема"]))
        fields["sender"] = "shop@example.com"
    if kind is K.CALL:
        fields["voice"] = draw(st.sampled_from([None, "m", "w2"]))
    if kind is K.BOT:
        fields["bot"] = "@shop_bot"
    return fields


def text_for(kind: MessageKind, draw: st.DrawFn) -> str:
    if kind is K.TELEGRAM:
        return draw(st.from_regex(r"[0-9]{4,8}", fullmatch=True))
    if kind is K.BINARY_HEX:
        return draw(st.binary(min_size=1, max_size=200)).hex()
    if kind is K.BINARY:
        return draw(st.text(st.characters(max_codepoint=0xFF), min_size=1, max_size=200))
    if kind in (K.HLR, K.PING):
        return draw(st.sampled_from(["", "ignored"]))
    return draw(texts)


@given(data=st.data(), options=options_st)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_build_is_the_encoders_bodies(data: st.DataObject, options: SubmitOptions) -> None:
    # One builder over a run of messages of a few shapes, with fresh texts and recipients: the
    # first of a shape, its later ones (the pieces), repeats (the last text reused), long
    # recipient lists, recipients written differently from Message.to, and the errors.
    builder = SubmitBuilder(options)
    kinds = data.draw(st.lists(shapes(), min_size=1, max_size=3))
    built = 0
    for _ in range(data.draw(st.integers(1, 10))):
        fields = data.draw(st.sampled_from(kinds))
        emails = fields["kind"] is K.EMAIL
        pool = EMAILS if emails else PHONES
        recipient = data.draw(st.sampled_from(pool))
        if not emails and data.draw(st.booleans()):
            to: Any = [f"+7998{i:07d}" for i in range(20)] + [recipient]
        else:
            to = recipient
        text = text_for(fields["kind"], data.draw)
        for _repeat in range(data.draw(st.sampled_from([1, 1, 2]))):
            try:
                message = Message(to=to, text=text, **fields)
            except ValueError:
                continue  # not a Message anyone can build
            if check(builder, message, recipient) is not None:
                # built, so its shape is kept: its pieces gave back the same bodies
                assert _shape_key(message) in builder._shapes
                built += 1
    assert len(builder._shapes) <= 256


# --- the cases that matter most, by name ------------------------------------------------------


def test_a_new_text_of_a_known_shape_takes_the_pieces() -> None:
    builder = SubmitBuilder(SubmitOptions())
    check(builder, Message(to=PHONE, text="Your code is 000000"), PHONE)
    (shape,) = builder._shapes.values()
    for n in range(1, 300):
        recipient = f"+7999{n:07d}"
        check(builder, Message(to=recipient, text=f"Your code is {n:06d}"), recipient)
        assert shape.last_wire == f"Your code is {n:06d}"  # built from this shape's pieces
    assert len(builder._shapes) == 1


def test_cyrillic_texts_are_ucs2_bodies() -> None:
    builder = SubmitBuilder(SubmitOptions(iso=True))
    for name in ("Анна", "Иван", "Zoë", "Ёлка 🎄"):
        (body,) = check(builder, Message(to=PHONE, text=f"Здравствуйте, {name}!"), PHONE) or ()
        assert body[-len(name) * 2 - 4 :].decode("utf-16-be", "replace").endswith("!")


def test_identical_texts_reuse_the_last_one() -> None:
    builder = SubmitBuilder(SubmitOptions())
    first = check(builder, Message(to=PHONE, text="Sale today"), PHONE)
    again = check(builder, Message(to="+79990000001", text="Sale today"), "+79990000001")
    assert first and again and first[0][-10:] == again[0][-10:] == b"Sale today"
    other = check(builder, Message(to="+79990000001", text="Sale tomorrow"), "+79990000001")
    assert other and other[0].endswith(b"Sale tomorrow")


@pytest.mark.parametrize(
    ("field", "a", "b"),
    [
        ("kind", K.SMS, K.FLASH),
        ("sender", None, "Shop"),
        ("send_at", None, timedelta(minutes=5)),
        ("validity", None, timedelta(hours=1)),
        ("comment", None, "note"),
        ("max_parts", None, 1),
        ("report", True, False),
    ],
)
def test_a_field_of_the_shape_changes_the_body(field: str, a: object, b: object) -> None:
    builder = SubmitBuilder(SubmitOptions())
    text = "x" * 200  # long enough for max_parts to matter
    one = check(builder, Message(to=PHONE, text=text, **{field: a}), PHONE)
    two = check(builder, Message(to=PHONE, text=text, **{field: b}), PHONE)
    assert one != two and len(builder._shapes) == 2
    check(builder, Message(to=PHONE, text=text, **{field: a}), PHONE)  # back to the first shape


def test_the_shape_is_every_message_field_but_to_text_and_client_id() -> None:
    # A field added to Message must join the shape (or be excluded here, on purpose).
    names = {f.name for f in attrs.fields(Message)}
    assert set(SHAPE_FIELDS) == names - {"to", "text", "client_id"}
    message = Message(
        to=PHONE, text="x", sender="Shop", validity=timedelta(hours=1), comment="c", max_parts=2
    )
    assert _shape_key(message) == tuple(getattr(message, name) for name in SHAPE_FIELDS)


def test_client_id_and_to_are_not_part_of_the_shape() -> None:
    builder = SubmitBuilder(SubmitOptions())
    check(builder, Message(to=PHONE, text="a", client_id=1), PHONE)
    check(builder, Message(to="+79990000001", text="b", client_id="x-2"), "+79990000001")
    assert len(builder._shapes) == 1


def test_shapes_are_bounded() -> None:
    builder = SubmitBuilder(SubmitOptions())
    for n in range(600):
        message = Message(to=PHONE, text="x", validity=timedelta(minutes=n + 1))
        check(builder, message, PHONE)
        assert len(builder._shapes) <= 256


def test_long_messages_get_fresh_references() -> None:
    builder = SubmitBuilder(SubmitOptions())
    message = Message(to=PHONE, text="z" * 400)
    first = check(builder, message, PHONE)
    second = check(builder, message, PHONE)
    assert first and second and len(first) == len(second) == 3
    # sm_length, then the UDH 05 00 03 <reference> <total> <seq>
    ref_at = len(first[0]) - 153 - 3
    assert first[0][ref_at] != second[0][ref_at]
    assert {part[ref_at] for part in first} == {first[0][ref_at]}


def test_recipients_of_long_lists_and_written_differently() -> None:
    builder = SubmitBuilder(SubmitOptions())
    message = Message(to=[f"+7999{i:07d}" for i in range(40)], text="Hi")
    for recipient in (message.to[0], message.to[39], "+7 999 000 00 17", "79990000005"):
        check(builder, message, recipient)
    other = Message(to=[f"+7998{i:07d}" for i in range(40)], text="Hi")
    with pytest.raises(ValueError, match="not one of the message's recipients"):
        builder.build(other, message.to[0])
    (body,) = builder.build(other, other.to[5])
    assert b"79980000005\0" in body


def test_what_smpp_cannot_carry_is_refused_on_every_build() -> None:
    builder = SubmitBuilder(SubmitOptions())
    check(builder, Message(to=PHONE, text="x"), PHONE)
    with pytest.raises(ValueError, match="contact group"):
        builder.build(Message(to="G12", text="x"), "G12")
    with pytest.raises(ValueError, match="MMS"):
        builder.build(Message(to=PHONE, text="x", kind=K.MMS), PHONE)


@pytest.mark.parametrize("options", [SubmitOptions(dest_ton=300), SubmitOptions(dest_npi=-1)])
def test_a_ton_the_encoder_refuses_raises_before_anything_is_sent(options: SubmitOptions) -> None:
    builder = SubmitBuilder(options)
    for _ in range(2):  # the first of the shape, then with its pieces
        with pytest.raises(LocalProtocolError, match="dest_addr"):
            builder.build(Message(to=PHONE, text="x"), PHONE)
    # An address that is not a number takes TON 5 / NPI 0 and goes.
    check(
        builder,
        Message(to="a@b.ru", text="x", subject="s", kind=K.EMAIL, sender="s@b.ru"),
        "a@b.ru",
    )


def test_an_address_the_encoder_refuses_raises_its_error() -> None:
    builder = SubmitBuilder(SubmitOptions())
    fields: dict[str, Any] = {"kind": K.EMAIL, "subject": "s", "sender": "s@b.ru", "text": "x"}
    check(builder, Message(to="a@b.ru", **fields), "a@b.ru")
    with pytest.raises(LocalProtocolError, match="destination_addr"):
        builder.build(Message(to="я@я.рф", **fields), "я@я.рф")


class _UnhashableName(str):
    __hash__ = None  # type: ignore[assignment]


def test_a_message_with_an_unhashable_field_is_built_without_pieces() -> None:
    builder = SubmitBuilder(SubmitOptions())
    message = Message(to=PHONE, text="x", sender=_UnhashableName("Shop"))
    for _ in range(2):
        check(builder, message, PHONE)
    assert not builder._shapes
