"""The shared message model: construction, validation rules, enum mappings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smscenter import (
    CallConfirmation,
    DeliveryError,
    DeliveryReport,
    IncomingMessage,
    Message,
    MessageKind,
    MessageStatus,
    SendResult,
    SendWindow,
)
from smscenter.models import (
    Attachment,
    ExtraStatus,
    MessageFlags,
    MessageType,
    TemplateKind,
    Translit,
)

# --- recipients ---------------------------------------------------------------------------------


def test_recipients_are_split_and_normalized() -> None:
    m = Message(to="+7 (999) 123-45-67; 79990000002,", text="hi")
    assert m.to == ("+79991234567", "79990000002")


def test_recipients_from_iterable_and_group() -> None:
    m = Message(to=["79990000001", "G12"], text="hi")
    assert m.to == ("79990000001", "G12")


@pytest.mark.parametrize("to", ["", " , ;", []])
def test_empty_recipients_refused(to: object) -> None:
    with pytest.raises(ValueError, match="at least one recipient"):
        Message(to=to, text="hi")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["abc", "123", "+1234567890123456", "7999abc1234", "++79991234567"])
def test_bad_phone_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a phone number"):
        Message(to=bad, text="hi")


def test_duplicate_recipient_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        Message(to="+79990000001, +7 999 000 00 01", text="hi")


def test_non_string_recipient_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        Message(to=[79990000001], text="hi")  # type: ignore[list-item]


def test_email_recipients() -> None:
    m = Message(
        to="a@example.com, b@example.org",
        text="body",
        kind=MessageKind.EMAIL,
        subject="Hello",
        sender="shop@example.com",
    )
    assert m.to == ("a@example.com", "b@example.org")
    with pytest.raises(ValueError, match="not an e-mail"):
        Message(to="79990000001", text="b", kind=MessageKind.EMAIL, subject="s", sender="a@b.cd")


def test_telegram_recipients_and_code() -> None:
    m = Message(to=["@some_user", "#123456", "79990000001"], text="1234", kind=MessageKind.TELEGRAM)
    assert m.to[0] == "@some_user"
    with pytest.raises(ValueError, match="4 to 8 digits"):
        Message(to="79990000001", text="12ab", kind=MessageKind.TELEGRAM)
    with pytest.raises(ValueError, match="not a phone"):
        Message(to="@some_user", text="hi")  # nicknames only for Telegram


# --- text --------------------------------------------------------------------------------------


def test_text_required_except_hlr_and_ping() -> None:
    with pytest.raises(ValueError, match="needs a text"):
        Message(to="79990000001", text="")
    assert Message(to="79990000001", kind=MessageKind.HLR).text == ""
    assert Message(to="79990000001", kind=MessageKind.PING).text == ""


def test_text_limit_counts_the_comment() -> None:
    Message(to="79990000001", text="x" * 1000)
    with pytest.raises(ValueError, match="at most 1000"):
        Message(to="79990000001", text="x" * 1001)
    with pytest.raises(ValueError, match="with comment"):
        Message(to="79990000001", text="x" * 990, comment="y" * 10)


def test_comment_suffix_and_separator_in_text() -> None:
    m = Message(to="79990000001", text="Hello", comment="campaign 7")
    assert m.full_text == "Hello\n~~~\ncampaign 7"
    assert Message(to="79990000001", text="Hello").full_text == "Hello"
    with pytest.raises(ValueError, match="comment separator"):
        Message(to="79990000001", text="a\n~~~\nb")


def test_text_must_be_str() -> None:
    with pytest.raises(TypeError):
        Message(to="79990000001", text=b"bytes")  # type: ignore[arg-type]


def test_binary_hex_and_wap_push_text_rules() -> None:
    m = Message.binary("79990000001", b"\x01\xab")
    assert m.kind is MessageKind.BINARY_HEX and m.text == "01AB"
    with pytest.raises(ValueError, match="hex"):
        Message(to="79990000001", text="ABC", kind=MessageKind.BINARY_HEX)
    with pytest.raises(ValueError, match="WAP-push"):
        Message(to="79990000001", text="http://x", kind=MessageKind.WAP_PUSH)
    Message(to="79990000001", text="http://x.ru\nTitle", kind=MessageKind.WAP_PUSH)


# --- sender ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sender", ["ACME", "Shop 24", "A" * 11, "79991234567", "+123456789012345", ""]
)
def test_good_senders(sender: str) -> None:
    assert Message(to="79990000001", text="x", sender=sender).sender == sender


def test_sender_too_long() -> None:
    with pytest.raises(ValueError, match="at most 11"):
        Message(to="79990000001", text="x", sender="A" * 12)
    with pytest.raises(ValueError, match="at most 11"):
        Message(to="79990000001", text="x", sender="1234567890123456")


def test_sender_non_latin() -> None:
    with pytest.raises(ValueError, match="Latin"):
        Message(to="79990000001", text="x", sender="Магазин")


def test_email_needs_subject_and_sender_address() -> None:
    with pytest.raises(ValueError, match="subject"):
        Message(to="a@b.cd", text="x", kind=MessageKind.EMAIL, sender="me@b.cd")
    with pytest.raises(ValueError, match="sender"):
        Message(to="a@b.cd", text="x", kind=MessageKind.EMAIL, subject="s")
    with pytest.raises(ValueError, match="address"):
        Message(to="a@b.cd", text="x", kind=MessageKind.EMAIL, subject="s", sender="ACME")


# --- schedule, validity, client id -------------------------------------------------------------


def test_schedule_forms() -> None:
    aware = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
    assert Message(to="79990000001", text="x", send_at=aware).send_at == aware
    assert Message(to="79990000001", text="x", send_at=datetime(2030, 1, 2, 3, 4)).send_at
    assert Message(to="79990000001", text="x", send_at=timedelta(minutes=15)).send_at
    assert Message(to="79990000001", text="x", send_at=SendWindow(9, 21)).send_at == SendWindow(
        9, 21
    )
    with pytest.raises(ValueError, match="whole minutes"):
        Message(to="79990000001", text="x", send_at=timedelta(seconds=30))
    with pytest.raises(ValueError, match="whole minutes"):
        Message(to="79990000001", text="x", send_at=timedelta(minutes=-5))
    with pytest.raises(TypeError):
        Message(to="79990000001", text="x", send_at="0101301200")  # type: ignore[arg-type]


def test_send_window_validation() -> None:
    with pytest.raises(ValueError, match="before"):
        SendWindow(21, 9)
    with pytest.raises(ValueError):
        SendWindow(0, 25)


def test_validity_range() -> None:
    Message(to="79990000001", text="x", validity=timedelta(minutes=1))
    Message(to="79990000001", text="x", validity=timedelta(hours=24))
    for bad in (timedelta(0), timedelta(hours=24, minutes=1), timedelta(seconds=90)):
        with pytest.raises(ValueError, match="validity"):
            Message(to="79990000001", text="x", validity=bad)


@pytest.mark.parametrize("cid", [1, 2147483647, "order-42.a_b", "x" * 40])
def test_client_id_good(cid: int | str) -> None:
    assert Message(to="79990000001", text="x", client_id=cid).client_id == cid


@pytest.mark.parametrize("cid", [0, -1, 2147483648])
def test_client_id_out_of_range(cid: int) -> None:
    with pytest.raises(ValueError, match="1..2147483647"):
        Message(to="79990000001", text="x", client_id=cid)


@pytest.mark.parametrize("cid", ["", "x" * 41, "has space", "кириллица"])
def test_client_id_bad_string(cid: str) -> None:
    with pytest.raises(ValueError, match="40 characters"):
        Message(to="79990000001", text="x", client_id=cid)


@pytest.mark.parametrize("cid", [1, 2147483647, "m1", "a.b-c_9", "x" * 40])
@pytest.mark.parametrize("to", ["79990000001", "+79990000001", "7 999 000-00-01"])
def test_client_id_accepted_on_every_path(cid: int | str, to: str) -> None:
    # A plain SMS to a normalized phone takes the bulk fast path, the others the full checks:
    # both keep a valid client id as it is.
    message = Message(to=to, text="x", client_id=cid)
    assert message.client_id == cid
    assert message.to in (("79990000001",), ("+79990000001",))


def test_client_id_bool_refused() -> None:
    with pytest.raises(TypeError):
        Message(to="79990000001", text="x", client_id=True)


# --- fields by kind ------------------------------------------------------------------------------


def test_subject_only_for_mms_and_email() -> None:
    Message(to="79990000001", text="x", kind=MessageKind.MMS, subject="Pic")
    with pytest.raises(ValueError, match="subject is not allowed for a sms"):
        Message(to="79990000001", text="x", subject="s")


def test_voice_only_for_calls_and_valid() -> None:
    assert Message(to="79990000001", text="x", kind=MessageKind.CALL, voice="w,en").voice == "w,en"
    with pytest.raises(ValueError, match="voice is not allowed"):
        Message(to="79990000001", text="x", voice="m")
    with pytest.raises(ValueError, match="voice must be"):
        Message(to="79990000001", text="x", kind=MessageKind.CALL, voice="robot")


def test_bot_required_for_bot_kind_only() -> None:
    Message(to="79990000001", text="x", kind=MessageKind.BOT, bot="@shop_bot")
    Message(to="79990000001", text="x", kind=MessageKind.BOT, bot="wa:79990000009")
    with pytest.raises(ValueError, match="needs bot"):
        Message(to="79990000001", text="x", kind=MessageKind.BOT)
    with pytest.raises(ValueError, match="bot is not allowed"):
        Message(to="79990000001", text="x", bot="@shop_bot")


def test_attachments_only_where_files_go() -> None:
    pic = Attachment("a.png", b"\x89PNG", "image/png")
    assert "bytes" in repr(pic) and "PNG" not in repr(pic)
    Message(to="79990000001", text="x", kind=MessageKind.MMS, attachments=[pic])
    with pytest.raises(ValueError, match="attachments is not allowed"):
        Message(to="79990000001", text="x", attachments=[pic])


def test_max_parts_rules() -> None:
    assert Message(to="79990000001", text="x", max_parts=3).max_parts == 3
    with pytest.raises(ValueError, match="1..255"):
        Message(to="79990000001", text="x", max_parts=0)
    with pytest.raises(ValueError, match="max_parts is not allowed"):
        Message(to="79990000001", kind=MessageKind.HLR, max_parts=2)


def test_translit_and_tinyurl_by_kind() -> None:
    assert Message(to="79990000001", text="x", translit=True).translit is Translit.TRANSLIT
    assert Message(to="79990000001", text="x", translit=2).translit is Translit.MPAHC
    with pytest.raises(ValueError, match="translit is not allowed"):
        Message(to="79990000001", text="x", kind=MessageKind.VIBER, translit=True)
    with pytest.raises(ValueError, match="tinyurl is not allowed"):
        Message(to="79990000001", kind=MessageKind.HLR, tinyurl=True)


def test_extra_params_escape_hatch() -> None:
    m = Message(to="79990000001", text="x", extra={"nl": "1", "foo": 7})
    assert m.extra == (("foo", "7"), ("nl", "1"))
    with pytest.raises(ValueError, match="own Message fields"):
        Message(to="79990000001", text="x", extra={"sender": "X"})
    with pytest.raises(ValueError, match="non-empty"):
        Message(to="79990000001", text="x", extra={"": "1"})


def test_kind_must_be_enum() -> None:
    with pytest.raises(TypeError):
        Message(to="79990000001", text="x", kind="sms")  # type: ignore[arg-type]


def test_message_is_frozen_hashable_and_evolvable() -> None:
    m = Message(to="79990000001", text="x", extra={"a": "1"})
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        m.text = "y"  # type: ignore[misc]
    assert hash(m) == hash(Message(to="79990000001", text="x", extra={"a": "1"}))
    one = Message(to="79990000001, 79990000002", text="x").for_recipient("79990000003", "hey")
    assert one.to == ("79990000003",) and one.text == "hey"
    with pytest.raises(ValueError):
        attrs.evolve(m, to="nope")


def test_library_format_numbers() -> None:
    assert MessageKind.SMS.library_format == 0
    assert MessageKind.TELEGRAM.library_format == 13
    assert MessageKind.BOT.library_format is None


# --- statuses and errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status", "final"),
    [
        (-3, MessageStatus.NOT_FOUND, False),
        (-2, MessageStatus.STOPPED, True),
        (-1, MessageStatus.QUEUED, False),
        (0, MessageStatus.TRANSMITTED, False),
        (1, MessageStatus.DELIVERED, True),
        (2, MessageStatus.READ, True),
        (3, MessageStatus.EXPIRED, True),
        (4, MessageStatus.LINK_CLICKED, True),
        (20, MessageStatus.UNDELIVERABLE, True),
        (22, MessageStatus.INVALID_NUMBER, True),
        (23, MessageStatus.PROHIBITED, True),
        (24, MessageStatus.INSUFFICIENT_FUNDS, True),
        (25, MessageStatus.NUMBER_UNAVAILABLE, True),
        (99, MessageStatus.UNKNOWN, False),
    ],
)
def test_status_codes(code: int, status: MessageStatus, final: bool) -> None:
    assert MessageStatus.from_code(code) is status
    assert status.is_final is final
    if status is not MessageStatus.UNKNOWN:
        assert status.code == code


@pytest.mark.parametrize(
    ("word", "status", "state"),
    [
        ("DELIVRD", MessageStatus.DELIVERED, 2),
        ("delivrd", MessageStatus.DELIVERED, 2),
        ("ENROUTE", MessageStatus.TRANSMITTED, 1),
        ("EXPIRED", MessageStatus.EXPIRED, 3),
        ("DELETED", MessageStatus.DELETED, 4),
        ("UNDELIV", MessageStatus.UNDELIVERABLE, 5),
        ("ACCEPTD", MessageStatus.ACCEPTED, 6),
        ("UNKNOWN", MessageStatus.UNKNOWN, 7),
        ("REJECTD", MessageStatus.REJECTED, 8),
        ("BUFFRED", MessageStatus.TRANSMITTED, 1),
        ("WHATEVER", MessageStatus.UNKNOWN, 7),
    ],
)
def test_smpp_words_and_states(word: str, status: MessageStatus, state: int) -> None:
    assert MessageStatus.from_smpp_word(word) is status
    assert status.message_state == state
    assert MessageStatus.from_message_state(state) is status


def test_every_status_has_a_wire_form() -> None:
    for status in MessageStatus:
        assert len(status.smpp_word) == 7
        assert MessageStatus.from_smpp_word(status.smpp_word).message_state == status.message_state


def test_delivered_and_failure_predicates() -> None:
    assert MessageStatus.READ.is_delivered and not MessageStatus.READ.is_failure
    assert MessageStatus.UNDELIVERABLE.is_failure
    assert not MessageStatus.QUEUED.is_failure


def test_delivery_error_table_and_unknown_codes() -> None:
    assert DeliveryError(1) is DeliveryError.SUBSCRIBER_NOT_FOUND
    assert DeliveryError(255) is DeliveryError.REJECTED_BY_OPERATOR
    assert DeliveryError(200) is DeliveryError.VIRTUAL_SENDING
    unknown = DeliveryError(777)
    assert unknown == 777 and unknown.name == "UNKNOWN_777" and not unknown.is_known
    assert DeliveryError.SPAM_FILTER.is_known
    with pytest.raises(ValueError):
        DeliveryError("x")  # type: ignore[arg-type]


def test_message_type_unknown_kept_and_kind() -> None:
    assert MessageType(10).kind is MessageKind.VIBER
    assert MessageType(9).name == "UNKNOWN_9"


def test_flags_decode_and_encode() -> None:
    # type 10 (viber) | second balance | template | advertising
    value = 10 | 0x20 | 0x100 | (3 << 9) | 0x8000
    flags = MessageFlags.from_int(value)
    assert flags.message_type is MessageType.VIBER
    assert flags.second_balance and flags.template
    assert flags.template_kind is TemplateKind.ADVERTISING
    assert flags.to_int() == value
    assert MessageFlags.from_int(0).message_type is MessageType.SMS
    with pytest.raises(ValueError):
        MessageFlags.from_int(0x10000)


def test_extra_status_flags() -> None:
    both = ExtraStatus(6)
    assert ExtraStatus.READ in both and ExtraStatus.LINK_CLICKED in both


# --- results ------------------------------------------------------------------------------------


def test_send_result_defaults_part_ids() -> None:
    r = SendResult(message_id="7", parts=2, cost=Decimal("3.10"))
    assert r.part_ids == ("7",)


def test_reports_require_aware_times_and_have_stable_keys() -> None:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    report = DeliveryReport(
        message_id="5",
        status=MessageStatus.DELIVERED,
        raw_status="1",
        phone="79990000001",
        changed_at=when,
        flags=MessageFlags.from_int(1),
    )
    assert report.is_final and report.message_type is MessageType.FLASH
    assert report.event_key == "report:5:79990000001:delivered"
    with pytest.raises(ValueError, match="aware"):
        DeliveryReport(message_id="5", status=MessageStatus.QUEUED, changed_at=datetime(2026, 1, 1))
    incoming = IncomingMessage(phone="79990000001", text="hi", received_at=when)
    again = IncomingMessage(phone="79990000001", text="hi", received_at=when)
    assert incoming.event_key == again.event_key
    assert (
        incoming.event_key
        != IncomingMessage(phone="79990000001", text="ho", received_at=when).event_key
    )
    assert IncomingMessage(phone="1", text="x", message_id="9").event_key == "incoming:9"
    with pytest.raises(ValueError, match="aware"):
        IncomingMessage(phone="1", text="x", sent_at=datetime(2026, 1, 1))
    assert CallConfirmation(phone="7999", called_at=when).event_key.startswith("call:7999:")


_FIELD_VALUES: dict[str, list[object]] = {
    "to": ["+79991234567", "79991234567", "+7 (999) 123-45-67", "G12", "a@b.example", "@nick"],
    "text": ["hi", "", "x" * 1000, "x" * 1001, "a\n~~~\nb", "a~~~b", "1234"],
    "kind": [MessageKind.SMS, MessageKind.EMAIL, MessageKind.TELEGRAM, MessageKind.HLR],
    "sender": [None, "Shop", "TooLongSender1", "79001112233", ""],
    "comment": [None, "note", "y" * 995],
    "client_id": [None, 5, "bad id!"],
    "max_parts": [None, 2],
    "translit": [False, True],
    "tinyurl": [False, True],
    "extra": [(), {"list": "1"}, {"foo": "bar"}],
}


def _built(fields: dict[str, object], *, shortcut: bool) -> object:
    from unittest.mock import patch

    from smscenter.models import _message

    # With shortcut=False the bulk shortcut can never match (its kind test fails).
    with patch.object(_message, "_SMS", _message._SMS if shortcut else object()):
        try:
            return Message(**fields)  # type: ignore[arg-type]
        except (ValueError, TypeError) as exc:
            return type(exc), str(exc)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries({name: st.sampled_from(values) for name, values in _FIELD_VALUES.items()})
)
def test_the_bulk_shortcut_agrees_with_the_full_checks(fields: dict[str, object]) -> None:
    # Message.__attrs_post_init__ lets a plain SMS to one phone through in one expression; for
    # every combination the outcome is the one the full checks give: the same value or the
    # same error.
    assert _built(fields, shortcut=True) == _built(fields, shortcut=False)


def test_the_bulk_shortcut_is_taken() -> None:
    from unittest.mock import patch

    message = Message(to="+79991234567", text="hi", sender="Shop")
    with patch.object(Message, "_check_all", side_effect=AssertionError("full checks ran")):
        assert Message(to="+79991234567", text="hi", sender="Shop") == message
        with pytest.raises(AssertionError, match="full checks ran"):
            Message(to="+79991234567", text="hi", comment="c")


@settings(max_examples=500, deadline=None)
@given(
    st.text(alphabet="+0123456789٣²x ", max_size=18) | st.from_regex(r"\+?\d{3,17}", fullmatch=True)
)
def test_is_phone_is_the_phone_pattern(value: str) -> None:
    from smscenter.models._message import _PHONE_RE, _is_phone

    assert _is_phone(value) == bool(_PHONE_RE.fullmatch(value))
